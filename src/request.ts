/**
 * The fields of a `request` (and a `warm`) message for a position in an editor: the text
 * around it, the document, the cell, the language, the notebook's other cells and the
 * kernel's variables.
 */
import type { Widget } from '@lumino/widgets';

import { ActiveEditor } from './editor';
import { INeighbours, neighbours } from './neighbours';
import type { IContextBudget, IKernelVariable, RequestInput } from './protocol';

/** The kernel's variables for the editor of a widget (none when unknown or off). */
export type VariablesOf = (widget: Widget | null | undefined) => readonly IKernelVariable[];

/** No kernel variables. */
export const NO_VARIABLES: VariablesOf = () => [];

/** The text of an editor and the cursor in it. */
export interface ITextAtCursor {
  /** The editor's text. */
  text: string;
  /** The cursor's JS string index in `text`. */
  offset: number;
  /** The editor's MIME type, if known. */
  mime: string | undefined;
}

/**
 * The request's fields at `at` in `editor`, with the other cells of its widget within
 * `budget` and the kernel's `variables` (none when the server's budget has no room for them).
 */
export function requestInput(
  editor: ActiveEditor,
  at: ITextAtCursor,
  budget: IContextBudget,
  variables: readonly IKernelVariable[] = []
): RequestInput {
  return fields(editor, editor.cellId, at, neighbours(editor.widget, budget), budget, variables);
}

/**
 * The fields of a warm-up for the start of the code cell at `index` of a notebook (the cursor
 * before its text), as a first keystroke there would send them; `null` for another cell.
 */
export function cellStartInput(
  widget: Widget,
  index: number,
  budget: IContextBudget,
  variables: readonly IKernelVariable[] = []
): RequestInput | null {
  const model = (widget as any).content?.widgets?.[index]?.model;
  const text = model?.sharedModel?.getSource?.();
  if (model?.type !== 'code' || typeof text !== 'string' || typeof model.id !== 'string') {
    return null;
  }
  const at = { text, offset: 0, mime: model.mimeType };
  const cells = neighbours(widget, budget, index);
  return fields(new ActiveEditor(widget), model.id, at, cells, budget, variables);
}

function fields(
  editor: ActiveEditor,
  cellId: string | null,
  at: ITextAtCursor,
  cells: INeighbours,
  budget: IContextBudget,
  variables: readonly IKernelVariable[]
): RequestInput {
  const withVariables = variables.length > 0 && budget.variables_chars !== 0;
  return {
    prefix: at.text.slice(0, at.offset),
    suffix: at.text.slice(at.offset),
    mime: at.mime ?? 'text/plain',
    path: editor.path,
    cell_id: cellId,
    language: editor.languageOf(at.mime),
    ...(cells.above.length ? { above: cells.above } : {}),
    ...(cells.below.length ? { below: cells.below } : {}),
    ...(withVariables ? { variables } : {})
  };
}
