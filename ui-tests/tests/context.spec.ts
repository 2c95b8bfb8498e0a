/**
 * The notebook's other cells reach the model server, in JupyterLab and in Notebook 7, with
 * or without jupyter-collaboration: the fake model server records every request it gets.
 * In the default-install pass (JAI_UI_TEST_DEFAULT_INSTALL: no jupyter-collaboration, no
 * Jupyter AI) they can only come from the browser.
 */
import { expect, test } from '@playwright/test';

import { BASE, codeCell, createNotebook, FIRST, recorded, typeAnswerPrefix } from './helpers';

const DEFAULT_INSTALL = !!process.env.JAI_UI_TEST_DEFAULT_INSTALL;

const ABOVE = 'import pandas as pd\nsales = pd.read_csv("sales.csv")';
const BELOW = 'plot_totals(answer())';

for (const [frontend, url] of [
  ['JupyterLab', (name: string) => `${BASE}/lab/tree/${name}`],
  ['Notebook 7', (name: string) => `${BASE}/notebooks/${name}`]
] as const) {
  test(`${frontend}: the cells above and below go to the model with the request`, async ({
    page,
    request
  }) => {
    const name = `context-${frontend.replace(/\W/g, '')}-${Date.now()}.ipynb`;
    const cells = [codeCell('above', ABOVE), codeCell('target', ''), codeCell('below', BELOW)];
    expect(await createNotebook(request, name, cells)).toBe(201);
    try {
      await page.goto(url(name));
      const target = page.locator('.jp-NotebookPanel .jp-Cell .cm-content').nth(1);
      await target.click();
      const before = recorded().length;
      await typeAnswerPrefix(page);
      await expect(page.locator('.jp-GhostText')).toHaveText(FIRST);

      const sent = recorded().slice(before);
      expect(sent.length).toBeGreaterThan(0);
      const last = sent[sent.length - 1].body; // Ollama's /api/generate: prompt + suffix
      expect(last.prompt).toBe(`${ABOVE}\n\ndef answer():\n    re`);
      expect(last.suffix).toBe(`\n\n${BELOW}`);
      if (frontend === 'JupyterLab') {
        const status = page.locator('.jp-AIInline-status');
        await expect(status).toHaveAttribute('data-context', DEFAULT_INSTALL ? 'browser' : /.+/);
      }
    } finally {
      await page.close();
      await request.delete(`${BASE}/api/contents/${name}`);
    }
  });
}
