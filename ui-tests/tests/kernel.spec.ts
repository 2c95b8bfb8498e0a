/**
 * The running kernel's variables reach the model server: a real Python kernel runs a cell,
 * the browser asks it for its summary (a silent execution), and the next suggestion's
 * prompt, as the fake model server records it, holds a variable no cell's text names.
 */
import { expect, test } from '@playwright/test';

import { BASE, codeCell, createNotebook, FIRST, recorded, typeAnswerPrefix } from './helpers';

// Names made at run time: only the kernel knows them.
const RUN = 'for i in range(2):\n    globals()[f"made_at_run_{i}"] = [i] * 3';

test('JupyterLab: after a cell ran, the prompt holds the kernel variables', async ({
  page,
  request
}) => {
  const name = `kernel-${Date.now()}.ipynb`;
  expect(await createNotebook(request, name, [codeCell('run', RUN), codeCell('target', '')])).toBe(
    201
  );
  try {
    // A workspace of its own: no notebook of another test restored beside it.
    await page.goto(`${BASE}/lab/workspaces/${name.replace('.ipynb', '')}/tree/${name}`);
    // Run only once the kernel is up: a cell run before that may never run.
    await page.waitForFunction(
      () =>
        (window as any).jupyterapp?.shell?.currentWidget?.sessionContext?.session?.kernel
          ?.status === 'idle',
      undefined,
      { timeout: 30000 }
    );
    const cells = page.locator('.jp-NotebookPanel .jp-Cell');
    await cells.nth(0).locator('.cm-content').click();
    await page.keyboard.press('Shift+Enter');
    // run: its execution count shows, and the silent summary leaves it (and the output) alone
    await expect(cells.nth(0).locator('.jp-InputPrompt')).toHaveText('[1]:', { timeout: 30000 });

    const before = recorded().length;
    await cells.nth(1).locator('.cm-content').click();
    await expect
      .poll(
        async () => {
          // type until a request carries the summary (it follows the run by milliseconds)
          await page.keyboard.press('Control+a');
          await page.keyboard.press('Backspace');
          await typeAnswerPrefix(page);
          await expect(page.locator('.jp-GhostText')).toHaveText(FIRST);
          const sent = recorded().slice(before);
          return sent[sent.length - 1].body.prompt as string;
        },
        { timeout: 20000, intervals: [500] }
      )
      .toMatch(/# Variables in the running kernel:\n(# .*\n)*# made_at_run_1: list/);

    const last = recorded()[recorded().length - 1].body.prompt as string;
    expect(last.startsWith(`${RUN}\n\n# Variables in the running kernel:\n`)).toBe(true);
    expect(last.endsWith('\n\ndef answer():\n    re')).toBe(true);
    await expect(cells.nth(0).locator('.jp-InputPrompt')).toHaveText('[1]:');
    await expect(cells.nth(0).locator('.jp-OutputArea-output')).toHaveCount(0);
  } finally {
    await page.close();
    await request.delete(`${BASE}/api/contents/${name}`);
  }
});
