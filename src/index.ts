import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IEditorExtensionRegistry } from '@jupyterlab/codemirror';
import { ICompletionProviderManager, IInlineCompleterFactory } from '@jupyterlab/completer';
import { ServerConnection } from '@jupyterlab/services';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStatusBar } from '@jupyterlab/statusbar';

import { AcceptanceStats, AcceptanceTracker, downloadJson } from './acceptance';
import { BackgroundWarmUp, watchRest } from './background';
import { CompletionClient } from './client';
import { ActiveEditor } from './editor';
import { watchEditors } from './editorWatch';
import { EmptyLineTrigger } from './emptyLine';
import { completionsUrl } from './socket';
import { JupyterAiBeside } from './jupyterAi';
import { KernelVariables, sessionOf } from './kernel';
import {
  ACCEPT_LINE,
  ACCEPT_WORD,
  addPartialAcceptButtons,
  addPartialAcceptCommands,
  PartialAccept,
  runKeysFirst
} from './partialAccept';
import { GhostTextProvider, PROVIDER_ID } from './provider';
import {
  backgroundWarmUpsOn,
  bindSettings,
  emptyLineOn,
  kernelVariablesOn,
  PLUGIN_ID
} from './settings';
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
  optional: [IStatusBar, IEditorExtensionRegistry, IInlineCompleterFactory, ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    manager: ICompletionProviderManager,
    settingRegistry: ISettingRegistry,
    statusBar: IStatusBar | null,
    editorExtensions: IEditorExtensionRegistry | null,
    completerFactory: IInlineCompleterFactory | null,
    palette: ICommandPalette | null
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
    const provider = new GhostTextProvider({ client, variablesOf: kernels.variablesOf });
    manager.registerInlineProvider(provider);

    // The inline completer of the current widget (notebook, console, file editor).
    const currentId = () => app.shell.currentWidget?.id ?? null;
    const ghostShown = () => !!currentId() && !!manager.inline?.isActive(currentId()!);
    const invoke = () => currentId() && manager.inline?.invoke(currentId()!);

    // A suggestion on the empty line after Enter (emptyLine.ts).
    let emptyLineWanted = true;
    const emptyLine = new EmptyLineTrigger({
      enabled: () => emptyLineWanted && provider.enabled,
      delay: () => provider.debouncerDelay,
      alreadyAsked: (text, offset, since) => provider.askedAt(text, offset, since),
      invoke: view => app.shell.currentWidget?.node.contains(view.dom) && invoke()
    });

    // Take the next word or line of a suggestion (partialAccept.ts).
    const partial = new PartialAccept({
      view: () => (new ActiveEditor(app.shell.currentWidget).editor as any)?.editor ?? null,
      acceptAll: () => currentId() && manager.inline?.accept(currentId()!),
      showRest: invoke
    });
    addPartialAcceptCommands(app.commands, partial, ghostShown);
    runKeysFirst(app.commands);
    if (completerFactory) {
      addPartialAcceptButtons(completerFactory, app.commands);
    }

    // How often suggestions are taken, in this tab only (acceptance.ts).
    const acceptance = new AcceptanceStats();
    const tracker = new AcceptanceTracker({
      stats: acceptance,
      provider: PROVIDER_ID,
      model: () => status.model ?? 'unknown'
    });
    if (editorExtensions) {
      watchEditors(editorExtensions, [emptyLine, tracker]);
    }
    app.commands.addCommand(EXPORT_ACCEPTANCE, {
      label: 'Export AI Inline Acceptance Statistics',
      caption: 'Save the counts of suggestions shown and taken as JSON (they stay in this browser)',
      execute: args => {
        const counts = acceptance.toJSON();
        if (args.download !== false) {
          downloadJson(counts, 'ai-inline-acceptance.json');
        }
        return counts;
      }
    });
    for (const command of [ACCEPT_WORD, ACCEPT_LINE, EXPORT_ACCEPTANCE]) {
      palette?.addItem({ command, category: 'AI Inline Completions' });
    }

    // Warm the model up for the cell the user stops at, and again when its kernel's
    // variables change (the prompt changed with them).
    const warmUp = new WarmUp({
      warm: input => client.warm(input),
      budget: () => client.contextBudget,
      variables: kernels.variablesOf,
      current: () => app.shell.currentWidget
    });
    watchCells(app.shell, warmUp);
    // While the user rests in a notebook, warm its prompt starts too (background.ts).
    let backgroundWanted = true;
    const background = new BackgroundWarmUp({
      enabled: () => backgroundWanted,
      warm: input => client.warmed(input),
      busy: () => client.busy,
      budget: () => client.contextBudget,
      variables: kernels.variablesOf,
      current: () => app.shell.currentWidget
    });
    watchRest(() => app.shell.currentWidget, background, (app.shell as IShellLike).currentChanged);
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
        item: new StatusWidget({ status, openSettings, acceptance }),
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
        emptyLineWanted = emptyLineOn((loaded?.composite ?? {}) as any);
        backgroundWanted = backgroundWarmUpsOn((loaded?.composite ?? {}) as any);
      };
      follow();
      loaded?.changed.connect(follow);
      client.connect();
    });
  }
};

/** The command that exports the acceptance statistics. */
const EXPORT_ACCEPTANCE = 'jupyter-ai-inline:export-acceptance';

export default plugin;
