/**
 * Taking part of a suggestion: the next word (Ctrl+→, Cmd+→ on macOS) or the next line
 * (Ctrl+↓, Cmd+↓) of the ghost text, while it is shown.
 *
 * JupyterLab 4.6's inline completer can only accept a suggestion whole. The part is inserted
 * at the cursor as typing would be; JupyterLab trims it off the ghost text, and the fetch
 * that follows finds the rest among the suggestions already generated (type-along), so the
 * rest stays on screen and no request is sent. When the part ends on another line (JupyterLab
 * drops its ghost text when the cursor changes line), the inline completer is asked again at
 * once, and the rest comes back from there too. Tab still takes all.
 */
import type { EditorView } from '@codemirror/view';
import type { IInlineCompleterFactory } from '@jupyterlab/completer';
import { CommandToolbarButton, LabIcon } from '@jupyterlab/ui-components';
import { CommandRegistry } from '@lumino/commands';

import { nextLine, nextWord } from './boundaries';
import { ghostIn, PartKind, takePart } from './ghost';

export const ACCEPT_WORD = 'jupyter-ai-inline:accept-word';
export const ACCEPT_LINE = 'jupyter-ai-inline:accept-line';

/** Takes the next word or line of the ghost text in the current editor. */
export class PartialAccept {
  constructor(options: PartialAccept.IOptions) {
    this._options = options;
  }

  /** Take the next part of the ghost text at the cursor; whether there was one. */
  take(kind: PartKind): boolean {
    const view = this._options.view();
    const ghost = view && ghostIn(view.state);
    if (!view || !ghost) {
      return false;
    }
    const part = kind === 'word' ? nextWord(ghost.text) : nextLine(ghost.text);
    if (part.length >= ghost.text.length) {
      this._options.acceptAll(); // the last part: as Tab, so that JupyterLab is done with it
      return true;
    }
    takePart(view, ghost.from, part, kind);
    if (!view.hasFocus) {
      view.focus(); // taken with a button of the inline completer's widget
    }
    setTimeout(() => {
      if (!ghostIn(view.state)) {
        this._options.showRest();
      }
    }, 0);
    return true;
  }

  private _options: PartialAccept.IOptions;
}

export namespace PartialAccept {
  export interface IOptions {
    /** The editor of the current widget (its CodeMirror view), if any. */
    view: () => EditorView | null;
    /** Accept the whole suggestion (JupyterLab's `inline-completer:accept`). */
    acceptAll: () => void;
    /** Ask the current widget's inline completer again (JupyterLab's invoke). */
    showRest: () => void;
  }
}

/** Register both commands; they are enabled while ghost text is shown (`active`). */
export function addPartialAcceptCommands(
  commands: CommandRegistry,
  partial: PartialAccept,
  active: () => boolean
): void {
  commands.addCommand(ACCEPT_WORD, {
    label: 'Accept Next Word of Inline Completion',
    caption: 'Take the next word of the ghost text; the rest stays shown',
    isEnabled: active,
    execute: () => partial.take('word')
  });
  commands.addCommand(ACCEPT_LINE, {
    label: 'Accept Next Line of Inline Completion',
    caption: 'Take the next line of the ghost text; the rest stays shown',
    isEnabled: active,
    execute: () => partial.take('line')
  });
}

const wordIcon = new LabIcon({
  name: 'jupyter-ai-inline:accept-word',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">' +
    '<path class="jp-icon3" fill="#616161" d="M3 11h10V7l6 5-6 5v-4H3z"/>' +
    '<path class="jp-icon3" fill="#616161" d="M20 5h2v14h-2z"/></svg>'
});

const lineIcon = new LabIcon({
  name: 'jupyter-ai-inline:accept-line',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">' +
    '<path class="jp-icon3" fill="#616161" d="M11 3h2v10h4l-5 6-5-6h4z"/>' +
    '<path class="jp-icon3" fill="#616161" d="M5 20h14v2H5z"/></svg>'
});

/**
 * Add both commands to the toolbar of every inline completer widget made from now on (one per
 * notebook or editor), after JupyterLab's accept button; their labels are their shortcuts,
 * shown when the widget shows shortcuts. JupyterLab has no hook for the widget's buttons: the
 * factory object it uses is wrapped in place, whichever plugin set it first.
 */
export function addPartialAcceptButtons(
  factory: IInlineCompleterFactory,
  commands: CommandRegistry
): void {
  const make = factory.factory.bind(factory);
  factory.factory = options => {
    const widget = make(options);
    for (const [name, id, icon, caption] of BUTTONS) {
      const label = () => shortcut(commands, id);
      const button = new CommandToolbarButton({ commands, id, icon, caption, label });
      widget.toolbar.addItem(name, button);
    }
    // Enabled while ghost text is shown: refreshed with the suggestions, as JupyterLab's.
    widget.model?.suggestionsChanged.connect(() => {
      commands.notifyCommandChanged(ACCEPT_WORD);
      commands.notifyCommandChanged(ACCEPT_LINE);
    });
    return widget;
  };
  commands.keyBindingChanged.connect((_, { binding }) => {
    if (binding.command === ACCEPT_WORD || binding.command === ACCEPT_LINE) {
      commands.notifyCommandChanged(binding.command);
    }
  });
}

/**
 * Run both commands from their key bindings before the editor sees the key: JupyterLab runs
 * key bindings after the editor (in the bubbling phase), and CodeMirror has its own Ctrl+→
 * (Cmd+→ and Cmd+↓ on macOS), which would move the cursor instead. Like JupyterLab's own
 * handling of Tab for the inline completer, a capturing listener looks up the bindings as the
 * user set them (Settings → Keyboard Shortcuts) and runs the command where its selector
 * matches and it is enabled (ghost text shown); any other key is left alone.
 */
export function runKeysFirst(commands: CommandRegistry, target: Document = document): void {
  target.addEventListener(
    'keydown',
    event => {
      if (!(event.target instanceof Element)) {
        return;
      }
      const keystroke = CommandRegistry.keystrokeForKeydownEvent(event);
      const binding = commands.keyBindings.find(
        b =>
          (b.command === ACCEPT_WORD || b.command === ACCEPT_LINE) &&
          b.keys.length === 1 &&
          b.keys[0] === keystroke &&
          (event.target as Element).closest(b.selector) &&
          commands.isEnabled(b.command, b.args)
      );
      if (binding) {
        event.preventDefault();
        event.stopPropagation();
        void commands.execute(binding.command, binding.args);
      }
    },
    true
  );
}

const BUTTONS: [string, string, LabIcon, string][] = [
  ['accept-word-inline-completion', ACCEPT_WORD, wordIcon, 'Accept next word'],
  ['accept-line-inline-completion', ACCEPT_LINE, lineIcon, 'Accept next line']
];

/** A command's key binding as JupyterLab writes it (e.g. `Ctrl+ArrowRight`), or nothing. */
function shortcut(commands: CommandRegistry, command: string): string {
  const binding = commands.keyBindings.find(b => b.command === command);
  return binding ? CommandRegistry.formatKeystroke(binding.keys) : '';
}
