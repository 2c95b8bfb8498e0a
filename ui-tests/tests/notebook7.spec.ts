/**
 * Notebook 7 at /notebooks/<name>.ipynb, served by the same `jupyter lab` server. Galata's
 * `page` fixture targets /lab, so this uses a plain Playwright page.
 */
import { expect, test } from '@playwright/test';

import {
  activeCellSource,
  BASE,
  codeCell,
  createNotebook,
  FIRST,
  typeAnswerPrefix
} from './helpers';

test('Notebook 7: ghost text appears and Tab accepts it', async ({ page, request }) => {
  const name = `nb7-ghost-${Date.now()}.ipynb`;
  expect(await createNotebook(request, name, [codeCell('c1', '')])).toBe(201);

  try {
    await page.goto(`${BASE}/notebooks/${name}`);
    const editor = page.locator('.jp-NotebookPanel .jp-Cell .cm-content').first();
    await editor.click();
    await typeAnswerPrefix(page);

    const ghost = page.locator('.jp-GhostText');
    await expect(ghost).toHaveText(FIRST);
    await page.keyboard.press('Tab');
    await expect(ghost).toHaveCount(0);
    expect(await activeCellSource(page)).toBe(`def answer():\n    re${FIRST}`);
  } finally {
    await page.close();
    await request.delete(`${BASE}/api/contents/${name}`);
  }
});
