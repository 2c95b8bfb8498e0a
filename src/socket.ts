/**
 * The websocket to the server's `jupyter-ai-inline/completions` endpoint, kept open: it
 * reconnects with exponential backoff, and stops retrying in the background an endpoint that
 * never answered. It knows nothing of the messages it carries.
 */
import type { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { ConnectionState, ENDPOINT } from './protocol';

/** The part of the browser's `WebSocket` used here (a fake one in tests). */
export interface ISocket {
  readonly readyState: number;
  onopen: ((event: any) => any) | null;
  onclose: ((event: any) => any) | null;
  onerror: ((event: any) => any) | null;
  onmessage: ((event: any) => any) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type SocketConstructor = new (url: string) => ISocket;

const OPEN = 1;

/** `{wsUrl}jupyter-ai-inline/completions`, with `?token=` when the settings have one. */
export function completionsUrl(settings: { wsUrl: string; token?: string }): string {
  const base = settings.wsUrl.endsWith('/') ? settings.wsUrl : settings.wsUrl + '/';
  const url = base + ENDPOINT;
  return settings.token ? `${url}?token=${encodeURIComponent(settings.token)}` : url;
}

export class ReconnectingSocket implements IDisposable {
  constructor(options: ReconnectingSocket.IOptions) {
    this._url = options.url;
    this._WebSocket = options.WebSocket;
    this._initialDelay = options.initialDelay ?? 500;
    this._maxDelay = options.maxDelay ?? 10000;
    this._stableAfter = options.stableAfter ?? 2000;
    this._maxRetriesUnreachable = options.maxRetriesUnreachable ?? 6;
    this._now = options.now ?? (() => performance.now());
  }

  /**
   * The connection state changed. On `closed` the reconnection is scheduled once the
   * listeners have run, so `retryDelay` is still null for them.
   */
  get stateChanged(): ISignal<this, ConnectionState> {
    return this._stateChanged;
  }
  /** A message arrived (the event's `data`, as received). */
  get messageReceived(): ISignal<this, unknown> {
    return this._messageReceived;
  }

  get state(): ConnectionState {
    return this._state;
  }
  /** Whether `send` delivers now (`state` may still be `open` while a close event is due). */
  get canSend(): boolean {
    return this._socket?.readyState === OPEN;
  }
  /** The delay before the next reconnection attempt, while closed. */
  get retryDelay(): number | null {
    return this._retryTimer === null ? null : this._lastDelay;
  }
  get isDisposed(): boolean {
    return this._state === 'disposed';
  }

  /** Open the websocket (done once; afterwards it reconnects by itself). */
  connect(): void {
    if (this._state === 'disposed' || this._socket) {
      return;
    }
    this._clearRetry();
    this._lastAttemptAt = this._now();
    this._setState('connecting');
    let socket: ISocket;
    try {
      socket = new this._WebSocket(this._url);
    } catch (e) {
      this._onClose(null);
      return;
    }
    this._socket = socket;
    this._openedAt = null;
    this._heard = false;
    socket.onopen = () => {
      if (socket === this._socket) {
        this._openedAt = this._now();
        this._everConnected = true;
        this._setState('open');
      }
    };
    socket.onmessage = event => {
      if (socket === this._socket) {
        this._heard = true;
        this._messageReceived.emit(event.data);
      }
    };
    socket.onerror = () => {
      /* a close event follows */
    };
    socket.onclose = () => {
      if (socket === this._socket) {
        this._onClose(socket);
      }
    };
  }

  /**
   * Connect now if closed with no attempt scheduled (never connected, or gave up retrying in
   * the background), unless the last attempt is less than `maxDelay` old.
   */
  connectOnDemand(): void {
    if (
      this._state === 'closed' &&
      this._retryTimer === null &&
      this._now() - this._lastAttemptAt >= this._maxDelay
    ) {
      this.connect();
    }
  }

  /** Send `data` if the websocket is open (see `canSend`); dropped otherwise. */
  send(data: string): void {
    if (this.canSend) {
      (this._socket as ISocket).send(data);
    }
  }

  dispose(): void {
    if (this._state === 'disposed') {
      return;
    }
    this._clearRetry();
    const socket = this._socket;
    this._socket = null;
    this._setState('disposed');
    if (socket) {
      detach(socket);
      socket.close(1000);
    }
    Signal.clearData(this);
  }

  /** The websocket closed (`socket`), or could not be created (null). */
  private _onClose(socket: ISocket | null): void {
    const wasOpen = this._openedAt !== null;
    const stable =
      this._heard || (wasOpen && this._now() - (this._openedAt as number) >= this._stableAfter);
    if (socket) {
      detach(socket);
    }
    this._socket = null;
    this._openedAt = null;
    if (stable) {
      this._attempts = 0;
    }
    this._setState('closed');
    if (this._state === 'disposed') {
      return; // by a listener
    }
    if (!this._everConnected && this._attempts >= this._maxRetriesUnreachable) {
      return; // retried on demand, by `connectOnDemand()`
    }
    this._lastDelay = Math.min(this._initialDelay * 2 ** this._attempts, this._maxDelay);
    this._attempts += 1;
    this._retryTimer = setTimeout(() => {
      this._retryTimer = null;
      this.connect();
    }, this._lastDelay);
  }

  private _setState(state: ConnectionState): void {
    if (this._state !== state) {
      this._state = state;
      this._stateChanged.emit(state);
    }
  }

  private _clearRetry(): void {
    if (this._retryTimer !== null) {
      clearTimeout(this._retryTimer);
      this._retryTimer = null;
    }
  }

  private _url: string;
  private _WebSocket: SocketConstructor;
  private _initialDelay: number;
  private _maxDelay: number;
  private _stableAfter: number;
  private _maxRetriesUnreachable: number;
  private _now: () => number;
  private _everConnected = false;
  private _lastAttemptAt = -Infinity;
  private _socket: ISocket | null = null;
  private _state: ConnectionState = 'closed';
  private _openedAt: number | null = null;
  private _heard = false;
  private _attempts = 0;
  private _lastDelay = 0;
  private _retryTimer: ReturnType<typeof setTimeout> | null = null;
  private _stateChanged = new Signal<this, ConnectionState>(this);
  private _messageReceived = new Signal<this, unknown>(this);
}

export namespace ReconnectingSocket {
  export interface IOptions {
    /** The websocket URL, e.g. from `completionsUrl()`. */
    url: string;
    /** The `WebSocket` constructor (`ServerConnection.makeSettings().WebSocket`). */
    WebSocket: SocketConstructor;
    /** First reconnection delay in ms, doubled after each failure (default 500). */
    initialDelay?: number;
    /** Longest reconnection delay in ms (default 10000). */
    maxDelay?: number;
    /** A connection that lasted this long (ms) resets the backoff (default 2000). */
    stableAfter?: number;
    /**
     * Failed attempts after which a socket that never connected stops retrying in the
     * background (the endpoint is missing: each attempt is a 404 in the server's log);
     * `connectOnDemand()` then tries again, at most once per `maxDelay` (default 6).
     */
    maxRetriesUnreachable?: number;
    /** Clock in milliseconds (default `performance.now`). */
    now?: () => number;
  }
}

/** Stop listening to a websocket that is done with. */
function detach(socket: ISocket): void {
  socket.onopen = socket.onclose = socket.onmessage = socket.onerror = null;
}
