/**
 * The other cells of the notebook (or the console's earlier inputs) that go with a request,
 * read from the model the browser already holds (unsaved edits included), nearest first and
 * only as much as the server's budget takes, so a request stays small.
 *
 * Widgets are read by shape, not by class (as in `editor.ts`): notebooks of JupyterLab and
 * Notebook 7 have `content.widgets` and `content.activeCellIndex`; consoles have
 * `console.cells` (the cells run so far, oldest first); file editors have neither.
 */
import type { Widget } from '@lumino/widgets';

import type { ICellMessage, IContextBudget } from './protocol';

/** The server's default budget, used until its status tells its own. */
export const DEFAULT_BUDGET: IContextBudget = {
  above_chars: 6000,
  below_chars: 2000,
  max_cells: 50,
  include_outputs: false,
  output_chars: 400
};

export interface INeighbours {
  above: ICellMessage[];
  below: ICellMessage[];
}

const KINDS = new Set(['code', 'markdown', 'raw']);

/** The cells around the active one, nearest first, within the budget. */
export function neighbours(
  widget: Widget | null | undefined,
  budget: IContextBudget = DEFAULT_BUDGET
): INeighbours {
  const w = widget as any;
  const notebook = w?.content;
  if (notebook && Array.isArray(notebook.widgets) && typeof notebook.activeCellIndex === 'number') {
    const cells: any[] = notebook.widgets;
    const index: number = notebook.activeCellIndex;
    return {
      above: take(reversed(cells.slice(0, Math.max(index, 0))), budget.above_chars, budget, true),
      below: take(cells.slice(index + 1), budget.below_chars, budget, false)
    };
  }
  const history = w?.console?.cells;
  if (history && typeof history.length === 'number' && typeof history.get === 'function') {
    const cells: any[] = [];
    for (let i = history.length - 1; i >= 0; i--) {
      cells.push(history.get(i));
    }
    return { above: take(cells, budget.above_chars, budget, true), below: [] };
  }
  return { above: [], below: [] };
}

function* reversed<T>(items: T[]): Iterable<T> {
  for (let i = items.length - 1; i >= 0; i--) {
    yield items[i];
  }
}

/** Cells nearest first until `chars` are spent; the last one cut on the far side. */
function take(
  cells: Iterable<any>,
  chars: number,
  budget: IContextBudget,
  keepEnd: boolean
): ICellMessage[] {
  const taken: ICellMessage[] = [];
  let left = chars;
  for (const cell of cells) {
    if (left <= 0 || taken.length >= budget.max_cells) {
      break;
    }
    const message = cellMessage(cell, budget);
    if (!message || !message.source.trim()) {
      continue;
    }
    if (message.source.length > left) {
      message.source = keepEnd ? message.source.slice(-left) : message.source.slice(0, left);
    }
    left -= message.source.length + (message.outputs?.length ?? 0) + 2;
    taken.push(message);
  }
  return taken;
}

function cellMessage(cell: any, budget: IContextBudget): ICellMessage | null {
  const model = cell?.model;
  const source = model?.sharedModel?.getSource?.() ?? model?.sharedModel?.source;
  if (typeof source !== 'string') {
    return null;
  }
  const kind = KINDS.has(model.type) ? model.type : 'raw';
  const message: ICellMessage = { cell_type: kind, source };
  if (budget.include_outputs && kind === 'code' && budget.output_chars > 0) {
    const outputs = outputText(model.outputs, budget.output_chars);
    if (outputs) {
      message.outputs = outputs;
    }
  }
  return message;
}

/** Short text outputs of a code cell (streams, text/plain), bounded. */
export function outputText(outputs: any, limit: number): string {
  const parts: string[] = [];
  let size = 0;
  const count = typeof outputs?.length === 'number' ? outputs.length : 0;
  for (let i = 0; i < count && size < limit; i++) {
    const output = outputs.get(i)?.toJSON?.() ?? {};
    let text: unknown = '';
    if (output.output_type === 'stream') {
      text = output.text;
    } else if (output.output_type === 'execute_result' || output.output_type === 'display_data') {
      text = output.data?.['text/plain'];
    }
    const joined = Array.isArray(text) ? text.join('') : typeof text === 'string' ? text : '';
    parts.push(joined.slice(0, limit - size));
    size += parts[parts.length - 1].length;
  }
  return parts.join('').trim();
}
