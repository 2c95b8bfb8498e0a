import {
  contextKey,
  follow,
  hash,
  restAfter,
  Suggestion,
  SuggestionCache
} from '../suggestions';
import { flush } from './fakes';

const CONTEXT = contextKey(['\n', 'text/x-ipython', 'python', undefined, undefined]);
const key = (prefix: string, context = CONTEXT) => ({ prefix, context });
const done = (text: string) => new Suggestion(text, true);

describe('restAfter', () => {
  it('is the rest when the text starts with what was typed and goes on', () => {
    expect(restAfter('turn 42', '')).toBe('turn 42');
    expect(restAfter('turn 42', 'tu')).toBe('rn 42');
    expect(restAfter('turn 42', 'tx')).toBeNull(); // mismatch
    expect(restAfter('turn 42', 'turn 42')).toBeNull(); // used up
    expect(restAfter('', '')).toBeNull();
  });

  it('never splits a surrogate pair', () => {
    expect(restAfter('😀 ok', '😀')).toBe(' ok');
    expect(restAfter('x = "😀"', 'x = "')).toBe('😀"');
    expect(restAfter('😀 ok', '\ud83d')).toBeNull(); // half of the emoji
  });
});

describe('hash', () => {
  it('is short, stable and tells texts apart', () => {
    expect(hash('abc')).toBe(hash('abc'));
    expect(hash('abc')).not.toBe(hash('abd'));
    expect(hash('x'.repeat(100000)).length).toBeLessThan(12);
    expect(contextKey(['a', 'b'])).not.toBe(contextKey(['ab']));
  });
});

describe('SuggestionCache', () => {
  it('types along: the rest while the typed text matches, a miss on a mismatch or used up', () => {
    const cache = new SuggestionCache();
    const entry = cache.add('e', key('    re'), [done('turn 42')]);
    expect(cache.lookup('e', key('    re'))).toEqual({ entry, typed: '', indices: [0] });
    expect(cache.lookup('e', key('    retu'))).toEqual({ entry, typed: 'tu', indices: [0] });
    expect(cache.lookup('e', key('    retx'))).toBeNull();
    expect(cache.lookup('e', key('    return 42'))).toBeNull();
    expect(cache.lookup('e', key('    r'))).toBeNull(); // before the entry's prefix
    expect(cache.lookup('e', key('    retu', 'other cells'))).toBeNull();
    expect(cache.lookup('other editor', key('    retu'))).toBeNull();
  });

  it('hits again after Backspace to an earlier prefix, preferring the longest prefix', () => {
    const cache = new SuggestionCache();
    const first = cache.add('e', key('    re'), [done('turn 42')]);
    const second = cache.add('e', key('    rex'), [done(' = 1')]);
    expect(cache.lookup('e', key('    rex'))?.entry).toBe(second);
    expect(cache.lookup('e', key('    re'))?.entry).toBe(first); // Backspace
    expect(cache.lookup('e', key('    ret'))?.entry).toBe(first); // retyping
    // A longer prefix that does not go on falls back to a shorter one that does.
    const third = cache.add('e', key('    retu'), [done('')]);
    expect(third.suggestions[0].usable).toBe(false);
    expect(cache.lookup('e', key('    retu'))?.entry).toBe(first);
  });

  it('returns every suggestion that goes on from the typed text, in order', () => {
    const cache = new SuggestionCache();
    cache.add('e', key('    re'), [done('turn 42'), done('peat()'), done('turn 6 * 7')]);
    expect(cache.lookup('e', key('    re'))?.indices).toEqual([0, 1, 2]);
    expect(cache.lookup('e', key('    ret'))?.indices).toEqual([0, 2]);
    expect(cache.lookup('e', key('    return 4'))?.indices).toEqual([0]);
    expect(cache.lookup('e', key('    return 6'))?.indices).toEqual([2]);
  });

  it('skips failed, cut and empty suggestions and streaming ones not past the typed text', () => {
    const cache = new SuggestionCache();
    const failed = new Suggestion();
    failed.update('turn 1', true, 'BackendError');
    const cut = new Suggestion('turn 2');
    cut.end();
    const streaming = new Suggestion('tu');
    cache.add('e', key('re'), [failed, cut, done(''), streaming]);
    expect(cache.lookup('e', key('re'))?.indices).toEqual([3]);
    expect(cache.lookup('e', key('retu'))).toBeNull(); // streamed no further yet
    streaming.update('turn', false);
    expect(cache.lookup('e', key('retu'))?.indices).toEqual([3]);
  });

  it('keeps a bounded number of entries per editor, least recently used dropped', () => {
    const cache = new SuggestionCache({ entries: 3 });
    for (const p of ['a', 'b', 'c']) {
      cache.add('e', key(p), [done('1')]);
    }
    expect(cache.lookup('e', key('a'))).not.toBeNull(); // a is used: b is now the oldest
    cache.add('e', key('d'), [done('1')]);
    expect(cache.entries('e').map(e => e.prefix)).toEqual(['c', 'a', 'd']);
    // The same key replaces its entry.
    cache.add('e', key('c'), [done('2')]);
    expect(cache.entries('e').map(e => e.prefix)).toEqual(['a', 'd', 'c']);
    expect(cache.lookup('e', key('c'))?.entry.suggestions[0].text).toBe('2');
  });

  it('keeps a bounded number of editors, least recently used dropped', () => {
    const cache = new SuggestionCache({ editors: 2 });
    cache.add('e1', key('a'), [done('1')]);
    cache.add('e2', key('a'), [done('2')]);
    expect(cache.lookup('e1', key('a'))).not.toBeNull();
    cache.add('e3', key('a'), [done('3')]);
    expect(cache.editors).toBe(2);
    expect(cache.lookup('e2', key('a'))).toBeNull();
    expect(cache.lookup('e1', key('a'))).not.toBeNull();
    expect(cache.lookup('e3', key('a'))).not.toBeNull();
  });

  it('forgets what a dismissal could show again, and keeps other prefixes', () => {
    const cache = new SuggestionCache();
    cache.add('e', key('    re'), [done('turn 42')]);
    cache.add('e', key('    x'), [done(' = 1')]);
    cache.add('e', key('    re', 'other cells'), [done('turn 1')]);
    cache.dismiss('e', key('    ret'));
    expect(cache.lookup('e', key('    retu'))).toBeNull();
    expect(cache.lookup('e', key('    x'))).not.toBeNull();
    expect(cache.lookup('e', key('    re', 'other cells'))).not.toBeNull();
  });
});

describe('follow', () => {
  async function collect(gen: AsyncGenerator<{ text: string; done: boolean }>) {
    const seen: { text: string; done: boolean }[] = [];
    for await (const shown of gen) {
      seen.push(shown);
    }
    return seen;
  }

  it('yields the growing text after what is typed, until done', async () => {
    const suggestion = new Suggestion('tu');
    let typed = 't';
    const seen = collect(follow(suggestion, () => typed, 'u'));
    suggestion.update('turn', false);
    await flush();
    typed = 'tur'; // the user typed on: JupyterLab trimmed the item, the text follows
    suggestion.update('turn 4', false);
    await flush();
    suggestion.update('turn 42', true);
    expect(await seen).toEqual([
      { text: 'urn', done: false, error: null },
      { text: 'n 4', done: false, error: null },
      { text: 'n 42', done: true, error: null }
    ]);
  });

  it('ends on a cut, and passes an error on', async () => {
    const cut = new Suggestion('tu');
    const seenCut = collect(follow(cut, () => '', 'tu'));
    cut.end();
    expect(await seenCut).toEqual([]);

    const failed = new Suggestion();
    const seenFailed = collect(follow(failed, () => '', ''));
    failed.update('', true, 'BackendTimeout');
    expect(await seenFailed).toEqual([{ text: '', done: true, error: 'BackendTimeout' }]);
  });
});
