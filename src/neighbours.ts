/**
 * The other cells of the notebook (or the console's earlier inputs) that go with a request,
 * read from the model the browser already holds (unsaved edits included), nearest first and
 * only as much as the server's budget takes, so a request stays small. The cells above start
 * at a stable place (see `takeAbove`), so that prompts share their beginning.
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
  output_chars: 400,
  variables_chars: 1500
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
      above: takeAbove(reversed(cells.slice(0, Math.max(index, 0))), budget),
      below: takeBelow(cells.slice(index + 1), budget)
    };
  }
  const history = w?.console?.cells;
  if (history && typeof history.length === 'number' && typeof history.get === 'function') {
    const cells: any[] = [];
    for (let i = history.length - 1; i >= 0; i--) {
      cells.push(history.get(i));
    }
    return { above: takeAbove(cells, budget), below: [] };
  }
  return { above: [], below: [] };
}

function* reversed<T>(items: T[]): Iterable<T> {
  for (let i = items.length - 1; i >= 0; i--) {
    yield items[i];
  }
}

/** The blank line between cells in a prompt. */
const SEPARATOR = 2;
/** The start of the cells above moves in steps of a quarter of their budget. */
const ANCHOR_STEPS = 4;

/** What a cell costs of its side's budget (the server counts the same way). */
function cellSize(message: ICellMessage): number {
  return message.source.length + (message.outputs?.length ?? 0) + SEPARATOR;
}

/**
 * The cells above, whole, nearest first, from a start anchored on a grid of the notebook's
 * text (as `take_above` in the server's `engine/context.py`): moving down the notebook, or
 * typing, keeps the prompt's start, and so the model server's prompt cache, until the text
 * above grows by a grid step. Only a nearest cell larger than the budget is cut.
 */
function takeAbove(cells: Iterable<any>, budget: IContextBudget): ICellMessage[] {
  const messages: ICellMessage[] = [];
  for (const cell of cells) {
    const message = cellMessage(cell, budget);
    if (message) {
      messages.push(message);
    }
  }
  const sizes = messages.map(cellSize);
  const total = sizes.reduce((sum, size) => sum + size, 0);
  const chars = budget.above_chars;
  let limit = total;
  if (total > chars) {
    const step = Math.max(Math.floor(chars / ANCHOR_STEPS), 1);
    limit = total - Math.ceil((total - chars) / step) * step;
  }
  const taken: ICellMessage[] = [];
  let spent = 0;
  for (let i = 0; i < messages.length; i++) {
    spent += sizes[i];
    if (spent > limit || taken.length >= budget.max_cells) {
      break;
    }
    if (messages[i].source.trim()) {
      taken.push(messages[i]);
    }
  }
  const nearest = messages[0];
  if (!taken.length && chars > 0 && nearest?.source.trim()) {
    taken.push({ ...nearest, source: nearest.source.slice(-chars) });
  }
  return taken;
}

/** Cells below, nearest first until their budget is spent; the last one cut at its end. */
function takeBelow(cells: Iterable<any>, budget: IContextBudget): ICellMessage[] {
  const taken: ICellMessage[] = [];
  let left = budget.below_chars;
  for (const cell of cells) {
    if (left <= 0 || taken.length >= budget.max_cells) {
      break;
    }
    const message = cellMessage(cell, budget);
    if (!message || !message.source.trim()) {
      continue;
    }
    message.source = message.source.slice(0, left);
    left -= cellSize(message);
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
