/**
 * A suggestion on the empty line: a comment and Enter bring ghost text on the new line (one
 * request, none while Enter is held), in JupyterLab and Notebook 7; the setting turns it off.
 */
import { expect, galata, test } from '@jupyterlab/galata';
import { test as plain } from '@playwright/test';

import {
  BASE,
  codeCell,
  COMMENT,
  createNotebook,
  drawn,
  GHOST,
  greedyRequests,
  REVENUE,
  timeToGhost,
  typeComment,
  waitForQuiet
} from './helpers';

test.describe('Empty line', () => {
  test('a comment and Enter: ghost text on the new line, one request', async ({ page }) => {
    await page.notebook.createNew();
    await page.notebook.enterCellEditingMode(0);
    const before = await typeComment(page);

    const ms = await timeToGhost(page, REVENUE, () => page.keyboard.press('Enter'));
    console.log(
      `Enter to ghost text on the empty line: ${ms.first?.toFixed(0)} ms to the first text, ` +
        `${ms.full?.toFixed(0)} ms to all three lines`
    );
    expect(ms.full).not.toBeNull();
    const requests = greedyRequests().slice(before);
    expect(requests.length).toBe(1);
    expect(requests[0].body.prompt).toMatch(new RegExp(`${COMMENT}\\n$`));
    await expect(page.locator(GHOST)).toHaveText(drawn(REVENUE));
  });

  test('Enter held: no request while it repeats, one once it is released', async ({ page }) => {
    await page.notebook.createNew();
    await page.notebook.enterCellEditingMode(0);
    const before = await typeComment(page);

    // Auto-repeat: keydown after keydown, 35 ms apart (about 30 a second), for 0.7 s.
    const during: number[] = [];
    for (let i = 0; i < 20; i++) {
      await page.keyboard.down('Enter');
      await page.waitForTimeout(35);
      during.push(greedyRequests().length - before);
    }
    await page.keyboard.up('Enter');
    expect(Math.max(...during)).toBe(0);

    await waitForQuiet();
    expect(greedyRequests().length - before).toBe(1);
    await expect(page.locator(GHOST)).toHaveText(/^\S/); // shown on the last empty line
  });

  test('Enter after a block opener and after a line of code', async ({ page }) => {
    await page.notebook.createNew();
    await page.notebook.enterCellEditingMode(0);
    await page.keyboard.type('for region in regions:');
    await waitForQuiet();
    let before = greedyRequests().length;
    await page.keyboard.press('Enter');
    await expect(page.locator(GHOST)).toHaveCount(1);
    expect(greedyRequests().length - before).toBe(1);
    expect(greedyRequests().pop()!.body.prompt).toMatch(/regions:\n\s*$/);

    await page.keyboard.type('x = region'); // not the suggestion: its ghost text goes
    await waitForQuiet();
    before = greedyRequests().length;
    await page.keyboard.press('Enter');
    await expect(page.locator(GHOST)).toHaveCount(1);
    expect(greedyRequests().length - before).toBe(1);
    expect(greedyRequests().pop()!.body.prompt).toMatch(/x = region\n\s*$/);
  });

  test.describe('turned off', () => {
    test.use({
      mockSettings: {
        ...galata.DEFAULT_SETTINGS,
        'jupyter-ai-inline:plugin': { emptyLineSuggestions: false }
      }
    });

    test('the setting off: Enter asks for nothing', async ({ page }) => {
      await page.notebook.createNew();
      await page.notebook.enterCellEditingMode(0);
      const before = await typeComment(page);
      await page.keyboard.press('Enter');
      await page.waitForTimeout(800);
      expect(greedyRequests().length).toBe(before);
      await expect(page.locator(GHOST)).toHaveCount(0);
    });
  });
});

plain('Notebook 7: a comment and Enter bring ghost text', async ({ page, request }) => {
  const name = `nb7-empty-line-${Date.now()}.ipynb`;
  plain.expect(await createNotebook(request, name, [codeCell('c1', '')])).toBe(201);
  try {
    await page.goto(`${BASE}/notebooks/${name}`);
    await page.locator('.jp-NotebookPanel .jp-Cell .cm-content').first().click();
    const before = await typeComment(page);
    await page.keyboard.press('Enter');
    await plain.expect(page.locator(GHOST)).toHaveText(drawn(REVENUE));
    plain.expect(greedyRequests().length - before).toBe(1);
  } finally {
    await page.close();
    await request.delete(`${BASE}/api/contents/${name}`);
  }
});
