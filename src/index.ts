import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICompletionProviderManager } from '@jupyterlab/completer';
import { ServerConnection } from '@jupyterlab/services';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStatusBar } from '@jupyterlab/statusbar';

import { CompletionClient } from './client';
import { completionsUrl } from './socket';
import { JupyterAiBeside } from './jupyterAi';
import { KernelVariables, sessionOf } from './kernel';
import { GhostTextProvider } from './provider';
import { bindSettings, kernelVariablesOn, PLUGIN_ID } from './settings';
import { InlineStatus, StatusWidget } from './status';
import { IShellLike, watchCells, WarmUp } from './warmup';

/**
 * Streams ghost-text completions from the jupyter-ai-inline server extension into
 * JupyterLab's (and Notebook 7's) inline completer.
 */
const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'AI ghost-text completions from the jupyter-ai-inline server extension.',
  autoStart: true,
  requires: [ICompletionProviderManager, ISettingRegistry],
  optional: [IStatusBar],
  activate: (
    app: JupyterFrontEnd,
    manager: ICompletionProviderManager,
    settingRegistry: ISettingRegistry,
    statusBar: IStatusBar | null
  ) => {
    const serverSettings = ServerConnection.makeSettings();
    const client = new CompletionClient({
      url: completionsUrl(serverSettings),
      WebSocket: serverSettings.WebSocket
    });
    const status = new InlineStatus({ client });

    // The running kernel's variables: on unless the user or the server's budget says no.
    let kernelVariablesWanted = true;
    const kernels = new KernelVariables({
      enabled: () => kernelVariablesWanted && client.contextBudget.variables_chars !== 0
    });

    // Registered during activation: the inline completer reads its providers on `restored`.
    manager.registerInlineProvider(
      new GhostTextProvider({ client, variablesOf: kernels.variablesOf })
    );

    // Warm the model up for the cell the user stops at, and again when its kernel's
    // variables change (the prompt changed with them).
    const warmUp = new WarmUp({
      warm: input => client.warm(input),
      budget: () => client.contextBudget,
      variables: kernels.variablesOf,
      current: () => app.shell.currentWidget
    });
    watchCells(app.shell, warmUp);
    kernels.changed.connect((_, session) => {
      const current = app.shell.currentWidget;
      if (sessionOf(current) === session) {
        warmUp.schedule(current);
      }
    });
    // Follow the kernel of the notebook or console the user turns to.
    (app.shell as IShellLike).currentChanged?.connect(() =>
      kernels.variablesOf(app.shell.currentWidget)
    );

    if (statusBar) {
      const openSettings = () => {
        void app.commands.execute('settingeditor:open', { query: 'AI inline' });
      };
      statusBar.registerStatusItem(PLUGIN_ID + ':status', {
        item: new StatusWidget({ status, openSettings }),
        align: 'left',
        rank: 100,
        isActive: () => true
      });
    }

    // Jupyter AI's completer turned on beside ours: the model is asked once (jupyterAi.ts).
    // The Inline Completer's settings are read once its plugin has transformed them.
    const beside = new JupyterAiBeside({
      registry: settingRegistry,
      showsGhostText: shown => client.showsGhostText(shown),
      source: () => status.source,
      sourceChanged: callback => status.changed.connect(callback),
      storage: window.localStorage
    });
    void app.restored.then(() => beside.start());

    // Connect once the settings are known, so that `configure` precedes the first request.
    void bindSettings(settingRegistry, settings => client.configure(settings)).then(loaded => {
      const follow = () => {
        kernelVariablesWanted = kernelVariablesOn((loaded?.composite ?? {}) as any);
      };
      follow();
      loaded?.changed.connect(follow);
      client.connect();
    });
  }
};

export default plugin;
