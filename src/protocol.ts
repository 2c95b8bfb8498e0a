/**
 * Messages of the `jupyter-ai-inline/completions` websocket (see docs/protocol.md), the
 * server's defaults, and the types the browser's modules share about requests and replies.
 * Types only, and a few constants: a module that needs a type of these imports it from here.
 */

import type { ISignal } from '@lumino/signaling';

/** The server endpoint, relative to the server's base URL. */
export const ENDPOINT = 'jupyter-ai-inline/completions';

export type Backend = 'ollama' | 'llamacpp' | 'openai';

/** The user's settings; `null` means "server default". */
export interface IServerSettings {
  backend: Backend | null;
  baseUrl: string | null;
  model: string | null;
  suggestions: number | null;
  maxTokens: number | null;
  contextAboveChars: number | null;
  contextBelowChars: number | null;
}

// Browser -> server

export interface IConfigureMessage {
  type: 'configure';
  settings: IServerSettings;
  /** This tab's inline completer shows our ghost text (our provider is enabled). */
  ghost_text?: boolean;
}

/** One other cell of the notebook (or an earlier console input). */
export interface ICellMessage {
  cell_type: 'code' | 'markdown' | 'raw';
  source: string;
  /** Short text outputs, when the budget includes them. */
  outputs?: string;
}

/** How much of the other cells the server's prompt takes. */
export interface IContextBudget {
  above_chars: number;
  below_chars: number;
  max_cells: number;
  include_outputs: boolean;
  output_chars: number;
  /** The kernel's variables' share of the prompt; 0: none (older servers send none). */
  variables_chars?: number;
}

/** The server's default budget, used until its status tells its own. */
export const DEFAULT_BUDGET: IContextBudget = {
  above_chars: 6000,
  below_chars: 2000,
  max_cells: 50,
  include_outputs: false,
  output_chars: 400,
  variables_chars: 1500
};

/** One name of the running kernel and what it holds, as the kernel summarized it. */
export interface IKernelVariable {
  name: string;
  text: string;
}

export interface IRequestMessage {
  type: 'request';
  number: number;
  prefix: string;
  suffix: string;
  mime: string;
  path: string | null;
  cell_id: string | null;
  language: string | null;
  /** The other cells, nearest first (none from a file editor). */
  above?: ICellMessage[];
  below?: ICellMessage[];
  /** The kernel's variables, most recently defined first (notebooks and consoles). */
  variables?: readonly IKernelVariable[];
}

/**
 * Evaluate the prompt for this position ahead of a request, so that the first keystroke's
 * request finds the model server's prompt cache warm; the fields of a `request`.
 */
export interface IWarmMessage extends Omit<IRequestMessage, 'type'> {
  type: 'warm';
}

export interface ICancelMessage {
  type: 'cancel';
  number: number;
}

export type OutgoingMessage =
  | IConfigureMessage
  | IRequestMessage
  | IWarmMessage
  | ICancelMessage;

// Server -> browser

export interface IErrorInfo {
  type: string;
  title: string;
  traceback?: string;
}

/** An error's one readable line. */
export function errorTitle(error: IErrorInfo | null | undefined): string {
  const text = (error?.title || error?.type || 'Unknown error').trim();
  return text.split('\n')[0];
}

export interface IItem {
  insertText: string;
  isIncomplete?: boolean | null;
  token?: string | null;
}

/** The local llama-server the server extension manages, when it serves the model. */
export interface ILocalServer {
  state: 'starting' | 'ready' | 'restarting' | 'failed' | 'stopping' | 'stopped';
  /** One line: "starting local model…", the model file, or why it failed. */
  message: string;
}

export interface IStatusMessage {
  type: 'status';
  model: string;
  backend: string;
  base_url: string;
  source: 'jupyter-ai' | 'settings';
  suggestions: number;
  /** llama.cpp only: fill-in-the-middle (`infill`) or prefix `completion`, once known. */
  mode?: 'infill' | 'completion' | null;
  local?: ILocalServer | null;
  /** Whether this browser may choose the model server (needs permission to run code). */
  can_choose_server?: boolean;
  /** The largest message the server takes, in UTF-8 bytes. */
  max_message_bytes?: number;
  /** Where the last prompt's other cells came from. */
  context?: 'live' | 'browser' | 'none' | null;
  context_budget?: IContextBudget;
  /** `false` when the server cannot warm the model (no `warm` is sent then). */
  can_warm?: boolean;
}

export interface IReplyMessage {
  type: 'reply';
  reply_to: number;
  list: { items: IItem[] };
  error?: IErrorInfo | null;
}

export interface IStreamMessage {
  type: 'stream';
  reply_to: number;
  response: IItem;
  done: boolean;
  error?: IErrorInfo | null;
  /** When set, `insertText` follows the first `keep` characters (code points) of the
   *  token's previous text. */
  keep?: number | null;
}

/** A warm-up is over: how long the prompt took, or why it was skipped. */
export interface IWarmedMessage {
  type: 'warmed';
  reply_to: number;
  ms: number | null;
  skipped: string | null;
}

export interface IErrorMessage {
  type: 'error';
  reply_to: number | null;
  error: IErrorInfo;
}

export type IncomingMessage =
  | IStatusMessage
  | IReplyMessage
  | IStreamMessage
  | IWarmedMessage
  | IErrorMessage;

// In the browser: what the client takes and hands out

/** The state of the websocket (and of the client over it). */
export type ConnectionState = 'connecting' | 'open' | 'closed' | 'disposed';

/** What a request (or a warm-up) carries besides its type and number. */
export type RequestInput = Omit<IRequestMessage, 'type' | 'number'>;

/**
 * The key of an editor: its document and cell. A request supersedes the previous one of the
 * same key; the suggestions are cached per key.
 */
export function editorKey(input: Pick<RequestInput, 'path' | 'cell_id'>): string {
  return JSON.stringify([input.path, input.cell_id]);
}

/** An inline completion item as JupyterLab's inline completer takes it. */
export interface ICompletionItem {
  insertText: string;
  isIncomplete?: boolean;
  token?: string;
  error?: { message?: string };
}

export interface ICompletionList {
  items: ICompletionItem[];
}

export interface IClientError {
  /** One readable line. */
  message: string;
  /** `connection`: the endpoint is unreachable; `model`: the model server failed;
   *  `protocol`: the server could not take a message. */
  kind: 'connection' | 'model' | 'protocol';
  /** The request it belongs to, if any. */
  number: number | null;
  /** Whether it deserves a notification (and not only the status bar). */
  notify: boolean;
}

export interface IFirstToken {
  number: number;
  /** From the fetch to the first non-empty text, in milliseconds. */
  ms: number;
}

/** A request in flight, as the client's `request` returns it. */
export interface IRequestHandle {
  /** The request's number (its `reply_to` in the server's answers). */
  readonly number: number;
  /** The items of the `reply`; an empty list when the request is cancelled or fails. */
  readonly reply: Promise<ICompletionList>;
  /** Resolves when the request is over: every token done, cancelled, failed or disconnected. */
  readonly finished: Promise<void>;
}

/**
 * The completions' websocket client (`CompletionClient`, client.ts), as the provider, the
 * status bar and the warm-ups use it.
 */
export interface ICompletionClient {
  /** How much of the other cells the server's prompt takes (from its status). */
  readonly contextBudget: IContextBudget;
  readonly state: ConnectionState;
  /** The connection state changed (after the requests it ended were settled). */
  readonly stateChanged: ISignal<ICompletionClient, ConnectionState>;
  /** The server told which model it uses. */
  readonly statusReceived: ISignal<ICompletionClient, IStatusMessage>;
  /** Something failed: the endpoint, the model server, or a message. */
  readonly errorOccurred: ISignal<ICompletionClient, IClientError>;
  /** A request produced its first non-empty text. */
  readonly firstToken: ISignal<ICompletionClient, IFirstToken>;
  /** The number of requests in flight changed (the argument). */
  readonly activityChanged: ISignal<ICompletionClient, number>;
  /** Ask for completions; a request for the same editor (`editorKey`) cancels the previous one. */
  request(input: RequestInput): IRequestHandle;
  /** Stop a request (unknown or finished ones are ignored). */
  cancel(number: number): void;
  /** The updates of one suggestion: its full text so far, until its `done` chunk. */
  stream(token: string): AsyncGenerator<{ response: ICompletionItem }>;
  /** Warm the model up for this position ahead of a request; its number, or `null` if not sent. */
  warm(input: RequestInput): number | null;
}
