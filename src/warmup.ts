/**
 * Warm-ups: when a notebook cell (or a console's prompt cell) becomes active or its editor
 * gains focus, and stays so for a moment, the server is asked to evaluate the prompt for the
 * cursor there (a `warm` message), so that the first keystroke's request is fast.
 *
 * At most one warm-up is pending: a newer one replaces it, so moving quickly through many
 * cells sends one warm-up, for the cell where the user stopped. File editors have no cells
 * and get none.
 *
 * `WarmUp` decides when (`watchCells` tells it where the user is); the client sends the
 * `warm` messages, and its `WarmUpMessages` takes their answers.
 */
import type { IDisposable } from '@lumino/disposable';
import type { ISignal } from '@lumino/signaling';
import type { Widget } from '@lumino/widgets';

import { ActiveEditor } from './editor';
import {
  errorTitle,
  IContextBudget,
  IErrorInfo,
  IStatusMessage,
  IWarmedMessage,
  RequestInput
} from './protocol';
import { requestInput, VariablesOf } from './request';

export const WARM_UP_DELAY = 250;

/** Schedules the warm-up of the cell the user stops at. */
export class WarmUp implements IDisposable {
  constructor(options: WarmUp.IOptions) {
    this._options = options;
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  /** Whether a warm-up waits for its delay. */
  get pending(): boolean {
    return this._timer !== null;
  }

  /** Warm up the active cell of `widget` once it stayed active for the delay. */
  schedule(widget: Widget | null | undefined): void {
    this._cancel();
    const cellId = new ActiveEditor(widget).cellId;
    if (this._disposed || !widget || cellId === null) {
      return; // not a notebook or a console
    }
    this._timer = setTimeout(() => {
      this._timer = null;
      this._fire(widget, cellId);
    }, this._options.delay ?? WARM_UP_DELAY);
  }

  dispose(): void {
    this._cancel();
    this._disposed = true;
  }

  private _fire(widget: Widget, cellId: string): void {
    const editor = new ActiveEditor(widget);
    const current = this._options.current;
    if (editor.cellId !== cellId || (current && current() !== widget)) {
      return; // the user moved on
    }
    const at = editor.textAtCursor();
    if (at) {
      this._options.warm(
        requestInput(
          editor,
          { ...at, mime: editor.mimeType },
          this._options.budget(),
          this._options.variables?.(widget)
        )
      );
    }
  }

  private _cancel(): void {
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
  }

  private _options: WarmUp.IOptions;
  private _timer: ReturnType<typeof setTimeout> | null = null;
  private _disposed = false;
}

export namespace WarmUp {
  export interface IOptions {
    /** Send a warm-up (the client's `warm`). */
    warm: (input: RequestInput) => void;
    /** The budget of the other cells (the client's `contextBudget`). */
    budget: () => IContextBudget;
    /** The kernel's variables for a widget's editor, as a request would send them. */
    variables?: VariablesOf;
    /** The widget the user is in; a warm-up for another one is dropped. */
    current?: () => Widget | null | undefined;
    /** How long a cell must stay active, in ms. */
    delay?: number;
  }
}

/** The part of JupyterLab's shell used here (Notebook 7's shell has it too). */
export interface IShellLike {
  readonly currentWidget: Widget | null;
  readonly currentChanged?: ISignal<any, any>;
}

/**
 * Schedule warm-ups when focus enters a cell's editor and when the current notebook's
 * active cell changes (clicks, arrows, Shift+Enter).
 */
export function watchCells(
  shell: IShellLike,
  warmUp: WarmUp,
  root: EventTarget = document
): IDisposable {
  let watched: ISignal<any, any> | null = null;
  const onActiveCell = () => warmUp.schedule(shell.currentWidget);
  const follow = () => {
    watched?.disconnect(onActiveCell);
    watched = (shell.currentWidget as any)?.content?.activeCellChanged ?? null;
    watched?.connect(onActiveCell);
  };
  const onFocusin = (event: Event) => {
    if ((event.target as Element | null)?.closest?.('.jp-Cell .jp-CodeMirrorEditor')) {
      warmUp.schedule(shell.currentWidget);
    }
  };
  shell.currentChanged?.connect(follow);
  follow();
  root.addEventListener('focusin', onFocusin);
  let disposed = false;
  return {
    get isDisposed() {
      return disposed;
    },
    dispose() {
      disposed = true;
      shell.currentChanged?.disconnect(follow);
      watched?.disconnect(onActiveCell);
      root.removeEventListener('focusin', onFocusin);
    }
  };
}

/** At most this many warm-ups wait for their answer (one is scheduled at a time, and the
 *  server answers each within a prompt evaluation). */
const MAX_WARMS = 8;

/**
 * The warm-up messages of a client's connection: whether the server takes them (not once its
 * status said it cannot, nor after a server that does not know them refused one, until the
 * next connection), and their answers (`warmed`, or an `error`), taken silently: they are
 * only logged at debug level.
 */
export class WarmUpMessages {
  /** Whether warm-ups may be sent. */
  get accepted(): boolean {
    return this._accepted;
  }

  /** How many warm-ups wait for their answer. */
  get waiting(): number {
    return this._waiting.length;
  }

  /** A connection opened: perhaps to another server. */
  reset(): void {
    this._accepted = true;
    this._waiting.forEach(number => this._settle(number, 'closed'));
    this._waiting = [];
  }

  /**
   * The server's answer to warm-up `number`: `null` once done, else why it was skipped
   * (`error` for a failure, `closed` when the connection went first).
   */
  answer(number: number): Promise<string | null> {
    if (!this._waiting.includes(number)) {
      return Promise.resolve('closed');
    }
    return new Promise(resolve => this._answers.set(number, resolve));
  }

  /** The server's status: `can_warm: false` stops the warm-ups. */
  onStatus(status: IStatusMessage): void {
    if (status.can_warm === false) {
      this._accepted = false;
    }
  }

  /** A warm-up was sent with this number. */
  sent(number: number): void {
    this._waiting.push(number);
    const dropped = this._waiting.splice(0, this._waiting.length - MAX_WARMS);
    dropped.forEach(old => this._settle(old, 'closed'));
  }

  /** A warm-up is over. */
  onWarmed(message: IWarmedMessage): void {
    if (this._take(message.reply_to, message.skipped ?? null)) {
      const outcome = message.skipped ? `skipped: ${message.skipped}` : `${message.ms} ms`;
      console.debug(`AI inline: warm-up ${message.reply_to}: ${outcome}`);
    }
  }

  /**
   * Whether an error is a warm-up's, then taken: one with its `reply_to`, or (from a server
   * that does not know `warm` messages) a `BadMessage` without one naming the `warm` type;
   * then no more warm-ups are sent on this connection.
   */
  claims(number: number | null, error: IErrorInfo | null | undefined): boolean {
    let claimed: boolean;
    if (number !== null) {
      claimed = this._take(number, 'error');
    } else {
      claimed =
        this._waiting.length > 0 &&
        error?.type === 'BadMessage' &&
        /'warm'/.test(error.title ?? '');
      if (claimed) {
        this._accepted = false;
        this._waiting.forEach(waiting => this._settle(waiting, 'error'));
        this._waiting = [];
      }
    }
    if (claimed) {
      console.debug('AI inline: warm-up failed:', errorTitle(error));
    }
    return claimed;
  }

  /** Whether `number` is a warm-up waiting for its answer (now taken, with `outcome`). */
  private _take(number: number, outcome: string | null): boolean {
    const index = this._waiting.indexOf(number);
    if (index >= 0) {
      this._waiting.splice(index, 1);
      this._settle(number, outcome);
    }
    return index >= 0;
  }

  private _settle(number: number, outcome: string | null): void {
    this._answers.get(number)?.(outcome);
    this._answers.delete(number);
  }

  private _accepted = true;
  private _answers = new Map<number, (outcome: string | null) => void>();
  /** Warm-ups whose answer may still come, oldest first. */
  private _waiting: number[] = [];
}
