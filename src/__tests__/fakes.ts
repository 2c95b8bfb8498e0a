/** A fake WebSocket, fake editors and helpers for the socket, client and provider tests. */
import { Signal } from '@lumino/signaling';

import { CompletionClient } from '../client';
import type { IClientError } from '../protocol';
import type { ISocket, SocketConstructor } from '../socket';

export class FakeSocket implements ISocket {
  constructor(url: string) {
    this.url = url;
  }
  readonly url: string;
  readyState = 0;
  onopen: ((event: any) => any) | null = null;
  onclose: ((event: any) => any) | null = null;
  onerror: ((event: any) => any) | null = null;
  onmessage: ((event: any) => any) | null = null;
  /** Every message sent, parsed. */
  sent: any[] = [];
  closedByClient = false;

  send(data: string): void {
    if (this.readyState !== 1) {
      throw new Error('send on a socket that is not open');
    }
    this.sent.push(JSON.parse(data));
  }
  close(): void {
    this.closedByClient = true;
    this.readyState = 3;
  }

  // What the server (or the network) does:
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  receive(message: unknown): void {
    this.onmessage?.({ data: JSON.stringify(message) });
  }
  drop(): void {
    this.readyState = 3;
    this.onerror?.({});
    this.onclose?.({ code: 1006 });
  }
  /** Sent messages of one type. */
  ofType(type: string): any[] {
    return this.sent.filter(m => m.type === type);
  }
}

export const ENDPOINT_URL = 'ws://localhost:8888/lab-base/jupyter-ai-inline/completions';

/** A `WebSocket` constructor whose sockets are recorded in `sockets`, newest last. */
export function recordingSockets(): {
  WebSocket: SocketConstructor;
  sockets: FakeSocket[];
  socket: () => FakeSocket;
} {
  const sockets: FakeSocket[] = [];
  const Recording = class extends FakeSocket {
    constructor(url: string) {
      super(url);
      sockets.push(this);
    }
  };
  return { WebSocket: Recording, sockets, socket: () => sockets[sockets.length - 1] };
}

/** A client whose sockets are recorded in `sockets`, newest last. */
export function makeClient(options: Partial<CompletionClient.IOptions> = {}): {
  client: CompletionClient;
  sockets: FakeSocket[];
  socket: () => FakeSocket;
} {
  const { WebSocket, sockets, socket } = recordingSockets();
  const client = new CompletionClient({ url: ENDPOINT_URL, WebSocket, ...options });
  return { client, sockets, socket };
}

/** A client connected to an open socket; its errors are recorded in `errors`. */
export function openClient(options: Partial<CompletionClient.IOptions> = {}): ReturnType<
  typeof makeClient
> & { errors: IClientError[] } {
  const made = makeClient(options);
  const errors: IClientError[] = [];
  made.client.errorOccurred.connect((_, e) => errors.push(e));
  made.client.connect();
  made.socket().open();
  return { ...made, errors };
}

export const INPUT = {
  prefix: 'def add(a, b):\n    ret',
  suffix: '\n',
  mime: 'text/x-ipython',
  path: 'nb.ipynb',
  cell_id: 'cell-1',
  language: 'python'
};

export function reply(number: number, tokens: string[]): unknown {
  return {
    type: 'reply',
    reply_to: number,
    list: { items: tokens.map(token => ({ insertText: '', isIncomplete: true, token })) },
    error: null
  };
}

export function chunk(
  number: number,
  token: string,
  text: string,
  done = false,
  error: unknown = null
): unknown {
  return {
    type: 'stream',
    reply_to: number,
    response: { insertText: text, isIncomplete: !done, token },
    done,
    error
  };
}

export function statusMessage(
  source: 'settings' | 'jupyter-ai' = 'settings',
  model = 'qwen2.5-coder:1.5b',
  base_url = 'http://localhost:11434',
  extra: Record<string, unknown> = {}
): unknown {
  return { type: 'status', model, backend: 'ollama', base_url, source, suggestions: 1, ...extra };
}

/** Let pending promise callbacks run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await Promise.resolve();
  }
}

/** Read a stream in the background as JupyterLab's reconciliator does, recording each text. */
export function consume(stream: AsyncGenerator<{ response: { insertText: string } }>): string[] {
  const seen: string[] = [];
  void (async () => {
    for await (const { response } of stream) {
      seen.push(response.insertText);
    }
  })();
  return seen;
}

/** An editor as `watchDismissal` sees it, with a movable cursor. */
export class FakeEditor {
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

export function notebookPanel(editor: FakeEditor, cellId = 'cell-7') {
  return {
    context: { path: 'work/nb.ipynb' },
    content: {
      activeCell: { model: { id: cellId }, editor },
      model: { defaultKernelLanguage: 'python' }
    }
  } as any;
}

/** An editor with text and a cursor, as JupyterLab's inline completer and this provider see it. */
export class TextEditor extends FakeEditor {
  constructor(public text: string) {
    super();
    this.offset = text.length;
    this.selection = { start: this.position(), end: this.position() };
  }
  offset: number;
  override model = {
    selections: { changed: this.changed },
    sharedModel: { getSource: () => this.text },
    mimeType: 'text/x-ipython'
  };
  position(offset = this.offset) {
    const lines = this.text.slice(0, offset).split('\n');
    return { line: lines.length - 1, column: lines[lines.length - 1].length };
  }
  getOffsetAt(position: { line: number; column: number }) {
    const lines = this.text.split('\n').slice(0, position.line);
    return lines.reduce((sum, line) => sum + line.length + 1, 0) + position.column;
  }
  /** Type at the cursor. */
  type(text: string) {
    this.text = this.text.slice(0, this.offset) + text + this.text.slice(this.offset);
    this.offset += text.length;
    this.moveTo(this.position().line, this.position().column);
  }
  backspace(count = 1) {
    this.text = this.text.slice(0, this.offset - count) + this.text.slice(this.offset);
    this.offset -= count;
    this.moveTo(this.position().line, this.position().column);
  }
  /** The request JupyterLab composes: the offset in code points. */
  request() {
    return {
      text: this.text,
      offset: [...this.text.slice(0, this.offset)].length,
      mimeType: 'text/x-ipython'
    };
  }
}
