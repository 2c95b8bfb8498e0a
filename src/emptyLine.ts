/**
 * A suggestion on the empty line: after Enter (or indenting, or clearing a line) leaves the
 * cursor on a blank line below some code or a comment, ask for a suggestion as a typed
 * character would.
 *
 * JupyterLab 4.6's inline completer triggers by itself only when the line has text before
 * the cursor (jupyterlab#16847, #17568). This asks it (its `invoke`, what Alt+\ runs) once the
 * edits stop for the provider's debouncer delay, like its own trigger: a held or repeated
 * Enter sends one request, after the last; any edit or cursor move before then cancels it.
 * Nothing is asked when ghost text is already shown there, or when the provider was already
 * asked at that very text and cursor (JupyterLab itself, once it triggers on empty lines).
 */
import type { ChangeSet, EditorState, Transaction } from '@codemirror/state';

import { ghostIn } from './ghost';

/** What the trigger needs of a CodeMirror `ViewUpdate`. */
export interface ITriggerUpdate {
  readonly view: { readonly state: EditorState; readonly hasFocus: boolean; readonly dom: Element };
  readonly state: EditorState;
  readonly docChanged: boolean;
  readonly changes: ChangeSet;
  readonly transactions: readonly Transaction[];
}

/**
 * Whether an edit leaves the cursor where a suggestion is wanted: on a blank line (nothing but
 * whitespace on it), with code or a comment above it, and the edit typed nothing but
 * whitespace (a line break, an indent) or deleted.
 */
export function atEmptyLine(update: ITriggerUpdate): boolean {
  const { state } = update;
  const cursor = state.selection.main;
  if (!cursor.empty) {
    return false;
  }
  const line = state.doc.lineAt(cursor.head);
  if (line.text.trim() || !state.doc.sliceString(0, line.from).trim()) {
    return false;
  }
  let onlySpace = true;
  update.changes.iterChanges((_a, _b, _c, _d, inserted) => {
    onlySpace = onlySpace && !inserted.toString().trim();
  });
  return onlySpace;
}

/** Asks for a suggestion on the empty line once the edits stop. */
export class EmptyLineTrigger {
  constructor(options: EmptyLineTrigger.IOptions) {
    this._options = options;
  }

  /** Follow one update of an editor. */
  update(update: ITriggerUpdate): void {
    if (!update.docChanged) {
      return; // a cursor move: the pending request (if any) checks the cursor when it is due
    }
    const byUser = update.transactions.some(
      tr => tr.isUserEvent('input') || tr.isUserEvent('delete')
    );
    if (!byUser) {
      return;
    }
    this.cancel();
    const { view } = update;
    if (!view.hasFocus || !this._options.enabled() || !atEmptyLine(update)) {
      return;
    }
    const { doc } = update.state;
    const head = update.state.selection.main.head;
    const since = Date.now();
    this._timer = setTimeout(() => {
      this._timer = null;
      const now = view.state;
      const cursor = now.selection.main;
      const unchanged = now.doc === doc && cursor.empty && cursor.head === head;
      if (!unchanged || !view.hasFocus || !this._options.enabled() || ghostIn(now)) {
        return;
      }
      if (this._options.alreadyAsked(doc.toString(), head, since)) {
        return;
      }
      this._options.invoke(view);
    }, this._options.delay());
  }

  /** Forget the pending request, if any. */
  cancel(): void {
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
  }

  private _options: EmptyLineTrigger.IOptions;
  private _timer: ReturnType<typeof setTimeout> | null = null;
}

export namespace EmptyLineTrigger {
  export interface IOptions {
    /** Whether to ask at all now (the setting, and the provider enabled). */
    enabled: () => boolean;
    /** The wait after the last edit, in ms (the provider's debouncer delay). */
    delay: () => number;
    /**
     * Whether the provider was already asked at this text and cursor (a JS string index)
     * since the edit (a `Date.now()` time).
     */
    alreadyAsked: (text: string, offset: number, since: number) => boolean;
    /** Ask the inline completer of that editor for a suggestion. */
    invoke: (view: ITriggerUpdate['view']) => void;
  }
}
