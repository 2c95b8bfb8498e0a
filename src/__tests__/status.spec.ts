// status.ts imports JupyterLab UI packages (ES modules, DOM at load time): stand-ins are enough
// for the status model tested here.
jest.mock('@jupyterlab/apputils', () => ({ Notification: { error: jest.fn() } }));
jest.mock('@lumino/widgets', () => ({ Widget: class {} }));

import { UNREACHABLE } from '../client';
import { emptyLineOn, toServerSettings } from '../settings';
import { InlineStatus, MAX_NOTIFIED } from '../status';
import { chunk, INPUT, makeClient, reply, statusMessage } from './fakes';

function setup() {
  const fake = makeClient();
  const notified: string[] = [];
  const status = new InlineStatus({
    client: fake.client,
    notify: message => notified.push(message)
  });
  return { ...fake, status, notified };
}

describe('InlineStatus', () => {
  it('shows the model, generating while a request runs, then idle with the time to first token', async () => {
    const { client, socket, status } = setup();
    client.connect();
    socket().open();
    socket().receive(statusMessage('settings'));
    expect(status.model).toBe('qwen2.5-coder:1.5b');
    expect(status.state).toBe('idle');
    const handle = client.request(INPUT);
    expect(status.state).toBe('generating');
    socket().receive(reply(handle.number, ['t']));
    await handle.reply;
    socket().receive(chunk(handle.number, 't', 'x', true));
    expect(status.state).toBe('idle');
    expect(status.timeToFirstToken).not.toBeNull();
  });

  it('shows a model error and notifies each distinct message once', async () => {
    const { client, socket, status, notified } = setup();
    client.connect();
    socket().open();
    for (const title of ['Ollama is not running at http://localhost:11434', 'same', 'same']) {
      const handle = client.request(INPUT);
      socket().receive(reply(handle.number, ['t' + handle.number]));
      await handle.reply;
      socket().receive(chunk(handle.number, 't' + handle.number, '', true, { type: 'x', title }));
    }
    expect(status.state).toBe('error');
    expect(status.error).toBe('same');
    expect(notified).toEqual(['Ollama is not running at http://localhost:11434', 'same']);
    // A later answer with text clears the error.
    const handle = client.request(INPUT);
    socket().receive(reply(handle.number, ['ok']));
    await handle.reply;
    socket().receive(chunk(handle.number, 'ok', 'fine', true));
    expect(status.state).toBe('idle');
    expect(status.error).toBeNull();
  });

  it('remembers a bounded number of notified messages, the oldest forgotten first', async () => {
    const { client, socket, notified } = setup();
    client.connect();
    socket().open();
    const fail = async (title: string) => {
      const handle = client.request(INPUT);
      socket().receive(reply(handle.number, ['t']));
      await handle.reply;
      socket().receive(chunk(handle.number, 't', '', true, { type: 'x', title }));
    };
    const titles = Array.from({ length: MAX_NOTIFIED + 1 }, (_, i) => `error ${i}`);
    for (const title of titles) {
      await fail(title);
    }
    await fail(`error ${MAX_NOTIFIED}`); // still remembered: not notified again
    await fail('error 0'); // forgotten: notified again
    expect(notified).toEqual([...titles, 'error 0']);
  });

  it('says the server extension cannot be reached, notifies when a completion is asked for', () => {
    jest.useFakeTimers();
    try {
      const { client, socket, status, notified } = setup();
      client.connect();
      socket().drop();
      expect(status.state).toBe('error');
      expect(status.error).toBe(UNREACHABLE);
      expect(notified).toEqual([]);
      client.request(INPUT);
      client.request(INPUT);
      expect(notified).toEqual([UNREACHABLE]);
      // Reconnected: the connection error goes away.
      jest.advanceTimersByTime(500);
      socket().open();
      expect(status.state).toBe('idle');
      client.dispose();
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('InlineStatus with the managed local model', () => {
  const local = (state: string, message: string) => ({
    backend: 'llamacpp',
    local: { state, message }
  });
  const URL = 'http://127.0.0.1:41234';

  it('says the local model is starting, then shows it with its mode once ready', () => {
    const { client, socket, status } = setup();
    client.connect();
    socket().open();
    const model = 'inline-llamacpp:gemma-3-270m-q4_k_m.gguf';
    socket().receive(statusMessage('settings', model, URL, local('starting', 'starting local model…')));
    expect(status.state).toBe('starting');
    expect(status.local?.message).toBe('starting local model…');
    client.request(INPUT); // waits on the server side: still "starting", not "generating"
    expect(status.state).toBe('starting');
    socket().receive(statusMessage('settings', model, URL, { ...local('ready', 'gemma'), mode: 'completion' }));
    expect(status.state).toBe('generating');
    expect(status.mode).toBe('completion');
  });

  it('shows why the local model failed as an error', () => {
    const { client, socket, status } = setup();
    client.connect();
    socket().open();
    const why = 'local model failed: Model file /m.gguf is not a GGUF file';
    socket().receive(statusMessage('settings', 'inline-llamacpp:m.gguf', URL, local('failed', why)));
    expect(status.state).toBe('error');
    expect(status.error).toBe(why);
  });
});

describe('toServerSettings', () => {
  it('maps missing, blank and invalid values to null', () => {
    expect(toServerSettings({})).toEqual({
      backend: null,
      baseUrl: null,
      model: null,
      suggestions: null,
      maxTokens: null,
      contextAboveChars: null,
      contextBelowChars: null
    });
    expect(
      toServerSettings({
        backend: 'llamacpp',
        baseUrl: ' http://gpu:8080 ',
        model: '',
        suggestions: 2,
        maxTokens: 64,
        contextAboveChars: 6000,
        contextBelowChars: null
      })
    ).toEqual({
      backend: 'llamacpp',
      baseUrl: 'http://gpu:8080',
      model: null,
      suggestions: 2,
      maxTokens: 64,
      contextAboveChars: 6000,
      contextBelowChars: null
    });
    expect(toServerSettings({ backend: 'nope', suggestions: 'two' }).backend).toBeNull();
  });

  it('keeps the browser-only settings out of configure; empty-line suggestions on by default', () => {
    expect(toServerSettings({ emptyLineSuggestions: false, kernelVariables: false })).toEqual(
      toServerSettings({})
    );
    expect(emptyLineOn({})).toBe(true);
    expect(emptyLineOn({ emptyLineSuggestions: false })).toBe(false);
  });
});

describe('InlineStatus and warm-ups', () => {
  it('does not show a warm-up as generating, nor its error', () => {
    jest.spyOn(console, 'debug').mockImplementation(() => undefined);
    const { client, socket, status, notified } = setup();
    client.connect();
    socket().open();
    const number = client.warm(INPUT)!;
    expect(status.state).toBe('idle');
    const error = { type: 'BackendError', title: 'x' };
    socket().receive({ type: 'error', reply_to: number, error });
    expect(status.state).toBe('idle');
    expect(status.error).toBeNull();
    expect(notified).toEqual([]);
  });
});
