/**
 * Messages of the `jupyter-ai-inline/completions` websocket (see docs/protocol.md).
 */

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
