/**
 * The suggestions already generated, per editor, so that typing along a suggestion, or coming
 * back to an earlier prefix (Backspace, undo, retyping), shows one at once without a request.
 *
 * An entry is what the model saw (the prefix, and a hash of everything else: suffix, mime,
 * language, other cells) and the suggestions it gave, growing while they stream. A lookup at
 * a prefix finds an entry with the same rest whose prefix starts the current one, and the
 * suggestions that go on from what was typed since. Pure: no DOM, no websocket.
 */

/** One suggestion of a generation: its text so far, growing until `done`. */
export class Suggestion {
  constructor(text = '', done = false) {
    this.text = text;
    this.done = done;
  }

  text: string;
  done: boolean;
  /** One readable line, when the generation failed (then `done`). */
  error: string | null = null;
  /** Whether it ended without a complete text (cancelled): never shown from the cache. */
  cut = false;

  /** Counts the changes. */
  version = 0;

  /** Whether the cache may show it: not failed, cut or empty. */
  get usable(): boolean {
    return !this.error && !this.cut && !(this.done && !this.text);
  }

  /** Take the newest text (and the end, or the failure), and wake whoever waits. */
  update(text: string, done: boolean, error: string | null = null): void {
    this.text = text;
    this.done = this.done || done;
    this.error = error ?? this.error;
    this.version++;
    this._wake();
  }

  /** It ended before its last chunk (cancelled, or the connection went). */
  end(): void {
    if (!this.done) {
      this.done = true;
      this.cut = true;
    }
    this.version++;
    this._wake();
  }

  /** Resolves once changed since `version` (at once if it already did, or when done). */
  changed(version: number): Promise<void> {
    if (this.done || this.version !== version) {
      return Promise.resolve();
    }
    return new Promise(resolve => this._waiters.push(resolve));
  }

  private _wake(): void {
    const waiters = this._waiters;
    this._waiters = [];
    waiters.forEach(wake => wake());
  }

  private _waiters: (() => void)[] = [];
}

/** What a suggestion was generated for. */
export interface IKey {
  prefix: string;
  /** A hash of the rest of what the model saw (`contextKey`). */
  context: string;
}

export interface IEntry extends IKey {
  suggestions: Suggestion[];
}

export interface IMatch {
  entry: IEntry;
  /** What was typed since the entry's prefix. */
  typed: string;
  /** The indices of the suggestions that go on from `typed`, in their order. */
  indices: number[];
}

/**
 * The rest of `text` after `typed`, when `text` starts with `typed` and goes on (and the cut
 * does not split a surrogate pair); else `null`.
 */
export function restAfter(text: string, typed: string): string | null {
  if (text.length <= typed.length || !text.startsWith(typed)) {
    return null;
  }
  const cut = typed.length;
  if (cut > 0 && isHigh(text.charCodeAt(cut - 1)) && isLow(text.charCodeAt(cut))) {
    return null;
  }
  return text.slice(cut);
}

function isHigh(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLow(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** A short hash of a string (cyrb53: 53 bits, base 36); cheap for a notebook's text. */
export function hash(text: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ code, 2654435761);
    h2 = Math.imul(h2 ^ code, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36);
}

/** The key of everything the model sees besides the prefix. */
export function contextKey(parts: unknown[]): string {
  return hash(JSON.stringify(parts));
}

/** A bounded LRU of entries per editor, in a bounded LRU of editors. */
export class SuggestionCache {
  constructor(options: SuggestionCache.IOptions = {}) {
    this.maxEntries = options.entries ?? 32;
    this.maxEditors = options.editors ?? 16;
  }

  readonly maxEntries: number;
  readonly maxEditors: number;

  /** The number of editors kept. */
  get editors(): number {
    return this._editors.size;
  }

  /** The entries of an editor, least recently used first. */
  entries(editor: string): readonly IEntry[] {
    return this._editors.get(editor) ?? [];
  }

  /** Keep the suggestions generated for `key` (replacing an entry of the same key). */
  add(editor: string, key: IKey, suggestions: Suggestion[]): IEntry {
    const entries = (this._editors.get(editor) ?? []).filter(
      e => e.prefix !== key.prefix || e.context !== key.context
    );
    const entry: IEntry = { prefix: key.prefix, context: key.context, suggestions };
    entries.push(entry);
    entries.splice(0, entries.length - this.maxEntries);
    this._touch(editor, entries);
    return entry;
  }

  /**
   * The suggestions that go on from the current prefix: from the entry of the same context
   * with the longest prefix that starts the current one and has at least one such suggestion
   * (the most recently used on a tie). A hit counts as a use.
   */
  lookup(editor: string, key: IKey): IMatch | null {
    const entries = this._editors.get(editor);
    let best: IMatch | null = null;
    for (const entry of entries ?? []) {
      if (entry.context !== key.context || !key.prefix.startsWith(entry.prefix)) {
        continue;
      }
      if (best && entry.prefix.length < best.entry.prefix.length) {
        continue;
      }
      const typed = key.prefix.slice(entry.prefix.length);
      const indices = entry.suggestions
        .map((s, i) => (s.usable && restAfter(s.text, typed) !== null ? i : -1))
        .filter(i => i >= 0);
      if (indices.length) {
        best = { entry, typed, indices };
      }
    }
    if (best && entries) {
      entries.splice(entries.indexOf(best.entry), 1);
      entries.push(best.entry);
      this._touch(editor, entries);
    }
    return best;
  }

  /** Forget an entry (its suggestions all failed or were cut). */
  remove(editor: string, entry: IEntry): void {
    const entries = this._editors.get(editor);
    const index = entries?.indexOf(entry) ?? -1;
    if (entries && index >= 0) {
      entries.splice(index, 1);
    }
  }

  /**
   * The user dismissed what was shown at `key`: forget the entries it could have come from
   * (same context, prefix starting the current one), so typing on does not bring it back.
   */
  dismiss(editor: string, key: IKey): void {
    const entries = this._editors.get(editor);
    if (entries) {
      const kept = entries.filter(
        e => e.context !== key.context || !key.prefix.startsWith(e.prefix)
      );
      entries.splice(0, entries.length, ...kept);
    }
  }

  clear(): void {
    this._editors.clear();
  }

  /** Make `editor` the most recently used, dropping the least recently used beyond the bound. */
  private _touch(editor: string, entries: IEntry[]): void {
    this._editors.delete(editor);
    this._editors.set(editor, entries);
    for (const old of this._editors.keys()) {
      if (this._editors.size <= this.maxEditors) {
        break;
      }
      this._editors.delete(old);
    }
  }

  private _editors = new Map<string, IEntry[]>();
}

export namespace SuggestionCache {
  export interface IOptions {
    /** Entries kept per editor (least recently used dropped first). */
    entries?: number;
    /** Editors kept (least recently used dropped first). */
    editors?: number;
  }
}

/** What a follower yields: the shown text of a suggestion. */
export interface IShown {
  text: string;
  done: boolean;
  error: string | null;
}

/**
 * The text to show of a suggestion as it grows: its text after what was typed since the
 * entry's prefix (`typed()`, read at each change, so that a still-streaming suggestion does not
 * undo JupyterLab's trimming of it as the user types), yielded whenever it differs from the
 * last shown text (initially `shown`) or an error arrives, until the suggestion is done.
 */
export async function* follow(
  suggestion: Suggestion,
  typed: () => string,
  shown: string
): AsyncGenerator<IShown> {
  let error: string | null = null;
  for (;;) {
    const { version, done } = suggestion;
    const text = restAfter(suggestion.text, typed()) ?? '';
    if (text !== shown || suggestion.error !== error) {
      shown = text;
      error = suggestion.error;
      yield { text, done, error };
    }
    if (done) {
      return;
    }
    await suggestion.changed(version);
  }
}
