/**
 * Typing along a suggestion: while the typed text matches the ghost text, the rest stays on
 * screen (never blank) and no new completion reaches the model server; Backspace back to an
 * earlier prefix shows the cached suggestion without a request; a generation still running
 * while the user types keeps flowing into the ghost text.
 */
import { expect, test } from '@jupyterlab/galata';
import type { Page } from '@playwright/test';

import {
  activeCellSource,
  completionRequests,
  FIRST,
  GHOST,
  newNotebook,
  SECOND,
  showFirst
} from './helpers';

/** What the fake model server answers to a prompt with `def slow` (streamed over 2 s). */
const SLOW = 'turn 12345678';
const TYPING_GAP = 120;

interface ISample {
  /** The active cell's text. */
  source: string;
  /** The ghost text, `null` when none is shown. */
  ghost: string | null;
}

/** Record the cell's text and the ghost text every 40 ms until `stopSampling`. */
async function startSampling(page: Page): Promise<void> {
  await page.evaluate(selector => {
    const w = window as any;
    w.typeAlongSamples = [];
    w.typeAlongSampler = setInterval(() => {
      const cell = w.jupyterapp.shell.currentWidget?.content?.activeCell;
      const ghosts = [...document.querySelectorAll(selector)];
      w.typeAlongSamples.push({
        source: cell?.model.sharedModel.getSource() ?? '',
        ghost: ghosts.length ? ghosts.map(g => g.textContent).join('') : null
      });
    }, 40);
  }, GHOST);
}

async function stopSampling(page: Page): Promise<ISample[]> {
  return page.evaluate(() => {
    const w = window as any;
    clearInterval(w.typeAlongSampler);
    return w.typeAlongSamples;
  });
}

/** Type `text` one character at a time, `gap` ms apart. */
async function typeSlowly(page: Page, text: string, gap: number): Promise<void> {
  for (const character of text) {
    await page.keyboard.type(character);
    await page.waitForTimeout(gap);
  }
}

/**
 * Check the samples against `suggestion` (or, while it `grows`, a start of it): each shows a
 * ghost text, the rest of the suggestion after what was typed since `base`. A sample may fall
 * between a keystroke and JupyterLab's redraw of the ghost text (on the next tick), showing
 * the rest before that keystroke: `stale`, at most one per keystroke.
 */
function check(samples: ISample[], base: string, suggestion: string, grows = false) {
  const shows = (ghost: string, rest: string) => (grows ? rest.startsWith(ghost) : ghost === rest);
  const wrong: ISample[] = [];
  let stale = 0;
  for (const sample of samples) {
    const { source, ghost } = sample;
    const typed = source.slice(base.length).length;
    if (!ghost || !source.startsWith(base)) {
      wrong.push(sample);
    } else if (!shows(ghost, suggestion.slice(typed))) {
      if (typed > 0 && shows(ghost, suggestion.slice(typed - 1))) {
        stale++;
      } else {
        wrong.push(sample);
      }
    }
  }
  return { wrong, stale };
}

test.describe('Type along', () => {
  for (const gap of [TYPING_GAP, 300]) {
    test(`typing along ${gap} ms apart: the rest stays on screen, no request`, async ({ page }) => {
      const ghost = await showFirst(page);
      await page.waitForTimeout(300); // the generation is over
      const before = completionRequests().length;

      await startSampling(page);
      await typeSlowly(page, FIRST.slice(0, 6), gap); // 300 ms: JupyterLab fetches each time
      await page.waitForTimeout(600); // past the debouncer: JupyterLab fetched again
      const samples = await stopSampling(page);

      expect(samples.length).toBeGreaterThan(15);
      const { wrong, stale } = check(samples, 'def answer():\n    re', FIRST);
      expect(wrong).toEqual([]);
      expect(stale).toBeLessThanOrEqual(6);
      await expect(ghost).toHaveText(FIRST.slice(6));
      expect(completionRequests().length).toBe(before);

      // Tab takes the rest.
      await page.keyboard.press('Tab');
      await expect(ghost).toHaveCount(0);
      expect(await activeCellSource(page)).toBe(`def answer():\n    re${FIRST}`);
    });
  }

  test('typing along keeps the suggestion chosen with Alt+] and cycling works', async ({ page }) => {
    const ghost = await showFirst(page);
    await page.keyboard.press('Alt+]');
    await expect(ghost).toHaveText(SECOND);
    const before = completionRequests().length;

    await typeSlowly(page, 'turn ', TYPING_GAP);
    await page.waitForTimeout(500); // past the debouncer: both items come back, the second shown
    await expect(ghost).toHaveText(SECOND.slice(5));
    await page.keyboard.press('Alt+[');
    await expect(ghost).toHaveText(FIRST.slice(5));
    await page.keyboard.press('Alt+]');
    await expect(ghost).toHaveText(SECOND.slice(5));
    expect(completionRequests().length).toBe(before);
  });

  test('Backspace back to an earlier prefix shows the cached suggestion with no request', async ({
    page
  }) => {
    const ghost = await showFirst(page);

    await page.keyboard.type('x'); // not the suggestion: a new request for `rex`
    await expect.poll(() => completionRequests().pop()?.body.prompt).toMatch(/rex$/);
    await expect(ghost).toHaveText(FIRST); // what the fake model says there too
    await page.waitForTimeout(300);
    const before = completionRequests().length;

    await page.keyboard.press('Backspace');
    await expect(ghost).toHaveText(FIRST);
    await page.keyboard.type('tu');
    await expect(ghost).toHaveText(FIRST.slice(2));
    await page.keyboard.press('Backspace');
    await expect(ghost).toHaveText(FIRST.slice(1));
    await page.waitForTimeout(500);
    expect(completionRequests().length).toBe(before);
  });

  test('a generation still running keeps flowing into the ghost text while typing along', async ({
    page
  }) => {
    await newNotebook(page);
    await page.keyboard.type('def slow():');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Shift+Home');
    await page.keyboard.type('    re');
    const ghost = page.locator(GHOST);
    await expect(ghost).toHaveText(/^turn/);
    const before = completionRequests().length;

    await startSampling(page);
    await typeSlowly(page, 'tu', TYPING_GAP); // then the type-along fetch, while it runs
    await expect(ghost).toHaveText(SLOW.slice(2), { timeout: 8000 });
    const samples = await stopSampling(page);
    const base = 'def slow():\n    re';
    const along = new Set(samples.filter(s => s.source === `${base}tu`).map(s => s.ghost));
    expect(along.size).toBeGreaterThan(3); // it grew after the typing

    // Never blank, never the typed part again: a start of the rest as it grows.
    const { wrong, stale } = check(samples, base, SLOW, true);
    expect(wrong).toEqual([]);
    expect(stale).toBeLessThanOrEqual(2);
    expect(completionRequests().length).toBe(before);
  });
});
