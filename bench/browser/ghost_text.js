/**
 * The browser half of `python bench/speed.py --sections browser` (the Python half is
 * __init__.py beside it): drives Debian's chromium (Playwright) through JupyterLab against a
 * running `jupyter lab`, and writes what it saw as JSON.
 *
 *     node bench/browser/ghost_text.js SPEC.json RESULT.json
 *
 * SPEC (written by __init__.py): `url`, `token`, `cases` (per task: the two notebooks'
 * paths, where the cursor goes, what to type), and the timing parameters. Playwright comes
 * from `ui-tests/node_modules` of the repository holding this file.
 *
 * Clocks: everything is timed in the page (`performance.now()`): keydown events, the
 * completions websocket's frames (a `WebSocket` subclass installed before JupyterLab loads)
 * and the ghost text's changes (a MutationObserver on `.jp-GhostText`). Node only asks
 * the managed llama-server for its `/metrics` and `/tokenize`.
 */
'use strict';

const fs = require('fs');
const path = require('path');

const REPO = path.resolve(__dirname, '..', '..');
const { chromium } = require(
  require.resolve('@playwright/test', { paths: [path.join(REPO, 'ui-tests')] })
);

const spec = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const RESULT = process.argv[3];

const log = (...args) => console.error(`[browser ${new Date().toISOString().slice(11, 19)}]`, ...args);
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

/** Runs in the page before any of its scripts: the probes. */
function probes() {
  const bench = {
    keys: [],
    frames: [],
    ghost: [],
    samples: null,
    status: null
  };
  window.__bench = bench;
  document.addEventListener('keydown', () => bench.keys.push(performance.now()), true);

  // the completions websocket's frames, with each suggestion's full text so far
  const texts = new Map();
  const codePoints = (text, count) => Array.from(text).slice(0, count).join('');
  const record = (dir, data) => {
    const t = performance.now();
    let m;
    try {
      m = JSON.parse(String(data));
    } catch (e) {
      return;
    }
    const frame = { t, dir, type: m.type };
    if (dir === 'out') {
      frame.number = m.number;
    } else {
      frame.reply_to = m.reply_to;
      if (m.type === 'stream') {
        const token = m.response?.token ?? '';
        const part = m.response?.insertText ?? '';
        const text = typeof m.keep === 'number' ? codePoints(texts.get(token) ?? '', m.keep) + part : part;
        texts.set(token, text);
        frame.token = token;
        frame.text = text;
        frame.done = !!m.done;
        frame.error = m.error ? m.error.title : null;
      } else if (m.type === 'reply') {
        frame.tokens = (m.list?.items ?? []).filter(i => i.isIncomplete && i.token).length;
        frame.error = m.error ? m.error.title : null;
      } else if (m.type === 'status') {
        bench.status = m;
        frame.context = m.context ?? null;
      } else if (m.type === 'error') {
        frame.error = m.error?.title ?? null;
      }
    }
    bench.frames.push(frame);
  };
  const Native = window.WebSocket;
  class Tapped extends Native {
    constructor(url, protocols) {
      super(url, protocols);
      this.__tapped = String(url).includes('jupyter-ai-inline/completions');
      if (this.__tapped) {
        this.addEventListener('message', event => record('in', event.data));
      }
    }
    send(data) {
      if (this.__tapped) {
        record('out', data);
      }
      return super.send(data);
    }
  }
  window.WebSocket = Tapped;

  // the ghost text: every change of its text (empty: none shown)
  const ghostText = () =>
    Array.from(document.querySelectorAll('.jp-GhostText'))
      .map(el => el.textContent ?? '')
      .join('');
  let last = '';
  const observe = () => {
    const text = ghostText();
    if (text !== last) {
      last = text;
      bench.ghost.push({ t: performance.now(), text });
    }
  };
  bench.ghostText = ghostText;
  const start = () =>
    new MutationObserver(observe).observe(document.body, {
      childList: true,
      subtree: true,
      characterData: true
    });
  if (document.body) {
    start();
  } else {
    document.addEventListener('DOMContentLoaded', start);
  }
  bench.startSampling = every => {
    bench.samples = [];
    bench.sampler = setInterval(
      () => bench.samples.push({ t: performance.now(), text: ghostText() }),
      every
    );
  };
  bench.stopSampling = () => {
    clearInterval(bench.sampler);
    return bench.samples;
  };
}

// -- the llama-server -------------------------------------------------------------------------

async function metrics(llamaUrl) {
  const response = await fetch(`${llamaUrl}/metrics`, { signal: AbortSignal.timeout(5000) });
  const text = await response.text();
  const value = name => {
    const match = text.match(new RegExp(`^llamacpp:${name} ([0-9.e+-]+)`, 'm'));
    return match ? Number(match[1]) : null;
  };
  return {
    predicted: value('tokens_predicted_total'),
    prompt_tokens: value('prompt_tokens_total'),
    prompt_seconds: value('prompt_seconds_total'),
    predicted_seconds: value('tokens_predicted_seconds_total'),
    processing: value('requests_processing')
  };
}

function delta(after, before) {
  const out = {};
  for (const key of ['predicted', 'prompt_tokens', 'prompt_seconds', 'predicted_seconds']) {
    out[key] = after[key] === null || before[key] === null ? null : after[key] - before[key];
  }
  return out;
}

async function tokenCount(llamaUrl, text) {
  if (!text) {
    return 0;
  }
  const response = await fetch(`${llamaUrl}/tokenize`, {
    method: 'POST',
    body: JSON.stringify({ content: text }),
    headers: { 'Content-Type': 'application/json' },
    signal: AbortSignal.timeout(5000)
  });
  return (await response.json()).tokens.length;
}

// -- the page ---------------------------------------------------------------------------------

async function bench(page, expression, arg) {
  return page.evaluate(expression, arg);
}

/** Until the status names the model's mode and the local model is ready (bounded). */
async function waitModelReady(page, timeoutMs) {
  await page.waitForFunction(
    () => {
      const s = window.__bench.status;
      if (s?.local?.state === 'failed') {
        throw new Error(`the local model failed: ${s.local.message}`);
      }
      return s && s.mode && (!s.local || s.local.state === 'ready');
    },
    null,
    { timeout: timeoutMs, polling: 250 }
  );
  return bench(page, () => window.__bench.status);
}

/** Until the client has nothing in flight and the llama-server no request (bounded). */
async function waitIdle(page, llamaUrl, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let quietSince = null;
  while (Date.now() < deadline) {
    const state = await bench(page, () =>
      document.querySelector('#jp-main-statusbar .jp-AIInline-status')?.getAttribute('data-state')
    );
    const m = await metrics(llamaUrl);
    if (state !== 'generating' && m.processing === 0) {
      quietSince = quietSince ?? Date.now();
      if (Date.now() - quietSince >= 300) {
        return true;
      }
    } else {
      quietSince = null;
    }
    await sleep(50);
  }
  log('not idle after', timeoutMs, 'ms');
  return false;
}

async function openNotebook(page, notebookPath, cells) {
  await bench(
    page,
    async ({ notebookPath, cells }) => {
      const app = window.jupyterapp;
      const panel = await app.commands.execute('docmanager:open', { path: notebookPath });
      await panel.context.ready;
      await panel.sessionContext.ready;
      await panel.revealed;
      const started = performance.now();
      while (panel.content.widgets.length < cells && performance.now() - started < 20000) {
        await new Promise(r => setTimeout(r, 50));
      }
      window.__bench.panel = panel;
    },
    { notebookPath, cells }
  );
  // the kernel started and idle, so that its start-up takes no CPU from the measurement
  await page.waitForFunction(
    () => window.__bench.panel.sessionContext.session?.kernel?.status === 'idle',
    null,
    { timeout: 60000, polling: 100 }
  );
}

async function closeNotebook(page) {
  await bench(page, async () => {
    const panel = window.__bench.panel;
    window.__bench.panel = null;
    if (!panel || panel.isDisposed) {
      return;
    }
    panel.context.model.dirty = false;
    try {
      await panel.sessionContext.shutdown();
    } catch (e) {
      // gone already
    }
    panel.close();
  });
  await page.waitForFunction(() => !document.querySelector('.jp-Dialog'), null, { timeout: 5000 });
}

/** Activate cell `index`, in edit mode, the cursor at (line, column). */
async function focusCell(page, index, line, column) {
  await bench(
    page,
    async ({ index, line, column }) => {
      const notebook = window.__bench.panel.content;
      notebook.activeCellIndex = index;
      const cell = notebook.widgets[index];
      await notebook.scrollToCell(cell);
      notebook.mode = 'edit';
      cell.editor.setCursorPosition({ line, column });
      cell.editor.focus();
    },
    { index, line, column }
  );
  await page.waitForFunction(
    index => {
      const cell = window.__bench.panel.content.widgets[index];
      return cell.editor.hasFocus();
    },
    index,
    { timeout: 5000, polling: 20 }
  );
}

/** Type `text`, a key every `delayMs` on a fixed schedule (the keys' own time not added). */
async function typeKeys(page, text, delayMs) {
  const start = Date.now();
  for (const [i, ch] of Array.from(text).entries()) {
    await sleep(start + i * delayMs - Date.now());
    await page.keyboard.type(ch);
  }
}

/** The frames, keys and ghost changes recorded since `since` (page time). */
async function recorded(page, since) {
  return bench(
    page,
    since => ({
      keys: window.__bench.keys.filter(t => t >= since),
      frames: window.__bench.frames.filter(f => f.t >= since),
      ghost: window.__bench.ghost.filter(g => g.t >= since),
      now: performance.now()
    }),
    since
  );
}

async function pageNow(page) {
  return bench(page, () => performance.now());
}

async function ghostNow(page) {
  return bench(page, () => window.__bench.ghostText());
}

/**
 * Wait for ghost text after the last keystroke (bounded), then until idle; the timings of
 * that keystroke's way to the screen, from the page's records.
 */
async function measure(page, llamaUrl, since, before, ghostBefore, lastChar) {
  const timeoutMs = spec.ghost_timeout_s * 1000;
  const start = await recorded(page, since);
  const lastKey = start.keys[start.keys.length - 1];
  // the ghost text just before the last keystroke, and that keystroke's character
  const all = await bench(page, () => window.__bench.ghost);
  const previous = norm([...all].reverse().find(g => g.t < lastKey)?.text ?? '');
  const typed = lastChar;
  let visibleAt = null;
  let staleAt = null;
  let kept = false;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const r = await recorded(page, lastKey);
    const r0 = await recorded(page, since);
    const fresh = new Set(r.frames.filter(f => f.dir === 'out' && f.type === 'request').map(f => f.number));
    const streams = r0.frames.filter(f => f.type === 'stream' && f.text);
    const streamed = streams.filter(f => fresh.has(f.reply_to)).map(f => norm(f.text));
    // earlier requests' suggestions, less the character typed since (typing along)
    const trimmed = [previous, ...streams.map(f => norm(f.text))]
      .filter(text => text.startsWith(typed) && text.length > typed.length)
      .map(text => text.slice(typed.length));
    const along = trimmed.length ? trimmed[0] : null;
    // valid: the start of the text of a request sent after the keystroke (streamed so far),
    // or of a suggestion shown or sent before it less the character typed (typing along);
    // anything else is stale
    const valid = text => [...streamed, ...trimmed].some(s => s.startsWith(text));
    for (const g of r.ghost) {
      if (g.text.trim() === '') {
        continue;
      }
      if (valid(norm(g.text))) {
        visibleAt = visibleAt ?? g.t;
      } else {
        staleAt = visibleAt === null ? (staleAt ?? g.t) : staleAt;
      }
    }
    if (visibleAt !== null) {
      break;
    }
    if (ghostBefore && r.ghost.length === 0 && r.now - lastKey > 1000 && along !== null) {
      // the ghost text shown before the keystroke stayed as it was
      visibleAt = lastKey;
      kept = true;
      break;
    }
    await sleep(20);
  }
  const idle = await waitIdle(page, llamaUrl, spec.idle_timeout_s * 1000);
  const after = await metrics(llamaUrl);
  const r = await recorded(page, since);
  const requests = r.frames.filter(f => f.dir === 'out' && f.type === 'request');
  const sample = {
    key_to_ghost_ms: visibleAt === null ? null : visibleAt - lastKey,
    kept,
    idle,
    requests_during_typing: requests.filter(f => f.t <= lastKey).length,
    requests_after_last_key: requests.filter(f => f.t > lastKey && (visibleAt === null || f.t <= visibleAt)).length,
    requests_total: requests.length,
    server: delta(after, before),
    ghost: visibleAt === null ? '' : (r.ghost.find(g => g.t >= visibleAt)?.text ?? (await ghostNow(page))),
    stale_ghost_ms: staleAt === null ? null : staleAt - lastKey,
    ghost_changes: r.ghost
      .filter(g => g.t >= lastKey)
      .slice(0, 6)
      .map(g => [Math.round(g.t - lastKey), g.text.slice(0, 30)])
  };
  // the request whose text was shown: the newest one sent before the ghost text appeared
  const shownRequest = [...requests].reverse().find(f => visibleAt !== null && f.t <= visibleAt);
  if (shownRequest && !kept) {
    const mine = r.frames.filter(f => f.dir === 'in' && f.reply_to === shownRequest.number);
    const reply = mine.find(f => f.type === 'reply');
    const firstText = mine.find(f => f.type === 'stream' && f.text && f.text.trim() !== '');
    const streams = mine.filter(f => f.type === 'stream');
    Object.assign(sample, {
      key_to_request_ms: shownRequest.t - lastKey,
      request_to_reply_ms: reply ? reply.t - shownRequest.t : null,
      request_to_first_text_ms: firstText ? firstText.t - shownRequest.t : null,
      first_text_to_ghost_ms: firstText ? visibleAt - firstText.t : null,
      final_text: streams.length ? streams[streams.length - 1].text : '',
      stream_error: streams.map(f => f.error).find(Boolean) ?? null
    });
  }
  if (sample.final_text === undefined) {
    const streams = r.frames.filter(f => f.type === 'stream');
    sample.final_text = streams.length ? streams[streams.length - 1].text : '';
  }
  sample.tokens_shown = await tokenCount(llamaUrl, sample.final_text);
  const errors = r.frames.filter(f => f.dir === 'in' && f.error).map(f => f.error);
  sample.errors = [...new Set(errors)];
  return sample;
}

function lastOf(text) {
  return Array.from(text).pop() ?? '';
}

/** The ghost text's DOM has no newlines. */
function norm(text) {
  return text.replace(/\n/g, '');
}

/** The next keystroke once a suggestion shows: one that does not follow it. */
function divergingChar(next, ghost) {
  const first = Array.from(ghost)[0] ?? '';
  for (const ch of [next, 'x', 'y']) {
    if (ch && ch !== first && ch !== '\n') {
      return ch;
    }
  }
  return 'z';
}

/** (a), (c), (d) in the task's cell. */
async function taskCell(page, llamaUrl, c) {
  const out = { task: c.task };
  await openNotebook(page, c.cell_notebook, c.cells);
  await focusCell(page, c.cell_index, c.line, c.column);
  await sleep(spec.focus_delay_ms);

  // (a) focused 2 s before typing; also the typing burst (tokens generated / shown)
  let since = await pageNow(page);
  let before = await metrics(llamaUrl);
  await typeKeys(page, c.typed, spec.key_delay_ms);
  out.a = await measure(page, llamaUrl, since, before, false, lastOf(c.typed));
  log(c.task, '(a)', fmt(out.a));

  // (c) the next keystroke, once a suggestion is shown (and done)
  let ghost = out.a.final_text;
  if (out.a.key_to_ghost_ms !== null && ghost.trim()) {
    await sleep(spec.settle_ms);
    const ch = divergingChar(c.next_char, ghost);
    const shownBefore = (await ghostNow(page)).trim() !== '';
    since = await pageNow(page);
    before = await metrics(llamaUrl);
    await typeKeys(page, ch, spec.key_delay_ms);
    out.c = await measure(page, llamaUrl, since, before, shownBefore, ch);
    out.c.ghost_before = shownBefore;
    out.c.typed = ch;
    log(c.task, '(c)', fmt(out.c));
    ghost = out.c.final_text;
  }

  // (d) typing along the suggestion shown, leaving at least its last character: typing all of
  // it ends the suggestion (JupyterLab then asks for the next one)
  const line = Array.from(ghost.split('\n')[0]);
  const along = line.slice(0, Math.min(spec.along_chars, line.length - 1));
  const visible = (await ghostNow(page)).trim() !== '';
  if (along.length >= 2 && visible) {
    await sleep(spec.settle_ms);
    before = await metrics(llamaUrl);
    since = await pageNow(page);
    await bench(page, every => window.__bench.startSampling(every), spec.sample_ms);
    await typeKeys(page, along.join(''), spec.along_delay_ms);
    await sleep(spec.along_delay_ms);
    const samples = await bench(page, () => window.__bench.stopSampling());
    await sleep(spec.along_tail_ms);
    const r = await recorded(page, since);
    const first = r.keys[0];
    const last = r.keys[r.keys.length - 1];
    const window_ = samples.filter(s => s.t >= first);
    out.d = {
      typed: along.join(''),
      samples: window_.length,
      samples_without_ghost: window_.filter(s => s.text.trim() === '').length,
      requests: r.frames.filter(
        f => f.dir === 'out' && f.type === 'request' && f.t >= first && f.t <= last + spec.along_tail_ms
      ).length
    };
    await waitIdle(page, llamaUrl, spec.idle_timeout_s * 1000);
    out.d.server = delta(await metrics(llamaUrl), before);
    log(c.task, '(d)', JSON.stringify(out.d));
  } else {
    out.d_skipped = `no suggestion to type along (${JSON.stringify(ghost.slice(0, 20))})`;
    log(c.task, '(d) skipped:', out.d_skipped);
  }
  await closeNotebook(page);
  return out;
}

/** (b) typing at once after Shift+Enter in the cell before. */
async function afterRun(page, llamaUrl, c) {
  await openNotebook(page, c.run_notebook, c.run_cells);
  const last = c.run_cells - 1;
  await focusCell(page, last, c.run_line, c.run_column);
  await sleep(spec.focus_delay_ms);
  const since = await pageNow(page);
  const before = await metrics(llamaUrl);
  await bench(page, count => {
    const notebook = window.__bench.panel.content;
    const poll = () => {
      if (notebook.widgets.length > count && notebook.activeCellIndex === count) {
        window.__bench.newCellAt = window.__bench.newCellAt ?? performance.now();
        if (notebook.mode === 'edit') {
          window.__bench.editModeAt = performance.now();
          return;
        }
      }
      requestAnimationFrame(poll);
    };
    window.__bench.newCellAt = window.__bench.editModeAt = null;
    requestAnimationFrame(poll);
  }, c.run_cells);
  await page.keyboard.press('Shift+Enter');
  // "at once": as soon as the new cell's editor has the focus (keys typed before would be
  // command-mode shortcuts)
  await page.waitForFunction(
    count => {
      const notebook = window.__bench.panel.content;
      return (
        notebook.widgets.length > count &&
        notebook.activeCellIndex === count &&
        notebook.widgets[count].editor?.hasFocus()
      );
    },
    c.run_cells,
    { timeout: 10000, polling: 'raf' }
  );
  const focusedAt = await pageNow(page);
  const shiftEnter = (await recorded(page, since)).keys[0];
  await typeKeys(page, c.run_typed, spec.key_delay_ms);
  const sample = await measure(page, llamaUrl, since, before, false, lastOf(c.run_typed));
  sample.shift_enter_to_focus_ms = focusedAt - shiftEnter;
  const marks = await bench(page, () => [window.__bench.newCellAt, window.__bench.editModeAt]);
  sample.shift_enter_to_new_cell_ms = marks[0] === null ? null : marks[0] - shiftEnter;
  sample.shift_enter_to_edit_mode_ms = marks[1] === null ? null : marks[1] - shiftEnter;
  await closeNotebook(page);
  log(c.run_task, '(b)', fmt(sample));
  return sample;
}

/** (e) typing at once in the first cell clicked, the notebook opened a while before. */
async function openedBefore(page, llamaUrl, c) {
  await openNotebook(page, c.opened_notebook, c.opened_cells);
  await sleep(spec.opened_delay_ms);
  const since = await pageNow(page);
  const before = await metrics(llamaUrl);
  await focusCell(page, c.opened_index, c.opened_line, 0);
  await typeKeys(page, c.opened_typed, spec.key_delay_ms);
  const sample = await measure(page, llamaUrl, since, before, false, lastOf(c.opened_typed));
  await closeNotebook(page);
  log(c.opened_task, '(e)', fmt(sample));
  return sample;
}

function fmt(sample) {
  const ms = sample.key_to_ghost_ms;
  return `${ms === null ? 'no ghost text' : Math.round(ms) + ' ms'}, requests ${sample.requests_total}, ` +
    `generated ${sample.server.predicted}, shown ${sample.tokens_shown}`;
}

async function main() {
  const result = { setting: spec.setting, cases: [], errors: [] };
  const write = () => fs.writeFileSync(RESULT, JSON.stringify(result, null, 2));
  const browser = await chromium.launch({
    executablePath: spec.chromium,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage']
  });
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.addInitScript(probes);
    const page = await context.newPage();
    page.setDefaultTimeout(30000);
    page.on('pageerror', error => log('page error:', String(error).slice(0, 200)));
    const started = Date.now();
    await page.goto(`${spec.url}/lab?token=${spec.token}`, { timeout: 120000 });
    await page.waitForFunction(() => window.jupyterapp && window.jupyterapp.started, null, {
      timeout: 120000
    });
    await bench(page, () => window.jupyterapp.restored);
    const status = await waitModelReady(page, spec.ready_timeout_s * 1000);
    result.model = status.model;
    result.mode = status.mode;
    result.ready_s = (Date.now() - started) / 1000;
    const llamaUrl = status.base_url.replace(/\/$/, '');
    log(`ready after ${result.ready_s.toFixed(1)} s: ${status.model} (${status.mode}) at ${llamaUrl}`);
    // one unmeasured completion, so the first measured one does not pay a cold start
    // (first websocket request, the kernel's Python imports, llama-server's first prompt)
    if (spec.warmup) {
      const c = spec.warmup;
      await openNotebook(page, c.notebook, 1);
      await focusCell(page, 0, c.line, 0);
      await typeKeys(page, c.typed, 50);
      await page
        .waitForFunction(() => window.__bench.ghostText().trim() !== '', null, {
          timeout: spec.ghost_timeout_s * 1000
        })
        .catch(() => log('warm-up: no ghost text'));
      await waitIdle(page, llamaUrl, spec.idle_timeout_s * 1000);
      await closeNotebook(page);
    }
    for (const c of spec.cases) {
      const entry = { task: c.task };
      result.cases.push(entry);
      try {
        Object.assign(entry, await taskCell(page, llamaUrl, c));
        entry.b = await afterRun(page, llamaUrl, c);
        if (c.opened_notebook) {
          entry.e = await openedBefore(page, llamaUrl, c);
        }
      } catch (error) {
        log(c.task, 'failed:', String(error).slice(0, 500));
        result.errors.push(`${c.task}: ${String(error).slice(0, 300)}`);
        await closeNotebook(page).catch(() => undefined);
      }
      write();
    }
    result.contexts = await bench(page, () => [
      ...new Set(window.__bench.frames.filter(f => f.type === 'status').map(f => f.context))
    ]);
  } finally {
    write();
    await browser.close();
  }
}

main().then(
  () => process.exit(0),
  error => {
    log('fatal:', error);
    process.exit(1);
  }
);
