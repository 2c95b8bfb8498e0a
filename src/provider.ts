/**
 * The inline completion provider: JupyterLab's inline completer asks it for suggestions
 * (`fetch`) and for their streamed text (`stream`).
 *
 * Every generation is kept in a `SuggestionCache` while it streams. A fetch first looks
 * there: while the text typed since a suggestion was asked for matches it (typing along), or
 * back at an earlier prefix, the reply is the suggestions' rest at once and no request is
 * sent; a generation still running goes on and its later text keeps flowing into the new
 * items (each has its own local token following the generation). Otherwise a request goes
 * through the websocket client.
 */
import type {
  CompletionHandler,
  IInlineCompletionContext,
  IInlineCompletionList,
  IInlineCompletionProvider
} from '@jupyterlab/completer';
import { Text } from '@jupyterlab/coreutils';
import type { IDisposable } from '@lumino/disposable';

import { ActiveEditor } from './editor';
import { editorKey, ICompletionClient, ICompletionItem, RequestInput } from './protocol';
import { NO_VARIABLES, requestInput, VariablesOf } from './request';
import {
  contextKey,
  follow,
  IEntry,
  IKey,
  restAfter,
  Suggestion,
  SuggestionCache
} from './suggestions';

export const PROVIDER_ID = '@jupyter-ai-inline/provider';

/** A token's suggestion and how to tell what was typed since its entry's prefix. */
interface IFollower {
  suggestion: Suggestion;
  /** The text typed since the entry's prefix, read from the editor now. */
  typed: () => string;
  /** The item's text when the fetch answered. */
  shown: string;
  claimed: boolean;
}

/** The ghost-text provider of JupyterLab's inline completer. */
export class GhostTextProvider implements IInlineCompletionProvider {
  constructor(options: GhostTextProvider.IOptions) {
    this._client = options.client;
    this.cache = options.cache ?? new SuggestionCache();
    this._variablesOf = options.variablesOf ?? NO_VARIABLES;
    // Suggestions of another model are not this one's.
    this._client.statusReceived.connect((_, status) => {
      const model = JSON.stringify([status.backend, status.base_url, status.model]);
      if (model !== this._model) {
        this._model = model;
        this.cache.clear();
      }
    });
  }

  readonly identifier = PROVIDER_ID;
  readonly name = 'AI inline';
  /** Enabled by default; the reply comes at once (before generation), the text streams. */
  readonly schema = {
    default: { enabled: true, timeout: 10000, debouncerDelay: 200 }
  };
  /** The suggestions generated so far, per editor. */
  readonly cache: SuggestionCache;
  /** Whether JupyterLab's inline completer asks this provider (its settings). */
  enabled = true;
  /** How long JupyterLab waits after a keystroke before it asks, in ms (its settings). */
  debouncerDelay = this.schema.default.debouncerDelay;

  /** Take this provider's Inline Completer settings (JupyterLab calls it on every change). */
  configure(settings: { [property: string]: unknown }): void {
    this.enabled = settings.enabled !== false;
    const delay = settings.debouncerDelay;
    this.debouncerDelay =
      typeof delay === 'number' && delay >= 0 ? delay : this.schema.default.debouncerDelay;
  }

  /**
   * Whether this provider was last asked at this text and cursor (a JS string index), at or
   * after `since` (a `Date.now()` time).
   */
  askedAt(text: string, offset: number, since: number): boolean {
    const asked = this._asked;
    return !!asked && asked.text === text && asked.offset === offset && asked.at >= since;
  }

  async fetch(
    request: CompletionHandler.IRequest,
    context: IInlineCompletionContext
  ): Promise<IInlineCompletionList> {
    this._purge();
    // The editor, read once: every step of this fetch (and of its suggestions) uses it.
    const active = new ActiveEditor(context.widget);
    // JupyterLab gives the offset in code points; strings are indexed in UTF-16 units.
    const offset = Text.charIndexToJsIndex(request.offset, request.text);
    this._asked = { text: request.text, offset, at: Date.now() };
    const input = requestInput(
      active,
      { text: request.text, offset, mime: request.mimeType },
      this._client.contextBudget,
      this._variablesOf(context.widget)
    );
    const editor = editorKey(input);
    const key: IKey = { prefix: input.prefix, context: keyOf(input) };

    // Escape forgets what was shown here, so that typing on does not bring it back.
    this._shown?.dispose();
    this._shown = active.watchDismissal(why => {
      if (why === 'escape') {
        this.cache.dismiss(editor, key);
      }
    });

    const match = this.cache.lookup(editor, key);
    if (match) {
      const { entry, typed, indices } = match;
      const live = active.typedSince(entry.prefix, typed);
      return { items: indices.map(i => this._item(entry.suggestions[i], live, typed)) };
    }
    return this._request(input, editor, key, active);
  }

  stream(token: string): AsyncGenerator<{ response: IInlineCompletionList['items'][number] }> {
    return this._stream(token);
  }

  /** Send a request; keep its suggestions in the cache as they stream. */
  private async _request(
    input: RequestInput,
    editor: string,
    key: IKey,
    active: ActiveEditor
  ): Promise<IInlineCompletionList> {
    const handle = this._client.request(input);
    // Typing what none of its suggestions can start with ends the generation at once (a
    // shared model server gets its slot back before the next fetch supersedes it).
    let along = (): boolean | null => null;
    const cancel = () => this._client.cancel(handle.number);
    const watcher = active.watchDismissal(cancel, () => along());
    if (watcher) {
      void handle.finished.then(() => watcher.dispose());
    }
    const list = await handle.reply;
    if (!list.items.length) {
      return list;
    }
    const suggestions = list.items.map(item => new Suggestion(item.insertText, !item.token));
    const entry = this.cache.add(editor, key, suggestions);
    const live = active.typedSince(entry.prefix, '');
    along = () => {
      const typed = live();
      return suggestions.some(
        s => s.text.startsWith(typed) || (!s.done && typed.startsWith(s.text))
      );
    };
    list.items.forEach((item, i) => {
      if (item.token) {
        this._followers.set(item.token, {
          suggestion: suggestions[i],
          typed: live,
          shown: item.insertText,
          claimed: false
        });
        void this._pump(item.token, suggestions[i], editor, entry);
      }
    });
    if (!suggestions.some(s => s.usable)) {
      this.cache.remove(editor, entry);
    }
    return list;
  }

  /** An item showing the rest of a cached suggestion; a local token if it still streams. */
  private _item(suggestion: Suggestion, live: () => string, typed: string): ICompletionItem {
    const rest = restAfter(suggestion.text, typed) ?? '';
    if (suggestion.done) {
      return { insertText: rest, isIncomplete: false };
    }
    const token = `${PROVIDER_ID}:local:${++this._locals}`;
    this._followers.set(token, { suggestion, typed: live, shown: rest, claimed: false });
    return { insertText: rest, isIncomplete: true, token };
  }

  /** Feed a token's stream from the client into its suggestion; forget it if unusable. */
  private async _pump(
    token: string,
    suggestion: Suggestion,
    editor: string,
    entry: IEntry
  ): Promise<void> {
    for await (const { response } of this._client.stream(token)) {
      suggestion.update(
        response.insertText,
        !response.isIncomplete,
        response.error ? response.error.message ?? 'error' : null
      );
    }
    suggestion.end();
    if (!entry.suggestions.some(s => s.usable)) {
      this.cache.remove(editor, entry);
    }
  }

  /** The text of a token's suggestion (a real or a local token) as it grows. */
  private async *_stream(token: string): AsyncGenerator<{ response: ICompletionItem }> {
    const follower = this._followers.get(token);
    if (!follower || follower.claimed) {
      return;
    }
    follower.claimed = true;
    try {
      for await (const shown of follow(follower.suggestion, follower.typed, follower.shown)) {
        const response: ICompletionItem = {
          insertText: shown.text,
          isIncomplete: !shown.done,
          token
        };
        if (shown.error) {
          response.error = { message: shown.error };
        }
        yield { response };
        if (!shown.done) {
          // JupyterLab draws the piece added by the last update whole, even once the user
          // typed part of it; the same text again makes that piece empty.
          yield { response: { ...response } };
        }
      }
    } finally {
      this._followers.delete(token);
    }
  }

  /** Forget the tokens of finished suggestions that nobody streamed (their fetch was dropped). */
  private _purge(): void {
    for (const [token, follower] of this._followers) {
      if (follower.suggestion.done && !follower.claimed) {
        this._followers.delete(token);
      }
    }
  }

  private _client: ICompletionClient;
  private _variablesOf: VariablesOf;
  private _followers = new Map<string, IFollower>();
  private _locals = 0;
  private _shown: IDisposable | null = null;
  private _model: string | null = null;
  private _asked: { text: string; offset: number; at: number } | null = null;
}

export namespace GhostTextProvider {
  export interface IOptions {
    /** The websocket client that sends the requests. */
    client: ICompletionClient;
    /** The suggestions generated so far (a new cache by default). */
    cache?: SuggestionCache;
    /** The kernel's variables for a widget's editor, sent with requests (none by default). */
    variablesOf?: VariablesOf;
  }
}

/**
 * The key of what the model sees besides the prefix (and the editor): the suffix and the
 * other cells. Not the MIME type nor the language: a new notebook's cells are `text/plain`
 * without a language until its kernel is known, which changes no suggestion.
 */
function keyOf(input: RequestInput): string {
  return contextKey([input.suffix, input.above, input.below, input.variables]);
}
