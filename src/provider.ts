/**
 * The inline completion provider: JupyterLab's inline completer asks it for suggestions
 * (`fetch`) and for their streamed text (`stream`); both go through the websocket client.
 */
import type {
  CompletionHandler,
  IInlineCompletionContext,
  IInlineCompletionList,
  IInlineCompletionProvider
} from '@jupyterlab/completer';

import type { CompletionClient } from './client';
import { neighbours } from './context';
import { describeTarget, languageOf, watchDismissal } from './editor';

export const PROVIDER_ID = '@jupyter-ai-inline/provider';

export class InlineProvider implements IInlineCompletionProvider {
  constructor(client: CompletionClient) {
    this._client = client;
  }

  readonly identifier = PROVIDER_ID;
  readonly name = 'AI inline';
  /** Enabled by default; the reply comes at once (before generation), the text streams. */
  readonly schema = {
    default: { enabled: true, timeout: 10000, debouncerDelay: 200 }
  };

  async fetch(
    request: CompletionHandler.IRequest,
    context: IInlineCompletionContext
  ): Promise<IInlineCompletionList> {
    const target = describeTarget(context.widget);
    const cells = neighbours(context.widget, this._client.contextBudget);
    const handle = this._client.request({
      prefix: request.text.slice(0, request.offset),
      suffix: request.text.slice(request.offset),
      mime: request.mimeType ?? 'text/plain',
      path: target.path,
      cell_id: target.cellId,
      language: languageOf(request.mimeType, target.kernelLanguage),
      ...(cells.above.length ? { above: cells.above } : {}),
      ...(cells.below.length ? { below: cells.below } : {})
    });
    if (target.editor) {
      const watcher = watchDismissal(target.editor, () => this._client.cancel(handle.number));
      void handle.finished.then(() => watcher.dispose());
    }
    return handle.reply;
  }

  stream(token: string): AsyncGenerator<{ response: IInlineCompletionList['items'][number] }> {
    return this._client.stream(token);
  }

  private _client: CompletionClient;
}
