import {
  BackgroundWarmUp,
  MAX_WARMS,
  promptStarts,
  REST_DELAY,
  segments,
  watchRest
} from '../background';
import { DEFAULT_BUDGET, IContextBudget, RequestInput } from '../protocol';
import { cellStartInput } from '../request';
import { WarmUpMessages } from '../warmup';

/** A notebook of code cells (`sources`), the cell at `active` active. */
function notebook(sources: string[], active = 0) {
  const cells = sources.map((source, i) => ({
    model: {
      id: `c${i}`,
      type: 'code',
      mimeType: 'text/x-ipython',
      sharedModel: { getSource: () => sources[i] }
    }
  }));
  return {
    context: { path: 'nb.ipynb' },
    content: {
      widgets: cells,
      activeCellIndex: active,
      activeCell: cells[active],
      model: { defaultKernelLanguage: 'python' }
    }
  } as any;
}

/** A warm function whose answers the test gives, one at a time. */
function answering() {
  const sent: RequestInput[] = [];
  const answers: ((skipped: string | null | undefined) => void)[] = [];
  const warm = (input: RequestInput) =>
    new Promise<string | null | undefined>(resolve => {
      sent.push(input);
      answers.push(resolve);
    });
  return { sent, warm, answer: (skipped: string | null | undefined = null) => answers.shift()!(skipped) };
}

function background(
  warm: (input: RequestInput) => Promise<string | null | undefined>,
  budget: IContextBudget = DEFAULT_BUDGET
) {
  return new BackgroundWarmUp({ warm, budget: () => budget });
}

/** Let the promises settle (the round awaits each answer). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await Promise.resolve();
  }
}

const cells = (count: number, size = 40) =>
  Array.from({ length: count }, (_, i) => `x_${i} = ${'1'.repeat(size - 7 - String(i).length)}`);

describe('promptStarts', () => {
  it('takes the last cell of each run whose prompts continue one another', () => {
    expect(promptStarts(['[', '[a', '[a,b', '[b,c', '[b,c,d'])).toEqual([2, 4]);
    expect(promptStarts(['[', '[a', '[a'])).toEqual([2]); // a blank cell in between
    expect(promptStarts(['[', null, '[a,b'])).toEqual([2]); // a markdown cell in between
    expect(promptStarts([null])).toEqual([]);
  });
});

describe('segments', () => {
  it('looks around the active cell and at the end of the notebook', () => {
    expect(segments(5, 30)).toEqual([[0, 30]]);
    expect(segments(0, 200)).toEqual([
      [0, 41],
      [190, 200]
    ]);
    expect(segments(150, 200)).toEqual([[110, 200]]);
  });
});

describe('BackgroundWarmUp', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('after a rest warms the start of the last cell: the others begin its prompt', async () => {
    const { sent, warm, answer } = answering();
    const warmer = background(warm);
    warmer.touch(notebook(['import pandas as pd', 'df = pd.read_csv("a.csv")', 'df.head()']));
    jest.advanceTimersByTime(REST_DELAY - 1);
    expect(sent).toEqual([]);
    jest.advanceTimersByTime(1);
    await settle();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      prefix: '',
      suffix: 'df.head()',
      cell_id: 'c2',
      path: 'nb.ipynb',
      language: 'python',
      above: [
        { cell_type: 'code', source: 'df = pd.read_csv("a.csv")' },
        { cell_type: 'code', source: 'import pandas as pd' }
      ]
    });
    answer();
    await settle();
    expect(sent).toHaveLength(1);
    expect(warmer.running).toBe(false);
  });

  it('warms one start per anchored run, nearest the active cell first, one at a time', async () => {
    const { sent, warm, answer } = answering();
    // 40 cells of 42 characters (with the separator); 200 characters above: runs of ~1 step
    const budget = { ...DEFAULT_BUDGET, above_chars: 200 };
    const warmer = background(warm, budget);
    const nb = notebook(cells(40), 20);
    warmer.touch(nb);
    jest.advanceTimersByTime(REST_DELAY);
    await settle();
    const order: number[] = [];
    for (let i = 0; i < MAX_WARMS; i++) {
      expect(sent).toHaveLength(i + 1); // the next only once the server answered
      order.push(Number(sent[i].cell_id!.slice(1)));
      answer();
      await settle();
    }
    expect(sent).toHaveLength(MAX_WARMS);
    expect(order[1]).toBe(39); // the notebook's last run second: where notebooks grow
    const distances = order.filter((_, k) => k !== 1).map(index => Math.abs(index - 20));
    expect(distances).toEqual([...distances].sort((a, b) => a - b));
    // each warmed start is the last of its run: the next cell's cells above start later
    const farthest = (index: number) => {
      const above = cellStartInput(nb, index, budget)!.above!;
      return above[above.length - 1].source;
    };
    for (const index of order.filter(i => i < 39)) {
      expect(farthest(index + 1)).not.toBe(farthest(index));
    }
    const runs = new Set(Array.from({ length: 40 }, (_, i) => i).slice(1).map(farthest));
    expect(runs.size).toBeGreaterThan(MAX_WARMS); // more runs than one round warms
    expect(new Set(order).size).toBe(order.length);
  });

  it('stops at a key or a click, and on a busy server', async () => {
    const { sent, warm, answer } = answering();
    const root = new EventTarget();
    const budget = { ...DEFAULT_BUDGET, above_chars: 200 };
    const warmer = background(warm, budget);
    const nb = notebook(cells(40), 20);
    watchRest(() => nb, warmer, undefined, root);
    jest.advanceTimersByTime(REST_DELAY);
    await settle();
    expect(sent).toHaveLength(1);
    root.dispatchEvent(new Event('keydown')); // the user is back
    answer();
    await settle();
    expect(sent).toHaveLength(1);

    jest.advanceTimersByTime(REST_DELAY); // rested again: goes on where it stopped
    await settle();
    expect(sent).toHaveLength(2);
    expect(sent[1].cell_id).not.toBe(sent[0].cell_id);
    answer('busy'); // suggestions are being generated: wait for the next rest
    await settle();
    expect(sent).toHaveLength(2);
  });

  it("waits while the user's own requests or warm-ups are unanswered", async () => {
    const { sent, warm, answer } = answering();
    let busy = true;
    const warmer = new BackgroundWarmUp({
      warm,
      busy: () => busy,
      budget: () => ({ ...DEFAULT_BUDGET, above_chars: 200 })
    });
    warmer.touch(notebook(cells(40), 20));
    jest.advanceTimersByTime(REST_DELAY);
    await settle();
    expect(sent).toEqual([]); // a request in flight: not now, after another rest
    busy = false;
    jest.advanceTimersByTime(REST_DELAY);
    await settle();
    expect(sent).toHaveLength(1);
    busy = true; // the user's warm-up went out while the first one ran
    answer();
    await settle();
    expect(sent).toHaveLength(1);
    busy = false;
    jest.advanceTimersByTime(REST_DELAY);
    await settle();
    expect(sent).toHaveLength(2);
  });

  it('warms a start once, and again when the cells above it changed', async () => {
    const { sent, warm, answer } = answering();
    const sources = ['a = 1', 'b = 2'];
    const nb = notebook(sources);
    const warmer = background(warm);
    warmer.touch(nb);
    jest.advanceTimersByTime(REST_DELAY);
    await settle();
    answer();
    await settle();
    warmer.touch(nb);
    jest.advanceTimersByTime(REST_DELAY);
    await settle();
    expect(sent).toHaveLength(1); // nothing new

    sources[0] = 'a = 10';
    warmer.touch(nb);
    jest.advanceTimersByTime(REST_DELAY);
    await settle();
    expect(sent).toHaveLength(2);
    expect(sent[1].above).toEqual([{ cell_type: 'code', source: 'a = 10' }]);
  });

  it('warms nothing when turned off, outside a notebook, nor after dispose', async () => {
    const { sent, warm } = answering();
    let on = false;
    const off = new BackgroundWarmUp({ warm, budget: () => DEFAULT_BUDGET, enabled: () => on });
    off.touch(notebook(['a = 1']));
    jest.advanceTimersByTime(REST_DELAY);
    await settle();
    expect(sent).toEqual([]);
    on = true;
    off.touch(notebook(['a = 1']));
    jest.advanceTimersByTime(REST_DELAY);
    await settle();
    expect(sent).toHaveLength(1); // on again

    const warmer = background(warm);
    warmer.touch({ content: { editor: {} } } as any); // a file editor
    jest.advanceTimersByTime(REST_DELAY);
    warmer.touch(notebook(['a = 1']));
    warmer.dispose();
    jest.advanceTimersByTime(REST_DELAY);
    await settle();
    expect(sent).toHaveLength(1);
  });
});

describe('WarmUpMessages.answer', () => {
  it('resolves with the outcome of the warm-up: done, skipped, failed or closed', async () => {
    const messages = new WarmUpMessages();
    messages.sent(1);
    messages.sent(2);
    messages.sent(3);
    messages.sent(4);
    const answers = [1, 2, 3, 4].map(n => messages.answer(n));
    messages.onWarmed({ type: 'warmed', reply_to: 1, ms: 12, skipped: null });
    messages.onWarmed({ type: 'warmed', reply_to: 2, ms: null, skipped: 'busy' });
    messages.claims(3, { type: 'ModelError', title: 'down' } as any);
    messages.reset();
    expect(await Promise.all(answers)).toEqual([null, 'busy', 'error', 'closed']);
    expect(await messages.answer(99)).toBe('closed');
  });
});
