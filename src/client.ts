/**
 * The requests and their replies over the one websocket per browser tab (a
 * `ReconnectingSocket`, socket.ts): numbers the requests, routes replies by `reply_to` and
 * stream chunks by token (to its `TokenStreams`, streams.ts), cancels superseded requests,
 * and settles whatever is in flight when the connection goes. Warm-ups are numbered and sent
 * with the requests; their answers go to `WarmUpMessages` (warmup.ts). The types it takes
 * and hands out are in protocol.ts (`ICompletionClient` is what the others use of it).
 */
import type { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import {
  ConnectionState,
  DEFAULT_BUDGET,
  editorKey,
  errorTitle,
  ICompletionClient,
  ICompletionItem,
  ICompletionList,
  IClientError,
  IContextBudget,
  IFirstToken,
  IItem,
  IncomingMessage,
  IReplyMessage,
  IRequestHandle,
  IRequestMessage,
  IServerSettings,
  IStatusMessage,
  IStreamMessage,
  OutgoingMessage,
  RequestInput
} from './protocol';
import { ReconnectingSocket } from './socket';
import { TokenStreams } from './streams';
import { WarmUpMessages } from './warmup';

export const UNREACHABLE =
  'Cannot reach the jupyter-ai-inline server extension: is it installed and enabled on the Jupyter server?';
export const CONNECTION_LOST =
  'Lost the connection to the jupyter-ai-inline server extension: reconnecting';

export class CompletionClient implements ICompletionClient, IDisposable {
  constructor(options: CompletionClient.IOptions) {
    this._now = options.now ?? (() => performance.now());
    this._socket = new ReconnectingSocket({ ...options, now: this._now });
    this._socket.stateChanged.connect(this._onSocketState, this);
    this._socket.messageReceived.connect((_, data) => this._onMessage(data));
  }

  /** How much of the other cells the server's prompt takes (from its status). */
  get contextBudget(): IContextBudget {
    return this._contextBudget;
  }

  /** The connection state changed (after the requests it ended were settled). */
  get stateChanged(): ISignal<this, ConnectionState> {
    return this._stateChanged;
  }
  /** The server told which model it uses. */
  get statusReceived(): ISignal<this, IStatusMessage> {
    return this._statusReceived;
  }
  /** Something failed: the endpoint, the model server, or a message. */
  get errorOccurred(): ISignal<this, IClientError> {
    return this._errorOccurred;
  }
  /** A request produced its first non-empty text. */
  get firstToken(): ISignal<this, IFirstToken> {
    return this._firstToken;
  }
  /** The number of requests in flight changed (the argument). */
  get activityChanged(): ISignal<this, number> {
    return this._activityChanged;
  }

  get state(): ConnectionState {
    return this._state;
  }
  /** Numbers of the requests in flight, oldest first. */
  get inFlight(): number[] {
    return [...this._requests.keys()];
  }
  /** Whether requests or warm-ups wait for their answer. */
  get busy(): boolean {
    return this._requests.size > 0 || this._warmUps.waiting > 0;
  }
  /** The delay before the next reconnection attempt, while closed. */
  get retryDelay(): number | null {
    return this._socket.retryDelay;
  }
  get isDisposed(): boolean {
    return this._state === 'disposed';
  }

  /** Open the websocket (done once; afterwards the client reconnects by itself). */
  connect(): void {
    this._socket.connect();
  }

  /** The user's settings: sent now if connected, and again after every reconnection. */
  configure(settings: IServerSettings): void {
    this._settings = settings;
    this._sendConfigure();
  }

  /**
   * Whether this tab's inline completer shows our ghost text (our provider is enabled): the
   * server then answers Jupyter AI's completer with nothing when it asks one of our models too.
   */
  showsGhostText(shown: boolean): void {
    if (shown !== this._ghostText) {
      this._ghostText = shown;
      this._sendConfigure();
    }
  }

  private _sendConfigure(): void {
    if (this._settings && this._state === 'open') {
      this._send({ type: 'configure', settings: this._settings, ghost_text: this._ghostText });
    }
  }

  /** Ask for completions; a request for the same (path, cell_id) cancels the previous one. */
  request(input: RequestInput): IRequestHandle {
    this._streams.purge();
    const number = ++this._counter;
    const key = editorKey(input);
    const previous = this._latestByKey.get(key);
    if (previous !== undefined) {
      this.cancel(previous);
    }
    let resolveReply!: (list: ICompletionList) => void;
    let resolveFinished!: () => void;
    const reply = new Promise<ICompletionList>(r => (resolveReply = r));
    const finished = new Promise<void>(r => (resolveFinished = r));
    const handle: IRequestHandle = { number, reply, finished };

    this._socket.connectOnDemand();
    if (this._state !== 'open' && this._state !== 'connecting') {
      this._emitError({ message: UNREACHABLE, kind: 'connection', number, notify: true });
      resolveReply({ items: [] });
      resolveFinished();
      return handle;
    }
    const request: IRequest = {
      number,
      key,
      message: { type: 'request', number, ...input },
      sent: false,
      startedAt: this._now(),
      replied: false,
      firstTokenSeen: false,
      tokens: new Set(),
      resolveReply,
      resolveFinished
    };
    this._requests.set(number, request);
    this._latestByKey.set(key, number);
    if (this._state === 'open') {
      request.sent = true;
      this._send(request.message);
    } else {
      this._outbox.push(number);
    }
    this._activityChanged.emit(this._requests.size);
    return handle;
  }

  /**
   * Ask the server to evaluate the prompt at this position ahead of a request (a `warm`
   * message, numbered with the requests): sent only while connected, when the server takes
   * warm-ups (see `WarmUpMessages`), and when no completion is in flight for that cell (a
   * request warms it anyway). A warm-up is not a completion: no activity, no error shown, it
   * cancels nothing. Returns its number, or `null` when not sent.
   */
  warm(input: RequestInput): number | null {
    const busy = this._latestByKey.has(editorKey(input));
    if (this._state !== 'open' || !this._warmUps.accepted || busy) {
      return null;
    }
    const number = ++this._counter;
    this._warmUps.sent(number);
    this._send({ type: 'warm', number, ...input });
    return number;
  }

  /**
   * Send a warm-up (`warm`) and wait for the server's answer: `null` once done, else why it
   * was skipped; `undefined` when it was not sent.
   */
  async warmed(input: RequestInput): Promise<string | null | undefined> {
    const number = this.warm(input);
    return number === null ? undefined : this._warmUps.answer(number);
  }

  /**
   * Stop a request: tell the server (if it was sent), settle its fetch with an empty list and
   * end its streams. Unknown or finished requests are ignored.
   */
  cancel(number: number): void {
    const request = this._requests.get(number);
    if (!request) {
      return;
    }
    if (request.sent) {
      if (this._state === 'open') {
        this._send({ type: 'cancel', number });
      }
    } else {
      this._outbox = this._outbox.filter(n => n !== number);
    }
    this._finish(request);
  }

  /** The updates of one suggestion: its full text so far, until its `done` chunk. */
  stream(token: string): AsyncGenerator<{ response: ICompletionItem }> {
    return this._streams.read(token, number => {
      // Its reader stopped listening: once no token of the request is listened to, the
      // request is of no use.
      const request = this._requests.get(number);
      if (request && this._streams.allDone(request.tokens)) {
        this.cancel(number);
      }
    });
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._socket.dispose(); // settles everything, through `_onSocketState`
    Signal.clearData(this);
  }

  /**
   * Follow the socket's state: settle what a closed (or disposed) socket ended before telling
   * the listeners, send the settings and the queued requests once open, report a closed one.
   */
  private _onSocketState(_: ReconnectingSocket, state: ConnectionState): void {
    const wasOpen = this._state === 'open';
    const waiting = this._requests.size > 0;
    if (state === 'closed' || state === 'disposed') {
      this._settleAll();
      if (this.isDisposed) {
        return; // by a listener
      }
    }
    this._setState(state);
    if (state === 'open') {
      this._warmUps.reset(); // perhaps another server now
      this._sendQueued();
    } else if (state === 'closed') {
      this._emitError({
        message: wasOpen ? CONNECTION_LOST : UNREACHABLE,
        kind: 'connection',
        number: null,
        notify: !wasOpen && waiting // someone was waiting for a completion
      });
    }
  }

  /** On (re)connection: the settings, then the requests asked for while connecting. */
  private _sendQueued(): void {
    if (this._settings) {
      this._send({ type: 'configure', settings: this._settings, ghost_text: this._ghostText });
    }
    const outbox = this._outbox;
    this._outbox = [];
    for (const number of outbox) {
      const request = this._requests.get(number);
      if (request) {
        request.sent = true;
        this._send(request.message);
      }
    }
  }

  private _onMessage(data: unknown): void {
    let message: IncomingMessage;
    try {
      message = JSON.parse(String(data));
    } catch (e) {
      this._emitError({
        message: 'Unreadable message from the jupyter-ai-inline server extension',
        kind: 'protocol',
        number: null,
        notify: false
      });
      return;
    }
    switch (message?.type) {
      case 'status':
        if (typeof message.max_message_bytes === 'number') {
          this._maxMessageBytes = message.max_message_bytes;
        }
        if (message.context_budget) {
          this._contextBudget = message.context_budget;
        }
        this._warmUps.onStatus(message);
        this._statusReceived.emit(message);
        break;
      case 'reply':
        this._onReply(message);
        break;
      case 'stream':
        this._onChunk(message);
        break;
      case 'warmed':
        this._warmUps.onWarmed(message);
        break;
      case 'error': {
        const number = typeof message.reply_to === 'number' ? message.reply_to : null;
        if (this._warmUps.claims(number, message.error)) {
          break; // taken silently
        }
        this._emitError({
          message: errorTitle(message.error),
          kind: 'protocol',
          number,
          notify: true
        });
        // The server is done with that request (refused, or failed while streaming).
        const request = number === null ? undefined : this._requests.get(number);
        if (request) {
          this._finish(request);
        }
        break;
      }
      default:
        break;
    }
  }

  private _onReply(message: IReplyMessage): void {
    const request = this._requests.get(message.reply_to);
    if (!request || request.replied) {
      return; // cancelled, or not ours
    }
    request.replied = true;
    if (message.error) {
      this._emitError({
        message: errorTitle(message.error),
        kind: 'model',
        number: request.number,
        notify: true
      });
    }
    const items = (message.list?.items ?? []).map(toItem);
    for (const item of items) {
      if (item.token && item.isIncomplete) {
        request.tokens.add(item.token);
        this._streams.open(item.token, request.number);
      }
    }
    request.resolveReply({ items });
    if (request.tokens.size === 0) {
      this._finish(request);
    }
  }

  private _onChunk(message: IStreamMessage): void {
    const request = this._requests.get(message.reply_to);
    const token = message.response?.token;
    if (!request || !token || !request.tokens.has(token) || !this._streams.isOpen(token)) {
      return;
    }
    const chunk = toItem(message.response);
    if (message.error) {
      chunk.error = { message: errorTitle(message.error) };
      this._emitError({
        message: errorTitle(message.error),
        kind: 'model',
        number: request.number,
        notify: true
      });
    }
    const item = this._streams.push(token, chunk, message.keep, !!message.done);
    if (!request.firstTokenSeen && item.insertText) {
      request.firstTokenSeen = true;
      this._firstToken.emit({
        number: request.number,
        ms: Math.round(this._now() - request.startedAt)
      });
    }
    if (this._streams.allDone(request.tokens)) {
      this._finish(request);
    }
  }

  /** Settle every request in flight (empty lists, ended streams), e.g. on a closed socket. */
  private _settleAll(): void {
    this._outbox = [];
    for (const request of [...this._requests.values()]) {
      this._finish(request);
    }
  }

  private _finish(request: IRequest): void {
    if (!this._requests.delete(request.number)) {
      return;
    }
    if (this._latestByKey.get(request.key) === request.number) {
      this._latestByKey.delete(request.key);
    }
    request.resolveReply({ items: [] }); // no-op when the reply came
    for (const token of request.tokens) {
      this._streams.end(token);
    }
    request.resolveFinished();
    this._activityChanged.emit(this._requests.size);
  }

  private _send(message: OutgoingMessage): void {
    if (!this._socket.canSend) {
      return;
    }
    const data = JSON.stringify(message);
    const size = new TextEncoder().encode(data).length;
    if (size > this._maxMessageBytes && message.type === 'warm') {
      return; // the server would refuse it; a warm-up is only a hint
    }
    if (size > this._maxMessageBytes && message.type === 'request') {
      // the server would refuse it: end the request here, with the reason
      this._emitError({
        message: `The text around the cursor is too large to send (${size} bytes; the server takes ${this._maxMessageBytes})`,
        kind: 'protocol',
        number: message.number,
        notify: false
      });
      const request = this._requests.get(message.number);
      if (request) {
        this._finish(request);
      }
      return;
    }
    this._socket.send(data);
  }

  private _setState(state: ConnectionState): void {
    if (this._state !== state) {
      this._state = state;
      this._stateChanged.emit(state);
    }
  }

  private _emitError(error: IClientError): void {
    this._errorOccurred.emit(error);
  }

  private _socket: ReconnectingSocket;
  private _now: () => number;
  private _state: ConnectionState = 'closed';
  private _settings: IServerSettings | null = null;
  private _ghostText = false;
  private _maxMessageBytes = Infinity;
  private _contextBudget: IContextBudget = DEFAULT_BUDGET;
  private _counter = 0;
  private _requests = new Map<number, IRequest>();
  private _latestByKey = new Map<string, number>();
  private _outbox: number[] = [];
  private _warmUps = new WarmUpMessages();
  private _streams = new TokenStreams();
  private _stateChanged = new Signal<this, ConnectionState>(this);
  private _statusReceived = new Signal<this, IStatusMessage>(this);
  private _errorOccurred = new Signal<this, IClientError>(this);
  private _firstToken = new Signal<this, IFirstToken>(this);
  private _activityChanged = new Signal<this, number>(this);
}

export namespace CompletionClient {
  /** The socket's options; its clock also times the first tokens. */
  export interface IOptions extends ReconnectingSocket.IOptions {}
}

interface IRequest {
  number: number;
  key: string;
  message: IRequestMessage;
  sent: boolean;
  startedAt: number;
  replied: boolean;
  firstTokenSeen: boolean;
  tokens: Set<string>;
  resolveReply: (list: ICompletionList) => void;
  resolveFinished: () => void;
}

function toItem(item: IItem): ICompletionItem {
  const result: ICompletionItem = {
    insertText: item?.insertText ?? '',
    isIncomplete: !!item?.isIncomplete
  };
  if (item?.token) {
    result.token = item.token;
  }
  return result;
}
