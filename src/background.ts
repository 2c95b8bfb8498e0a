/**
 * Background warm-ups: while the user rests in a notebook, the model server evaluates the
 * notebook's prompt starts, so that the first keystroke in any cell finds all but that cell's
 * own text evaluated (llama-server keeps evaluated prompts beyond its slots: `--cache-ram`).
 *
 * The cells above a cell start at an anchored place (`anchored` in neighbours.ts), so runs of
 * consecutive cells share their start, and the prompt at the start of a run's last cell
 * begins with the prompt of every cell of the run: only those (`promptStarts`) are warmed,
 * nearest to the active cell first but the notebook's last run second (where notebooks
 * grow), one at a time (each waits for the server's answer), at most `maxWarms` per rest,
 * none twice with the same cells. A key or a click ends the round: the user's own warm-ups
 * and requests come first (and the server runs no warm-up while suggestions are generated,
 * and cancels one for a suggestion).
 */
import type { IDisposable } from '@lumino/disposable';
import type { ISignal } from '@lumino/signaling';
import type { Widget } from '@lumino/widgets';

import type { IContextBudget, RequestInput } from './protocol';
import { cellStartInput, VariablesOf } from './request';

/** How long the user must rest (no key, no click) before a round starts, in ms. */
export const REST_DELAY = 5000;
// Measured (bench/speed.py --sections browser, 3 tasks, quiet 2 cores): with a 2 s rest a round
// often started while the user's own cell was still being warmed after a click, and superseded
// that warm-up: (a) 267 -> 389 ms, (b) 525 -> 1,207 ms p50; users start typing within 5 s.
/** Warm-ups per round. */
export const MAX_WARMS = 4;
/** Cells looked at on each side of the active one. */
export const WINDOW = 40;
/** Cells looked at at the end of the notebook. */
export const TAIL = 10;
/** Prompt starts remembered as warmed. */
const REMEMBERED = 256;

/**
 * The indices of the cells whose start to warm: the last cell of each run of cells whose
 * prompts (`prompts[i]`, what precedes cell i) continue one another.
 */
export function promptStarts(prompts: readonly (string | null)[]): number[] {
  const starts: number[] = [];
  prompts.forEach((prompt, i) => {
    const next = prompts.slice(i + 1).find(p => p !== null);
    if (prompt !== null && !(next !== undefined && next.startsWith(prompt))) {
      starts.push(i);
    }
  });
  return starts;
}

/** Warms a notebook's prompt starts while the user rests in it. */
export class BackgroundWarmUp implements IDisposable {
  constructor(options: BackgroundWarmUp.IOptions) {
    this._options = options;
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  /** Whether a round is running. */
  get running(): boolean {
    return this._running;
  }

  /** The user did something in `widget` (or turned to it): end the round, rest again. */
  touch(widget: Widget | null | undefined): void {
    this._round++;
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
    const enabled = this._options.enabled?.() ?? true;
    if (this._disposed || !enabled || !widget || !Array.isArray((widget as any).content?.widgets)) {
      return; // off, or not a notebook
    }
    this._timer = setTimeout(() => {
      this._timer = null;
      void this._warm(widget, this._round);
    }, this._options.rest ?? REST_DELAY);
  }

  dispose(): void {
    this.touch(null);
    this._disposed = true;
  }

  private async _warm(widget: Widget, round: number): Promise<void> {
    const { budget, variables, current, busy } = this._options;
    if (current && current() !== widget) {
      return;
    }
    const notebook = (widget as any).content;
    const active: number = notebook.activeCellIndex ?? 0;
    const count: number = notebook.widgets.length;
    const starts = new Map<number, { input: RequestInput; key: string }>();
    for (const [from, to] of segments(active, count)) {
      const inputs: (RequestInput | null)[] = [];
      for (let i = from; i < to; i++) {
        inputs.push(cellStartInput(widget, i, budget(), variables?.(widget) ?? []));
      }
      const keys = inputs.map(input => input && startKey(input));
      for (const i of promptStarts(keys)) {
        starts.set(from + i, { input: inputs[i]!, key: keys[i]! });
      }
    }
    // nearest the active cell first, but the notebook's end (where it usually grows) second
    const runs = [...starts.keys()];
    const byDistance = [...runs].sort((a, b) => Math.abs(a - active) - Math.abs(b - active));
    const order = [byDistance[0], runs[runs.length - 1], ...byDistance.slice(1)];
    const todo = [...new Set(order)]
      .filter(i => i !== undefined && !this._warmed.has(starts.get(i)!.key))
      .slice(0, this._options.maxWarms ?? MAX_WARMS)
      .map(i => starts.get(i)!);
    this._running = true;
    try {
      for (const { input, key } of todo) {
        if (round !== this._round || this._disposed) {
          return; // the user is back
        }
        if (busy?.()) {
          this.touch(widget); // the user's own requests or warm-ups first: rest again
          return;
        }
        const skipped = await this._options.warm(input);
        if (skipped === undefined || skipped === 'busy' || skipped === 'superseded') {
          return; // not sent, or the server has better things to do: next rest
        }
        this._remember(key);
      }
    } finally {
      this._running = false;
    }
  }

  private _remember(key: string): void {
    this._warmed.add(key);
    for (const old of this._warmed) {
      if (this._warmed.size <= REMEMBERED) {
        break;
      }
      this._warmed.delete(old);
    }
  }

  private _options: BackgroundWarmUp.IOptions;
  private _timer: ReturnType<typeof setTimeout> | null = null;
  private _round = 0;
  private _running = false;
  private _warmed = new Set<string>();
  private _disposed = false;
}

export namespace BackgroundWarmUp {
  export interface IOptions {
    /**
     * Send a warm-up and resolve once the server answered: `null` when done, else why it
     * was skipped; `undefined` when it was not sent.
     */
    warm: (input: RequestInput) => Promise<string | null | undefined>;
    /** The budget of the other cells (the client's `contextBudget`). */
    budget: () => IContextBudget;
    /** The kernel's variables for a widget's editor, as a request would send them. */
    variables?: VariablesOf;
    /** Whether the user's own requests or warm-ups are unanswered: the round waits. */
    busy?: () => boolean;
    /** The widget the user is in; a round for another one does not start. */
    current?: () => Widget | null | undefined;
    /** Whether background warm-ups are on (the `backgroundWarmUps` setting). */
    enabled?: () => boolean;
    /** How long the user must rest, in ms. */
    rest?: number;
    /** Warm-ups per round. */
    maxWarms?: number;
  }
}

/**
 * The ranges of cells looked at: `WINDOW` cells on each side of the active one, and the last
 * `TAIL` cells of the notebook; merged where they overlap.
 */
export function segments(active: number, count: number): [number, number][] {
  const around: [number, number] = [Math.max(active - WINDOW, 0), Math.min(active + WINDOW + 1, count)];
  const tail: [number, number] = [Math.max(count - TAIL, 0), count];
  if (tail[0] <= around[1]) {
    return [[around[0], Math.max(around[1], tail[1])]];
  }
  return [around, tail];
}

/** What a prompt starts with: the document, the cells above (in order) and the variables. */
function startKey(input: RequestInput): string {
  const above = JSON.stringify([...(input.above ?? [])].reverse()).slice(0, -1);
  return JSON.stringify([input.path, input.variables ?? []]) + above;
}

/**
 * Rest again after every key and click in the page, and when the user turns to another
 * widget (`touch` with the current one).
 */
export function watchRest(
  current: () => Widget | null | undefined,
  background: BackgroundWarmUp,
  currentChanged?: ISignal<any, any>,
  root: EventTarget = document
): IDisposable {
  const touch = () => background.touch(current());
  const events = ['keydown', 'pointerdown'];
  events.forEach(type => root.addEventListener(type, touch, true));
  currentChanged?.connect(touch);
  touch();
  let disposed = false;
  return {
    get isDisposed() {
      return disposed;
    },
    dispose() {
      disposed = true;
      events.forEach(type => root.removeEventListener(type, touch, true));
      currentChanged?.disconnect(touch);
    }
  };
}
