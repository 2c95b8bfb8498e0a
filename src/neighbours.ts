/**
 * The other cells of the notebook (or the console's earlier inputs) that go with a request,
 * read from the model the browser already holds (unsaved edits included), nearest first and
 * only as much as the server's budget takes, so a request stays small. The cells above start
 * at a stable place (see `anchored`), so that prompts share their beginning. Which cells, and
 * how much of each, is the engine's budget rule, mirrored here (`pickAbove`, `pickBelow`).
 *
 * Widgets are read by shape, not by class (as in `editor.ts`): notebooks of JupyterLab and
 * Notebook 7 have `content.widgets` and `content.activeCellIndex`; consoles have
 * `console.cells` (the cells run so far, oldest first); file editors have neither.
 */
import type { Widget } from '@lumino/widgets';

import { DEFAULT_BUDGET, ICellMessage, IContextBudget } from './protocol';

export interface INeighbours {
  above: ICellMessage[];
  below: ICellMessage[];
}

const KINDS = new Set(['code', 'markdown', 'raw']);

/** The cells around the active one (or the notebook cell at `at`), nearest first, within the budget. */
export function neighbours(
  widget: Widget | null | undefined,
  budget: IContextBudget = DEFAULT_BUDGET,
  at?: number
): INeighbours {
  const w = widget as any;
  const notebook = w?.content;
  if (notebook && Array.isArray(notebook.widgets) && typeof notebook.activeCellIndex === 'number') {
    const cells: any[] = notebook.widgets;
    const index: number = at ?? notebook.activeCellIndex;
    return {
      above: pickAbove([...messages(reversed(cells.slice(0, Math.max(index, 0))), budget)], budget),
      below: pickBelow(messages(cells.slice(index + 1), budget), budget)
    };
  }
  const history = w?.console?.cells;
  if (history && typeof history.length === 'number' && typeof history.get === 'function') {
    const cells: any[] = [];
    for (let i = history.length - 1; i >= 0; i--) {
      cells.push(history.get(i));
    }
    return { above: pickAbove([...messages(cells, budget)], budget), below: [] };
  }
  return { above: [], below: [] };
}

function* reversed<T>(items: T[]): Iterable<T> {
  for (let i = items.length - 1; i >= 0; i--) {
    yield items[i];
  }
}

/** The messages of the cells that have a text, read as they are asked for. */
function* messages(cells: Iterable<any>, budget: IContextBudget): Iterable<ICellMessage> {
  for (const cell of cells) {
    const message = cellMessage(cell, budget);
    if (message) {
      yield message;
    }
  }
}

// The budget rule: the engine's (`cell_size`, `anchored`, `pick_above` and `pick_below` of
// jupyter_ai_inline/engine/prompt.py), which takes the cells a request carries the same way.
// Both are tested against the cases of tests/budget_cases.json.

/** The blank line between cells in a prompt. */
const SEPARATOR = 2;
/** The start of the cells above moves in steps of a quarter of their budget. */
const ANCHOR_STEPS = 4;

/**
 * What a cell costs of its side's budget: its source, its outputs (a message has them only
 * when they go in) and a separator.
 */
export function cellSize(message: ICellMessage): number {
  return message.source.length + (message.outputs?.length ?? 0) + SEPARATOR;
}

/**
 * How many of the cells above (their `cellSize`s, nearest first) go in whole: all if they fit
 * in `chars`, else those after a start rounded up to a grid of `chars / ANCHOR_STEPS` over the
 * notebook's text. Moving down the notebook, or typing, keeps the prompt's start, and so the
 * model server's prompt cache, until the text above grows by a grid step.
 */
export function anchored(sizes: readonly number[], chars: number): number {
  const total = sizes.reduce((sum, size) => sum + size, 0);
  let limit = total;
  if (total > chars) {
    const step = Math.max(Math.floor(chars / ANCHOR_STEPS), 1);
    limit = total - Math.ceil((total - chars) / step) * step;
  }
  let count = 0;
  let spent = 0;
  for (const size of sizes) {
    spent += size;
    if (spent > limit) {
      break;
    }
    count += 1;
  }
  return count;
}

/**
 * The cells above (all of them, nearest first) that go in, nearest first: whole, from the
 * anchored start (`anchored`), blank ones skipped, at most `max_cells`. When none goes in
 * whole, the nearest one alone (unless blank), cut to its last `above_chars` characters.
 */
export function pickAbove(cells: readonly ICellMessage[], budget: IContextBudget): ICellMessage[] {
  const count = anchored(cells.map(cellSize), budget.above_chars);
  const taken = cells
    .slice(0, count)
    .filter(cell => cell.source.trim())
    .slice(0, budget.max_cells);
  const chars = budget.above_chars;
  const nearest = cells[0];
  if (!taken.length && chars > 0 && nearest?.source.trim()) {
    return [{ ...nearest, source: nearest.source.slice(-chars) }];
  }
  return taken;
}

/**
 * The cells below that go in, nearest first until the budget is spent (each costs its
 * `cellSize`), blank ones skipped, at most `max_cells`; the one that does not fit whole is
 * cut, keeping its start. Read lazily.
 */
export function pickBelow(cells: Iterable<ICellMessage>, budget: IContextBudget): ICellMessage[] {
  const taken: ICellMessage[] = [];
  let left = budget.below_chars;
  for (const cell of cells) {
    if (left <= 0 || taken.length >= budget.max_cells) {
      break;
    }
    if (!cell.source.trim()) {
      continue;
    }
    const message = { ...cell, source: cell.source.slice(0, left) };
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
