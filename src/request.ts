/**
 * The fields of a `request` (and a `warm`) message for a position in an editor: the text
 * around it, the document, the cell, the language, the notebook's other cells and the
 * kernel's variables.
 */
import type { Widget } from '@lumino/widgets';

import type { ActiveEditor } from './editor';
import { neighbours } from './neighbours';
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
  const cells = neighbours(editor.widget, budget);
  const withVariables = variables.length > 0 && budget.variables_chars !== 0;
  return {
    prefix: at.text.slice(0, at.offset),
    suffix: at.text.slice(at.offset),
    mime: at.mime ?? 'text/plain',
    path: editor.path,
    cell_id: editor.cellId,
    language: editor.languageOf(at.mime),
    ...(cells.above.length ? { above: cells.above } : {}),
    ...(cells.below.length ? { below: cells.below } : {}),
    ...(withVariables ? { variables } : {})
  };
}
