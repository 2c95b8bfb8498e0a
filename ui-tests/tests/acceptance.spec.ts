/**
 * How often suggestions are taken: after one suggestion taken in part and one taken whole,
 * the status bar's tooltip and the exported JSON say so.
 */
import { expect, test } from '@jupyterlab/galata';

import {
  drawn,
  FIRST,
  GHOST,
  MODEL,
  newNotebook,
  REVENUE,
  typeAnswerPrefix,
  typeComment
} from './helpers';

test('acceptance: one suggestion taken whole, one in part, in the tooltip and the export', async ({
  page
}) => {
  await newNotebook(page);
  await typeComment(page);
  await page.keyboard.press('Enter');
  const ghost = page.locator(GHOST);
  await expect(ghost).toHaveText(drawn(REVENUE));
  await page.waitForTimeout(400); // shown
  await page.keyboard.press('Control+ArrowRight'); // "total": in part
  await expect(ghost).toHaveText(drawn(REVENUE.slice('total'.length)));
  await page.keyboard.press('Tab'); // and the rest

  await page.notebook.addCell('code', '');
  await page.notebook.enterCellEditingMode(1);
  await typeAnswerPrefix(page);
  await expect(ghost).toHaveText(FIRST);
  await page.keyboard.press('Tab'); // whole, at once

  const item = page.locator('#jp-main-statusbar .jp-AIInline-status');
  await expect(item).toHaveAttribute('title', /\d+ shown, 1 taken whole, 1 in part \(\d+%\)/);
  const chars = REVENUE.length + FIRST.length;
  await expect(item).toHaveAttribute('title', new RegExp(`Characters taken: ${chars}\\b`));

  const exported = await page.evaluate(() =>
    (window as any).jupyterapp.commands.execute('jupyter-ai-inline:export-acceptance', {
      download: false
    })
  );
  const models = Object.keys(exported.models);
  expect(models.length).toBe(1);
  expect(models[0]).toContain(MODEL);
  const stats = exported.models[models[0]];
  expect(stats).toMatchObject({ takenWhole: 1, takenInPart: 1, charsTaken: chars });
  expect(stats.shown).toBeGreaterThanOrEqual(2);
  expect(stats.charsChecked).toBe(0); // 30 s later
  expect(exported.retainedAfterMs).toBe(30000);
});
