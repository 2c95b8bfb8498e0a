import { Signal } from '@lumino/signaling';

import { GhostTextProvider } from '../provider';
import { DEFAULT_BUDGET, RequestInput } from '../protocol';
import { WARM_UP_DELAY, WarmUp, watchCells } from '../warmup';
import { makeClient, notebookPanel, TextEditor } from './fakes';

/** A notebook whose active cell can change; every cell has a text editor. */
function notebook(sources: string[]) {
  const editors = sources.map(source => new TextEditor(source));
  const panel = notebookPanel(editors[0], 'c0');
  const cells = editors.map((editor, i) => ({
    model: { id: `c${i}`, type: 'code', sharedModel: { getSource: () => editor.text } },
    editor
  }));
  panel.content.widgets = cells;
  panel.content.activeCellChanged = new Signal<any, any>(panel.content);
  const activate = (index: number) => {
    panel.content.activeCellIndex = index;
    panel.content.activeCell = cells[index];
    panel.content.activeCellChanged.emit(cells[index]);
  };
  activate(0);
  return { panel, editors, activate };
}

function setup(current?: () => unknown) {
  const sent: RequestInput[] = [];
  const warmUp = new WarmUp({
    warm: input => sent.push(input),
    budget: () => DEFAULT_BUDGET,
    current: current as any
  });
  return { sent, warmUp };
}

describe('WarmUp', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it("sends the kernel's variables with the warm-up, as a request would", () => {
    const sent: RequestInput[] = [];
    const variables = [{ name: 'n', text: 'int = 3' }];
    const warmUp = new WarmUp({
      warm: input => sent.push(input),
      budget: () => DEFAULT_BUDGET,
      variables: () => variables
    });
    warmUp.schedule(notebook(['print(n)']).panel);
    jest.advanceTimersByTime(WARM_UP_DELAY);
    expect(sent.map(input => input.variables)).toEqual([variables]);
  });

  it('warms the active cell up once it stayed active for the delay', () => {
    const { sent, warmUp } = setup();
    const { panel } = notebook(['import math', 'x = 1']);
    warmUp.schedule(panel);
    jest.advanceTimersByTime(WARM_UP_DELAY - 1);
    expect(sent).toEqual([]);
    expect(warmUp.pending).toBe(true);
    jest.advanceTimersByTime(1);
    expect(sent).toEqual([
      {
        prefix: 'import math',
        suffix: '',
        mime: 'text/x-ipython',
        path: 'work/nb.ipynb',
        cell_id: 'c0',
        language: 'python',
        below: [{ cell_type: 'code', source: 'x = 1' }]
      }
    ]);
    expect(warmUp.pending).toBe(false);
  });

  it('has exactly the fields of a request at that cursor', () => {
    const { sent, warmUp } = setup();
    const { panel, editors, activate } = notebook(['import math', 'def f():\n    re', 'f()']);
    activate(1);
    warmUp.schedule(panel);
    jest.advanceTimersByTime(WARM_UP_DELAY);
    const fake = makeClient();
    fake.client.connect();
    fake.socket().open();
    void new GhostTextProvider({ client: fake.client }).fetch(editors[1].request(), { widget: panel } as any);
    const { type, number, ...request } = fake.socket().ofType('request')[0];
    expect(sent).toEqual([request]);
  });

  it('sends one warm-up for the cell the user stops at, however fast they move', () => {
    const { sent, warmUp } = setup();
    const { panel, activate } = notebook(['a', 'b', 'c', 'd']);
    watchCells({ currentWidget: panel }, warmUp, new EventTarget());
    for (let i = 1; i < 4; i++) {
      activate(i); // arrows, clicks or Shift+Enter
      jest.advanceTimersByTime(100);
    }
    activate(2);
    jest.advanceTimersByTime(WARM_UP_DELAY);
    expect(sent.map(input => input.cell_id)).toEqual(['c2']);
  });

  it('drops a warm-up when the user left the cell or the widget before the delay', () => {
    let current: unknown = null;
    const { sent, warmUp } = setup(() => current);
    const { panel, activate } = notebook(['a', 'b']);
    current = panel;
    warmUp.schedule(panel);
    panel.content.activeCell = panel.content.widgets[1]; // no signal: still dropped
    jest.advanceTimersByTime(WARM_UP_DELAY);
    activate(0);
    warmUp.schedule(panel);
    current = { other: 'widget' }; // e.g. another tab
    jest.advanceTimersByTime(WARM_UP_DELAY);
    expect(sent).toEqual([]);
    warmUp.schedule(panel);
    current = panel;
    jest.advanceTimersByTime(WARM_UP_DELAY);
    expect(sent.length).toBe(1);
  });

  it('warms up a console prompt cell, not a file editor', () => {
    const { sent, warmUp } = setup();
    const prompt = new TextEditor('print(');
    const console_ = {
      sessionContext: { path: 'console-1' },
      console: {
        promptCell: { model: { id: 'prompt' }, editor: prompt },
        cells: { length: 0, get: () => undefined }
      }
    } as any;
    warmUp.schedule({ context: { path: 'a.py' }, content: { editor: prompt } } as any);
    jest.advanceTimersByTime(WARM_UP_DELAY);
    expect(sent).toEqual([]);
    warmUp.schedule(console_);
    jest.advanceTimersByTime(WARM_UP_DELAY);
    expect(sent).toMatchObject([{ path: 'console-1', cell_id: 'prompt', prefix: 'print(' }]);
  });

  it('schedules on focus in a cell editor and follows the current widget', () => {
    const { sent, warmUp } = setup();
    const first = notebook(['a']);
    const second = notebook(['b']);
    const currentChanged = new Signal<any, any>({});
    const shell = { currentWidget: first.panel, currentChanged };
    const root = new EventTarget();
    const watcher = watchCells(shell, warmUp, root);
    const focusin = (inCell: boolean) => {
      const event = new Event('focusin');
      Object.defineProperty(event, 'target', {
        value: { closest: (s: string) => (inCell && s.includes('.jp-Cell') ? {} : null) }
      });
      root.dispatchEvent(event);
    };
    focusin(false);
    jest.advanceTimersByTime(WARM_UP_DELAY);
    expect(sent).toEqual([]);
    focusin(true);
    jest.advanceTimersByTime(WARM_UP_DELAY);
    expect(sent.map(input => input.prefix)).toEqual(['a']);

    shell.currentWidget = second.panel;
    currentChanged.emit(undefined);
    first.activate(0); // no longer followed
    jest.advanceTimersByTime(WARM_UP_DELAY);
    second.activate(0);
    jest.advanceTimersByTime(WARM_UP_DELAY);
    expect(sent.map(input => input.prefix)).toEqual(['a', 'b']);

    watcher.dispose();
    second.activate(0);
    focusin(true);
    jest.advanceTimersByTime(WARM_UP_DELAY);
    expect(sent.length).toBe(2);
  });
});
