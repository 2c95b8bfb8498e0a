import type { ConnectionState } from '../protocol';
import { completionsUrl, ReconnectingSocket } from '../socket';
import { ENDPOINT_URL, FakeSocket, recordingSockets } from './fakes';

/** A socket over recorded fakes (`ws()`: the newest), its states recorded in `states`. */
function makeSocket(options: Partial<ReconnectingSocket.IOptions> = {}) {
  const { WebSocket, sockets, socket: ws } = recordingSockets();
  const socket = new ReconnectingSocket({ url: ENDPOINT_URL, WebSocket, ...options });
  const states: ConnectionState[] = [];
  socket.stateChanged.connect((_, state) => states.push(state));
  return { socket, states, sockets, ws };
}

describe('completionsUrl', () => {
  it('joins the endpoint to the websocket base URL and appends the token', () => {
    expect(completionsUrl({ wsUrl: 'ws://h:8888/base/', token: 'a b' })).toBe(
      'ws://h:8888/base/jupyter-ai-inline/completions?token=a%20b'
    );
    expect(completionsUrl({ wsUrl: 'wss://h/base', token: '' })).toBe(
      'wss://h/base/jupyter-ai-inline/completions'
    );
  });
});

describe('ReconnectingSocket', () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('reports its states and passes messages on as received', () => {
    const { socket, states, ws } = makeSocket();
    const received: unknown[] = [];
    socket.messageReceived.connect((_, data) => received.push(data));
    socket.connect();
    socket.connect(); // already connecting: no second websocket
    expect(ws().url).toBe(ENDPOINT_URL);
    ws().open();
    ws().receive({ type: 'status' });
    ws().drop();
    expect(states).toEqual(['connecting', 'open', 'closed']);
    expect(received).toEqual(['{"type":"status"}']);
    socket.dispose();
  });

  it('sends only while the websocket is open, and drops the rest', () => {
    const { socket, ws } = makeSocket();
    expect(socket.canSend).toBe(false);
    socket.send('before connecting');
    socket.connect();
    socket.send('while connecting');
    ws().open();
    expect(socket.canSend).toBe(true);
    socket.send('{"n":1}');
    // The websocket is closing, its close event still to come: still `open`, but not writable.
    ws().readyState = 2;
    expect(socket.state).toBe('open');
    expect(socket.canSend).toBe(false);
    socket.send('{"n":2}');
    expect(ws().sent).toEqual([{ n: 1 }]);
    socket.dispose();
  });

  it('lets the listeners of `closed` run before the reconnection is scheduled', () => {
    const { socket, sockets, ws } = makeSocket({ initialDelay: 500 });
    const delaysSeen: (number | null)[] = [];
    socket.stateChanged.connect((_, state) => {
      if (state === 'closed') {
        delaysSeen.push(socket.retryDelay);
      }
    });
    socket.connect();
    ws().drop();
    expect(delaysSeen).toEqual([null]);
    expect(socket.retryDelay).toBe(500);
    jest.advanceTimersByTime(500);
    expect(sockets).toHaveLength(2);
    expect(socket.state).toBe('connecting');
    socket.dispose();
  });

  it('counts a websocket that cannot be created as a failed attempt', () => {
    let created = 0;
    const Failing = class extends FakeSocket {
      constructor(url: string) {
        if (++created < 3) {
          throw new Error('SecurityError');
        }
        super(url);
      }
    };
    const socket = new ReconnectingSocket({ url: ENDPOINT_URL, WebSocket: Failing });
    const states: ConnectionState[] = [];
    socket.stateChanged.connect((_, state) => states.push(state));
    socket.connect();
    expect(socket.retryDelay).toBe(500);
    jest.advanceTimersByTime(500);
    expect(socket.retryDelay).toBe(1000);
    jest.advanceTimersByTime(1000);
    expect(created).toBe(3);
    expect(states).toEqual(['connecting', 'closed', 'connecting', 'closed', 'connecting']);
    socket.dispose();
  });

  it('connects on demand only when no attempt is scheduled, at most once per maxDelay', () => {
    let now = 0;
    const { socket, sockets, ws } = makeSocket({
      maxDelay: 10000,
      maxRetriesUnreachable: 1,
      now: () => now
    });
    socket.connectOnDemand(); // never connected: connects
    expect(sockets).toHaveLength(1);
    ws().drop();
    socket.connectOnDemand(); // a retry is scheduled: left to it
    expect(sockets).toHaveLength(1);
    now += 500;
    jest.advanceTimersByTime(500);
    ws().drop(); // the endpoint never answered: no more background attempts
    expect(socket.retryDelay).toBeNull();
    now += 9999;
    socket.connectOnDemand();
    expect(sockets).toHaveLength(2);
    now += 1;
    socket.connectOnDemand();
    expect(sockets).toHaveLength(3);
    socket.connectOnDemand(); // connecting already
    ws().open();
    socket.connectOnDemand(); // open
    expect(sockets).toHaveLength(3);
    socket.dispose();
  });

  it('dispose closes the websocket, stops reconnecting and ignores it afterwards', () => {
    const { socket, sockets, states, ws } = makeSocket();
    const received: unknown[] = [];
    socket.messageReceived.connect((_, data) => received.push(data));
    socket.connect();
    const first = ws();
    first.drop();
    expect(first.onmessage).toBeNull(); // a replaced websocket is not listened to
    jest.advanceTimersByTime(500);
    ws().open();
    const second = ws();
    socket.dispose();
    socket.dispose();
    expect(second.closedByClient).toBe(true);
    second.receive({ type: 'late' });
    second.drop();
    socket.connect();
    jest.advanceTimersByTime(60000);
    expect(sockets).toHaveLength(2);
    expect(received).toEqual([]);
    expect(states).toEqual(['connecting', 'closed', 'connecting', 'open', 'disposed']);
    expect(socket.isDisposed).toBe(true);
  });
});
