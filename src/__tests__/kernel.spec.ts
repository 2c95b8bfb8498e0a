import { Signal } from '@lumino/signaling';

import {
  IKernelLike,
  ISessionLike,
  KernelVariables,
  MAX_VARIABLES,
  parseSummary,
  SUMMARY_CODE,
  SUMMARY_DELAY,
  SUMMARY_TIMEOUT
} from '../kernel';
import { KERNEL_SUMMARY_SOURCE } from '../kernelSummaryCode';

const SALES = { name: 'sales', text: "DataFrame shape=(200, 4) columns={'region': str}" };

/** A kernel that records what it is asked to execute; `answer` ends the newest execution. */
class FakeKernel implements IKernelLike {
  constructor(
    public language = 'python',
    public id = 'k1'
  ) {}
  status = 'idle';
  executed: any[] = [];
  futures: { onIOPub: (message: any) => void; finish: () => void; disposed: boolean }[] = [];
  get info() {
    return Promise.resolve({ language_info: { name: this.language } });
  }
  requestExecute(content: any) {
    this.executed.push(content);
    let finish = () => {};
    const done = new Promise<void>(resolve => (finish = resolve));
    const future = {
      onIOPub: (_: any) => {},
      done,
      finish,
      disposed: false,
      dispose() {
        future.disposed = true;
      }
    };
    this.futures.push(future);
    return future;
  }
  /** The newest execution prints `stdout` and ends. */
  answer(stdout: string) {
    const future = this.futures[this.futures.length - 1];
    future.onIOPub({ header: { msg_type: 'stream' }, content: { name: 'stdout', text: stdout } });
    future.finish();
  }
}

class FakeSession implements ISessionLike {
  constructor(public kernel: FakeKernel | null = new FakeKernel()) {}
  get session() {
    return this.kernel ? { kernel: this.kernel } : null;
  }
  iopubMessage = new Signal<this, any>(this);
  statusChanged = new Signal<this, string>(this);
  kernelChanged = new Signal<this, any>(this);
  disposed = new Signal<this, void>(this);
  /** A user's cell runs: execute_input, busy, then idle. */
  run() {
    this.kernel!.status = 'busy';
    this.statusChanged.emit('busy');
    this.iopubMessage.emit({ header: { msg_type: 'execute_input' } });
    this.kernel!.status = 'idle';
    this.statusChanged.emit('idle');
  }
}

const summaryLine = (variables: unknown[]) => JSON.stringify({ variables, truncated: false }) + '\n';

async function settle(ms = SUMMARY_DELAY): Promise<void> {
  jest.advanceTimersByTime(ms);
  for (let i = 0; i < 10; i++) {
    await Promise.resolve();
  }
}

function setup(enabled = () => true) {
  const kernels = new KernelVariables({ enabled });
  const session = new FakeSession();
  const widget = { sessionContext: session } as any;
  const changes: unknown[] = [];
  kernels.changed.connect((_, s) => changes.push(s));
  return { kernels, session, kernel: session.kernel!, widget, changes };
}

describe('KernelVariables', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('asks an idle Python kernel silently after a run and keeps its variables', async () => {
    const { kernels, session, kernel, widget, changes } = setup();
    expect(kernels.variablesOf(widget)).toEqual([]); // starts watching: asks once
    await settle();
    kernel.answer(summaryLine([]));
    await settle(0);
    session.run();
    await settle(SUMMARY_DELAY - 1);
    expect(kernel.executed).toHaveLength(1); // the kernel must stay idle for the delay
    await settle(1);
    expect(kernel.executed).toHaveLength(2);
    expect(kernel.executed[1]).toEqual({
      code: SUMMARY_CODE,
      silent: true,
      store_history: false,
      allow_stdin: false,
      stop_on_error: false
    });
    kernel.answer(summaryLine([SALES, { name: 'np', text: 'module numpy' }]));
    await settle(0);
    expect(kernels.variablesOf(widget)).toEqual([SALES, { name: 'np', text: 'module numpy' }]);
    expect(changes).toEqual([session]);
    expect(kernel.futures.every(future => future.disposed)).toBe(true);
  });

  it('runs the summarizer in a namespace of its own', () => {
    expect(SUMMARY_CODE).toBe(
      `exec(${JSON.stringify(KERNEL_SUMMARY_SOURCE)}, {'__name__': '__jupyter_ai_inline__'})`
    );
    expect(KERNEL_SUMMARY_SOURCE).toContain('if __name__ == "__jupyter_ai_inline__":');
  });

  it('never sends to a busy kernel: a long cell is not delayed', async () => {
    const { kernels, session, kernel, widget } = setup();
    kernels.variablesOf(widget);
    kernel.status = 'busy'; // a long cell runs
    await settle();
    session.run(); // ... another one ends, and the kernel is busy again at once
    kernel.status = 'busy';
    session.statusChanged.emit('busy');
    await settle(SUMMARY_DELAY * 10);
    expect(kernel.executed).toEqual([]);
    kernel.status = 'idle';
    session.statusChanged.emit('idle');
    await settle();
    expect(kernel.executed).toHaveLength(1);
  });

  it('keeps one summary in flight, and asks once more for the runs meanwhile', async () => {
    const { kernels, session, kernel, widget } = setup();
    kernels.variablesOf(widget);
    await settle();
    expect(kernel.executed).toHaveLength(1);
    for (let i = 0; i < 5; i++) {
      session.run(); // run all: five cells while the summary is out
      await settle();
    }
    expect(kernel.executed).toHaveLength(1);
    kernel.answer(summaryLine([SALES]));
    await settle(0);
    await settle();
    expect(kernel.executed).toHaveLength(2);
    kernel.answer(summaryLine([SALES]));
    await settle(SUMMARY_DELAY * 10);
    expect(kernel.executed).toHaveLength(2);
  });

  it('leaves other kernels alone and asks nothing when off', async () => {
    const r = new FakeSession(new FakeKernel('R'));
    const kernels = new KernelVariables({ enabled: () => true });
    kernels.variablesOf({ sessionContext: r } as any);
    r.run();
    await settle();
    expect(r.kernel!.executed).toEqual([]);

    let on = false;
    const off = setup(() => on);
    expect(off.kernels.variablesOf(off.widget)).toEqual([]);
    off.session.run();
    await settle();
    expect(off.kernel.executed).toEqual([]);
    on = true;
    off.kernels.variablesOf(off.widget);
    await settle();
    expect(off.kernel.executed).toHaveLength(1);
    expect(kernels.variablesOf({ context: {} } as any)).toEqual([]); // a file editor
  });

  it('swallows a failed or slow summary and goes on', async () => {
    const debug = jest.spyOn(console, 'debug').mockImplementation(() => {});
    const { kernels, session, kernel, widget } = setup();
    kernels.variablesOf(widget);
    await settle();
    kernel.answer('Traceback: not JSON\n');
    await settle();
    expect(kernels.variablesOf(widget)).toEqual([]);
    session.run();
    await settle();
    await settle(SUMMARY_TIMEOUT); // no answer at all
    expect(debug).toHaveBeenCalledTimes(2);
    expect(kernel.futures[1].disposed).toBe(true);
    session.run();
    await settle();
    kernel.answer(summaryLine([SALES]));
    await settle();
    expect(kernels.variablesOf(widget)).toEqual([SALES]);
    debug.mockRestore();
  });

  it('forgets the variables on a restart and asks the new kernel', async () => {
    const { kernels, session, kernel, widget, changes } = setup();
    kernels.variablesOf(widget);
    await settle();
    kernel.answer(summaryLine([SALES]));
    await settle();
    session.statusChanged.emit('restarting');
    expect(kernels.variablesOf(widget)).toEqual([]);
    expect(changes).toHaveLength(2);

    session.kernel = new FakeKernel('python', 'k2');
    session.kernelChanged.emit({});
    await settle();
    expect(session.kernel.executed).toHaveLength(1);
    session.kernel.answer(summaryLine([{ name: 'fresh', text: '1' }]));
    await settle();
    expect(kernels.variablesOf(widget)).toEqual([{ name: 'fresh', text: '1' }]);

    session.disposed.emit();
    session.run();
    await settle();
    expect(session.kernel.executed).toHaveLength(1); // a closed notebook is not followed
  });
});

describe('parseSummary', () => {
  it('takes the last line and leaves out what the server would refuse', () => {
    const odd = [
      SALES,
      { name: '', text: 'x' },
      { name: 'x'.repeat(257), text: '1' },
      { name: 'long', text: 'y'.repeat(1025) },
      { name: 3, text: 'n' },
      null
    ];
    expect(parseSummary('noise\n' + summaryLine(odd))).toEqual([SALES]);
    const many = Array.from({ length: 2000 }, (_, i) => ({ name: `v${i}`, text: `${i}` }));
    expect(parseSummary(summaryLine(many))).toHaveLength(MAX_VARIABLES);
    expect(() => parseSummary('{"other": 1}')).toThrow('without variables');
  });
});
