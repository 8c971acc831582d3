// The hub protocol v1 client: one connection at a time through a Transport, reconnected with
// full jitter (or the server's retry_after), channels resumed from their cursors, requests
// answered as promises, the JSON heartbeat answered and watched, the token refreshed before its
// exp, and a ping probe when the environment says the network may have changed.

import { Backoff } from './backoff.js';
import { systemClock, type Clock } from './clock.js';
import { Emitter } from './emitter.js';
import { DisconnectedError, ServerError, TimeoutError, TransportError, WshubError } from './errors.js';
import { Inbox } from './inbox.js';
import { RequestTable, type Answer } from './requests.js';
import { TokenRefresh } from './token_refresh.js';
import {
  closeAllowsReconnect,
  CloseCode,
  ErrorCode,
  errorIsRetryable,
  SUBPROTOCOL,
  type ConnectAnswer,
  type DisconnectPush,
  type PresenceAnswer,
  type Publication,
  type PublishAnswer,
  type StreamPosition,
  type SubscribeAnswer,
} from './protocol.js';
import { memoryStorage, type CursorStorage } from './storage.js';
import { Subscription, type SubscriptionHost } from './subscription.js';
import { websocketTransport, type Transport, type TransportConnection } from './transport.js';
import { VERSION } from './version.js';
import type { ClientEvents, ClientOptions, ConnectedEvent, ConnectionState, RequestOptions } from './client_options.js';

export type { ClientEvents, ClientOptions, ConnectedEvent, ConnectionState, DisconnectedEvent, RequestOptions } from './client_options.js';

export class Client extends Emitter<ClientEvents> {
  readonly url: string;
  readonly inbox: Inbox;
  private readonly options: ClientOptions;
  private readonly transport: Transport;
  private readonly clock: Clock;
  private readonly backoff: Backoff;
  private readonly storage: CursorStorage;
  private readonly prefix: string;
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly subscriptionHost: SubscriptionHost;
  private readonly requests: RequestTable;
  private currentState: ConnectionState = 'disconnected';
  private connection: TransportConnection | undefined;
  private generation = 0;
  private token: string | undefined;
  private tokenStale = true;
  private started = false;
  private info: ConnectedEvent | undefined;
  private disconnectPush: DisconnectPush | undefined;
  private closingBecause: { code: number; reason: string; reconnect: boolean } | undefined;
  private heartbeatMs = 0;
  private reconnectTimer: unknown;
  private connectTimer: unknown;
  private livenessTimer: unknown;
  private readonly tokenRefresh: TokenRefresh | undefined;
  private probing = false;
  private unwatch: (() => void) | undefined;

  constructor(url: string, options: ClientOptions = {}) {
    super((error) => this.reportError(error));
    this.url = url;
    this.options = options;
    this.transport = options.transport ?? websocketTransport(options.WebSocket);
    this.clock = options.clock ?? systemClock;
    this.backoff = new Backoff(
      { minDelayMs: options.minReconnectDelayMs, maxDelayMs: options.maxReconnectDelayMs },
      options.random ?? Math.random,
    );
    this.storage = options.storage ?? memoryStorage();
    this.prefix = options.storagePrefix ?? 'wshub:';
    this.token = options.token;
    this.tokenStale = options.token === undefined;
    this.requests = new RequestTable(this.clock, (frame) => this.write(frame));
    const getToken = options.getToken;
    this.tokenRefresh = getToken && new TokenRefresh({
      clock: this.clock,
      getToken,
      marginMs: options.refreshMarginMs ?? 60000,
      sendRefresh: (token) => this.request({ t: 'refresh', token }, 'refresh'),
      tokenFetched: (token) => {
        this.token = token;
        this.tokenStale = false;
      },
      refreshed: (exp) => {
        if (this.info) this.info.exp = exp;
      },
      reportError: (error) => this.emit('error', error),
    });
    this.subscriptionHost = this.makeSubscriptionHost();
    this.inbox = new Inbox({
      sendAck: (upto) => this.sendAck(upto),
      storage: this.storage,
      storageKey: `${this.prefix}inbox`,
      reportError: (error) => this.reportError(error),
    });
  }

  get state(): ConnectionState {
    return this.currentState;
  }

  /** The identity of the current connection, while connected. */
  get connectedAs(): ConnectedEvent | undefined {
    return this.currentState === 'connected' ? this.info : undefined;
  }

  /** Starts connecting (and reconnecting) until `close()` or a close that forbids reconnecting. */
  connect(): void {
    if (this.started) return;
    this.started = true;
    this.backoff.reset();
    if (this.options.watchEnvironment !== false && this.transport.watchEnvironment) {
      this.unwatch = this.transport.watchEnvironment((why) => this.probe(why));
    }
    void this.open();
  }

  /** Closes the connection for good; pending and queued requests reject with kind 'closed'. */
  close(): void {
    this.stop(1000, 'client closed');
  }

  /**
   * Subscribes to a channel; `handler` gets its publications. The subscription is kept across
   * reconnects and resumed from its cursor. Throws if this client already holds the channel.
   */
  subscribe(ch: string, handler?: (pub: Publication) => void): Subscription {
    if (this.subscriptions.has(ch)) throw new Error(`wshub: already subscribed to ${ch}`);
    const sub = new Subscription(ch, this.subscriptionHost);
    if (handler) sub.on('publication', handler);
    this.subscriptions.set(ch, sub);
    if (this.currentState === 'connected') this.sendSubscribe(sub);
    return sub;
  }

  /** The Subscription this client holds for `ch`, if any. */
  subscription(ch: string): Subscription | undefined {
    return this.subscriptions.get(ch);
  }

  /** Calls `method` on the backend (the rpc webhook); resolves with its `data`. */
  async rpc<T = unknown>(method: string, data?: unknown, options: RequestOptions & { mid?: string } = {}): Promise<T> {
    const frame: Record<string, unknown> = { t: 'rpc', m: method };
    if (data !== undefined) frame.data = data;
    if (options.mid !== undefined) frame.mid = options.mid;
    const answer = await this.request(frame, `rpc ${method}`, options.timeout);
    return answer.data as T;
  }

  /** Publishes to a channel (where its namespace lets clients publish). */
  async publish(ch: string, data: unknown, options: RequestOptions & { mid?: string } = {}): Promise<PublishAnswer> {
    const frame: Record<string, unknown> = { t: 'publish', ch, data };
    if (options.mid !== undefined) frame.mid = options.mid;
    const answer = await this.request(frame, `publish ${ch}`, options.timeout);
    return { off: answer.off as number, ep: answer.ep as string, dup: answer.dup === true };
  }

  /** Who is subscribed to a channel (namespaces with `presence = true`). */
  async presence(ch: string, options: RequestOptions = {}): Promise<PresenceAnswer> {
    const answer = await this.request({ t: 'presence', ch }, `presence ${ch}`, options.timeout);
    return { clients: (answer.clients ?? {}) as PresenceAnswer['clients'], total: answer.total as number };
  }

  /**
   * Checks the connection with a ping now. When connected and the ping is not answered within
   * probeTimeoutMs, the connection is dropped and a new one made; when waiting to reconnect,
   * reconnects at once. Called on foreground and network changes by the transport.
   */
  probe(why = 'probe'): void {
    if (!this.started) return;
    if (this.currentState === 'disconnected' && this.connection === undefined) {
      this.clock.clearTimeout(this.reconnectTimer);
      this.reconnectTimer = undefined;
      void this.open();
      return;
    }
    if (this.currentState !== 'connected' || this.probing) return;
    this.probing = true;
    const generation = this.generation;
    this.request({ t: 'ping' }, `ping (${why})`, this.options.probeTimeoutMs ?? 5000).then(
      () => {
        this.probing = false;
      },
      (error) => {
        this.probing = false;
        if (error instanceof TimeoutError && generation === this.generation) {
          this.dropConnection(`no answer to a ping after ${why}`);
        }
      },
    );
  }

  // ---- connection lifecycle ----

  private setState(state: ConnectionState): void {
    if (state === this.currentState) return;
    const previous = this.currentState;
    this.currentState = state;
    this.emit('state', { state, previous });
  }

  private async open(): Promise<void> {
    if (!this.started || this.connection !== undefined || this.currentState === 'connecting') return;
    this.setState('connecting');
    const generation = ++this.generation;
    if (this.options.getToken && (this.tokenStale || this.token === undefined)) {
      try {
        this.token = await this.options.getToken();
        this.tokenStale = false;
      } catch (error) {
        if (generation !== this.generation || !this.started) return;
        this.emit('error', new WshubError('token', `getToken failed: ${describe(error)}`));
        this.setState('disconnected');
        this.scheduleReconnect(undefined);
        return;
      }
      if (generation !== this.generation || !this.started) return;
    }
    this.disconnectPush = undefined;
    this.closingBecause = undefined;
    try {
      this.connection = this.transport.open(this.url, [SUBPROTOCOL], {
        onOpen: () => {
          if (generation === this.generation) this.sendConnect();
        },
        onMessage: (text) => {
          if (generation === this.generation) this.receive(text);
        },
        onClose: (code, reason) => {
          if (generation === this.generation) this.closed(code, reason);
        },
      });
    } catch (error) {
      this.connection = undefined;
      this.emit('error', error);
      if (error instanceof TransportError && error.fatal) {
        this.stop(1000, error.message);
        return;
      }
      this.setState('disconnected');
      this.scheduleReconnect(undefined);
      return;
    }
    this.connectTimer = this.clock.setTimeout(() => {
      if (generation === this.generation) this.dropConnection('no connect answer in time');
    }, this.options.connectTimeoutMs ?? 15000);
  }

  private sendConnect(): void {
    const frame: Record<string, unknown> = {
      t: 'connect',
      client: this.options.client ?? { sdk: 'js', version: VERSION },
      inbox: this.inbox.connectField(),
    };
    if (this.token) frame.token = this.token;
    const subs: Record<string, { since?: StreamPosition }> = {};
    const sinces = new Map<string, StreamPosition | undefined>();
    for (const [ch, sub] of this.subscriptions) {
      if (sub.state !== 'subscribing') continue;
      const since = sub.since();
      sinces.set(ch, since);
      subs[ch] = since ? { since } : {};
    }
    if (sinces.size > 0) frame.subs = subs;
    const generation = this.generation;
    this.requests.call(frame, 'connect', this.options.connectTimeoutMs ?? 15000, true).then(
      (answer) => {
        if (generation === this.generation) this.connected(answer as unknown as ConnectAnswer, sinces);
      },
      (error) => {
        if (generation !== this.generation) return;
        // The server closes after a refused connect; the close decides what comes next.
        if (error instanceof ServerError && error.code === ErrorCode.tokenExpired) this.tokenStale = true;
        if (!(error instanceof DisconnectedError)) this.emit('error', error);
      },
    );
  }

  private connected(answer: ConnectAnswer, sinces: Map<string, StreamPosition | undefined>): void {
    this.clock.clearTimeout(this.connectTimer);
    this.info = { cid: answer.cid, user: answer.user, device: answer.device, exp: answer.exp };
    this.backoff.reset();
    this.heartbeatMs = answer.hb && answer.hb.iv > 0 ? answer.hb.iv + (answer.hb.to ?? 0) : 0;
    this.watchLiveness();
    this.inbox.connected(answer.inbox);
    this.setState('connected');
    this.emit('connected', { ...this.info });
    const answers = answer.subs ?? {};
    for (const [ch, since] of sinces) {
      const sub = this.subscriptions.get(ch);
      const entry = answers[ch];
      if (!sub) {
        // Unsubscribed while the connect was on its way: undo what connect subscribed.
        if (entry && !('err' in entry)) this.sendUnsubscribe(ch);
        continue;
      }
      if (entry && 'err' in entry) {
        // Webhook namespaces cannot be subscribed in connect (108): subscribe on their own.
        if (entry.err.code === ErrorCode.notAvailable) this.sendSubscribe(sub);
        else this.subscribeFailed(sub, new ServerError(entry.err.code, entry.err.msg, errorIsRetryable(entry.err.code)));
      } else if (entry) {
        sub.handleAnswer(entry, since);
      } else {
        this.sendSubscribe(sub);
      }
    }
    // Subscriptions made while the connect was in flight.
    for (const sub of this.subscriptions.values()) {
      if (sub.state === 'subscribing' && !sinces.has(sub.channel)) this.sendSubscribe(sub);
    }
    this.requests.flush();
    this.tokenRefresh?.schedule(answer.exp);
  }

  /** The transport reported the close of the current connection. */
  private closed(code: number, reason: string): void {
    this.connection = undefined;
    this.clearConnectionTimers();
    const byClient = this.closingBecause;
    const push = this.disconnectPush;
    this.closingBecause = undefined;
    this.disconnectPush = undefined;
    // The server's disconnect push names the close better than what the transport saw (a
    // SocketTask or a proxy may report 1006 for a close the server explained).
    const finalCode = byClient?.code ?? push?.code ?? code;
    const finalReason = byClient?.reason ?? push?.reason ?? reason;
    this.requests.connectionLost(finalCode, finalReason);
    for (const sub of this.subscriptions.values()) sub.connectionLost();
    this.inbox.connectionLost();
    if (!this.started) return;
    let reconnect = byClient ? byClient.reconnect : closeAllowsReconnect(finalCode);
    if (finalCode === CloseCode.tokenExpired && !byClient) {
      this.tokenStale = true;
      if (!this.options.getToken) {
        // A fixed token cannot be renewed: reconnecting would only be refused again.
        reconnect = false;
        this.emit('error', new WshubError('token', 'the token expired and there is no getToken to fetch a new one'));
      }
    }
    if (!reconnect) {
      this.emit('disconnected', { code: finalCode, reason: finalReason, reconnect: false });
      this.stop(finalCode, finalReason);
      return;
    }
    const retryAfter = push && typeof push.retry_after === 'number' && push.retry_after >= 0 ? push.retry_after : undefined;
    const delayMs = this.scheduleReconnect(retryAfter);
    this.setState('disconnected');
    this.emit('disconnected', { code: finalCode, reason: finalReason, reconnect: true, delayMs });
  }

  private scheduleReconnect(retryAfterMs: number | undefined): number {
    const delay = retryAfterMs ?? this.backoff.next();
    this.clock.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = this.clock.setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.open();
    }, delay);
    return delay;
  }

  /** Closes the current connection from this side and reconnects. */
  private dropConnection(reason: string): void {
    if (!this.connection) return;
    this.closingBecause = { code: 4000, reason, reconnect: true };
    const connection = this.connection;
    // The transport reports the close (synchronously or later); `closed` takes it from there.
    connection.close(4000, reason);
  }

  /** Ends for good: no reconnect until connect() is called again. */
  private stop(code: number, reason: string): void {
    this.started = false;
    this.clock.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.clearConnectionTimers();
    this.unwatch?.();
    this.unwatch = undefined;
    const connection = this.connection;
    if (connection) {
      this.closingBecause = { code, reason, reconnect: false };
      connection.close(1000, reason);
    }
    this.connection = undefined;
    this.generation += 1;
    this.requests.closeAll(code, reason);
    for (const sub of this.subscriptions.values()) sub.connectionLost();
    this.inbox.connectionLost();
    this.setState('closed');
  }

  private clearConnectionTimers(): void {
    this.clock.clearTimeout(this.connectTimer);
    this.clock.clearTimeout(this.livenessTimer);
    this.tokenRefresh?.cancel();
    this.connectTimer = this.livenessTimer = undefined;
    this.probing = false;
  }

  // The server pings every hb.iv and closes after hb.to without a pong: a connection that has
  // heard nothing for iv + to is dead even when the transport has not noticed (a SocketTask or
  // a phone that changed networks can stay "open" for minutes).
  private watchLiveness(): void {
    if (this.heartbeatMs <= 0) return;
    this.clock.clearTimeout(this.livenessTimer);
    const generation = this.generation;
    this.livenessTimer = this.clock.setTimeout(() => {
      if (generation === this.generation) this.dropConnection('no heartbeat from the server');
    }, this.heartbeatMs);
  }

  // ---- requests ----

  /** Sends a request when connected, or queues it until the connection is; times out either way. */
  private request(frame: Record<string, unknown>, what: string, timeoutMs?: number): Promise<Answer> {
    if (!this.started) {
      return Promise.reject(new DisconnectedError('closed', 0, 'the client is not connecting: call connect()'));
    }
    const ms = timeoutMs ?? this.options.timeoutMs ?? 10000;
    return this.requests.call(frame, what, ms, this.currentState === 'connected');
  }

  private write(frame: unknown): boolean {
    if (!this.connection) return false;
    try {
      this.connection.send(JSON.stringify(frame));
      return true;
    } catch (error) {
      this.reportError(error);
      return false;
    }
  }

  private sendAck(upto: number): boolean {
    return this.currentState === 'connected' && this.write({ t: 'ack', upto });
  }

  // ---- subscriptions ----

  private makeSubscriptionHost(): SubscriptionHost {
    return {
      unsubscribe: (sub) => {
        if (this.subscriptions.get(sub.channel) !== sub) return;
        this.subscriptions.delete(sub.channel);
        sub.ended(0, 'unsubscribed', true);
        this.sendUnsubscribe(sub.channel);
      },
      storage: this.storage,
      storageKey: (ch) => `${this.prefix}sub:${ch}`,
      reportError: (error) => this.reportError(error),
    };
  }

  private sendUnsubscribe(ch: string): void {
    if (this.currentState !== 'connected') return; // the next connection does not subscribe it
    this.request({ t: 'unsubscribe', ch }, `unsubscribe ${ch}`).catch(() => {});
  }

  private sendSubscribe(sub: Subscription): void {
    const since = sub.since();
    const frame: Record<string, unknown> = { t: 'subscribe', ch: sub.channel };
    if (since) frame.since = since;
    const generation = this.generation;
    this.request(frame, `subscribe ${sub.channel}`).then(
      (answer) => {
        if (generation === this.generation && this.subscriptions.get(sub.channel) === sub) {
          sub.handleAnswer(answer as unknown as SubscribeAnswer, since);
        }
      },
      (error) => {
        if (generation !== this.generation || this.subscriptions.get(sub.channel) !== sub) return;
        if (error instanceof ServerError) this.subscribeFailed(sub, error);
        else if (error instanceof TimeoutError) this.retrySubscribe(sub, generation);
        // DisconnectedError: the next connection subscribes again.
      },
    );
  }

  private subscribeFailed(sub: Subscription, error: ServerError): void {
    if (error.retry) {
      sub.transientError(error);
      this.retrySubscribe(sub, this.generation);
      return;
    }
    this.subscriptions.delete(sub.channel);
    sub.fail(error);
  }

  private retrySubscribe(sub: Subscription, generation: number): void {
    this.clock.setTimeout(() => {
      if (generation === this.generation && this.currentState === 'connected' && this.subscriptions.get(sub.channel) === sub) {
        this.sendSubscribe(sub);
      }
    }, this.backoff.minDelayMs + Math.floor((this.options.random ?? Math.random)() * this.backoff.minDelayMs * 4));
  }

  // ---- incoming frames ----

  private receive(text: string): void {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      this.reportError(new WshubError('transport', 'the server sent a frame that is not JSON'));
      return;
    }
    if (this.currentState === 'connected') this.watchLiveness();
    const messages = Array.isArray(message) ? message : [message];
    for (const m of messages) {
      if (m && typeof m === 'object') this.dispatch(m as Record<string, unknown>);
    }
  }

  private dispatch(m: Record<string, unknown>): void {
    if (m.t === 'ok' || m.t === 'err') {
      this.requests.answer(m);
      return;
    }
    switch (m.t) {
      case 'ping':
        this.write({ t: 'pong' });
        return;
      case 'pub': {
        const pub: Publication = { ch: String(m.ch), off: Number(m.off), data: m.data, ts: Number(m.ts) };
        const sub = this.subscriptions.get(pub.ch);
        if (sub) sub.handlePublication(pub);
        else this.emit('publication', pub);
        return;
      }
      case 'join':
      case 'leave': {
        const event = { ch: String(m.ch), cid: String(m.cid), user: String(m.user), device: String(m.device) };
        const sub = this.subscriptions.get(event.ch);
        if (sub) sub.handleJoinLeave(m.t, event);
        else this.emit(m.t, event);
        return;
      }
      case 'sub':
        this.emit('sub', { ch: String(m.ch), ep: String(m.ep), off: Number(m.off) });
        return;
      case 'unsub': {
        const ch = String(m.ch);
        const code = Number(m.code);
        const reason = String(m.reason ?? '');
        const sub = this.subscriptions.get(ch);
        if (sub) {
          this.subscriptions.delete(ch);
          sub.ended(code, reason, false);
        }
        this.emit('unsub', { ch, code, reason });
        return;
      }
      case 'disconnect':
        this.disconnectPush = {
          code: Number(m.code),
          reason: String(m.reason ?? ''),
          retry_after: typeof m.retry_after === 'number' ? m.retry_after : undefined,
        };
        return;
      case 'msg':
        this.inbox.handleMessage({
          seq: Number(m.seq),
          id: String(m.id),
          data: m.data,
          ts: Number(m.ts),
          exp: typeof m.exp === 'number' ? m.exp : undefined,
        });
        return;
      default:
        // Pushes this version does not know are ignored, as the protocol asks.
        return;
    }
  }

  private reportingError = false;

  // Errors with nowhere else to go: the 'error' event, or the console when nobody listens (or
  // when an 'error' listener itself threw).
  private reportError(error: unknown): void {
    if (this.hasListeners('error') && !this.reportingError) {
      this.reportingError = true;
      try {
        this.emit('error', error);
      } finally {
        this.reportingError = false;
      }
    } else if (typeof console !== 'undefined') {
      console.error('wshub:', error);
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
