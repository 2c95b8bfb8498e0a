import { DEFAULT_BUDGET } from '../protocol';
import { GhostTextProvider, PROVIDER_ID } from '../provider';
import {
  chunk,
  consume,
  FakeEditor,
  flush,
  makeClient,
  notebookPanel,
  reply,
  statusMessage,
  TextEditor
} from './fakes';

function fileEditor(editor: FakeEditor) {
  return { context: { path: 'script.py' }, content: { editor } } as any;
}

const TEXT = 'def add(a, b):\n    ret\nprint(add(1, 2))';
const OFFSET = 'def add(a, b):\n    ret'.length;

function setup() {
  const fake = makeClient();
  fake.client.connect();
  fake.socket().open();
  const provider = new GhostTextProvider({ client: fake.client });
  return { ...fake, provider };
}

describe('GhostTextProvider', () => {
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

  it("sends the kernel's variables of the widget, none when the server takes none", () => {
    const fake = makeClient();
    fake.client.connect();
    fake.socket().open();
    const variables = [{ name: 'sales', text: 'DataFrame (3, 2): region object, units int64' }];
    const asked: unknown[] = [];
    const provider = new GhostTextProvider({
      client: fake.client,
      variablesOf: widget => {
        asked.push(widget);
        return variables;
      }
    });
    const widget = notebookPanel(new FakeEditor());
    const fetch = () =>
      void provider.fetch({ text: 'sales.', offset: 6, mimeType: 'text/x-ipython' }, {
        widget,
        triggerKind: 1
      } as any);
    fetch();
    expect(asked).toEqual([widget]);
    expect(fake.socket().ofType('request')[0].variables).toEqual(variables);
    const budget = { ...DEFAULT_BUDGET, variables_chars: 0 };
    fake.socket().receive(statusMessage('settings', 'm', 'http://x', { context_budget: budget }));
    fetch();
    expect(fake.socket().ofType('request')[1].variables).toBeUndefined();
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

/** A provider, an editor in a notebook cell, and a `fetch` as JupyterLab calls it. */
function typing(text = 'def answer():\n    re') {
  const made = setup();
  const editor = new TextEditor(text);
  const widget = notebookPanel(editor);
  const fetch = () => made.provider.fetch(editor.request(), { widget, triggerKind: 1 } as any);
  const requests = () => made.socket().ofType('request');
  /** Answer the last request with one suggestion per text, streamed and done. */
  const answer = async (...texts: string[]) => {
    const { number } = requests()[requests().length - 1];
    const tokens = texts.map((_, i) => `t${number}-${i}`);
    made.socket().receive(reply(number, tokens));
    await flush();
    texts.forEach((text, i) => made.socket().receive(chunk(number, tokens[i], text, true)));
    await flush();
  };
  return { ...made, editor, widget, fetch, requests, answer };
}

/** `typing`, its first fetch answered with `turn 42`. */
async function suggested() {
  const typed = typing();
  void typed.fetch();
  await typed.answer('turn 42');
  return typed;
}

/** Let every pending callback run (the streams go through several generators). */
const settle = () => new Promise(resolve => setTimeout(resolve, 0));

describe('GhostTextProvider type along and cache', () => {
  it('answers with the rest of a suggestion while the typed text matches it, at once', async () => {
    const { fetch, editor, requests, socket } = await suggested();
    for (const [typed, rest] of [
      ['t', 'urn 42'],
      ['ur', 'n 42'],
      ['n 4', '2']
    ]) {
      editor.type(typed);
      expect(await fetch()).toEqual({ items: [{ insertText: rest, isIncomplete: false }] });
    }
    expect(requests().length).toBe(1);
    expect(socket().ofType('cancel')).toEqual([]);
  });

  it('sends a request on a mismatch, and when the suggestion is used up', async () => {
    const { fetch, editor, requests } = await suggested();
    editor.type('tx');
    void fetch();
    expect(requests().length).toBe(2);
    expect(requests()[1].prefix).toBe('def answer():\n    retx');

    const other = await suggested();
    other.editor.type('turn 42');
    void other.fetch();
    expect(other.requests().length).toBe(2);
  });

  it('keeps a running generation going and flowing into the type-along item', async () => {
    const { fetch, editor, requests, socket, provider } = typing();
    const first = fetch();
    const [request] = requests();
    socket().receive(reply(request.number, ['tok']));
    const original = consume(provider.stream((await first).items[0].token!));
    socket().receive(chunk(request.number, 'tok', 'tu'));
    await settle();
    expect(original).toEqual(['tu', 'tu']);

    editor.type('t');
    const along = await fetch();
    expect(requests().length).toBe(1);
    expect(socket().ofType('cancel')).toEqual([]);
    const [item] = along.items;
    expect(item.insertText).toBe('u');
    expect(item.isIncomplete).toBe(true);
    expect(item.token).not.toBe('tok');
    const local = consume(provider.stream(item.token!));

    socket().receive(chunk(request.number, 'tok', 'turn'));
    await settle();
    editor.type('u'); // JupyterLab trims the items; the next text does not undo that
    socket().receive(chunk(request.number, 'tok', 'turn 42', true));
    await settle();
    expect(local).toEqual(['urn', 'urn', 'rn 42']);
    expect(original).toEqual(['tu', 'tu', 'urn', 'urn', 'rn 42']);
    expect(socket().ofType('cancel')).toEqual([]);
  });

  it('cancels a running generation as soon as the typed text cannot start any suggestion', async () => {
    const { fetch, editor, requests, socket } = typing();
    void fetch();
    const [request] = requests();
    socket().receive(reply(request.number, ['a', 'b']));
    await flush();
    socket().receive(chunk(request.number, 'a', 'tu'));
    socket().receive(chunk(request.number, 'b', 'x = 1', true));
    await settle();
    editor.type('t'); // along the first
    await settle();
    editor.type('ur'); // beyond what the first has so far: it may still get there
    await settle();
    socket().receive(chunk(request.number, 'a', 'turn'));
    await settle();
    expect(socket().ofType('cancel')).toEqual([]);
    editor.type('q'); // 'turq': neither can start so any more
    await settle();
    expect(socket().ofType('cancel')).toEqual([{ type: 'cancel', number: request.number }]);
    expect(requests().length).toBe(1); // the next fetch asks again, as before
  });

  it('keeps a running generation when its own line break is typed or taken, not for a move down', async () => {
    const { fetch, editor, requests, socket } = typing('# total\n');
    void fetch();
    const [request] = requests();
    socket().receive(reply(request.number, ['a']));
    await flush();
    socket().receive(chunk(request.number, 'a', 'total = 1\nprint(total)'));
    await settle();
    editor.type('total = 1\npr'); // a part that ends on the next line (next word, Enter)
    await settle();
    expect(socket().ofType('cancel')).toEqual([]);
    editor.text += '\nx = 2';
    editor.moveTo(3, 5); // arrow down into other text
    await settle();
    expect(socket().ofType('cancel')).toEqual([{ type: 'cancel', number: request.number }]);
  });

  it('asks again at a position only when it was not asked there since', async () => {
    const { fetch, editor, provider } = typing();
    const since = Date.now();
    expect(provider.askedAt(editor.text, editor.offset, since)).toBe(false);
    void fetch();
    expect(provider.askedAt(editor.text, editor.offset, since)).toBe(true);
    expect(provider.askedAt(editor.text, editor.offset - 1, since)).toBe(false);
    expect(provider.askedAt(editor.text, editor.offset, Date.now() + 1)).toBe(false);
  });

  it('takes its Inline Completer settings: enabled and the debouncer delay', () => {
    const { provider } = setup();
    expect([provider.enabled, provider.debouncerDelay]).toEqual([true, 200]);
    provider.configure({ enabled: false, debouncerDelay: 350, timeout: 5000 });
    expect([provider.enabled, provider.debouncerDelay]).toEqual([false, 350]);
    provider.configure({ enabled: true, debouncerDelay: 'x' as any });
    expect([provider.enabled, provider.debouncerDelay]).toEqual([true, 200]);
  });

  it('leaves no streamed piece for JupyterLab to draw whole once the user typed part of it', async () => {
    const { fetch, requests, socket, provider } = typing();
    const first = fetch();
    const [request] = requests();
    socket().receive(reply(request.number, ['tok']));
    // What JupyterLab's reconciliator does with the updates (`_stream`).
    const item = { insertText: '', lastStreamed: '' };
    void (async () => {
      for await (const { response } of provider.stream((await first).items[0].token!)) {
        item.lastStreamed = response.insertText.substring(item.insertText.length);
        item.insertText = response.insertText;
      }
    })();
    socket().receive(chunk(request.number, 'tok', 'turn'));
    await settle();
    expect(item).toEqual({ insertText: 'turn', lastStreamed: '' });
  });

  it('keeps the suggestions when a new notebook learns its language', async () => {
    const { provider, widget, editor, requests, answer, fetch } = typing();
    const plain = { ...editor.request(), mimeType: 'text/plain' }; // before the kernel is known
    void provider.fetch(plain, { widget, triggerKind: 1 } as any);
    await answer('turn 42');
    editor.type('t');
    expect((await fetch()).items).toEqual([{ insertText: 'urn 42', isIncomplete: false }]);
    expect(requests().length).toBe(1);
  });

  it('shows the cached suggestion after Backspace to an earlier prefix', async () => {
    const { fetch, editor, requests, answer } = await suggested();
    editor.type('x');
    void fetch();
    await answer(' = 1');
    editor.backspace();
    expect(await fetch()).toEqual({ items: [{ insertText: 'turn 42', isIncomplete: false }] });
    editor.type('x');
    expect(await fetch()).toEqual({ items: [{ insertText: ' = 1', isIncomplete: false }] });
    expect(requests().length).toBe(2);
  });

  it('returns every suggestion that goes on from the typed text, in order (cycling)', async () => {
    const { fetch, editor, answer } = typing();
    const first = fetch();
    await answer('turn 42', 'peat()', 'turn 6 * 7');
    expect((await first).items.length).toBe(3);
    editor.type('t');
    expect((await fetch()).items.map(i => i.insertText)).toEqual(['urn 42', 'urn 6 * 7']);
    editor.type('urn 6');
    expect((await fetch()).items.map(i => i.insertText)).toEqual([' * 7']);
  });

  it('handles emoji before the cursor, in the typed text and in the suggestion', async () => {
    const { fetch, editor, requests, answer } = typing('s = "😀"\nprint("');
    void fetch();
    // JupyterLab's offset counts the emoji as one character; the prefix is still whole.
    expect(requests()[0].prefix).toBe('s = "😀"\nprint("');
    expect(requests()[0].suffix).toBe('');
    await answer('😀 ok")');
    editor.type('😀');
    expect((await fetch()).items).toEqual([{ insertText: ' ok")', isIncomplete: false }]);
    editor.type(' ok');
    expect((await fetch()).items).toEqual([{ insertText: '")', isIncomplete: false }]);
    expect(requests().length).toBe(1);
  });

  it('cuts the request at the cursor when an emoji precedes it on the line', () => {
    const { provider, socket } = setup();
    const text = 'x = "😀😀"; pr\nnext';
    const offset = [...'x = "😀😀"; pr'].length;
    void provider.fetch({ text, offset, mimeType: 'text/x-python' }, {
      widget: fileEditor(new FakeEditor())
    } as any);
    const [request] = socket().ofType('request');
    expect(request.prefix).toBe('x = "😀😀"; pr');
    expect(request.suffix).toBe('\nnext');
  });

  it('forgets the type-along after Escape: the dismissed suggestion stays away', async () => {
    const { fetch, editor, requests } = await suggested();
    editor.type('t');
    expect((await fetch()).items.length).toBe(1);
    editor.key('Escape');
    editor.type('u');
    void fetch();
    expect(requests().length).toBe(2);
  });

  it('does not cache errors, empty suggestions or cut generations', async () => {
    const { fetch, editor, requests, socket, answer } = typing();
    void fetch();
    const [first] = requests();
    socket().receive(reply(first.number, ['a']));
    await flush();
    const error = { type: 'BackendError', title: 'no' };
    socket().receive(chunk(first.number, 'a', 'turn', true, error));
    await flush();
    void fetch();
    expect(requests().length).toBe(2);
    await answer('');
    void fetch();
    expect(requests().length).toBe(3);
    // cut: a newer request (after a mismatch) cancels a running one
    const number = requests()[2].number;
    socket().receive(reply(number, ['c']));
    await flush();
    socket().receive(chunk(number, 'c', 'turn 4'));
    await flush();
    editor.type('x');
    void fetch();
    expect(socket().ofType('cancel').map(c => c.number)).toContain(number);
    await flush();
    editor.backspace();
    void fetch();
    expect(requests().length).toBe(5);
  });

  it('forgets the suggestions when the server reports another model', async () => {
    const { fetch, requests, answer, socket } = typing();
    socket().receive(statusMessage('settings', 'model-a'));
    void fetch();
    await answer('turn 42');
    socket().receive(statusMessage('settings', 'model-a'));
    await fetch();
    expect(requests().length).toBe(1);
    socket().receive(statusMessage('settings', 'model-b'));
    void fetch();
    expect(requests().length).toBe(2);
  });
});
