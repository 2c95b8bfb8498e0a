/**
 * Warm-ups: the cell the user stops at (focus or active cell, 250 ms) gets one `warm` message
 * with the fields of a request there; moving quickly through cells sends one, for the last;
 * the server's answer (`warmed`, or a `BadMessage` from a server without warm-ups) shows
 * nothing. Read from the websocket's frames, so whatever the server does with it. The fake
 * Ollama cannot warm (`can_warm: false`: no warm-ups at all); the local-model pass of CI runs
 * this test against the managed llama-server, which does.
 */
import { expect, test } from '@playwright/test';

import { BASE, codeCell, createNotebook } from './helpers';

test('JupyterLab: one warm-up for the cell the user stops at, with the fields of a request', async ({
  page,
  request
}) => {
  const name = `warm-up-${Date.now()}.ipynb`;
  const cells = [codeCell('a', 'import math'), codeCell('b', 'x = 1'), codeCell('c', 'print(x)')];
  expect(await createNotebook(request, name, cells)).toBe(201);
  const sent: any[] = [];
  const received: any[] = [];
  page.on('websocket', socket => {
    if (socket.url().includes('jupyter-ai-inline/completions')) {
      socket.on('framesent', frame => sent.push(JSON.parse(String(frame.payload))));
      socket.on('framereceived', frame => received.push(JSON.parse(String(frame.payload))));
    }
  });
  const warms = () => sent.filter(message => message.type === 'warm');
  const toasts = page.locator('.Toastify__toast', { hasText: 'AI inline' }); // not the news one
  try {
    // A workspace of its own: no notebook of another test restored beside it.
    await page.goto(`${BASE}/lab/workspaces/${name.replace('.ipynb', '')}/tree/${name}`);
    const editors = page.locator('.jp-NotebookPanel .jp-Cell .cm-content');
    await expect(editors).toHaveCount(3);

    // A model server that cannot warm (the fake Ollama of most passes) gets none.
    await expect.poll(() => received.find(m => m.type === 'status')).toBeTruthy();
    if (received.find(m => m.type === 'status').can_warm === false) {
      await page.waitForTimeout(800);
      expect(warms()).toEqual([]);
      return;
    }
    // Opening the notebook makes its first cell active: one warm-up, for it.
    await expect.poll(() => warms().length).toBe(1);
    await page.waitForTimeout(600);
    const [first] = warms();
    expect(first).toEqual({
      type: 'warm',
      number: first.number,
      prefix: '',
      suffix: 'import math',
      mime: expect.stringMatching(/python/),
      path: name,
      cell_id: 'a',
      language: 'python',
      below: [
        { cell_type: 'code', source: 'x = 1' },
        { cell_type: 'code', source: 'print(x)' }
      ]
    });

    // Its answer, whatever it is, shows nothing.
    const answer = () => received.find(m => m.reply_to === first.number || m.type === 'error');
    await expect.poll(answer).toBeTruthy();
    await expect(page.locator('.jp-AIInline-status')).toHaveAttribute('data-state', 'idle');
    await expect(toasts).toHaveCount(0);

    // Into the first cell, then quickly down two cells in command mode: one warm-up, for the
    // last, from a server that takes warm-ups; none from one that refused the first.
    const takesWarmUps = answer().reply_to === first.number;
    expect(answer().type).toBe('warmed'); // this server can warm: never an error
    const before = warms().length; // with the background warm-ups of a rest so far
    await editors.nth(0).click();
    await page.keyboard.press('Escape');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await page.waitForTimeout(800);
    const later = warms().slice(before);
    expect(later.map(warm => warm.cell_id)).toEqual(takesWarmUps ? ['c'] : []);
    expect(sent.filter(message => message.type === 'request')).toEqual([]);
    await expect(page.locator('.jp-AIInline-status')).toHaveAttribute('data-state', 'idle');
    await expect(toasts).toHaveCount(0);
  } finally {
    await page.close();
    await request.delete(`${BASE}/api/contents/${name}`);
  }
});

test('JupyterLab: while the user rests, the prompt starts of the notebook are warmed, one at a time', async ({
  page,
  request
}) => {
  const name = `background-${Date.now()}.ipynb`;
  // 30 cells of ~400 characters: cells below ~6,000 characters (the budget) start at the top;
  // further down, the cells above start at anchored places: several runs of shared starts
  const line = (i: number, k: number) => `value_${i}_${k} = compute(data, column="c${k}", scale=${i})`;
  const source = (i: number) => Array.from({ length: 7 }, (_, k) => line(i, k)).join('\n');
  const cells = Array.from({ length: 30 }, (_, i) => codeCell(`k${i}`, source(i)));
  expect(await createNotebook(request, name, cells)).toBe(201);
  const log: { dir: 'out' | 'in'; message: any }[] = [];
  page.on('websocket', socket => {
    if (socket.url().includes('jupyter-ai-inline/completions')) {
      socket.on('framesent', f => log.push({ dir: 'out', message: JSON.parse(String(f.payload)) }));
      socket.on('framereceived', f => log.push({ dir: 'in', message: JSON.parse(String(f.payload)) }));
    }
  });
  const warms = () => log.filter(e => e.dir === 'out' && e.message.type === 'warm').map(e => e.message);
  try {
    await page.goto(`${BASE}/lab/workspaces/${name.replace('.ipynb', '')}/tree/${name}`);
    await expect(page.locator('.jp-NotebookPanel .jp-Cell').first()).toBeVisible();
    await expect.poll(() => log.find(e => e.message.type === 'status')).toBeTruthy();
    if (log.find(e => e.message.type === 'status')!.message.can_warm === false) {
      await page.waitForTimeout(3000); // a rest: still none
      expect(warms()).toEqual([]);
      return;
    }
    // The first cell's own warm-up, then after a 2 s rest the background ones: the last cell
    // of a run (its start prefix-free), nearest the active cell first, the notebook's end second.
    await expect.poll(() => warms().length, { timeout: 60000 }).toBeGreaterThanOrEqual(3);
    const [own, ...background] = warms();
    expect(own.cell_id).toBe('k0');
    expect(background.every(w => w.prefix === '' && w.path === name)).toBe(true);
    expect(background[1].cell_id).toBe('k29');
    const ids = background.map(w => w.cell_id);
    expect(new Set(ids).size).toBe(ids.length);
    // one at a time: each sent after the server answered the one before
    for (const warm of background.slice(1)) {
      const sentAt = log.findIndex(e => e.message === warm);
      const previous = background[background.indexOf(warm) - 1];
      const answeredAt = log.findIndex(e => e.dir === 'in' && e.message.reply_to === previous.number);
      expect(answeredAt).toBeGreaterThanOrEqual(0);
      expect(answeredAt).toBeLessThan(sentAt);
    }
    expect(background.length).toBeLessThanOrEqual(4); // at most 4 per rest

    // A key ends the round: nothing more is sent (Shift alone does nothing in JupyterLab).
    await page.keyboard.press('Shift');
    const count = warms().length;
    await page.waitForTimeout(1500);
    expect(warms().length).toBe(count);
    expect(log.filter(e => e.dir === 'out' && e.message.type === 'request')).toEqual([]);
  } finally {
    await page.close();
    await request.delete(`${BASE}/api/contents/${name}`);
  }
});
