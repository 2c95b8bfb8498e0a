import { Signal } from '@lumino/signaling';

import { InlineProvider, PROVIDER_ID } from '../provider';
import { chunk, makeClient, reply } from './fakes';

/** An editor as `watchDismissal` sees it, with a movable cursor. */
class FakeEditor {
  host = new EventTarget() as unknown as HTMLElement;
  selection = { start: { line: 1, column: 7 }, end: { line: 1, column: 7 } };
  changed = new Signal<this, void>(this);
  model = { selections: { changed: this.changed } };
  getCursorPosition() {
    return this.selection.end;
  }
  getSelection() {
    return this.selection;
  }
  moveTo(line: number, column: number, anchor?: { line: number; column: number }) {
    this.selection = { start: anchor ?? { line, column }, end: { line, column } };
    this.changed.emit();
  }
  key(key: string) {
    this.host.dispatchEvent(Object.assign(new Event('keydown'), { key }));
  }
  blur(relatedTarget: unknown = null) {
    this.host.dispatchEvent(Object.assign(new Event('focusout'), { relatedTarget }));
  }
}

function notebookPanel(editor: FakeEditor, cellId = 'cell-7') {
  return {
    context: { path: 'work/nb.ipynb' },
    content: {
      activeCell: { model: { id: cellId }, editor },
      model: { defaultKernelLanguage: 'python' }
    }
  } as any;
}

function fileEditor(editor: FakeEditor) {
  return { context: { path: 'script.py' }, content: { editor } } as any;
}

const TEXT = 'def add(a, b):\n    ret\nprint(add(1, 2))';
const OFFSET = 'def add(a, b):\n    ret'.length;

function setup() {
  const fake = makeClient();
  fake.client.connect();
  fake.socket().open();
  const provider = new InlineProvider(fake.client);
  return { ...fake, provider };
}

describe('InlineProvider', () => {
  it('is enabled by default and streams', () => {
    const { provider } = setup();
    expect(provider.identifier).toBe(PROVIDER_ID);
    expect(provider.identifier).toBe('@jupyter-ai-inline/provider');
    expect(provider.name).toBe('AI inline');
    expect(provider.schema.default.enabled).toBe(true);
    expect(typeof provider.stream).toBe('function');
  });

  it('sends prefix, suffix, mime, path, cell id and language from a notebook cell', async () => {
    const { provider, socket } = setup();
    const editor = new FakeEditor();
    const fetched = provider.fetch(
      { text: TEXT, offset: OFFSET, mimeType: 'text/x-ipython' },
      { widget: notebookPanel(editor), triggerKind: 1 } as any
    );
    const [request] = socket().ofType('request');
    expect(request).toEqual({
      type: 'request',
      number: request.number,
      prefix: 'def add(a, b):\n    ret',
      suffix: '\nprint(add(1, 2))',
      mime: 'text/x-ipython',
      path: 'work/nb.ipynb',
      cell_id: 'cell-7',
      language: 'python'
    });
    socket().receive(reply(request.number, ['tok']));
    expect(await fetched).toEqual({
      items: [{ insertText: '', isIncomplete: true, token: 'tok' }]
    });
    const stream = provider.stream('tok');
    socket().receive(chunk(request.number, 'tok', 'urn a + b', true));
    expect((await stream.next()).value).toEqual({
      response: { insertText: 'urn a + b', isIncomplete: false, token: 'tok' }
    });
    expect((await stream.next()).done).toBe(true);
  });

  it('sends the other cells of the notebook within the budget the server announced', () => {
    const { provider, socket } = setup();
    const source = (text: string) => ({ model: { type: 'code', sharedModel: { getSource: () => text } } });
    const widget = notebookPanel(new FakeEditor());
    widget.content.widgets = [source('import math'), source('x = 1'), source(''), source('print(x)')];
    widget.content.activeCellIndex = 1;
    socket().receive({
      type: 'status',
      model: 'm',
      backend: 'ollama',
      base_url: 'http://x',
      source: 'settings',
      suggestions: 1,
      context_budget: { above_chars: 4, below_chars: 100, max_cells: 5, include_outputs: false, output_chars: 0 }
    });
    void provider.fetch(
      { text: TEXT, offset: OFFSET, mimeType: 'text/x-ipython' },
      { widget, triggerKind: 1 } as any
    );
    const [request] = socket().ofType('request');
    expect(request.above).toEqual([{ cell_type: 'code', source: 'math' }]);
    expect(request.below).toEqual([{ cell_type: 'code', source: 'print(x)' }]);
  });

  it('sends a null cell id from a file editor', () => {
    const { provider, socket } = setup();
    void provider.fetch(
      { text: 'x = 1', offset: 5, mimeType: 'text/x-python' },
      { widget: fileEditor(new FakeEditor()), triggerKind: 0 } as any
    );
    const [request] = socket().ofType('request');
    expect(request.path).toBe('script.py');
    expect(request.cell_id).toBeNull();
    expect(request.language).toBe('python');
    expect(request.above).toBeUndefined();
    expect(request.below).toBeUndefined();
  });

  it('cancels when a newer fetch in the same cell supersedes the old one', async () => {
    const { provider, socket } = setup();
    const editor = new FakeEditor();
    const widget = notebookPanel(editor);
    const first = provider.fetch({ text: TEXT, offset: OFFSET }, { widget } as any);
    void provider.fetch({ text: TEXT, offset: OFFSET }, { widget } as any);
    const [old] = socket().ofType('request');
    expect(socket().ofType('cancel')).toEqual([{ type: 'cancel', number: old.number }]);
    expect(await first).toEqual({ items: [] });
  });

  it('cancels on Escape', () => {
    const { provider, socket } = setup();
    const editor = new FakeEditor();
    void provider.fetch({ text: TEXT, offset: OFFSET }, { widget: notebookPanel(editor) } as any);
    const [request] = socket().ofType('request');
    editor.key('a');
    expect(socket().ofType('cancel')).toEqual([]);
    editor.key('Escape');
    editor.key('Escape');
    expect(socket().ofType('cancel')).toEqual([{ type: 'cancel', number: request.number }]);
  });

  it('cancels when the cursor leaves the line or moves back, not when typing forward', () => {
    const { provider, socket } = setup();
    const editor = new FakeEditor();
    const widget = notebookPanel(editor);
    void provider.fetch({ text: TEXT, offset: OFFSET }, { widget } as any);
    editor.moveTo(1, 8); // typed one character
    expect(socket().ofType('cancel')).toEqual([]);
    editor.moveTo(2, 0); // arrow down
    expect(socket().ofType('cancel').length).toBe(1);

    void provider.fetch({ text: TEXT, offset: OFFSET }, { widget: fileEditor(editor) } as any);
    editor.moveTo(2, 0); // new request starts at (2, 0)
    editor.moveTo(2, 1, { line: 2, column: 0 }); // shift+right: a selection
    expect(socket().ofType('cancel').length).toBe(2);
  });

  it('cancels when the editor loses focus, unless to the inline completer widget', () => {
    const { provider, socket } = setup();
    const editor = new FakeEditor();
    void provider.fetch({ text: TEXT, offset: OFFSET }, { widget: notebookPanel(editor) } as any);
    const toolbar = { closest: (s: string) => (s === '.jp-InlineCompleter' ? {} : null) };
    editor.blur(toolbar);
    expect(socket().ofType('cancel')).toEqual([]);
    editor.blur(null);
    expect(socket().ofType('cancel').length).toBe(1);
  });

  it('stops watching the editor once the request is over', async () => {
    const { provider, socket } = setup();
    const editor = new FakeEditor();
    const removed = jest.spyOn(editor.host, 'removeEventListener');
    const disconnected = jest.spyOn(editor.changed, 'disconnect');
    const fetched = provider.fetch({ text: TEXT, offset: OFFSET }, {
      widget: notebookPanel(editor)
    } as any);
    const [request] = socket().ofType('request');
    socket().receive(reply(request.number, ['t']));
    await fetched;
    expect(removed).not.toHaveBeenCalled();
    socket().receive(chunk(request.number, 't', 'done', true));
    await new Promise(resolve => setTimeout(resolve, 0));
    expect(removed.mock.calls.map(call => call[0]).sort()).toEqual(['focusout', 'keydown']);
    expect(disconnected).toHaveBeenCalledTimes(1);
  });
});
