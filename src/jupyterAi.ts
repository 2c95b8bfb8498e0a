/**
 * Jupyter AI 2's inline completer beside ours.
 *
 * Jupyter AI's chat panel lets a user pick one of our models as its inline completions model,
 * but only while its own inline completer is turned on; then both completers would ask the
 * model for the same suggestion at every keystroke. Ours keeps asking (with cancellation,
 * type-along, the notebook and kernel context, warm-ups) and tells the server that it shows
 * ghost text; the server then answers Jupyter AI's requests to our models with nothing. The
 * model chosen in Jupyter AI's panel stays in use either way. The user is told once.
 */
import { Notification } from '@jupyterlab/apputils';
import type { ISettingRegistry } from '@jupyterlab/settingregistry';

import { PROVIDER_ID } from './provider';

/** JupyterLab's Inline Completer settings: which providers are enabled. */
export const INLINE_COMPLETER = '@jupyterlab/completer-extension:inline-completer';
/** Jupyter AI 2's inline completion provider. */
export const JUPYTER_AI_PROVIDER = '@jupyterlab/jupyter-ai';
/** Set in the browser's storage once the user was told. */
export const TOLD_KEY = 'jupyter-ai-inline:told-about-jupyter-ai';

export interface IEnabledProviders {
  /** Our provider shows ghost text. */
  ours: boolean;
  /** Jupyter AI's provider asks too. */
  jupyterAi: boolean;
}

/** Which of the two providers the Inline Completer settings enable. */
export function enabledProviders(composite: any): IEnabledProviders {
  const providers = composite?.providers ?? {};
  return {
    ours: providers[PROVIDER_ID]?.enabled === true,
    jupyterAi: providers[JUPYTER_AI_PROVIDER]?.enabled === true
  };
}

/**
 * Follows the Inline Completer settings: tells the server whether this tab shows our ghost
 * text, and tells the user once when Jupyter AI's completer is on with our model chosen in it.
 */
export class JupyterAiBeside {
  constructor(options: JupyterAiBeside.IOptions) {
    this._options = options;
    this._notify = options.notify ?? notifyBeside;
  }

  /** Load the Inline Completer settings and follow them (a failure leaves ours on). */
  async start(): Promise<void> {
    const { registry, showsGhostText, sourceChanged } = this._options;
    try {
      this._settings = await registry.load(INLINE_COMPLETER);
    } catch (reason) {
      console.debug('AI inline: no Inline Completer settings', reason);
      showsGhostText(true);
      return;
    }
    const follow = () => {
      this._enabled = enabledProviders(this._settings!.composite);
      showsGhostText(this._enabled.ours);
      this.check();
    };
    this._settings.changed.connect(follow);
    sourceChanged(() => this.check());
    follow();
  }

  /** Tell the user, once per browser, when both completers are on with our model chosen. */
  check(): void {
    const { source, storage } = this._options;
    const enabled = this._enabled;
    if (!enabled.ours || !enabled.jupyterAi || source() !== 'jupyter-ai') {
      return;
    }
    if (storage.getItem(TOLD_KEY)) {
      return;
    }
    storage.setItem(TOLD_KEY, new Date().toISOString());
    this._notify(
      "Jupyter AI's inline completer is on and uses the model you chose for it, one of " +
        "jupyter-ai-inline's. So that the model is asked once per keystroke, not twice, " +
        "jupyter-ai-inline's completer shows the ghost text and Jupyter AI's stays silent. " +
        "Jupyter AI's completer can be turned off: the model chosen in its settings stays in use.",
      () => void this.turnJupyterAiOff()
    );
  }

  /** Disable Jupyter AI's provider in the Inline Completer settings. */
  async turnJupyterAiOff(): Promise<void> {
    const settings = this._settings;
    if (!settings) {
      return;
    }
    const providers = { ...((settings.composite as any).providers ?? {}) };
    providers[JUPYTER_AI_PROVIDER] = { ...providers[JUPYTER_AI_PROVIDER], enabled: false };
    await settings.set('providers', providers);
  }

  private _options: JupyterAiBeside.IOptions;
  private _notify: (message: string, turnOff: () => void) => void;
  private _settings: ISettingRegistry.ISettings | null = null;
  private _enabled: IEnabledProviders = { ours: false, jupyterAi: false };
}

export namespace JupyterAiBeside {
  export interface IOptions {
    registry: ISettingRegistry;
    /** Tell the server whether this tab shows our ghost text. */
    showsGhostText: (shown: boolean) => void;
    /** Where the model in use was chosen (`jupyter-ai` or `settings`), from the status. */
    source: () => string | null;
    /** Call back when the status's source may have changed. */
    sourceChanged: (callback: () => void) => void;
    /** The browser's storage (`window.localStorage`). */
    storage: Pick<Storage, 'getItem' | 'setItem'>;
    /** Show the message with a button that turns Jupyter AI's completer off. */
    notify?: (message: string, turnOff: () => void) => void;
  }
}

/** A notification with a button, as the user sees it. */
export function notifyBeside(message: string, turnOff: () => void): void {
  Notification.info(message, {
    autoClose: false,
    actions: [
      { label: "Turn Jupyter AI's completer off", callback: turnOff },
      { label: 'Keep both', callback: () => undefined, displayType: 'link' }
    ]
  });
}
