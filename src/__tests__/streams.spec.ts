import { keepCodePoints, TokenStreams } from '../streams';
import { consume, flush } from './fakes';

describe('TokenStreams', () => {
  it('gives its one reader the full text so far, rebuilt from deltas in code points', async () => {
    const streams = new TokenStreams();
    streams.open('t', 1);
    const seen = consume(streams.read('t', () => undefined));
    const again = consume(streams.read('t', () => undefined));
    streams.push('t', { insertText: 'a😀' }, null, false);
    await flush();
    const last = streams.push('t', { insertText: 'b' }, 2, true);
    expect(last).toEqual({ insertText: 'a😀b', isIncomplete: false });
    await flush();
    expect(seen).toEqual(['a😀', 'a😀b']);
    expect(again).toEqual([]);
    expect(streams.isOpen('t')).toBe(false);
    expect(keepCodePoints('😀😀x', 2)).toBe('😀😀');
  });

  it("tells its request's number when the reader stops before the end", async () => {
    const streams = new TokenStreams();
    streams.open('a', 7);
    streams.open('b', 7);
    const abandoned: number[] = [];
    const reader = streams.read('a', number => abandoned.push(number));
    streams.push('a', { insertText: 'x' }, null, false);
    await reader.next();
    await reader.return(undefined);
    expect(abandoned).toEqual([7]);
    expect(streams.allDone(['a', 'b'])).toBe(false);
    streams.end('b');
    expect(streams.allDone(['a', 'b'])).toBe(true);
  });

  it('forgets ended streams that nobody read', async () => {
    const streams = new TokenStreams();
    for (const token of ['kept', 'dropped']) {
      streams.open(token, 1);
      streams.push(token, { insertText: token }, null, true);
    }
    const kept = consume(streams.read('kept', () => undefined));
    streams.purge();
    const dropped = consume(streams.read('dropped', () => undefined));
    await flush();
    expect(kept).toEqual(['kept']);
    expect(dropped).toEqual([]);
  });
});
