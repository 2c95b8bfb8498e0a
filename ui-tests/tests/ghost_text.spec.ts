import { expect, test } from '@jupyterlab/galata';
import * as path from 'path';

import {
  activeCellSource,
  FIRST,
  inlineProvidersEnabled,
  saveScreenshot,
  SECOND,
  typeAnswerPrefix
} from './helpers';

const SCREENSHOTS = path.resolve(__dirname, '..', 'screenshots');

// Sharp screenshots for the README.
test.use({ deviceScaleFactor: 2 });

test('JupyterLab: ghost text streams, cycles between two suggestions and Tab accepts it', async ({
  page
}) => {
  // Only our provider may draw ghost text: Jupyter AI's own stays disabled (its default).
  const enabled = await inlineProvidersEnabled(page);
  expect(enabled['@jupyter-ai-inline/provider']).toBe(true);
  expect(enabled['@jupyterlab/jupyter-ai'] ?? false).toBe(false);

  await page.notebook.createNew();
  await page.notebook.enterCellEditingMode(0);
  await typeAnswerPrefix(page);

  const ghost = page.locator('.jp-GhostText');
  await expect(ghost).toHaveText(FIRST);
  await expect(page.locator('.jp-AIInline-status')).toHaveAttribute('data-state', 'idle');

  // The notebook panel down to a little below the cell.
  const panel = (await (await page.activity.getPanelLocator())!.boundingBox())!;
  const cell = (await page.locator('.jp-NotebookPanel .jp-Cell').first().boundingBox())!;
  await saveScreenshot(page, path.join(SCREENSHOTS, 'ghost-text-lab.png'), {
    x: panel.x,
    y: panel.y,
    width: panel.width,
    height: cell.y + cell.height + 16 - panel.y
  });

  await page.keyboard.press('Alt+]');
  await expect(ghost).toHaveText(SECOND);

  await page.keyboard.press('Tab');
  await expect(ghost).toHaveCount(0);
  expect(await activeCellSource(page)).toBe(`def answer():\n    re${SECOND}`);
});
