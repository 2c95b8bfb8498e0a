/**
 * How often suggestions are taken, measured in this browser tab only (nothing is sent).
 *
 * Per model, for the session (since the page loaded): the suggestions shown (on screen for at
 * least `SHOWN_MS`, or taken sooner), those taken whole (Tab, or any accept of all that was
 * shown) and those taken in part (next word / next line, whatever followed), the characters
 * taken, and of those, the characters still in the cell `RETAINED_MS` later (or when its
 * editor closes, if sooner). Acceptance alone rewards short, trivial suggestions; the
 * characters that stay say how much of the code the model wrote.
 *
 * `AcceptanceTracker` follows the editors' CodeMirror updates: a ghost text of our provider
 * is one suggestion while what is typed or taken in front of it follows it (type-along,
 * partial takes, streaming); `AcceptanceStats` keeps the counts.
 */
import type { ChangeDesc, EditorState, Transaction } from '@codemirror/state';
import { ISignal, Signal } from '@lumino/signaling';

import { ghostIn, IGhost, partTaken } from './ghost';

/** How long a suggestion is on screen before it counts as shown. */
export const SHOWN_MS = 300;
/** How long after a take its characters are looked for in the cell. */
export const RETAINED_MS = 30000;

/** The counts of one model. */
export interface IModelStats {
  /** Suggestions on screen for at least `SHOWN_MS` (or taken sooner). */
  shown: number;
  /** Suggestions taken all at once (Tab), with no part taken before. */
  takenWhole: number;
  /** Suggestions of which a part was taken (next word, next line), and maybe the rest. */
  takenInPart: number;
  /** Characters (code points) inserted by takes, whole and partial. */
  charsTaken: number;
  /** Of those, the characters whose `RETAINED_MS` are over (or whose editor closed). */
  charsChecked: number;
  /** Of the checked characters, those still in the cell. */
  charsRetained: number;
}

/** The statistics as exported. */
export interface IAcceptanceExport {
  /** When the session began (ISO 8601). */
  since: string;
  shownAfterMs: number;
  retainedAfterMs: number;
  /** Per model, as the status bar names it. */
  models: { [model: string]: IModelStats };
}

/** The counts, per model, since the page loaded. */
export class AcceptanceStats {
  constructor(options: AcceptanceStats.IOptions = {}) {
    this.since = options.since ?? new Date();
  }

  readonly since: Date;

  /** Emitted after every change. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Add `n` to a count of `model`. */
  add(model: string, field: keyof IModelStats, n = 1): void {
    if (n === 0) {
      return;
    }
    const stats = this._models.get(model) ?? emptyStats();
    stats[field] += n;
    this._models.set(model, stats);
    this._changed.emit();
  }

  /** The counts of `model` (zeros when it has none). */
  of(model: string): IModelStats {
    return { ...(this._models.get(model) ?? emptyStats()) };
  }

  toJSON(): IAcceptanceExport {
    const models: { [model: string]: IModelStats } = {};
    for (const [model, stats] of this._models) {
      models[model] = { ...stats };
    }
    return {
      since: this.since.toISOString(),
      shownAfterMs: SHOWN_MS,
      retainedAfterMs: RETAINED_MS,
      models
    };
  }

  /** Lines for the status bar's tooltip: `current` first, then any other model counted. */
  summary(current: string | null): string[] {
    const models = [...this._models.keys()].sort((a, b) =>
      a === current ? -1 : b === current ? 1 : a.localeCompare(b)
    );
    if (!models.length) {
      return ['Suggestions this session: none shown yet'];
    }
    return models.flatMap(model => {
      const s = this._models.get(model)!;
      const taken = s.takenWhole + s.takenInPart;
      const rate = s.shown ? ` (${Math.round((100 * taken) / s.shown)}%)` : '';
      const lines = [
        `Suggestions this session${models.length > 1 ? ` (${model})` : ''}: ${s.shown} shown, ` +
          `${s.takenWhole} taken whole, ${s.takenInPart} in part${rate}`
      ];
      if (s.charsTaken) {
        const after = `${RETAINED_MS / 1000} s`;
        const kept = s.charsChecked
          ? `, ${s.charsRetained} of ${s.charsChecked} still in the cell after ${after}`
          : '';
        lines.push(`Characters taken: ${s.charsTaken}${kept}`);
      }
      return lines;
    });
  }

  private _models = new Map<string, IModelStats>();
  private _changed = new Signal<this, void>(this);
}

export namespace AcceptanceStats {
  export interface IOptions {
    /** When the session began (now by default). */
    since?: Date;
  }
}

function emptyStats(): IModelStats {
  return {
    shown: 0,
    takenWhole: 0,
    takenInPart: 0,
    charsTaken: 0,
    charsChecked: 0,
    charsRetained: 0
  };
}

/** A document range `[from, to)`. */
export type Span = [number, number];
/** A changed range as `iterChangedRanges` gives it: old `[fromA, toA)`, new `[fromB, toB)`. */
export type ChangedRange = [number, number, number, number];

/**
 * Where the characters of `spans` are after `changes` (in document order): deleted ones are
 * gone, text inserted inside a span splits it (it is not the taken text).
 */
export function mapSpans(spans: readonly Span[], changes: readonly ChangedRange[]): Span[] {
  const mapped: Span[] = [];
  for (const span of spans) {
    let pieces: Span[] = [span];
    for (const [fromA, toA] of changes) {
      pieces = pieces.flatMap(([a, b]): Span[] => {
        if (toA <= a || fromA >= b) {
          return [[a, b]];
        }
        return [
          ...(fromA > a ? [[a, fromA] as Span] : []),
          ...(toA < b ? [[toA, b] as Span] : [])
        ];
      });
    }
    for (const [a, b] of pieces) {
      let shift = 0;
      for (const [fromA, toA, fromB, toB] of changes) {
        if (toA <= a) {
          shift += toB - fromB - (toA - fromA);
        }
      }
      mapped.push([a + shift, b + shift]);
    }
  }
  return mapped;
}

function changedRanges(changes: ChangeDesc): ChangedRange[] {
  const ranges: ChangedRange[] = [];
  changes.iterChangedRanges((fromA, toA, fromB, toB) => ranges.push([fromA, toA, fromB, toB]));
  return ranges;
}

function codePoints(text: string): number {
  let n = 0;
  for (const _ of text) {
    n++;
  }
  return n;
}

/** What the tracker needs of a CodeMirror `ViewUpdate`. */
export interface IEditorUpdate {
  /** The editor (its `EditorView`): a key, and its `state` when checking what stayed. */
  readonly view: { readonly state: EditorState };
  readonly startState: EditorState;
  readonly state: EditorState;
  readonly docChanged: boolean;
  readonly changes: ChangeDesc;
  readonly transactions: readonly Transaction[];
}

/** One suggestion of our provider, followed across the updates of its editor. */
interface ISuggestion {
  model: string;
  /** Where its first character is (or would be) in the document. */
  anchor: number;
  /** Its text as known: what was typed or taken since `anchor`, then what is shown. */
  text: string;
  /** Since when it is on screen, `null` while it is not. */
  visibleSince: number | null;
  shown: boolean;
  inPart: boolean;
  /** Taken whole (or its last part taken): a ghost text after it is another suggestion. */
  done: boolean;
}

/** Characters taken in one editor, followed until they are checked. */
interface ITaken {
  model: string;
  chars: number;
  spans: Span[];
  timer: ReturnType<typeof setTimeout> | null;
}

interface IEditorRecord {
  view: IEditorUpdate['view'];
  /** The latest suggestions, newest last (a few: cycling shows the others again). */
  suggestions: ISuggestion[];
  taken: ITaken[];
}

/** The suggestions remembered per editor, to recognise them when cycled back to. */
const REMEMBERED = 8;

/** Follows the ghost text of our provider in every editor and counts what happens to it. */
export class AcceptanceTracker {
  constructor(options: AcceptanceTracker.IOptions) {
    this.stats = options.stats;
    this._provider = options.provider;
    this._model = options.model;
    this._now = options.now ?? (() => Date.now());
  }

  readonly stats: AcceptanceStats;

  /** Follow one update of an editor. */
  update(update: IEditorUpdate): void {
    let record = this._editors.get(update.view);
    if (update.docChanged && record) {
      this._followChanges(record, update);
    }
    const ghost = ours(ghostIn(update.state), this._provider);
    if (!ghost && !record) {
      return;
    }
    record = record ?? this._record(update.view);
    const now = this._now();
    const current = ghost && this._following(record, update.state, ghost);
    for (const suggestion of record.suggestions) {
      if (suggestion !== current) {
        suggestion.visibleSince = null;
      }
    }
    if (!ghost) {
      return;
    }
    let suggestion = current;
    if (!suggestion) {
      suggestion = {
        model: this._model(),
        anchor: ghost.from,
        text: ghost.text,
        visibleSince: null,
        shown: false,
        inPart: false,
        done: false
      };
      record.suggestions.push(suggestion);
      record.suggestions.splice(0, record.suggestions.length - REMEMBERED);
    }
    if (suggestion.visibleSince === null) {
      suggestion.visibleSince = now;
      const seen = suggestion;
      setTimeout(() => this._checkShown(seen), SHOWN_MS);
    }
  }

  /** The editor closed: check what it still has of the characters taken in it. */
  closed(view: IEditorUpdate['view']): void {
    const record = this._editors.get(view);
    this._editors.delete(view);
    for (const taken of [...(record?.taken ?? [])]) {
      this._check(record!, taken);
    }
  }

  private _record(view: IEditorUpdate['view']): IEditorRecord {
    const record: IEditorRecord = { view, suggestions: [], taken: [] };
    this._editors.set(view, record);
    return record;
  }

  /** Map the suggestions and the taken characters through a change; count takes. */
  private _followChanges(record: IEditorRecord, update: IEditorUpdate): void {
    const ranges = changedRanges(update.changes);
    for (const suggestion of record.suggestions) {
      suggestion.anchor = update.changes.mapPos(suggestion.anchor, -1);
    }
    for (const taken of record.taken) {
      taken.spans = mapSpans(taken.spans, ranges);
    }
    const before = ours(ghostIn(update.startState), this._provider);
    const suggestion = before && this._following(record, update.startState, before);
    if (!before || !suggestion || ranges.length !== 1) {
      return;
    }
    const [fromA, toA, fromB, toB] = ranges[0];
    if (fromA !== before.from || toA !== fromA) {
      return; // not an insertion where the ghost text is
    }
    const inserted = update.state.doc.sliceString(fromB, toB);
    const part = update.transactions.some(tr => tr.annotation(partTaken) !== undefined);
    const typed = update.transactions.some(tr =>
      ['input.type', 'input.paste', 'input.drop'].some(event => tr.isUserEvent(event))
    );
    if (part && before.text.startsWith(inserted) && inserted.length < before.text.length) {
      this._take(record, suggestion, inserted, [fromB, toB], 'part');
    } else if (!typed && inserted === before.text) {
      this._take(record, suggestion, inserted, [fromB, toB], 'whole');
    }
  }

  /**
   * The suggestion that `ghost` goes on showing: what is in the document between its anchor
   * and the ghost is the start of it, and the ghost text goes on from there (or has grown).
   */
  private _following(record: IEditorRecord, state: EditorState, ghost: IGhost): ISuggestion | null {
    for (let i = record.suggestions.length - 1; i >= 0; i--) {
      const suggestion = record.suggestions[i];
      if (suggestion.done || ghost.from < suggestion.anchor) {
        continue;
      }
      const typed = state.doc.sliceString(suggestion.anchor, ghost.from);
      if (typed.length >= suggestion.text.length || !suggestion.text.startsWith(typed)) {
        continue;
      }
      const whole = typed + ghost.text;
      if (whole.startsWith(suggestion.text)) {
        suggestion.text = whole; // it grew as it streamed
        return suggestion;
      }
      if (suggestion.text.startsWith(whole)) {
        return suggestion;
      }
    }
    return null;
  }

  private _take(
    record: IEditorRecord,
    suggestion: ISuggestion,
    text: string,
    span: Span,
    kind: 'part' | 'whole'
  ): void {
    const model = suggestion.model;
    if (!suggestion.shown) {
      suggestion.shown = true; // taken before SHOWN_MS: it was seen
      this.stats.add(model, 'shown');
    }
    if (kind === 'part' && !suggestion.inPart) {
      suggestion.inPart = true;
      this.stats.add(model, 'takenInPart');
    } else if (kind === 'whole') {
      suggestion.done = true;
      if (!suggestion.inPart) {
        this.stats.add(model, 'takenWhole');
      }
    }
    const chars = codePoints(text);
    this.stats.add(model, 'charsTaken', chars);
    const taken: ITaken = { model, chars, spans: [span], timer: null };
    taken.timer = setTimeout(() => this._check(record, taken), RETAINED_MS);
    record.taken.push(taken);
  }

  /** Count what is left of `taken` in the editor, once. */
  private _check(record: IEditorRecord, taken: ITaken): void {
    const index = record.taken.indexOf(taken);
    if (index < 0) {
      return;
    }
    record.taken.splice(index, 1);
    if (taken.timer !== null) {
      clearTimeout(taken.timer);
    }
    const doc = record.view.state.doc;
    const end = (at: number) => Math.min(at, doc.length);
    const left = taken.spans.reduce(
      (sum, [a, b]) => sum + codePoints(doc.sliceString(end(a), end(b))),
      0
    );
    this.stats.add(taken.model, 'charsChecked', taken.chars);
    this.stats.add(taken.model, 'charsRetained', Math.min(left, taken.chars));
  }

  private _checkShown(suggestion: ISuggestion): void {
    const since = suggestion.visibleSince;
    if (!suggestion.shown && since !== null && this._now() - since >= SHOWN_MS - 5) {
      suggestion.shown = true;
      this.stats.add(suggestion.model, 'shown');
    }
  }

  private _provider: string;
  private _model: () => string;
  private _now: () => number;
  private _editors = new Map<IEditorUpdate['view'], IEditorRecord>();
}

export namespace AcceptanceTracker {
  export interface IOptions {
    /** Where the counts go. */
    stats: AcceptanceStats;
    /** The identifier of our inline completion provider (other providers' ghosts are left out). */
    provider: string;
    /** The model in use now (a suggestion counts for the model it was shown with). */
    model: () => string;
    /** The time in ms (`Date.now` by default). */
    now?: () => number;
  }
}

function ours(ghost: IGhost | null, provider: string): IGhost | null {
  return ghost && ghost.provider === provider ? ghost : null;
}

/** Save `value` as a JSON file through the browser's download (nothing is uploaded). */
export function downloadJson(value: unknown, name: string): void {
  const blob = new Blob([JSON.stringify(value, null, 2)], { type: 'application/json' });
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
