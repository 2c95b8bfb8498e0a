/**
 * The running kernel's variables, for the prompt. After a user's execution, once the kernel
 * stayed idle for a moment, a Python kernel is asked for a summary of its namespace: a silent
 * execution (no output, not in the history, no execution count) of
 * `jupyter_ai_inline/kernel_summary.py`, whose one JSON line on stdout lists the variables.
 * One summary is in flight per kernel; it is never sent to a busy kernel; its failures are
 * logged at debug level and change nothing. The variables are kept per session until the
 * next summary, a restart or another kernel.
 */
import type { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';
import type { Widget } from '@lumino/widgets';

import { KERNEL_SUMMARY_SOURCE } from './kernelSummaryCode';
import type { IKernelVariable } from './protocol';

/** What the kernel runs: the summarizer in a namespace of its own, not the user's. */
export const SUMMARY_CODE = `exec(${JSON.stringify(KERNEL_SUMMARY_SOURCE)}, {'__name__': '__jupyter_ai_inline__'})`;
/** How long the kernel must stay idle after an execution before it is asked, in ms. */
export const SUMMARY_DELAY = 300;
/** How long the browser waits for a summary, in ms (the kernel bounds its own work). */
export const SUMMARY_TIMEOUT = 2000;
/** The server's limits on a request's variables (larger ones are left out here). */
export const MAX_VARIABLES = 1000;
const MAX_NAME = 256;
const MAX_TEXT = 1024;

/** The part of a kernel connection used here (`Kernel.IKernelConnection`). */
export interface IKernelLike {
  readonly id: string;
  readonly status: string;
  readonly info: Promise<{ language_info: { name: string } }>;
  requestExecute(
    content: {
      code: string;
      silent: boolean;
      store_history: boolean;
      allow_stdin: boolean;
      stop_on_error: boolean;
    },
    disposeOnDone?: boolean
  ): {
    onIOPub: (message: any) => void;
    readonly done: Promise<unknown>;
    dispose(): void;
  };
}

/** The part of a widget's `ISessionContext` used here. */
export interface ISessionLike {
  readonly session: { readonly kernel: IKernelLike | null } | null;
  readonly iopubMessage: ISignal<any, any>;
  readonly statusChanged: ISignal<any, string>;
  readonly kernelChanged: ISignal<any, any>;
  readonly disposed: ISignal<any, void>;
}

interface IWatched {
  variables: readonly IKernelVariable[];
  /** A user's execution ran since the last summary was asked for. */
  executed: boolean;
  timer: ReturnType<typeof setTimeout> | null;
  asking: boolean;
  /** Another summary is due once the one in flight is done. */
  again: boolean;
  /** Stop listening to the session. */
  stop: () => void;
}

/** The session of a notebook or a console (file editors have none). */
export function sessionOf(widget: Widget | null | undefined): ISessionLike | null {
  return ((widget as any)?.sessionContext as ISessionLike | undefined) ?? null;
}

/** The variables of a summary's JSON line; those the server would refuse are left out. */
export function parseSummary(stdout: string): IKernelVariable[] {
  const line = stdout.trim().split('\n').pop() ?? '';
  const parsed = JSON.parse(line);
  if (!Array.isArray(parsed?.variables)) {
    throw new Error('a kernel summary without variables');
  }
  return parsed.variables
    .filter(
      (v: any) =>
        typeof v?.name === 'string' &&
        typeof v?.text === 'string' &&
        v.name.length > 0 &&
        v.name.length <= MAX_NAME &&
        v.text.length <= MAX_TEXT
    )
    .slice(0, MAX_VARIABLES)
    .map((v: any) => ({ name: v.name, text: v.text }));
}

export class KernelVariables implements IDisposable {
  constructor(options: KernelVariables.IOptions) {
    this._options = options;
  }

  /** A session's variables changed (a new summary, a restart). */
  get changed(): ISignal<this, ISessionLike> {
    return this._changed;
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  /** The variables of a widget's kernel (none when unknown or off); watches its session. */
  readonly variablesOf = (widget: Widget | null | undefined): readonly IKernelVariable[] => {
    const session = sessionOf(widget);
    if (!session || !this._options.enabled()) {
      return [];
    }
    return this.watch(session).variables;
  };

  /** Follow a session's executions; a kernel that is already running is asked once. */
  watch(session: ISessionLike): { readonly variables: readonly IKernelVariable[] } {
    let watched = this._watched.get(session);
    if (!watched && !this._disposed) {
      watched = this._follow(session);
      this._watched.set(session, watched);
      this._schedule(session, watched);
    }
    return watched ?? { variables: [] };
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    for (const watched of this._watched.values()) {
      watched.stop();
    }
    this._watched.clear();
    Signal.clearData(this);
  }

  private _follow(session: ISessionLike): IWatched {
    const onMessage = (_: unknown, message: any) => {
      if (message?.header?.msg_type === 'execute_input') {
        watched.executed = true; // a user's execution (silent ones have no execute_input)
      }
    };
    const onStatus = (_: unknown, status: string) => {
      if (status === 'idle' && watched.executed) {
        this._schedule(session, watched);
      } else if (['starting', 'restarting', 'autorestarting', 'dead'].includes(status)) {
        this._forget(session, watched);
      }
    };
    const onKernel = () => {
      this._forget(session, watched);
      watched.executed = true; // ask the new kernel once it is idle
      this._schedule(session, watched);
    };
    const onDisposed = () => {
      watched.stop();
      this._watched.delete(session);
    };
    const watched: IWatched = {
      variables: [],
      executed: false,
      timer: null,
      asking: false,
      again: false,
      stop: () => {
        session.iopubMessage.disconnect(onMessage);
        session.statusChanged.disconnect(onStatus);
        session.kernelChanged.disconnect(onKernel);
        session.disposed.disconnect(onDisposed);
        if (watched.timer !== null) {
          clearTimeout(watched.timer);
          watched.timer = null;
        }
      }
    };
    session.iopubMessage.connect(onMessage);
    session.statusChanged.connect(onStatus);
    session.kernelChanged.connect(onKernel);
    session.disposed.connect(onDisposed);
    return watched;
  }

  private _forget(session: ISessionLike, watched: IWatched): void {
    if (watched.variables.length) {
      watched.variables = [];
      this._changed.emit(session);
    }
  }

  /** Ask once the kernel stayed idle for the delay (one in flight; a busy kernel waits). */
  private _schedule(session: ISessionLike, watched: IWatched): void {
    if (watched.timer !== null) {
      clearTimeout(watched.timer);
    }
    watched.timer = setTimeout(() => {
      watched.timer = null;
      const kernel = session.session?.kernel;
      if (!kernel || kernel.status !== 'idle' || !this._options.enabled()) {
        return; // the next idle after an execution asks again
      }
      if (watched.asking) {
        watched.again = true;
        return;
      }
      void this._ask(session, watched, kernel);
    }, this._options.delay ?? SUMMARY_DELAY);
  }

  private async _ask(session: ISessionLike, watched: IWatched, kernel: IKernelLike) {
    watched.asking = true;
    watched.executed = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const info = await kernel.info;
      if (info.language_info.name !== 'python' || kernel.status !== 'idle') {
        return; // not an IPython kernel, or busy again since
      }
      let stdout = '';
      const future = kernel.requestExecute(
        { code: SUMMARY_CODE, silent: true, store_history: false, allow_stdin: false, stop_on_error: false },
        true
      );
      future.onIOPub = (message: any) => {
        if (message.header.msg_type === 'stream' && message.content.name === 'stdout') {
          stdout += message.content.text;
        }
      };
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error('no kernel summary in time')),
          this._options.timeout ?? SUMMARY_TIMEOUT
        );
      });
      try {
        await Promise.race([future.done, timeout]);
      } finally {
        future.dispose();
      }
      const variables = parseSummary(stdout);
      const changed = JSON.stringify(variables) !== JSON.stringify(watched.variables);
      if (changed && session.session?.kernel === kernel && !this._disposed) {
        watched.variables = variables;
        this._changed.emit(session);
      }
    } catch (reason) {
      console.debug('jupyter-ai-inline: no kernel summary', reason);
    } finally {
      clearTimeout(timer);
      watched.asking = false;
      if (watched.again) {
        watched.again = false;
        this._schedule(session, watched);
      }
    }
  }

  private _options: KernelVariables.IOptions;
  private _watched = new Map<ISessionLike, IWatched>();
  private _changed = new Signal<this, ISessionLike>(this);
  private _disposed = false;
}

export namespace KernelVariables {
  export interface IOptions {
    /** Whether to ask kernels at all (the setting, and room for variables in the prompt). */
    enabled: () => boolean;
    delay?: number;
    timeout?: number;
  }
}
