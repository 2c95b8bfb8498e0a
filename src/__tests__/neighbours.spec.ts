import budgetCases from '../../tests/budget_cases.json';
import { neighbours, pickAbove, pickBelow } from '../neighbours';
import { DEFAULT_BUDGET, ICellMessage, IContextBudget } from '../protocol';

function cell(type: string, source: string, outputs: any[] = []) {
  return {
    model: {
      type,
      sharedModel: { getSource: () => source },
      outputs: { length: outputs.length, get: (i: number) => ({ toJSON: () => outputs[i] }) }
    }
  };
}

function notebook(cells: any[], active: number) {
  return { context: { path: 'nb.ipynb' }, content: { widgets: cells, activeCellIndex: active } };
}

const CELLS = [
  cell('code', 'import pandas as pd'),
  cell('markdown', '# Revenue'),
  cell('code', 'def revenue_by_region(frame):\n    ...', [
    { output_type: 'stream', name: 'stdout', text: ['ok\n'] }
  ]),
  cell('code', 'result = rev'),
  cell('code', ''),
  cell('code', 'plot_totals(result)'),
  cell('raw', 'raw text')
];

describe('neighbours', () => {
  it('sends the cells around the active one, nearest first, markdown as markdown', () => {
    const { above, below } = neighbours(notebook(CELLS, 3) as any);
    expect(above).toEqual([
      { cell_type: 'code', source: 'def revenue_by_region(frame):\n    ...' },
      { cell_type: 'markdown', source: '# Revenue' },
      { cell_type: 'code', source: 'import pandas as pd' }
    ]);
    // the empty cell is skipped
    expect(below).toEqual([
      { cell_type: 'code', source: 'plot_totals(result)' },
      { cell_type: 'raw', source: 'raw text' }
    ]);
  });

  it('takes whole cells above within the budget, and cuts the farthest cell below', () => {
    const budget = { ...DEFAULT_BUDGET, above_chars: 60, below_chars: 8, max_cells: 5 };
    const { above, below } = neighbours(notebook(CELLS, 3) as any, budget);
    // 21 + 11 + 39 characters (separators included) from the top: 71 > 60, so the start
    // moves to the first cell at or after the grid step (15) that follows 71 - 60 = 11
    expect(above.map(c => c.source)).toEqual([
      'def revenue_by_region(frame):\n    ...',
      '# Revenue'
    ]);
    expect(below.map(c => c.source)).toEqual(['plot_tot']);
    const few = neighbours(notebook(CELLS, 3) as any, { ...DEFAULT_BUDGET, max_cells: 1 });
    expect(few.above).toHaveLength(1);
    expect(few.below).toHaveLength(1);
    const huge = [cell('code', 'q'.repeat(500)), cell('code', '')];
    const cut = neighbours(notebook(huge, 1) as any, { ...DEFAULT_BUDGET, above_chars: 100 });
    expect(cut.above.map(c => c.source)).toEqual(['q'.repeat(100)]);
  });

  it('keeps the start of the cells above while the cursor moves down the notebook', () => {
    // cells of 40 to 700 characters, as in tests/test_context.py
    const cells = Array.from({ length: 120 }, (_, i) =>
      cell('code', `# cell ${i}\n` + 'x = 1\n'.repeat(5 + ((i * 37) % 110)))
    );
    const starts: string[] = [];
    for (let index = 30; index < 120; index++) {
      const { above } = neighbours(notebook(cells, index) as any);
      const size = above.reduce((sum, c) => sum + c.source.length + 2, 0);
      expect(size).toBeLessThanOrEqual(6000);
      starts.push(above[above.length - 1].source);
    }
    const moves = starts.filter((start, i) => i > 0 && start !== starts[i - 1]).length;
    expect(moves).toBeLessThanOrEqual(starts.length / 3);
  });

  it('adds short text outputs only when the budget includes them', () => {
    expect(neighbours(notebook(CELLS, 3) as any).above[0].outputs).toBeUndefined();
    const budget = { ...DEFAULT_BUDGET, include_outputs: true, output_chars: 2 };
    expect(neighbours(notebook(CELLS, 3) as any, budget).above[0].outputs).toBe('ok');
  });

  it('sends a console its earlier inputs as the cells above, the newest nearest', () => {
    const history = [cell('code', 'x = 1'), cell('code', 'y = x + 1')];
    const console = {
      console: { cells: { length: history.length, get: (i: number) => history[i] } }
    };
    expect(neighbours(console as any)).toEqual({
      above: [
        { cell_type: 'code', source: 'y = x + 1' },
        { cell_type: 'code', source: 'x = 1' }
      ],
      below: []
    });
  });

  it('sends nothing from a file editor', () => {
    const editor = { context: { path: 'a.py' }, content: { editor: {} } };
    expect(neighbours(editor as any)).toEqual({ above: [], below: [] });
    expect(neighbours(null)).toEqual({ above: [], below: [] });
  });
});

/** A case of tests/budget_cases.json (the engine's test reads the same cases). */
interface IBudgetCase {
  name: string;
  budget: Partial<IContextBudget>;
  above: ICellMessage[];
  below: ICellMessage[];
  expected_above: ICellMessage[];
  expected_below: ICellMessage[];
}

const CASES = (budgetCases as { cases: IBudgetCase[] }).cases;

/** A notebook cell holding a case's cell (its outputs as one stream output). */
function caseCell(message: ICellMessage) {
  const { outputs } = message;
  const stream = outputs ? [{ output_type: 'stream', name: 'stdout', text: outputs }] : [];
  return cell(message.cell_type, message.source, stream);
}

describe("the budget rule: the engine's cases (tests/budget_cases.json)", () => {
  it('has the cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(10);
  });

  it.each(CASES.map(c => [c.name, c] as const))('%s', (_, c) => {
    const budget = { ...DEFAULT_BUDGET, ...c.budget };
    expect(pickAbove(c.above, budget)).toEqual(c.expected_above);
    expect(pickBelow(c.below, budget)).toEqual(c.expected_below);
    // The same through what a request carries: the cells around the active one.
    const cells = [...c.above].reverse().map(caseCell);
    const active = cells.length;
    cells.push(cell('code', 'CURRENT'), ...c.below.map(caseCell));
    expect(neighbours(notebook(cells, active) as any, budget)).toEqual({
      above: c.expected_above,
      below: c.expected_below
    });
  });
});
