import { DEFAULT_BUDGET, neighbours } from '../context';

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

  it('takes only what the budget needs, cutting the farthest cell on its far side', () => {
    const budget = { ...DEFAULT_BUDGET, above_chars: 45, below_chars: 8, max_cells: 5 };
    const { above, below } = neighbours(notebook(CELLS, 3) as any, budget);
    // 37 characters, then 45 - 37 - 2 = 6 left: the end of '# Revenue'
    expect(above.map(c => c.source)).toEqual(['def revenue_by_region(frame):\n    ...', 'evenue']);
    expect(below.map(c => c.source)).toEqual(['plot_tot']);
    const few = neighbours(notebook(CELLS, 3) as any, { ...DEFAULT_BUDGET, max_cells: 1 });
    expect(few.above).toHaveLength(1);
    expect(few.below).toHaveLength(1);
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
