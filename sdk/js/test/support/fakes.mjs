// Test doubles for the unit tests: a clock whose time moves only when a test says so, and a
// transport whose "server" is the test itself (it sees every frame the client sends and
// answers, pushes or closes by hand). Neither knows anything of the hub protocol.

/** Flushes pending promise callbacks (and anything they chain) before returning. */
export async function settle() {
  for (let i = 0; i < 5; i += 1) await new Promise((resolve) => setImmediate(resolve));
}

export class FakeClock {
  constructor(start = 1_800_000_000_000) {
    this.time = start;
    this.timers = new Map();
    this.nextHandle = 1;
  }

  now() {
    return this.time;
  }

  setTimeout(callback, ms) {
    const handle = this.nextHandle++;
    this.timers.set(handle, { at: this.time + Math.max(0, ms), callback, handle });
    return handle;
  }

  clearTimeout(handle) {
    this.timers.delete(handle);
  }

  /** Moves time forward by `ms`, running due timers in order and settling promises after each. */
  async advance(ms) {
    const end = this.time + ms;
    await settle();
    for (;;) {
      let due;
      for (const timer of this.timers.values()) {
        if (timer.at <= end && (!due || timer.at < due.at || (timer.at === due.at && timer.handle < due.handle))) due = timer;
      }
      if (!due) break;
      this.timers.delete(due.handle);
      this.time = Math.max(this.time, due.at);
      due.callback();
      await settle();
    }
    this.time = end;
    await settle();
  }
}

export class FakeConnection {
  constructor(url, protocols, handlers) {
    this.url = url;
    this.protocols = protocols;
    this.handlers = handlers;
    this.sent = [];
    this.closedWith = undefined;
    this.ended = false;
  }

  /** The server accepts the upgrade. */
  open(protocol = 'wshub.v1.json') {
    if (this.opened) throw new Error('the fake connection is open already');
    this.opened = true;
    this.handlers.onOpen(protocol);
  }

  /** The server sends one frame (an object is sent as JSON). */
  push(message) {
    if (this.ended) throw new Error('push on a closed fake connection');
    this.handlers.onMessage(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** The connection ends from the server's side (or the network's). */
  drop(code = 1006, reason = '') {
    if (this.ended) return;
    this.ended = true;
    this.handlers.onClose(code, reason);
  }

  /** Frames the client sent, parsed; `t` filters by type. */
  frames(t) {
    return t === undefined ? this.sent : this.sent.filter((f) => f.t === t);
  }

  last(t) {
    const list = this.frames(t);
    return list[list.length - 1];
  }

  /** Answers the client's request with `id` (`ok` with `fields`). */
  ok(id, fields = {}) {
    this.push({ t: 'ok', id, ...fields });
  }

  err(id, code, msg, retry = false) {
    this.push({ t: 'err', id, code, msg, retry });
  }

  /** Opens and answers the connect request. */
  accept(fields = {}) {
    if (!this.opened) this.open();
    const connect = this.last('connect');
    if (!connect) throw new Error('the client sent no connect');
    this.ok(connect.id, { cid: '0-1', user: 'u', device: '', hb: { iv: 25000, to: 10000 }, subs: {}, ...fields });
    return connect;
  }

  // TransportConnection
  send(text) {
    if (this.ended) throw new Error('send on a closed connection');
    this.sent.push(JSON.parse(text));
  }

  close(code, reason) {
    this.closedWith = { code, reason };
    this.drop(code, reason);
  }
}

export class FakeTransport {
  constructor() {
    this.name = 'fake';
    this.connections = [];
    this.probe = undefined;
  }

  open(url, protocols, handlers) {
    const connection = new FakeConnection(url, protocols, handlers);
    this.connections.push(connection);
    return connection;
  }

  get current() {
    return this.connections[this.connections.length - 1];
  }

  watchEnvironment(probe) {
    this.probe = probe;
    return () => {
      this.probe = undefined;
    };
  }
}

/** Records every emission of the named events of an emitter, in order. */
export function record(emitter, names) {
  const seen = [];
  for (const name of names) emitter.on(name, (value) => seen.push({ name, value }));
  return seen;
}

/**
 * A client of class `Client` (the SDK's, passed in) on a fake transport and clock, told to
 * connect: the fake connection is made but not opened. Errors are kept off the console.
 */
export async function startClient(Client, options = {}) {
  const clock = new FakeClock();
  const transport = new FakeTransport();
  const client = new Client('ws://hub.test/hub', { transport, clock, token: 't', random: () => 0, ...options });
  client.on('error', () => {});
  client.connect();
  await settle();
  return { clock, transport, client };
}
