/**
 * Shared steps of the browser tests; they work in JupyterLab and in Notebook 7 (both expose
 * `window.jupyterapp` with the test server configuration).
 */
import { expect, type IJupyterLabPageFixture } from '@jupyterlab/galata';
import type { APIRequestContext, Locator, Page } from '@playwright/test';
import * as fs from 'fs';
import * as path from 'path';

/** What the fake model server (fake_model_server.py) answers after `re`. */
export const FIRST = 'turn 42';
export const SECOND = 'turn 6 * 7';
export const MODEL = 'fake-coder';

/**
 * Type a function header and the start of its body in the focused cell editor. The indent is
 * typed by hand: Enter only auto-indents once the Python mode has loaded, so the
 * auto-indent (if any) is selected first and replaced.
 */
export async function typeAnswerPrefix(page: Page): Promise<void> {
  await page.keyboard.type('def answer():');
  await page.keyboard.press('Enter');
  await page.keyboard.press('Shift+Home');
  await page.keyboard.type('    re');
}

/** The source of the active notebook cell, from the shared model (no keyboard involved). */
export async function activeCellSource(page: Page): Promise<string> {
  return page.evaluate(() => {
    const app = (window as any).jupyterapp;
    const cell = app.shell.currentWidget?.content?.activeCell;
    return cell ? (cell.model.sharedModel.getSource() as string) : '<no active cell>';
  });
}

/**
 * Whether each inline completion provider is enabled in the composite settings of JupyterLab's
 * inline completer (the providers' own defaults included).
 */
export async function inlineProvidersEnabled(page: Page): Promise<Record<string, boolean>> {
  return page.evaluate(async () => {
    const registry = await (window as any).galata.getPlugin(
      '@jupyterlab/apputils-extension:settings'
    );
    const settings = await registry.load('@jupyterlab/completer-extension:inline-completer');
    const providers = (settings.composite.providers ?? {}) as Record<string, any>;
    return Object.fromEntries(
      Object.entries(providers).map(([id, config]) => [id, config?.enabled === true])
    );
  });
}

/** Save a screenshot of part of the page, for the README. */
export async function saveScreenshot(
  page: Page,
  file: string,
  clip: { x: number; y: number; width: number; height: number }
): Promise<void> {
  await page.screenshot({ path: file, clip, animations: 'disabled', caret: 'hide' });
}

export const BASE = process.env.TARGET_URL ?? 'http://localhost:8888';

/** A code cell of nbformat 4.5. */
export function codeCell(id: string, source: string) {
  return { id, cell_type: 'code', source, metadata: {}, outputs: [], execution_count: null };
}

/**
 * Create a notebook through the contents API; its HTTP status (201 when created). A kernelspec
 * in the metadata, or Notebook 7 opens a "Select Kernel" dialog that blocks every click.
 */
export async function createNotebook(
  request: APIRequestContext,
  name: string,
  cells: object[]
): Promise<number> {
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
        cells
      }
    }
  });
  return created.status();
}

const RECORD = path.join(process.env.JAI_UI_TEST_HOME ?? '.', 'model-requests.jsonl');

/** Every generation request the fake model server received, oldest first. */
export function recorded(): { path: string; body: any }[] {
  if (!fs.existsSync(RECORD)) {
    return [];
  }
  return fs
    .readFileSync(RECORD, 'utf-8')
    .split('\n')
    .filter(Boolean)
    .map(line => JSON.parse(line));
}

/**
 * The completion requests among them: those that ask for tokens (a warm-up only evaluates the
 * prompt: it asks for none).
 */
export function completionRequests(): { path: string; body: any }[] {
  return recorded().filter(({ body }) => {
    const limits = [body.options?.num_predict, body.n_predict, body.max_tokens];
    return !limits.some(limit => limit === 0);
  });
}

/** The ghost text (JupyterLab also draws transient spacers with that class while it redraws). */
export const GHOST = '.jp-GhostText:not(.jp-GhostText-letterSpacer):not(.jp-GhostText-lineSpacer)';

/** The comment below which the fake model server answers REVENUE. */
export const COMMENT = '# total revenue by region';
/** What the fake model server suggests on the empty line below COMMENT: three lines. */
export const REVENUE = 'total = df.groupby("region")["revenue"].sum()\ntotal.plot()\nprint(total)';

/** A ghost text's `textContent`: JupyterLab draws its line breaks as `<br>`. */
export function drawn(text: string): string {
  return text.replace(/\n/g, '');
}

/**
 * The completion requests for the first (greedy) suggestion only: one per request of the
 * browser, whatever the number of suggestions the server asks the model for.
 */
export function greedyRequests(): { path: string; body: any }[] {
  return completionRequests().filter(({ body }) => (body.options?.seed ?? body.seed) === undefined);
}

/**
 * Type COMMENT in the focused cell editor and wait until JupyterLab's own requests for it
 * (at the end of the line) are over: the next request is the one under test.
 */
export async function typeComment(page: Page): Promise<number> {
  await page.keyboard.type(COMMENT);
  await waitForQuiet();
  return greedyRequests().length;
}

/** A new notebook, its first cell in edit mode. */
export async function newNotebook(page: IJupyterLabPageFixture): Promise<void> {
  await page.notebook.createNew();
  await page.notebook.enterCellEditingMode(0);
}

/** The function header in a new notebook, FIRST shown after it; the ghost text's locator. */
export async function showFirst(page: IJupyterLabPageFixture): Promise<Locator> {
  await newNotebook(page);
  await typeAnswerPrefix(page);
  const ghost = page.locator(GHOST);
  await expect(ghost).toHaveText(FIRST);
  return ghost;
}

/** COMMENT and Enter in a new notebook: REVENUE shown below it; the requests so far. */
export async function showRevenue(page: IJupyterLabPageFixture): Promise<number> {
  await newNotebook(page);
  await typeComment(page);
  await page.keyboard.press('Enter');
  await expect(page.locator(GHOST)).toHaveText(drawn(REVENUE));
  await waitForQuiet();
  return greedyRequests().length;
}

/** Wait until the fake model server got no request for `quiet` ms. */
export async function waitForQuiet(quiet = 700): Promise<void> {
  let count = -1;
  for (;;) {
    const now = completionRequests().length;
    if (now === count) {
      return;
    }
    count = now;
    await new Promise(resolve => setTimeout(resolve, quiet));
  }
}

/**
 * Run `action` and measure, in the page (a 5 ms poll), the time in ms from its first keydown
 * to the first ghost text on screen (`first`) and to the ghost text `text` (`full`); `null`
 * when it did not show within `timeout` ms.
 */
export async function timeToGhost(
  page: Page,
  text: string,
  action: () => Promise<void>,
  timeout = 5000
): Promise<{ first: number | null; full: number | null }> {
  await page.evaluate(
    ({ selector, drawn, timeout }) => {
      const w = window as any;
      w.timeToGhost = new Promise(resolve => {
        let start: number | null = null;
        let first: number | null = null;
        document.addEventListener('keydown', () => (start = start ?? performance.now()), {
          capture: true,
          once: true
        });
        const begun = performance.now();
        const poll = setInterval(() => {
          const shown = document.querySelector(selector)?.textContent;
          if (start !== null && shown && first === null) {
            first = performance.now() - start;
          }
          if (start !== null && shown === drawn) {
            clearInterval(poll);
            resolve({ first, full: performance.now() - start });
          } else if (performance.now() - begun > timeout) {
            clearInterval(poll);
            resolve({ first, full: null });
          }
        }, 5);
      });
    },
    { selector: GHOST, drawn: drawn(text), timeout }
  );
  await action();
  return page.evaluate(() => (window as any).timeToGhost);
}
