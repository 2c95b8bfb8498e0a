/**
 * Shared steps of the browser tests; they work in JupyterLab and in Notebook 7 (both expose
 * `window.jupyterapp` with the test server configuration).
 */
import type { APIRequestContext, Page } from '@playwright/test';
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
