/**
 * The fields of a `request` (and a `warm`) message for a position in an editor: the text
 * around it, the document, the cell, the language and the notebook's other cells.
 */
import type { Widget } from '@lumino/widgets';

import type { RequestInput } from './client';
import { neighbours } from './context';
import { ITarget, languageOf } from './editor';
import type { IContextBudget } from './protocol';

/**
 * The request's fields at `offset` (a JS string index) of `text` in `target`, an editor of
 * `widget`, with the other cells within `budget`.
 */
export function requestInput(
  widget: Widget | null | undefined,
  target: ITarget,
  text: string,
  offset: number,
  mime: string | undefined,
  budget: IContextBudget
): RequestInput {
  const cells = neighbours(widget, budget);
  return {
    prefix: text.slice(0, offset),
    suffix: text.slice(offset),
    mime: mime ?? 'text/plain',
    path: target.path,
    cell_id: target.cellId,
    language: languageOf(mime, target.kernelLanguage),
    ...(cells.above.length ? { above: cells.above } : {}),
    ...(cells.below.length ? { below: cells.below } : {})
  };
}

/** The key of an editor: its document and cell (a client cancels per key as well). */
export function editorKey(input: Pick<RequestInput, 'path' | 'cell_id'>): string {
  return JSON.stringify([input.path, input.cell_id]);
}
