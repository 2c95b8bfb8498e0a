/**
 * The ghost text an editor shows, read from its CodeMirror state, and the mark of the
 * transactions that take part of it.
 *
 * JupyterLab's inline completer draws ghost text as a CodeMirror widget decoration whose spec
 * carries the ghost's own spec (`ghostSpec`: the text still shown and its provider), kept up
 * to date as the user types along. Reading it there gives exactly what is on screen, whichever
 * suggestion of whichever provider is current; nothing else exposes it in JupyterLab 4.6.
 */
import { Annotation, EditorState } from '@codemirror/state';
import { EditorView } from '@codemirror/view';

/** A ghost text on screen. */
export interface IGhost {
  /** Where it is drawn (the cursor), a document offset. */
  from: number;
  /** The text it shows. */
  text: string;
  /** The identifier of the inline completion provider it comes from. */
  provider: string;
}

/** The ghost text at `at` (the main cursor by default), `null` when none is shown there. */
export function ghostIn(state: EditorState, at = state.selection.main.head): IGhost | null {
  for (const source of state.facet(EditorView.decorations)) {
    if (typeof source === 'function') {
      continue; // a view plugin's decorations: not the ghost text's state field
    }
    for (const cursor = source.iter(); cursor.value; cursor.next()) {
      const spec = cursor.value.spec?.ghostSpec;
      if (spec && cursor.from === at && typeof spec.content === 'string' && spec.content) {
        return { from: cursor.from, text: spec.content, provider: String(spec.providerId) };
      }
    }
  }
  return null;
}

/** Which part a transaction took of the ghost text (`nextWord` or `nextLine`). */
export type PartKind = 'word' | 'line';

/** Marks the transactions that insert part of the ghost text. */
export const partTaken = Annotation.define<PartKind>();

/** Insert `text` at the cursor, where the ghost text is, and put the cursor after it. */
export function takePart(view: EditorView, from: number, text: string, kind: PartKind): void {
  view.dispatch({
    changes: { from, insert: text },
    selection: { anchor: from + text.length },
    annotations: partTaken.of(kind),
    userEvent: 'input.complete',
    scrollIntoView: true
  });
}
