/**
 * The user's settings (schema/plugin.json) sent to the server as `configure`, on load and on
 * every change.
 */
import type { ISettingRegistry } from '@jupyterlab/settingregistry';

import type { Backend, IServerSettings } from './protocol';

export const PLUGIN_ID = 'jupyter-ai-inline:plugin';

const BACKENDS: Backend[] = ['ollama', 'llamacpp', 'openai'];

function text(value: unknown): string | null {
  return typeof value === 'string' && value.trim() ? value.trim() : null;
}

function integer(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? Math.round(value) : null;
}

/** The `configure` settings from the composite settings: missing, blank or invalid → `null`. */
export function toServerSettings(composite: { [key: string]: unknown }): IServerSettings {
  const backend = composite.backend;
  return {
    backend: BACKENDS.includes(backend as Backend) ? (backend as Backend) : null,
    baseUrl: text(composite.baseUrl),
    model: text(composite.model),
    suggestions: integer(composite.suggestions),
    maxTokens: integer(composite.maxTokens),
    contextAboveChars: integer(composite.contextAboveChars),
    contextBelowChars: integer(composite.contextBelowChars)
  };
}

/** Whether to send the kernel's variables (the `kernelVariables` setting, on by default). */
export function kernelVariablesOn(composite: { [key: string]: unknown }): boolean {
  return composite.kernelVariables !== false;
}

/** Whether to suggest on an empty line (the `emptyLineSuggestions` setting, on by default). */
export function emptyLineOn(composite: { [key: string]: unknown }): boolean {
  return composite.emptyLineSuggestions !== false;
}

/** Whether to warm a notebook's prompts while the user rests (`backgroundWarmUps`, on by default). */
export function backgroundWarmUpsOn(composite: { [key: string]: unknown }): boolean {
  return composite.backgroundWarmUps !== false;
}

/** Send the settings now and after each change; falls back to server defaults on failure. */
export async function bindSettings(
  registry: ISettingRegistry,
  configure: (settings: IServerSettings) => void
): Promise<ISettingRegistry.ISettings | null> {
  try {
    const settings = await registry.load(PLUGIN_ID);
    const update = () => configure(toServerSettings(settings.composite as any));
    update();
    settings.changed.connect(update);
    return settings;
  } catch (reason) {
    console.error(`jupyter-ai-inline: cannot load the settings of ${PLUGIN_ID}`, reason);
    return null;
  }
}
