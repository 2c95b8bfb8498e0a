/**
 * The editor a completion is asked in (`ActiveEditor`, read once from the widget: document
 * path, notebook cell, kernel language, the editor itself), and what the user does there
 * since: the text at the cursor now, what was typed, and when they turn away from it (Escape,
 * cursor moved back or to another line, selection, focus lost).
 *
 * Widgets are read by shape, not by class, so that this works with notebooks, file editors and
 * consoles alike without importing their packages at run time.
 */
import type { IDisposable } from '@lumino/disposable';
import type { ISignal } from '@lumino/signaling';
import type { Widget } from '@lumino/widgets';

interface IPosition {
  line: number;
  column: number;
}

/** The part of JupyterLab's `CodeEditor.IEditor` used here. */
export interface IEditor {
  readonly host: HTMLElement;
  readonly model: {
    readonly selections: { readonly changed: ISignal<any, any> };
    readonly sharedModel?: { getSource(): string };
    readonly mimeType?: string;
  };
  getCursorPosition(): IPosition;
  getSelection(): { start: IPosition; end: IPosition };
  /** The JS string index of a position. */
  getOffsetAt?(position: IPosition): number;
}

/** Why the user left a completion. */
export type Dismissal = 'escape' | 'cursor' | 'focus' | 'typed';

/**
 * The editor a completion is asked in, read once from a notebook panel, a file editor or a
 * console: the document's path, the active cell and its editor. Its methods read the editor
 * as it is when they are called.
 */
export class ActiveEditor {
  /** Read the widget's active editor now. */
  constructor(widget: Widget | null | undefined) {
    this.widget = widget ?? null;
    const w = widget as any;
    if (!w) {
      return;
    }
    const path = w.context?.path ?? w.sessionContext?.path ?? w.console?.sessionContext?.path;
    this.path = typeof path === 'string' ? path : null;

    const cell = w.content?.activeCell ?? w.console?.promptCell;
    if (cell) {
      const id = cell.model?.id;
      this.cellId = typeof id === 'string' ? id : null;
      this.editor = cell.editor ?? null;
      const language = w.content?.model?.defaultKernelLanguage;
      this.kernelLanguage = typeof language === 'string' && language ? language : null;
    } else if (w.content?.editor) {
      this.editor = w.content.editor; // FileEditor
    }
  }

  /** The widget it was read from. */
  readonly widget: Widget | null;
  /** The document's path, `null` when the widget has none. */
  readonly path: string | null = null;
  /** The notebook (or console) cell id, `null` in a file editor. */
  readonly cellId: string | null = null;
  /** The kernel language of a notebook, if known. */
  readonly kernelLanguage: string | null = null;
  /** The editor being completed in, if found. */
  readonly editor: IEditor | null = null;

  /** The editor's MIME type, if it tells. */
  get mimeType(): string | undefined {
    return this.editor?.model.mimeType;
  }

  /** The language of a MIME type, else the notebook's kernel language, else `null`. */
  languageOf(mime: string | undefined): string | null {
    return (mime && LANGUAGES[mime]) || this.kernelLanguage || null;
  }

  /** The editor's text and the cursor's JS string index in it, when the editor tells them. */
  textAtCursor(): { text: string; offset: number } | null {
    const editor = this.editor;
    const text = editor?.model.sharedModel?.getSource();
    if (!editor || typeof text !== 'string' || !editor.getOffsetAt) {
      return null;
    }
    return { text, offset: editor.getOffsetAt(editor.getCursorPosition()) };
  }

  /**
   * What was typed since `prefix`, read from the editor at each call (JupyterLab trims the
   * items as the user types); `fallback` when the editor cannot tell or left that prefix.
   */
  typedSince(prefix: string, fallback: string): () => string {
    return () => {
      const now = this.textAtCursor();
      if (!now) {
        return fallback;
      }
      const before = now.text.slice(0, now.offset);
      return before.startsWith(prefix) ? before.slice(prefix.length) : fallback;
    };
  }

  /**
   * Call `onDismiss` once, with the reason, when the user leaves the completion at the cursor
   * now (see `watchDismissal` below); `null` without an editor.
   */
  watchDismissal(
    onDismiss: (why: Dismissal) => void,
    along?: () => boolean | null
  ): IDisposable | null {
    return this.editor ? watchDismissal(this.editor, onDismiss, along) : null;
  }
}

const LANGUAGES: { [mime: string]: string } = {
  'text/x-python': 'python',
  'text/x-ipython': 'python',
  'text/x-cython': 'cython',
  'text/x-rsrc': 'r',
  'text/x-r-source': 'r',
  'text/x-julia': 'julia',
  'text/javascript': 'javascript',
  'application/javascript': 'javascript',
  'text/typescript': 'typescript',
  'application/typescript': 'typescript',
  'text/x-sh': 'shell',
  'text/x-sql': 'sql',
  'text/x-markdown': 'markdown',
  'text/x-ipythongfm': 'markdown',
  'text/markdown': 'markdown',
  'text/x-c++src': 'cpp',
  'text/x-csrc': 'c',
  'text/x-java': 'java',
  'text/x-go': 'go',
  'text/x-rustsrc': 'rust',
  'text/x-scala': 'scala',
  'text/x-yaml': 'yaml',
  'application/json': 'json',
  'text/html': 'html',
  'text/css': 'css'
};

/**
 * Call `onDismiss` once, with the reason, when the user leaves the completion at `start`:
 * presses Escape, moves the cursor to another line or before `start`, selects text, or the
 * editor loses focus (to anything but the inline completer's own widget). Mirrors when
 * JupyterLab's inline completer drops its suggestions. Typing forward is left to the next
 * fetch, which supersedes this one (or types along), unless `along` says that what was typed
 * can no longer be the start of the suggestions ('typed'). `along` also keeps the completion
 * when the cursor goes to a later line by typing (or taking) the suggestion's own line break:
 * `true` when the text typed since is the start of a suggestion, `false` when it cannot be,
 * `null` while the suggestions are not known yet (then another line dismisses). Checked once
 * the keystroke's text is in the model.
 */
function watchDismissal(
  editor: IEditor,
  onDismiss: (why: Dismissal) => void,
  along?: () => boolean | null
): IDisposable {
  const start = editor.getCursorPosition();
  const host = editor.host;
  let disposed = false;

  const dismiss = (why: Dismissal) => {
    if (!disposed) {
      watcher.dispose();
      onDismiss(why);
    }
  };
  const onSelections = () => {
    const { start: from, end: to } = editor.getSelection();
    const selecting = from.line !== to.line || from.column !== to.column;
    const back = to.line < start.line || (to.line === start.line && to.column < start.column);
    if (selecting || back || (to.line !== start.line && (!along || along() === null))) {
      dismiss('cursor');
    } else if (to.line !== start.line) {
      setTimeout(() => along!() !== true && dismiss('cursor'), 0);
    } else if (along) {
      setTimeout(() => along() === false && dismiss('typed'), 0);
    }
  };
  const onKeydown = (event: KeyboardEvent) => {
    if (event.key === 'Escape') {
      dismiss('escape');
    }
  };
  const onFocusout = (event: FocusEvent) => {
    const next = event.relatedTarget as Element | null;
    if (!next?.closest?.('.jp-InlineCompleter')) {
      dismiss('focus');
    }
  };
  editor.model.selections.changed.connect(onSelections);
  host.addEventListener('keydown', onKeydown, true);
  host.addEventListener('focusout', onFocusout);

  const watcher: IDisposable = {
    get isDisposed() {
      return disposed;
    },
    dispose() {
      if (disposed) {
        return;
      }
      disposed = true;
      editor.model.selections.changed.disconnect(onSelections);
      host.removeEventListener('keydown', onKeydown, true);
      host.removeEventListener('focusout', onFocusout);
    }
  };
  return watcher;
}
