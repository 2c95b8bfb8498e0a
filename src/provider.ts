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

import type { CompletionClient } from './client';
import { describeTarget, IEditor, textAtCursor, watchDismissal } from './editor';
import { editorKey, ICompletionItem, RequestInput } from './protocol';
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

export class InlineProvider implements IInlineCompletionProvider {
  /**
   * @param variablesOf - the kernel's variables for a widget's editor, sent with requests
   */
  constructor(
    client: CompletionClient,
    cache = new SuggestionCache(),
    variablesOf: VariablesOf = NO_VARIABLES
  ) {
    this._client = client;
    this.cache = cache;
    this._variablesOf = variablesOf;
    // Suggestions of another model are not this one's.
    client.statusReceived.connect((_, status) => {
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

  async fetch(
    request: CompletionHandler.IRequest,
    context: IInlineCompletionContext
  ): Promise<IInlineCompletionList> {
    this._purge();
    const target = describeTarget(context.widget);
    // JupyterLab gives the offset in code points; strings are indexed in UTF-16 units.
    const offset = Text.charIndexToJsIndex(request.offset, request.text);
    const input = requestInput(
      context.widget,
      target,
      request.text,
      offset,
      request.mimeType,
      this._client.contextBudget,
      this._variablesOf(context.widget)
    );
    const editor = editorKey(input);
    const key: IKey = { prefix: input.prefix, context: keyOf(input) };

    // Escape forgets what was shown here, so that typing on does not bring it back.
    this._shown?.dispose();
    this._shown = target.editor
      ? watchDismissal(target.editor, why => {
          if (why === 'escape') {
            this.cache.dismiss(editor, key);
          }
        })
      : null;

    const match = this.cache.lookup(editor, key);
    if (match) {
      const { entry, typed, indices } = match;
      const live = liveTyped(target.editor, entry, typed);
      return { items: indices.map(i => this._item(entry.suggestions[i], live, typed)) };
    }
    return this._request(input, editor, key, target.editor);
  }

  stream(token: string): AsyncGenerator<{ response: IInlineCompletionList['items'][number] }> {
    return this._stream(token);
  }

  /** Send a request; keep its suggestions in the cache as they stream. */
  private async _request(
    input: RequestInput,
    editor: string,
    key: IKey,
    target: IEditor | null
  ): Promise<IInlineCompletionList> {
    const handle = this._client.request(input);
    // Typing what none of its suggestions can start with ends the generation at once (a
    // shared model server gets its slot back before the next fetch supersedes it).
    let diverged = () => false;
    if (target) {
      const cancel = () => this._client.cancel(handle.number);
      const watcher = watchDismissal(target, cancel, () => diverged());
      void handle.finished.then(() => watcher.dispose());
    }
    const list = await handle.reply;
    if (!list.items.length) {
      return list;
    }
    const suggestions = list.items.map(item => new Suggestion(item.insertText, !item.token));
    const entry = this.cache.add(editor, key, suggestions);
    const live = liveTyped(target, entry, '');
    diverged = () => {
      const typed = live();
      return suggestions.every(s => !s.text.startsWith(typed) && (s.done || !typed.startsWith(s.text)));
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

  private _client: CompletionClient;
  private _variablesOf: VariablesOf;
  private _followers = new Map<string, IFollower>();
  private _locals = 0;
  private _shown: IDisposable | null = null;
  private _model: string | null = null;
}

/**
 * The key of what the model sees besides the prefix (and the editor): the suffix and the
 * other cells. Not the MIME type nor the language: a new notebook's cells are `text/plain`
 * without a language until its kernel is known, which changes no suggestion.
 */
function keyOf(input: RequestInput): string {
  return contextKey([input.suffix, input.above, input.below, input.variables]);
}

/**
 * What was typed since `entry`'s prefix, read from the editor at each call (JupyterLab trims
 * the items as the user types); `fallback` when the editor cannot tell or left that prefix.
 */
function liveTyped(editor: IEditor | null, entry: IEntry, fallback: string): () => string {
  return () => {
    const now = editor ? textAtCursor(editor) : null;
    if (!now) {
      return fallback;
    }
    const prefix = now.text.slice(0, now.offset);
    return prefix.startsWith(entry.prefix) ? prefix.slice(entry.prefix.length) : fallback;
  };
}
