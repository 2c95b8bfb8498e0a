import {
  AcceptanceStats,
  AcceptanceTracker,
  mapSpans,
  RETAINED_MS,
  SHOWN_MS
} from '../acceptance';
import { partTaken, takePart } from '../ghost';
import { TestEditor } from './editors';

const MODEL = 'fake-coder';

function setup(doc = '# total\n') {
  const stats = new AcceptanceStats({ since: new Date('2026-01-01T00:00:00Z') });
  let model = MODEL;
  const tracker = new AcceptanceTracker({
    stats,
    provider: '@jupyter-ai-inline/provider',
    model: () => model
  });
  const editor = new TestEditor(doc);
  editor.listeners.push(update => tracker.update(update));
  return { stats, tracker, editor, setModel: (m: string) => (model = m) };
}

/** Take the next `text` of the ghost text as the partial-accept command does. */
function takeNext(editor: TestEditor, text: string) {
  const view = { dispatch: (spec: any) => editor.dispatch(spec) } as any;
  takePart(view, editor.cursor, text, 'word');
}

describe('mapSpans', () => {
  it('drops deleted characters, splits around insertions, shifts after changes', () => {
    expect(mapSpans([[5, 10]], [[0, 0, 0, 2]])).toEqual([[7, 12]]); // inserted before
    expect(mapSpans([[5, 10]], [[10, 10, 10, 3]])).toEqual([[5, 10]]); // inserted after
    expect(mapSpans([[5, 10]], [[7, 7, 7, 10]])).toEqual([
      [5, 7],
      [10, 13]
    ]); // inserted inside: not ours
    expect(mapSpans([[5, 10]], [[4, 7, 4, 4]])).toEqual([[4, 7]]); // deleted across the start
    expect(mapSpans([[5, 10]], [[6, 8, 6, 9]])).toEqual([
      [5, 6],
      [9, 11]
    ]); // replaced inside
    expect(mapSpans([[5, 10]], [[0, 20, 0, 0]])).toEqual([]);
  });
});

describe('AcceptanceStats', () => {
  it('counts per model and exports them as JSON', () => {
    const stats = new AcceptanceStats({ since: new Date('2026-01-01T00:00:00Z') });
    stats.add('a', 'shown', 4);
    stats.add('a', 'takenWhole');
    stats.add('a', 'takenInPart');
    stats.add('a', 'charsTaken', 20);
    stats.add('b', 'shown');
    expect(stats.of('a')).toEqual({
      shown: 4,
      takenWhole: 1,
      takenInPart: 1,
      charsTaken: 20,
      charsChecked: 0,
      charsRetained: 0
    });
    const json = JSON.parse(JSON.stringify(stats));
    expect(json.since).toBe('2026-01-01T00:00:00.000Z');
    expect(json.shownAfterMs).toBe(SHOWN_MS);
    expect(json.retainedAfterMs).toBe(RETAINED_MS);
    expect(Object.keys(json.models)).toEqual(['a', 'b']);
  });

  it('sums them up for the status bar, the current model first', () => {
    const stats = new AcceptanceStats();
    expect(stats.summary('a')).toEqual(['Suggestions this session: none shown yet']);
    stats.add('a', 'shown', 4);
    stats.add('a', 'takenWhole');
    stats.add('a', 'takenInPart');
    stats.add('a', 'charsTaken', 20);
    expect(stats.summary('a')).toEqual([
      'Suggestions this session: 4 shown, 1 taken whole, 1 in part (50%)',
      'Characters taken: 20'
    ]);
    stats.add('a', 'charsChecked', 20);
    stats.add('a', 'charsRetained', 15);
    stats.add('b', 'shown');
    expect(stats.summary('b')).toEqual([
      'Suggestions this session (b): 1 shown, 0 taken whole, 0 in part (0%)',
      'Suggestions this session (a): 4 shown, 1 taken whole, 1 in part (50%)',
      'Characters taken: 20, 15 of 20 still in the cell after 30 s'
    ]);
  });
});

describe('AcceptanceTracker', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('counts a suggestion shown once it was on screen for SHOWN_MS, once', () => {
    const { stats, editor } = setup();
    editor.ghost('total = 1');
    jest.advanceTimersByTime(SHOWN_MS - 1);
    expect(stats.of(MODEL).shown).toBe(0);
    jest.advanceTimersByTime(1);
    expect(stats.of(MODEL).shown).toBe(1);
    editor.type('to'); // typing along: the same suggestion
    editor.ghost('tal = 1'); // JupyterLab's fetch shows the rest again
    jest.advanceTimersByTime(SHOWN_MS * 3);
    expect(stats.of(MODEL).shown).toBe(1);
  });

  it('does not count a suggestion gone before SHOWN_MS, nor another provider', () => {
    const { stats, editor } = setup();
    editor.ghost('total = 1');
    jest.advanceTimersByTime(SHOWN_MS / 2);
    editor.type('x'); // not the suggestion: gone
    editor.ghost('print(1)', '@jupyterlab/inline-completer:history');
    jest.advanceTimersByTime(SHOWN_MS * 2);
    expect(stats.of(MODEL)).toEqual(new AcceptanceStats().of(MODEL));
  });

  it('counts a whole take (shown too when taken at once), not typing it all', () => {
    const { stats, editor } = setup();
    editor.ghost('total = 1');
    editor.acceptGhost('total = 1');
    expect(stats.of(MODEL)).toMatchObject({ shown: 1, takenWhole: 1, takenInPart: 0, charsTaken: 9 });

    editor.type('\n', 'input');
    editor.ghost(')');
    editor.type(')'); // typed: the same text, not taken
    expect(stats.of(MODEL)).toMatchObject({ takenWhole: 1, charsTaken: 9 });
  });

  it('counts a suggestion taken in part once, with all its characters', () => {
    const { stats, editor } = setup();
    editor.ghost('total = df.sum()\ntotal');
    jest.advanceTimersByTime(SHOWN_MS);
    takeNext(editor, 'total');
    takeNext(editor, ' =');
    expect(stats.of(MODEL)).toMatchObject({ shown: 1, takenInPart: 1, charsTaken: 7 });
    editor.acceptGhost(' df.sum()\ntotal'); // Tab takes the rest
    expect(stats.of(MODEL)).toMatchObject({
      shown: 1,
      takenWhole: 0,
      takenInPart: 1,
      charsTaken: 'total = df.sum()\ntotal'.length
    });
    // the next suggestion after it is another one
    editor.ghost('.plot()');
    editor.acceptGhost('.plot()');
    expect(stats.of(MODEL)).toMatchObject({ shown: 2, takenWhole: 1, takenInPart: 1 });
  });

  it('recognises the rest shown again after JupyterLab dropped it (a part on another line)', () => {
    const { stats, editor } = setup();
    editor.ghost('a = 1\nb = 2\nc = 3');
    jest.advanceTimersByTime(SHOWN_MS);
    takeNext(editor, 'a = 1\nb');
    editor.ghost(null); // the cursor changed line: JupyterLab drops the ghost text
    editor.ghost(' = 2\nc = 3'); // and shows the rest again
    jest.advanceTimersByTime(SHOWN_MS);
    expect(stats.of(MODEL)).toMatchObject({ shown: 1, takenInPart: 1, charsTaken: 7 });
  });

  it('counts the characters still in the cell RETAINED_MS after a take', () => {
    const { stats, editor } = setup('');
    editor.ghost('abcdef');
    editor.acceptGhost('abcdef');
    editor.backspace(2); // "ef" deleted
    editor.moveTo(2);
    editor.type('XYZ'); // typed inside: not taken text
    editor.moveTo(0);
    editor.type('# '); // before: shifts it
    jest.advanceTimersByTime(RETAINED_MS - 1);
    expect(stats.of(MODEL).charsChecked).toBe(0);
    jest.advanceTimersByTime(1);
    expect(editor.state.doc.toString()).toBe('# abXYZcd');
    expect(stats.of(MODEL)).toMatchObject({ charsTaken: 6, charsChecked: 6, charsRetained: 4 });
  });

  it('checks at once when the editor closes, and counts for the model shown', () => {
    const { stats, editor, tracker, setModel } = setup('');
    editor.ghost('x = 1');
    setModel('other');
    editor.acceptGhost('x = 1');
    tracker.closed(editor);
    expect(stats.of(MODEL)).toMatchObject({ takenWhole: 1, charsChecked: 5, charsRetained: 5 });
    expect(stats.of('other').shown).toBe(0);
    jest.advanceTimersByTime(RETAINED_MS);
    expect(stats.of(MODEL).charsChecked).toBe(5);
  });

  it('marks partial takes with the annotation', () => {
    const editor = new TestEditor('');
    const tr = editor.dispatch({ annotations: partTaken.of('line') });
    expect(tr.annotation(partTaken)).toBe('line');
  });
});
