/**
 * Every CodeMirror editor's updates (edits, cursor moves, ghost text drawn or trimmed) to the
 * listeners that follow them: the empty-line trigger and the acceptance tracker. One view
 * plugin, added to all editors through JupyterLab's editor extension registry.
 */
import type { EditorView, ViewUpdate } from '@codemirror/view';
import { ViewPlugin } from '@codemirror/view';
import { EditorExtensionRegistry, IEditorExtensionRegistry } from '@jupyterlab/codemirror';

/** Follows the updates of every editor. */
export interface IEditorListener {
  /** An update of an editor (called inside CodeMirror's update: read, never dispatch). */
  update(update: ViewUpdate): void;
  /** The editor was destroyed. */
  closed?(view: EditorView): void;
}

/** Give `listeners` the updates of every editor created from now on. */
export function watchEditors(
  registry: IEditorExtensionRegistry,
  listeners: readonly IEditorListener[]
): void {
  const plugin = ViewPlugin.define(view => ({
    update(update: ViewUpdate) {
      for (const listener of listeners) {
        try {
          listener.update(update);
        } catch (reason) {
          console.error('AI inline: an editor listener failed', reason);
        }
      }
    },
    destroy() {
      listeners.forEach(listener => listener.closed?.(view));
    }
  }));
  registry.addExtension({
    name: 'jupyter-ai-inline:watch',
    factory: () => EditorExtensionRegistry.createImmutableExtension(plugin)
  });
}
