/**
 * Our model chosen in Jupyter AI 2's settings (its "Inline completions model"), with Jupyter
 * AI's own inline completer turned on beside ours, as its panel requires for that choice:
 * the model server gets one request per trigger, the ghost text shows once, and the choice
 * stays in force after a reload. Needs Jupyter AI 2 (the main pass of .ci/run).
 */
import { expect, galata, IJupyterLabPageFixture, JupyterLabPage, test } from '@jupyterlab/galata';
import type { APIRequestContext, WebSocket } from '@playwright/test';

import * as path from 'path';

import { completionRequests, FIRST, MODEL, typeAnswerPrefix } from './helpers';

const SCREENSHOTS = path.resolve(__dirname, '..', 'screenshots');

// Sharp screenshots for the README.
test.use({ deviceScaleFactor: 2 });

test.skip(
  !!process.env.JAI_UI_TEST_WITHOUT_JUPYTER_AI || !!process.env.JAI_UI_TEST_DEFAULT_INSTALL,
  'needs Jupyter AI 2'
);

const JUPYTER_AI = '@jupyterlab/jupyter-ai';
const OURS = '@jupyter-ai-inline/provider';
const CHOSEN = `inline-ollama:${MODEL}`;
const FAKE_MODEL_URL = process.env.JAI_FAKE_MODEL_URL ?? 'http://127.0.0.1:11435';

/** Jupyter AI's settings, as its chat panel saves them (its REST API). */
async function chooseInJupyterAi(request: APIRequestContext, model: string | null) {
  const fields = model ? { [model]: { base_url: FAKE_MODEL_URL } } : {};
  const response = await request.post('/api/ai/config', {
    data: { completions_model_provider_id: model, completions_fields: fields }
  });
  expect(response.status()).toBeLessThan(300);
}

const TOLD = "Jupyter AI's inline completer is on";

/** The notifications shown so far that tell about both completers (Galata hides toasts). */
async function told(page: IJupyterLabPageFixture): Promise<number> {
  const notifications: string[] = (
    await page.evaluate(() => (window as any).galata.getNotifications())
  ).map((n: any) => n.message);
  return notifications.filter(message => message.startsWith(TOLD)).length;
}

/** The requests each completer sent over its websocket, and Jupyter AI's replies. */
function watchSockets(page: IJupyterLabPageFixture) {
  const seen = { ours: 0, jupyterAi: 0, jupyterAiItems: 0 };
  page.on('websocket', (socket: WebSocket) => {
    const url = socket.url();
    if (url.includes('jupyter-ai-inline/completions')) {
      socket.on('framesent', ({ payload }) => {
        seen.ours += JSON.parse(String(payload)).type === 'request' ? 1 : 0;
      });
    } else if (url.includes('api/ai/completion/inline')) {
      socket.on('framesent', () => (seen.jupyterAi += 1));
      socket.on('framereceived', ({ payload }) => {
        const message = JSON.parse(String(payload));
        seen.jupyterAiItems += (message.list?.items ?? []).length;
      });
    }
  });
  return seen;
}

/** Type in the first cell of Untitled.ipynb (made first, or open since a reload). */
async function typeAndSeeGhostText(page: IJupyterLabPageFixture): Promise<void> {
  const name = 'Untitled.ipynb';
  if (!(await page.notebook.isOpen(name))) {
    await page.notebook.createNew();
  }
  await page.notebook.activate(name);
  await page.notebook.enterCellEditingMode(0);
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Backspace');
  await typeAnswerPrefix(page);
  await expect(page.locator('.jp-GhostText')).toHaveText(FIRST);
  await page.waitForTimeout(1500); // Jupyter AI's completer asks after its own delay
}

test.describe("our model chosen in Jupyter AI's settings", () => {
  test.use({
    autoGoto: false, // choose the model before the page loads
    mockSettings: {
      ...galata.DEFAULT_SETTINGS,
      '@jupyterlab/completer-extension:inline-completer': {
        providers: { [JUPYTER_AI]: { enabled: true }, [OURS]: { enabled: true } }
      }
    }
  });

  test.beforeEach(async ({ request }) => chooseInJupyterAi(request, CHOSEN));
  test.afterEach(async ({ request }) => chooseInJupyterAi(request, null));

  test("with Jupyter AI's completer on: one request per trigger, ghost text once, after a reload too", async ({
    page
  }) => {
    test.setTimeout(90_000); // two rounds and a reload
    const seen = watchSockets(page);
    await page.goto();
    const status = page.locator('#jp-main-statusbar .jp-AIInline-status');
    await expect(status).toHaveAttribute('title', /chosen in Jupyter AI's settings/);
    // the user is told once, with a button
    await expect.poll(() => told(page)).toBe(1);

    for (const round of [1, 2]) {
      const before = completionRequests().length;
      const ours = seen.ours;
      const theirs = seen.jupyterAi;
      await typeAndSeeGhostText(page);
      await expect(page.locator('.jp-GhostText')).toHaveCount(1);
      expect(seen.jupyterAi, "Jupyter AI's completer asked").toBeGreaterThan(theirs);
      expect(seen.jupyterAiItems, 'Jupyter AI got no suggestion').toBe(0);
      // one suggestion per request of ours (Jupyter AI's choice asks one), none for theirs
      const reached = completionRequests().slice(before);
      expect(reached.length).toBeGreaterThan(0);
      expect(reached.length).toBeLessThanOrEqual(seen.ours - ours);
      expect(reached.every(({ body }) => body.model === MODEL)).toBe(true);
      if (round === 1) {
        await page.keyboard.press('Escape');
        await page.notebook.save(); // no "leave the page?" question at the reload
        // the notebook comes back, not the launcher that Galata's reload waits for
        // Galata's reload (its fixture type names Playwright's, without this option)
        await (page as unknown as JupyterLabPage).reload({ waitForIsReady: false });
        await page.locator('#jupyterlab-splash').waitFor({ state: 'detached' });
        await expect(status).toHaveAttribute('title', /chosen in Jupyter AI's settings/);
      }
    }
    // told once per browser: not again after the reload
    expect(await told(page)).toBe(0);

    // Jupyter AI's panel as the user sees it (for the README): its settings, our model chosen
    await page.getByRole('tab', { name: 'Jupyter AI Chat' }).click();
    await page.getByRole('button', { name: 'Start Here' }).click();
    await expect(page.getByText('Ollama (inline FIM)')).toBeVisible();
    await page.locator('#jp-left-stack').screenshot({
      path: path.join(SCREENSHOTS, 'jupyter-ai-settings.png')
    });
  });
});

test.describe("our model chosen in Jupyter AI's settings, its completer off", () => {
  test.use({ autoGoto: false });
  test.beforeEach(async ({ request }) => chooseInJupyterAi(request, CHOSEN));
  test.afterEach(async ({ request }) => chooseInJupyterAi(request, null));

  test('the ghost text comes from that model, and nobody is told anything', async ({ page }) => {
    const seen = watchSockets(page);
    await page.goto();
    await expect(page.locator('#jp-main-statusbar .jp-AIInline-status')).toHaveAttribute(
      'title',
      /chosen in Jupyter AI's settings/
    );
    const before = completionRequests().length;
    await typeAndSeeGhostText(page);
    expect(seen.jupyterAi).toBe(0);
    const reached = completionRequests().slice(before);
    expect(reached.length).toBeGreaterThan(0);
    expect(reached.length).toBeLessThanOrEqual(seen.ours);
    expect(await told(page)).toBe(0);
  });
});
