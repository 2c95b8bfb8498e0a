/**
 * CodeMirror editor states for the tests of the empty-line trigger, the partial takes and the
 * acceptance tracker: a document, a cursor, and ghost text drawn as JupyterLab 4.6 draws it (a
 * widget decoration whose spec carries `ghostSpec`, trimmed as the user types along).
 */
import {
  EditorSelection,
  EditorState,
  StateEffect,
  StateField,
  Transaction,
  TransactionSpec
} from '@codemirror/state';
import { Decoration, DecorationSet, EditorView, WidgetType } from '@codemirror/view';

import { PROVIDER_ID } from '../provider';

class Ghost extends WidgetType {
  toDOM(): HTMLElement {
    throw new Error('no DOM in these tests');
  }
}

interface IGhostSpec {
  from: number;
  content: string;
  providerId: string;
}

/** Draw ghost text (`null`: clear it). */
export const setGhost = StateEffect.define<IGhostSpec | null>();

function decorations(spec: IGhostSpec | null): DecorationSet {
  if (!spec) {
    return Decoration.none;
  }
  const widget = Decoration.widget({ widget: new Ghost(), side: 1, ghostSpec: spec });
  return Decoration.set([widget.range(spec.from)]);
}

/** The ghost text, as JupyterLab's state field: trimmed by an insertion of its start. */
const ghostField = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(value, tr) {
    for (const effect of tr.effects) {
      if (effect.is(setGhost)) {
        return decorations(effect.value);
      }
    }
    if (!tr.docChanged) {
      return value;
    }
    let spec: IGhostSpec | null = null;
    for (const cursor = value.iter(); cursor.value; cursor.next()) {
      spec = cursor.value.spec.ghostSpec;
    }
    if (!spec) {
      return value;
    }
    let kept: IGhostSpec | null = { ...spec, from: tr.changes.mapPos(spec.from, 1) };
    tr.changes.iterChanges((fromA, toA, _fromB, _toB, inserted) => {
      const text = inserted.toString();
      if (kept && fromA === spec!.from && toA === fromA && kept.content.startsWith(text)) {
        kept = { ...kept, content: kept.content.slice(text.length) };
      } else {
        kept = null;
      }
    });
    return decorations(kept && kept.content ? kept : null);
  },
  provide: field => EditorView.decorations.from(field)
});

/** An editor: its state, focus and DOM node, and the updates it makes as a `ViewUpdate`. */
export class TestEditor {
  constructor(doc: string, cursor = doc.length) {
    this.state = EditorState.create({
      doc,
      selection: EditorSelection.cursor(cursor),
      extensions: [ghostField]
    });
  }

  state: EditorState;
  hasFocus = true;
  readonly dom = { contains: () => true } as unknown as Element;
  /** Called with every update. */
  listeners: ((update: any) => void)[] = [];

  get cursor(): number {
    return this.state.selection.main.head;
  }

  dispatch(spec: TransactionSpec): Transaction {
    const tr = this.state.update(spec);
    const startState = this.state;
    this.state = tr.state;
    const update = {
      view: this,
      startState,
      state: tr.state,
      docChanged: tr.docChanged,
      changes: tr.changes,
      transactions: [tr]
    };
    this.listeners.forEach(listener => listener(update));
    return tr;
  }

  /** Type `text` at the cursor. */
  type(text: string, userEvent = 'input.type'): void {
    const at = this.cursor;
    this.dispatch({
      changes: { from: at, insert: text },
      selection: { anchor: at + text.length },
      userEvent
    });
  }

  /** Delete `count` characters before the cursor. */
  backspace(count = 1): void {
    const at = this.cursor;
    this.dispatch({
      changes: { from: at - count, to: at },
      selection: { anchor: at - count },
      userEvent: 'delete.backward'
    });
  }

  /** JupyterLab's accept: the ghost text inserted at the cursor, no user event. */
  acceptGhost(text: string): void {
    const at = this.cursor;
    this.dispatch({ changes: { from: at, insert: text }, selection: { anchor: at + text.length } });
  }

  /** Draw ghost text at the cursor (ours by default); `null` clears it. */
  ghost(content: string | null, providerId = PROVIDER_ID): void {
    this.dispatch({
      effects: setGhost.of(content === null ? null : { from: this.cursor, content, providerId })
    });
  }

  moveTo(offset: number): void {
    this.dispatch({ selection: { anchor: offset } });
  }
}
