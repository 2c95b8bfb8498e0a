/**
 * What the status bar shows: the model in use (and llama.cpp's mode), starting (the local
 * model loads) / idle / generating (spinner) / error (one line), and the last time to first
 * token; its tooltip also says how often suggestions were taken this session. Errors are also
 * notified once per distinct message.
 */
import { Notification } from '@jupyterlab/apputils';
import { ISignal, Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import type { AcceptanceStats } from './acceptance';
import type { IClientError, ICompletionClient, ILocalServer } from './protocol';

export type ActivityState = 'starting' | 'idle' | 'generating' | 'error';

/** The status of the completions, fed by the client's signals. */
export class InlineStatus {
  constructor(options: InlineStatus.IOptions) {
    const client = options.client;
    this._notify = options.notify ?? notifyError;
    client.statusReceived.connect((_, status) => {
      this._model = status.model;
      this._backend = status.backend;
      this._source = status.source;
      this._mode = status.mode ?? null;
      this._context = status.context ?? this._context;
      this._local = status.local ?? null;
      this._changed.emit();
    });
    client.stateChanged.connect((_, state) => {
      if (state === 'open' && this._error?.kind === 'connection') {
        this._error = null;
      }
      this._changed.emit();
    });
    client.activityChanged.connect((_, inFlight) => {
      this._inFlight = inFlight;
      this._changed.emit();
    });
    client.firstToken.connect((_, { ms }) => {
      this._ttft = ms;
      if (this._error?.kind !== 'connection') {
        this._error = null; // the model answers again
      }
      this._changed.emit();
    });
    client.errorOccurred.connect((_, error) => this._onError(error));
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }
  get state(): ActivityState {
    const local = this._local?.state;
    if (local === 'starting' || local === 'restarting') {
      return 'starting';
    }
    if (this._inFlight > 0) {
      return 'generating';
    }
    return this.error ? 'error' : 'idle';
  }
  get model(): string | null {
    return this._model;
  }
  get backend(): string | null {
    return this._backend;
  }
  /** `jupyter-ai` when Jupyter AI's completions model is used, else `settings`. */
  get source(): string | null {
    return this._source;
  }
  get error(): string | null {
    const localFailed = this._local?.state === 'failed' ? this._local.message : null;
    return this._error?.message ?? localFailed;
  }
  /** llama.cpp's mode: `infill` (fill in the middle) or `completion`, once known. */
  get mode(): string | null {
    return this._mode;
  }
  /** Where the last prompt's other cells came from: `live`, `browser` or `none`. */
  get context(): string | null {
    return this._context;
  }
  /** The managed local llama-server, when it serves the model. */
  get local(): ILocalServer | null {
    return this._local;
  }
  /** The last time to first token, in ms. */
  get timeToFirstToken(): number | null {
    return this._ttft;
  }

  private _onError(error: IClientError): void {
    this._error = error;
    if (error.notify && !this._notified.has(error.message)) {
      this._notified.add(error.message);
      if (this._notified.size > MAX_NOTIFIED) {
        // forget the oldest: it may be notified again, the memory stays bounded
        this._notified.delete(this._notified.values().next().value as string);
      }
      this._notify(error.message);
    }
    this._changed.emit();
  }

  private _notify: (message: string) => void;
  private _changed = new Signal<this, void>(this);
  private _model: string | null = null;
  private _backend: string | null = null;
  private _source: string | null = null;
  private _mode: string | null = null;
  private _context: string | null = null;
  private _local: ILocalServer | null = null;
  private _inFlight = 0;
  private _ttft: number | null = null;
  private _error: IClientError | null = null;
  private _notified = new Set<string>();
}

export namespace InlineStatus {
  export interface IOptions {
    /** The client whose signals feed the status. */
    client: ICompletionClient;
    /** Show an error to the user (a JupyterLab notification by default). */
    notify?: (message: string) => void;
  }
}

/** Distinct error messages remembered as already notified (each is notified once). */
export const MAX_NOTIFIED = 32;

function notifyError(message: string): void {
  Notification.error(`AI inline: ${message}`, { autoClose: 8000 });
}

/** The status bar item; a click opens the settings. */
export class StatusWidget extends Widget {
  constructor(options: StatusWidget.IOptions) {
    super();
    const status = options.status;
    this._status = status;
    this.addClass('jp-AIInline-status');
    this.node.setAttribute('role', 'button');
    this.node.innerHTML =
      '<span class="jp-AIInline-spinner"></span>' +
      '<span class="jp-AIInline-label"></span>' +
      '<span class="jp-AIInline-detail"></span>';
    this.node.addEventListener('click', options.openSettings);
    status.changed.connect(this._render, this);
    this._acceptance = options.acceptance ?? null;
    this._acceptance?.changed.connect(this._render, this);
    this._render();
  }

  private _render(): void {
    const status = this._status;
    const state = status.state;
    const model = (status.model ?? 'AI inline') + (status.mode ? ` · ${status.mode}` : '');
    let detail = '';
    if (state === 'starting') {
      detail = status.local!.message;
    } else if (state === 'error' && status.error) {
      detail = status.error;
    } else if (status.timeToFirstToken !== null) {
      detail = `${status.timeToFirstToken} ms`;
    }
    this.node.dataset.state = state;
    this.node.querySelector('.jp-AIInline-label')!.textContent = model;
    this.node.dataset.context = status.context ?? '';
    this.node.querySelector('.jp-AIInline-detail')!.textContent = detail;
    const lines = [
      `AI inline completions: ${state}`,
      status.model
        ? `Model: ${status.model} (${status.backend}), chosen in ${SOURCES[status.source ?? ''] ?? status.source}`
        : '',
      status.mode ? `Mode: ${status.mode === 'infill' ? 'fill in the middle (/infill)' : 'prefix completion (/completion)'}` : '',
      status.context ? `Notebook context: ${CONTEXT_SOURCES[status.context] ?? status.context}` : '',
      status.local ? `Local llama-server: ${status.local.message}` : '',
      status.timeToFirstToken !== null
        ? `Last time to first token: ${status.timeToFirstToken} ms`
        : '',
      status.error ? `Error: ${status.error}` : '',
      ...(this._acceptance?.summary(status.model) ?? []),
      'Click to open the settings'
    ];
    this.node.title = lines.filter(Boolean).join('\n');
  }

  private _status: InlineStatus;
  private _acceptance: AcceptanceStats | null;
}

export namespace StatusWidget {
  export interface IOptions {
    /** What to show. */
    status: InlineStatus;
    /** Open the settings (on a click). */
    openSettings: () => void;
    /** How often suggestions were taken this session, for the tooltip. */
    acceptance?: AcceptanceStats;
  }
}

/** Where the model in use was chosen. */
const SOURCES: { [source: string]: string } = {
  'jupyter-ai': "Jupyter AI's settings (its inline completions model)",
  settings: 'the AI inline settings'
};

const CONTEXT_SOURCES: { [source: string]: string } = {
  live: 'the other cells, from the live collaborative document',
  browser: 'the other cells, sent by this browser',
  none: 'none (this editor has no other cells)'
};
