import { CONNECTION_LOST, UNREACHABLE } from '../client';
import type { IClientError, IFirstToken } from '../protocol';
import { chunk, flush, INPUT, makeClient, openClient, reply, statusMessage } from './fakes';

const SETTINGS = {
  backend: 'ollama' as const,
  baseUrl: null,
  model: 'qwen2.5-coder:1.5b',
  suggestions: 2,
  maxTokens: null,
  contextAboveChars: null,
  contextBelowChars: null
};

/** A connected client with one request whose reply announced `tokens`. */
async function connectedRequest(tokens: string[]) {
  const opened = openClient();
  const handle = opened.client.request(INPUT);
  opened.socket().receive(reply(handle.number, tokens));
  await handle.reply;
  return { ...opened, handle };
}

describe('CompletionClient messages', () => {
  it('sends configure first, then the requests queued while connecting', () => {
    const { client, socket } = makeClient();
    client.configure(SETTINGS);
    client.connect();
    const first = client.request(INPUT);
    const second = client.request({ ...INPUT, cell_id: 'cell-2' });
    expect(socket().sent).toEqual([]);
    socket().open();
    expect(socket().sent.map(m => m.type)).toEqual(['configure', 'request', 'request']);
    expect(socket().sent[0]).toEqual({ type: 'configure', settings: SETTINGS, ghost_text: false });
    expect(socket().sent[1]).toEqual({ type: 'request', number: first.number, ...INPUT });
    expect(socket().sent[2].number).toBe(second.number);
    expect(second.number).toBeGreaterThan(first.number);
    // Later changes are sent at once.
    client.configure({ ...SETTINGS, model: 'other' });
    expect(socket().sent[3]).toEqual({
      type: 'configure',
      settings: { ...SETTINGS, model: 'other' },
      ghost_text: false
    });
    // Whether the tab shows our ghost text goes with the settings, now and on reconnection.
    client.showsGhostText(true);
    client.showsGhostText(true); // unchanged: nothing more sent
    expect(socket().sent.slice(4)).toEqual([
      { type: 'configure', settings: { ...SETTINGS, model: 'other' }, ghost_text: true }
    ]);
  });

  it('resolves the fetch with the reply and routes chunks to their token until done', async () => {
    let now = 1000;
    const { client, socket } = makeClient({ now: () => now });
    const firstTokens: IFirstToken[] = [];
    client.firstToken.connect((_, t) => firstTokens.push(t));
    client.connect();
    socket().open();
    const handle = client.request(INPUT);
    socket().receive(reply(handle.number, ['a', 'b']));
    const list = await handle.reply;
    expect(list.items).toEqual([
      { insertText: '', isIncomplete: true, token: 'a' },
      { insertText: '', isIncomplete: true, token: 'b' }
    ]);

    const a = client.stream('a');
    const b = client.stream('b');
    const nextA = a.next();
    const nextB = b.next();
    now = 1042;
    socket().receive(chunk(handle.number, 'b', 'urn a'));
    socket().receive(chunk(handle.number, 'a', 'urn'));
    expect((await nextB).value.response).toEqual({
      insertText: 'urn a',
      isIncomplete: true,
      token: 'b'
    });
    expect((await nextA).value.response.insertText).toBe('urn');
    expect(firstTokens).toEqual([{ number: handle.number, ms: 42 }]);

    socket().receive(chunk(handle.number, 'a', 'urn a + b', true));
    const lastA = await a.next();
    expect(lastA.value.response).toEqual({
      insertText: 'urn a + b',
      isIncomplete: false,
      token: 'a'
    });
    expect((await a.next()).done).toBe(true);
    // b is still streaming: the request is in flight until its last token is done.
    expect(client.inFlight).toEqual([handle.number]);
    socket().receive(chunk(handle.number, 'b', 'urn a - b', true));
    expect((await b.next()).value.response.insertText).toBe('urn a - b');
    expect((await b.next()).done).toBe(true);
    expect(client.inFlight).toEqual([]);
    await handle.finished;
  });

  it('rebuilds each text from delta chunks, counting code points as the server does', async () => {
    const { client, socket, handle } = await connectedRequest(['a']);
    const a = client.stream('a');
    const delta = (keep: number, text: string, done = false) => ({
      ...(chunk(handle.number, 'a', text, done) as object),
      keep
    });
    socket().receive(delta(0, 'x = "😀'));
    expect((await a.next()).value.response.insertText).toBe('x = "😀');
    socket().receive(delta(6, 'é"'));
    expect((await a.next()).value.response.insertText).toBe('x = "😀é"');
    // the server's post-processing took text back: keep less, then add
    socket().receive(delta(6, '"', true));
    expect((await a.next()).value.response.insertText).toBe('x = "😀"');
    expect((await a.next()).done).toBe(true);
  });

  it('refuses locally a request larger than the server takes, with the reason', async () => {
    const { client, socket } = openClient();
    const errors: IClientError[] = [];
    client.errorOccurred.connect((_, e) => errors.push(e));
    socket().receive(statusMessage('settings', 'm', 'http://x', { max_message_bytes: 300 }));
    const small = client.request(INPUT);
    const big = client.request({ ...INPUT, cell_id: 'big', prefix: 'é'.repeat(200) });
    expect(socket().sent.map(m => m.number)).toEqual([small.number]);
    expect((await big.reply).items).toEqual([]);
    await big.finished;
    expect(errors).toHaveLength(1);
    expect(errors[0].message).toMatch(/too large to send \(\d+ bytes; the server takes 300\)/);
    expect(client.inFlight).toEqual([small.number]);
  });

  it('ignores chunks of unknown tokens and of other requests', async () => {
    const { client, socket } = openClient();
    const one = client.request(INPUT);
    const two = client.request({ ...INPUT, cell_id: 'cell-2' });
    socket().receive(reply(one.number, ['t1']));
    socket().receive(reply(two.number, ['t2']));
    await Promise.all([one.reply, two.reply]);
    const s1 = client.stream('t1');
    const next = s1.next();
    socket().receive(chunk(two.number, 't1', 'wrong request'));
    socket().receive(chunk(one.number, 'nope', 'unknown token'));
    socket().receive(chunk(two.number, 't2', 'for two'));
    expect(await Promise.race([next, flush().then(() => 'still waiting')])).toBe(
      'still waiting'
    );
    socket().receive(chunk(one.number, 't1', 'for one', true));
    expect((await next).value.response.insertText).toBe('for one');
    expect((await s1.next()).done).toBe(true);
    expect(client.inFlight).toEqual([two.number]);
  });

  it('surfaces an error chunk on the item and as a notified error, and ends the stream', async () => {
    const { client, socket, errors, handle } = await connectedRequest(['t']);
    const stream = client.stream('t');
    socket().receive(
      chunk(handle.number, 't', '', true, {
        type: 'model_not_found',
        title: "Ollama at http://localhost:11434 has no model 'x': run `ollama pull x`\nmore",
        traceback: 'Traceback ...'
      })
    );
    const item = (await stream.next()).value.response;
    expect(item.error).toEqual({
      message: "Ollama at http://localhost:11434 has no model 'x': run `ollama pull x`"
    });
    expect(item.isIncomplete).toBe(false);
    expect((await stream.next()).done).toBe(true);
    expect(errors).toEqual([
      {
        message: "Ollama at http://localhost:11434 has no model 'x': run `ollama pull x`",
        kind: 'model',
        number: handle.number,
        notify: true
      }
    ]);
  });

  it('settles a pending fetch with an empty list on an error message for it', async () => {
    const { client, socket, errors } = openClient();
    const handle = client.request(INPUT);
    socket().receive({
      type: 'error',
      reply_to: handle.number,
      error: { type: 'too_many', title: 'Too many requests in flight', traceback: '' }
    });
    expect(await handle.reply).toEqual({ items: [] });
    expect(client.inFlight).toEqual([]);
    expect(errors.map(e => [e.kind, e.message])).toEqual([
      ['protocol', 'Too many requests in flight']
    ]);
  });

  it('ends the streams of a request that failed on the server while streaming', async () => {
    const { client, socket, handle } = await connectedRequest(['t']);
    const stream = client.stream('t');
    socket().receive(chunk(handle.number, 't', 'ret'));
    expect((await stream.next()).value.response.insertText).toBe('ret');
    const next = stream.next();
    socket().receive({
      type: 'error',
      reply_to: handle.number,
      error: { type: 'ServerError', title: 'Unexpected server error: see the Jupyter log' }
    });
    expect((await next).done).toBe(true);
    await handle.finished;
  });

  it('reports the model from status messages', () => {
    const { client, socket } = makeClient();
    const seen: string[] = [];
    client.statusReceived.connect((_, s) => seen.push(`${s.backend}:${s.model}/${s.source}`));
    client.connect();
    socket().open();
    socket().receive(statusMessage('jupyter-ai'));
    expect(seen).toEqual(['ollama:qwen2.5-coder:1.5b/jupyter-ai']);
  });
});

describe('CompletionClient cancellation', () => {
  it('cancels the previous request of the same cell when a newer fetch supersedes it', async () => {
    const { client, socket, handle: old } = await connectedRequest(['old']);
    const oldStream = client.stream('old');
    const pending = oldStream.next();

    const other = client.request({ ...INPUT, cell_id: 'cell-2' });
    expect(socket().ofType('cancel')).toEqual([]); // another cell: no supersede

    const newer = client.request({ ...INPUT, prefix: INPUT.prefix + 'u' });
    expect(socket().ofType('cancel')).toEqual([{ type: 'cancel', number: old.number }]);
    // The old stream ends; its late chunks are ignored.
    expect((await pending).done).toBe(true);
    socket().receive(chunk(old.number, 'old', 'late', true));
    expect(client.inFlight).toEqual([other.number, newer.number]);
    await old.finished;
  });

  it('settles a superseded fetch that had no reply yet with an empty list', async () => {
    const { client, socket } = openClient();
    const old = client.request(INPUT);
    const newer = client.request(INPUT);
    expect(await old.reply).toEqual({ items: [] });
    expect(socket().ofType('cancel')).toEqual([{ type: 'cancel', number: old.number }]);
    // A late reply to the cancelled request does not resurrect it.
    socket().receive(reply(old.number, ['late']));
    const late = client.stream('late');
    expect((await late.next()).done).toBe(true);
    expect(client.inFlight).toEqual([newer.number]);
  });

  it('drops a superseded request that was still queued instead of sending it', () => {
    const { client, socket } = makeClient();
    client.connect();
    const old = client.request(INPUT);
    const newer = client.request(INPUT);
    socket().open();
    expect(socket().ofType('request').map(m => m.number)).toEqual([newer.number]);
    expect(socket().ofType('cancel')).toEqual([]);
    expect(old.number).not.toBe(newer.number);
  });

  it('cancel(number) sends cancel once, ends the streams and ignores later messages', async () => {
    const { client, socket, handle } = await connectedRequest(['t']);
    const stream = client.stream('t');
    socket().receive(chunk(handle.number, 't', 'partial'));
    expect((await stream.next()).value.response.insertText).toBe('partial');
    client.cancel(handle.number);
    client.cancel(handle.number);
    expect(socket().ofType('cancel')).toEqual([{ type: 'cancel', number: handle.number }]);
    socket().receive(chunk(handle.number, 't', 'partial and more', true));
    expect((await stream.next()).done).toBe(true);
    expect(client.inFlight).toEqual([]);
  });

  it('cancels the request when the consumer stops listening to all of its tokens', async () => {
    const { client, socket, handle } = await connectedRequest(['a', 'b']);
    const a = client.stream('a');
    const b = client.stream('b');
    socket().receive(chunk(handle.number, 'a', 'x'));
    socket().receive(chunk(handle.number, 'b', 'y'));
    await a.next();
    await b.next();
    await a.return(undefined);
    expect(socket().ofType('cancel')).toEqual([]); // b is still listened to
    await b.return(undefined);
    expect(socket().ofType('cancel')).toEqual([{ type: 'cancel', number: handle.number }]);
  });
});

describe('CompletionClient connection', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('settles pending fetches and ends streams when the socket closes', async () => {
    jest.useFakeTimers();
    const { client, socket, errors, handle: streaming } = await connectedRequest(['t']);
    const stream = client.stream('t');
    const next = stream.next();
    const waiting = client.request({ ...INPUT, cell_id: 'cell-2' });
    socket().drop();
    expect(await waiting.reply).toEqual({ items: [] });
    expect((await next).done).toBe(true);
    await Promise.all([streaming.finished, waiting.finished]);
    expect(client.inFlight).toEqual([]);
    expect(client.state).toBe('closed');
    expect(errors.map(e => [e.kind, e.message, e.notify])).toEqual([
      ['connection', CONNECTION_LOST, false]
    ]);
    client.dispose();
  });

  it('answers a fetch at once with an empty list and a notified error while disconnected', async () => {
    jest.useFakeTimers();
    const { client, socket } = makeClient();
    const errors: IClientError[] = [];
    client.errorOccurred.connect((_, e) => errors.push(e));
    client.connect();
    socket().drop(); // never opened: the endpoint is not there
    const handle = client.request(INPUT);
    expect(await handle.reply).toEqual({ items: [] });
    expect(errors.map(e => [e.message, e.notify])).toEqual([
      [UNREACHABLE, false],
      [UNREACHABLE, true]
    ]);
    client.dispose();
  });

  it('reconnects with exponential backoff capped at the maximum, and resends configure', () => {
    jest.useFakeTimers();
    const { client, sockets, socket } = makeClient({
      initialDelay: 500,
      maxDelay: 10000,
      maxRetriesUnreachable: 100
    });
    client.configure(SETTINGS);
    client.connect();
    const delays: number[] = [];
    for (let i = 0; i < 7; i++) {
      const count = sockets.length;
      socket().drop();
      delays.push(client.retryDelay as number);
      jest.advanceTimersByTime(client.retryDelay! - 1);
      expect(sockets.length).toBe(count); // not yet
      jest.advanceTimersByTime(1);
      expect(sockets.length).toBe(count + 1);
      expect(client.state).toBe('connecting');
    }
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 10000, 10000]);
    socket().open();
    expect(client.state).toBe('open');
    expect(socket().sent).toEqual([{ type: 'configure', settings: SETTINGS, ghost_text: false }]);
    expect(socket().url).toBe('ws://localhost:8888/lab-base/jupyter-ai-inline/completions');
    client.dispose();
  });

  it('resets the backoff after a connection that worked, not after one that closed at once', () => {
    jest.useFakeTimers();
    let now = 0;
    const { client, socket } = makeClient({ initialDelay: 500, stableAfter: 2000, now: () => now });
    client.connect();
    socket().drop();
    jest.advanceTimersByTime(500);
    socket().drop();
    expect(client.retryDelay).toBe(1000);
    jest.advanceTimersByTime(1000);
    // Opens and closes at once (e.g. rejected right after the handshake): keep backing off.
    socket().open();
    socket().drop();
    expect(client.retryDelay).toBe(2000);
    jest.advanceTimersByTime(2000);
    // Stays up and hears from the server: the next drop retries quickly again.
    socket().open();
    socket().receive(statusMessage('settings', 'm', ''));
    now += 100;
    socket().drop();
    expect(client.retryDelay).toBe(500);
    client.dispose();
  });

  it('stops retrying an endpoint that never answered, then retries when a completion is asked for', async () => {
    jest.useFakeTimers();
    let now = 0;
    const { client, sockets, socket } = makeClient({
      initialDelay: 500,
      maxDelay: 10000,
      maxRetriesUnreachable: 3,
      now: () => now
    });
    const errors: IClientError[] = [];
    client.errorOccurred.connect((_, e) => errors.push(e));
    client.connect();
    for (let i = 0; i < 3; i++) {
      socket().drop();
      now += client.retryDelay!;
      jest.advanceTimersByTime(client.retryDelay!);
    }
    socket().drop(); // the 4th failure: no more background attempts
    expect(client.retryDelay).toBeNull();
    now += 60000;
    jest.advanceTimersByTime(60000);
    expect(sockets.length).toBe(4);

    // A fetch tries once, waits for the attempt, and is answered when it fails.
    const first = client.request(INPUT);
    expect(sockets.length).toBe(5);
    expect(client.state).toBe('connecting');
    socket().drop();
    expect(await first.reply).toEqual({ items: [] });
    expect(errors[errors.length - 1]).toMatchObject({ message: UNREACHABLE, notify: true });
    // Within maxDelay of that attempt: answered at once, no new attempt.
    now += 1000;
    expect(await client.request(INPUT).reply).toEqual({ items: [] });
    expect(sockets.length).toBe(5);
    // Later, the server extension is there: the fetch's attempt connects and sends it.
    now += 10000;
    const later = client.request(INPUT);
    socket().open();
    expect(socket().ofType('request').map(m => m.number)).toEqual([later.number]);
    // Once connected, losing the connection retries in the background again, forever.
    for (let i = 0; i < 10; i++) {
      socket().drop();
      expect(client.retryDelay).not.toBeNull();
      jest.advanceTimersByTime(client.retryDelay!);
    }
    client.dispose();
  });

  it('dispose closes the socket, stops reconnecting and settles everything', async () => {
    jest.useFakeTimers();
    const { client, sockets, socket } = openClient();
    const handle = client.request(INPUT);
    const ws = socket();
    client.dispose();
    expect(ws.closedByClient).toBe(true);
    expect(await handle.reply).toEqual({ items: [] });
    jest.advanceTimersByTime(60000);
    expect(sockets.length).toBe(1);
    expect(client.state).toBe('disposed');
    await flush();
  });
});

describe('CompletionClient warm-ups', () => {
  beforeEach(() => jest.spyOn(console, 'debug').mockImplementation(() => undefined));
  afterEach(() => jest.restoreAllMocks());

  const refusal = {
    type: 'error',
    reply_to: null,
    error: {
      type: 'BadMessage',
      title:
        "Malformed message: : Input tag 'warm' found using 'type' does not match any of " +
        "the expected tags: 'request', 'cancel', 'configure'"
    }
  };

  it('sends a warm message with the fields of a request, numbered with the requests', () => {
    const { client, socket } = openClient();
    const request = client.request({ ...INPUT, cell_id: 'other' });
    const number = client.warm(INPUT);
    expect(number).toBe(request.number + 1);
    expect(socket().ofType('warm')).toEqual([{ type: 'warm', number, ...INPUT }]);
    expect(client.request(INPUT).number).toBe(number! + 1);
  });

  it('takes warmed answers and warm-up errors silently, cancelling and counting nothing', async () => {
    const { client, socket, errors } = openClient();
    const activity: number[] = [];
    client.activityChanged.connect((_, n) => activity.push(n));
    const handle = client.request({ ...INPUT, cell_id: 'other' });
    const first = client.warm(INPUT)!;
    const second = client.warm(INPUT)!;
    expect(activity).toEqual([1]); // the request only
    expect(client.inFlight).toEqual([handle.number]);
    socket().receive({ type: 'warmed', reply_to: first, ms: 120, skipped: null });
    const busy = { type: 'ServerBusy', title: 'busy' };
    socket().receive({ type: 'error', reply_to: second, error: busy });
    expect(errors).toEqual([]);
    expect(socket().ofType('cancel')).toEqual([]);
    // The request goes on.
    socket().receive(reply(handle.number, ['t']));
    expect((await handle.reply).items.length).toBe(1);
    expect(client.inFlight).toEqual([handle.number]);
  });

  it('is busy while a request or a warm-up waits for its answer', () => {
    const { client, socket } = openClient();
    expect(client.busy).toBe(false);
    const handle = client.request({ ...INPUT, cell_id: 'other' });
    const warm = client.warm(INPUT)!;
    client.cancel(handle.number);
    expect(client.busy).toBe(true); // the warm-up
    socket().receive({ type: 'warmed', reply_to: warm, ms: 80, skipped: null });
    expect(client.busy).toBe(false);
  });

  it('sends none while a completion runs in that cell, or while not connected', () => {
    const { client, socket } = makeClient();
    client.connect();
    expect(client.warm(INPUT)).toBeNull(); // connecting
    socket().open();
    client.request(INPUT);
    expect(client.warm(INPUT)).toBeNull();
    expect(client.warm({ ...INPUT, cell_id: 'cell-2' })).not.toBeNull();
    expect(socket().ofType('warm').length).toBe(1);
  });

  it('stops after a server that does not know warm-ups refused one, until it reconnects', () => {
    const { client, socket, errors } = openClient();
    expect(client.warm(INPUT)).not.toBeNull();
    socket().receive(refusal);
    expect(errors).toEqual([]);
    expect(client.warm(INPUT)).toBeNull();
    // Other BadMessage errors still show.
    socket().receive({ ...refusal, error: { type: 'BadMessage', title: 'Malformed message: x' } });
    expect(errors.length).toBe(1);
    jest.useFakeTimers();
    socket().drop();
    jest.advanceTimersByTime(client.retryDelay!);
    socket().open();
    expect(client.warm(INPUT)).not.toBeNull();
    jest.useRealTimers();
  });

  it('sends none when the server says it cannot warm, or when the message is too large', () => {
    const { client, socket, errors } = openClient();
    socket().receive(statusMessage('settings', 'm', 'http://x', { max_message_bytes: 100 }));
    expect(client.warm({ ...INPUT, prefix: 'x'.repeat(200) })).not.toBeNull();
    expect(socket().ofType('warm')).toEqual([]); // dropped, silently
    expect(errors).toEqual([]);
    socket().receive(statusMessage('settings', 'm', 'http://x', { can_warm: false }));
    expect(client.warm(INPUT)).toBeNull();
  });
});
