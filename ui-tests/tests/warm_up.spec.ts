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
    await editors.nth(0).click();
    await page.keyboard.press('Escape');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await page.waitForTimeout(800);
    const later = warms().slice(1);
    expect(later.map(warm => warm.cell_id)).toEqual(takesWarmUps ? ['c'] : []);
    expect(sent.filter(message => message.type === 'request')).toEqual([]);
    await expect(page.locator('.jp-AIInline-status')).toHaveAttribute('data-state', 'idle');
    await expect(toasts).toHaveCount(0);
  } finally {
    await page.close();
    await request.delete(`${BASE}/api/contents/${name}`);
  }
});
