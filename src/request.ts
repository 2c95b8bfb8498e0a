/**
 * The fields of a `request` (and a `warm`) message for a position in an editor: the text
 * around it, the document, the cell, the language, the notebook's other cells and the
 * kernel's variables.
 */
import type { Widget } from '@lumino/widgets';

import { neighbours } from './neighbours';
import { ITarget, languageOf } from './editor';
import type { IContextBudget, IKernelVariable, RequestInput } from './protocol';

/** The kernel's variables for the editor of a widget (none when unknown or off). */
export type VariablesOf = (widget: Widget | null | undefined) => readonly IKernelVariable[];

/** No kernel variables. */
export const NO_VARIABLES: VariablesOf = () => [];

/**
 * The request's fields at `offset` (a JS string index) of `text` in `target`, an editor of
 * `widget`, with the other cells within `budget` and the kernel's `variables` (none when
 * the server's budget has no room for them).
 */
export function requestInput(
  widget: Widget | null | undefined,
  target: ITarget,
  text: string,
  offset: number,
  mime: string | undefined,
  budget: IContextBudget,
  variables: readonly IKernelVariable[] = []
): RequestInput {
  const cells = neighbours(widget, budget);
  const withVariables = variables.length > 0 && budget.variables_chars !== 0;
  return {
    prefix: text.slice(0, offset),
    suffix: text.slice(offset),
    mime: mime ?? 'text/plain',
    path: target.path,
    cell_id: target.cellId,
    language: languageOf(mime, target.kernelLanguage),
    ...(cells.above.length ? { above: cells.above } : {}),
    ...(cells.below.length ? { below: cells.below } : {}),
    ...(withVariables ? { variables } : {})
  };
}
