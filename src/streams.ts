/**
 * The streamed suggestions of the client's requests, by token: each one's text so far (a
 * chunk may carry only what changed) and its one reader, woken at each chunk until the
 * suggestion's end.
 */
import type { ICompletionItem } from './protocol';

export class TokenStreams {
  /** Start the stream of `token`, a suggestion of request `number`. */
  open(token: string, number: number): void {
    this._streams.set(token, {
      number,
      text: '',
      latest: null,
      done: false,
      claimed: false,
      wake: null
    });
  }

  /** Whether `token` streams and has not ended. */
  isOpen(token: string): boolean {
    const state = this._streams.get(token);
    return !!state && !state.done;
  }

  /** Whether every one of `tokens` ended (or is unknown). */
  allDone(tokens: Iterable<string>): boolean {
    return [...tokens].every(token => this._streams.get(token)?.done ?? true);
  }

  /**
   * A chunk of an open stream: `item`'s text follows the first `keep` characters (code points)
   * of the text so far when `keep` is a number, else it is the whole text. Returns the update
   * as the reader gets it: the full text so far, incomplete until `done`.
   */
  push(
    token: string,
    item: ICompletionItem,
    keep: number | null | undefined,
    done: boolean
  ): ICompletionItem {
    const state = this._streams.get(token) as IStreamState;
    const update = { ...item, isIncomplete: !done };
    if (typeof keep === 'number') {
      update.insertText = keepCodePoints(state.text, keep) + update.insertText;
    }
    state.text = update.insertText;
    state.latest = update;
    if (done) {
      state.done = true;
    }
    wake(state);
    return update;
  }

  /** End a stream before its last chunk (its request is over). */
  end(token: string): void {
    const state = this._streams.get(token);
    if (state && !state.done) {
      state.done = true;
      wake(state);
    }
  }

  /**
   * The updates of one suggestion, read once: its full text so far, until its end. When the
   * reader stops (the generator is returned) before the end, the stream ends and
   * `onAbandoned` gets its request's number.
   */
  async *read(
    token: string,
    onAbandoned: (number: number) => void
  ): AsyncGenerator<{ response: ICompletionItem }> {
    const state = this._streams.get(token);
    if (!state || state.claimed) {
      return;
    }
    state.claimed = true;
    try {
      for (;;) {
        if (state.latest) {
          const response = state.latest;
          state.latest = null;
          yield { response };
        } else if (state.done) {
          return;
        } else {
          await new Promise<void>(resolve => (state.wake = resolve));
        }
      }
    } finally {
      this._streams.delete(token);
      if (!state.done) {
        state.done = true;
        onAbandoned(state.number);
      }
    }
  }

  /** Forget ended streams that nobody read (their fetch was dropped). */
  purge(): void {
    for (const [token, state] of this._streams) {
      if (state.done && !state.claimed) {
        this._streams.delete(token);
      }
    }
  }

  private _streams = new Map<string, IStreamState>();
}

interface IStreamState {
  /** The request's number. */
  number: number;
  /** The suggestion's full text so far (chunks may carry only what changed). */
  text: string;
  /** The newest update not yet read. */
  latest: ICompletionItem | null;
  done: boolean;
  /** Whether it is read (`read` was called). */
  claimed: boolean;
  wake: (() => void) | null;
}

function wake(state: IStreamState): void {
  const resolve = state.wake;
  state.wake = null;
  resolve?.();
}

/** The first `count` code points of `text` (Python counts characters so). */
export function keepCodePoints(text: string, count: number): string {
  let end = 0;
  for (let seen = 0; seen < count && end < text.length; seen++) {
    const code = text.codePointAt(end) as number;
    end += code > 0xffff ? 2 : 1;
  }
  return text.slice(0, end);
}
