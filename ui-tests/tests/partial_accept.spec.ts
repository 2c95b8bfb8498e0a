/**
 * Taking part of a suggestion: Ctrl+→ takes the next word, Ctrl+↓ the next line; the rest
 * stays shown with no new request (also when the part ends on another line); Tab takes the
 * rest. The commands are in the palette, in the keyboard shortcuts and in the inline
 * completer's widget.
 */
import { expect, test } from '@jupyterlab/galata';
import type { Page } from '@playwright/test';

import {
  activeCellSource,
  COMMENT,
  drawn,
  GHOST,
  greedyRequests,
  REVENUE,
  showRevenue,
  waitForQuiet
} from './helpers';

/** Check the cell holds COMMENT, a line break and `taken`, and the ghost text shows the rest. */
async function expectTaken(page: Page, taken: string): Promise<void> {
  await expect.poll(() => activeCellSource(page)).toBe(`${COMMENT}\n${taken}`);
  await expect(page.locator(GHOST)).toHaveText(drawn(REVENUE.slice(taken.length)));
}

/**
 * Once the whole suggestion is taken, JupyterLab asks for the next one (after Tab too): the
 * only requests since `before` are for what follows the taken text, none for a part of it.
 */
async function expectOnlyNextSuggestion(page: Page, before: number): Promise<void> {
  await page.waitForTimeout(500); // past JupyterLab's debouncer
  await waitForQuiet();
  const prompts = greedyRequests()
    .slice(before)
    .map(({ body }) => String(body.prompt ?? body.messages?.at(-1)?.content ?? ''));
  expect(prompts.length).toBeLessThanOrEqual(1);
  for (const prompt of prompts) {
    expect(prompt.endsWith(REVENUE)).toBe(true);
  }
}

/** Press each key in turn, checking after each what the cell holds (`expectTaken`). */
async function take(page: Page, steps: [key: string, taken: string][]): Promise<void> {
  for (const [key, taken] of steps) {
    await page.keyboard.press(key);
    await expectTaken(page, taken);
  }
}

test.describe('Partial accept', () => {
  test('Ctrl+→ takes word by word, Ctrl+↓ a line; the rest stays, no request', async ({
    page
  }) => {
    const before = await showRevenue(page);

    const line = 'total = df.groupby("region")["revenue"].sum()';
    await take(page, [
      ['Control+ArrowRight', 'total'],
      ['Control+ArrowRight', 'total ='],
      ['Control+ArrowDown', line], // the rest of the first line
      ['Control+ArrowRight', `${line}\ntotal`], // on to the next line: "\ntotal"
      ['Control+ArrowDown', `${line}\ntotal.plot()`] // ".plot()"
    ]);
    await page.waitForTimeout(500); // past JupyterLab's debouncer: still no request
    await expect(page.locator(GHOST)).toHaveText('print(total)');
    expect(greedyRequests().length).toBe(before);

    await page.keyboard.press('Tab'); // Tab still takes all that is left
    await expect(page.locator(GHOST)).toHaveCount(0);
    expect(await activeCellSource(page)).toBe(`${COMMENT}\n${REVENUE}`);
    await expectOnlyNextSuggestion(page, before);
  });

  test('Ctrl+↓ from the start takes line after line; without ghost text Ctrl+→ moves the cursor', async ({
    page
  }) => {
    const before = await showRevenue(page);
    await take(page, [
      ['Control+ArrowDown', 'total = df.groupby("region")["revenue"].sum()'],
      ['Control+ArrowDown', REVENUE.split('\n').slice(0, 2).join('\n')]
    ]);
    await page.waitForTimeout(500); // past JupyterLab's debouncer: still no request
    expect(greedyRequests().length).toBe(before);
    await page.keyboard.press('Control+ArrowDown'); // the last line: all taken, as by Tab
    await expect(page.locator(GHOST)).toHaveCount(0);
    expect(await activeCellSource(page)).toBe(`${COMMENT}\n${REVENUE}`);
    await expectOnlyNextSuggestion(page, before);

    // No ghost text: the editor's own Ctrl+→ / Ctrl+↓, nothing inserted.
    await page.keyboard.press('Escape');
    await page.keyboard.press('Control+Home');
    await page.keyboard.press('Control+ArrowRight');
    expect(await activeCellSource(page)).toBe(`${COMMENT}\n${REVENUE}`);
  });

  test('the commands: in the palette, the keyboard shortcuts and the inline completer', async ({
    page
  }) => {
    const bindings = await page.evaluate(() =>
      (window as any).jupyterapp.commands.keyBindings
        .filter((b: any) => b.command.startsWith('jupyter-ai-inline:accept'))
        .map((b: any) => ({ command: b.command, keys: b.keys, selector: b.selector }))
        .sort((a: any, b: any) => b.command.localeCompare(a.command))
    );
    expect(bindings).toEqual([
      {
        command: 'jupyter-ai-inline:accept-word',
        keys: ['Ctrl ArrowRight'],
        selector: '.jp-mod-inline-completer-active'
      },
      {
        command: 'jupyter-ai-inline:accept-line',
        keys: ['Ctrl ArrowDown'],
        selector: '.jp-mod-inline-completer-active'
      }
    ]);

    await page.keyboard.press('Control+Shift+c');
    await page.keyboard.type('Accept Next');
    const palette = page.locator('.jp-ModalCommandPalette .lm-CommandPalette-itemLabel');
    await expect(palette.filter({ hasText: 'Accept Next Word of Inline Completion' })).toHaveCount(1);
    await expect(palette.filter({ hasText: 'Accept Next Line of Inline Completion' })).toHaveCount(1);
    await page.keyboard.press('Escape');

    // Settings → Keyboard Shortcuts lists them under their labels.
    await page.evaluate(() =>
      (window as any).jupyterapp.commands.execute('settingeditor:open', {
        query: 'Keyboard Shortcuts'
      })
    );
    await page.locator('.jp-PluginList-entry-label-text', { hasText: 'Keyboard Shortcuts' }).click();
    const rows = page.locator('.jp-Shortcuts-ShortcutList .jp-Shortcuts-Row');
    await expect(rows.filter({ hasText: 'Accept Next Word of Inline Completion' })).toHaveCount(1);
    await expect(rows.filter({ hasText: 'Accept Next Line of Inline Completion' })).toHaveCount(1);

    // The inline completer's widget (shown on hover) has both, labelled with their keys.
    await showRevenue(page);
    const widget = page.locator('.jp-InlineCompleter:not(.lm-mod-hidden)');
    const word = widget.locator('[data-command="jupyter-ai-inline:accept-word"]');
    await expect(word).toHaveAttribute('aria-label', 'Ctrl+Right');
    await expect(word).toHaveAttribute('title', 'Accept next word');
    const line = widget.locator('[data-command="jupyter-ai-inline:accept-line"]');
    await expect(line).toHaveAttribute('aria-label', 'Ctrl+Down');
  });
});
