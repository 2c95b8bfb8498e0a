/**
 * Notebook 7 at /notebooks/<name>.ipynb, served by the same `jupyter lab` server. Galata's
 * `page` fixture targets /lab, so this uses a plain Playwright page.
 */
import { expect, test } from '@playwright/test';

import { activeCellSource, FIRST, typeAnswerPrefix } from './helpers';

const BASE = process.env.TARGET_URL ?? 'http://localhost:8888';

test('Notebook 7: ghost text appears and Tab accepts it', async ({ page, request }) => {
  const name = `nb7-ghost-${Date.now()}.ipynb`;
  // A kernelspec in the metadata, or a "Select Kernel" dialog blocks every click.
  const created = await request.put(`${BASE}/api/contents/${name}`, {
    data: {
      type: 'notebook',
      format: 'json',
      content: {
        nbformat: 4,
        nbformat_minor: 5,
        metadata: {
          kernelspec: { name: 'python3', display_name: 'Python 3 (ipykernel)', language: 'python' },
          language_info: { name: 'python' }
        },
        cells: [
          { id: 'c1', cell_type: 'code', source: '', metadata: {}, outputs: [], execution_count: null }
        ]
      }
    }
  });
  expect(created.status()).toBe(201);

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
