/**
 * The managed local model, end to end in the browser: Jupyter starts llama-server with a real
 * model (JAI_UI_TEST_LOCAL_MODEL, see jupyter_server_test_config.py: in CI Qwen2.5-Coder
 * 0.5B, which `auto` takes on 2 cores; gemma 3 270M works the same), the status
 * bar names it and its mode, and its ghost text can be accepted. Only in the local-model pass.
 */
import { expect, test } from '@jupyterlab/galata';

import { activeCellSource } from './helpers';

test.skip(!process.env.JAI_UI_TEST_LOCAL_MODEL, 'runs in the local-model pass of .ci/run');

const PREFIX = 'import pandas as pd\nsales = pd.read_csv("sales.csv")\nmeans = sales.groupby(';

test('JupyterLab: ghost text from the managed local model, its name and mode in the status bar', async ({
  page
}) => {
  const status = page.locator('#jp-main-statusbar .jp-AIInline-status');
  // ready once llama-server loaded the model and the mode is known
  await expect(status.locator('.jp-AIInline-label')).toHaveText(
    /^inline-llamacpp:[\w.-]+\.gguf · (completion|infill)$/,
    { timeout: 60000 }
  );

  await page.notebook.createNew();
  await page.notebook.enterCellEditingMode(0);
  // typed line by line, each at the start of its line (no auto-indent at the top level)
  for (const [i, line] of PREFIX.split('\n').entries()) {
    if (i > 0) {
      await page.keyboard.press('Enter');
    }
    await page.keyboard.type(line);
  }

  const ghost = page.locator('.jp-GhostText');
  await expect(ghost).toHaveText(/\w/, { timeout: 20000 });
  await expect(status).toHaveAttribute('data-state', 'idle', { timeout: 20000 });
  await expect(status.locator('.jp-AIInline-detail')).toHaveText(/^\d+ ms$/);
  const suggestion = (await ghost.textContent()) ?? '';

  await page.keyboard.press('Tab');
  await expect(ghost).toHaveCount(0);
  const source = await activeCellSource(page);
  expect(source.startsWith(PREFIX)).toBe(true);
  // the ghost text's DOM has no newlines: compare the accepted text without them
  expect(source.slice(PREFIX.length).replace(/\n/g, '')).toBe(suggestion);
});
