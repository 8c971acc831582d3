// The Client's options and events: the public shapes of client.ts, apart so that file holds
// behaviour only.

import type { Clock } from './clock.js';
import type { JoinLeave, Publication } from './protocol.js';
import type { CursorStorage } from './storage.js';
import type { Transport, WebSocketConstructor } from './transport.js';

export type ConnectionState = 'disconnected' | 'connecting' | 'connected' | 'closed';

export interface ClientOptions {
  /** a fixed token (JWT or an opaque one the connect webhook checks) */
  token?: string;
  /** called for the first token, after 3005/109 (expired), and before `exp` to refresh */
  getToken?: () => string | Promise<string>;
  /** default: the global WebSocket, or `WebSocket` below */
  transport?: Transport;
  /** a WebSocket constructor, e.g. the `ws` package's in Node */
  WebSocket?: WebSocketConstructor;
  /** where resume cursors live; default memoryStorage() */
  storage?: CursorStorage;
  /** prefix of the storage keys (one per channel, one for the inbox); default 'wshub:' */
  storagePrefix?: string;
  /** sent in `connect` (and to the connect webhook); default {sdk: 'js', version} */
  client?: { sdk: string; version: string };
  /** reconnect delay floor and cap, ms; default 500 and 20000 */
  minReconnectDelayMs?: number;
  maxReconnectDelayMs?: number;
  /** default timeout of rpc, publish, presence and subscribe, ms; default 10000 */
  timeoutMs?: number;
  /** from opening the socket to the connect answer, ms; default 15000 */
  connectTimeoutMs?: number;
  /** refresh the token this long before its exp, ms (at most half its remaining life); default 60000 */
  refreshMarginMs?: number;
  /** how long a probe ping may wait for its answer before the connection is dropped, ms; default 5000 */
  probeTimeoutMs?: number;
  /** probe on foreground and network change as the transport reports them; default true */
  watchEnvironment?: boolean;
  /** tests: time and randomness */
  clock?: Clock;
  random?: () => number;
}

export interface ConnectedEvent {
  cid: string;
  user: string;
  device: string;
  /** ms since the Unix epoch; undefined when the identity has none */
  exp?: number;
}

export interface DisconnectedEvent {
  code: number;
  reason: string;
  /** whether the client will reconnect by itself */
  reconnect: boolean;
  /** when it will, after how long, ms */
  delayMs?: number;
}

export interface ClientEvents {
  state: { state: ConnectionState; previous: ConnectionState };
  connected: ConnectedEvent;
  disconnected: DisconnectedEvent;
  /** problems that reject no promise: a failed token fetch or refresh, a listener that threw */
  error: unknown;
  /** a publication on a channel without a Subscription here: personal channels, /api/subscribe */
  publication: Publication;
  /** the backend subscribed this connection (POST /api/subscribe) */
  sub: { ch: string; ep: string; off: number };
  /** the server ended a subscription */
  unsub: { ch: string; code: number; reason: string };
  join: JoinLeave;
  leave: JoinLeave;
}

export interface RequestOptions {
  /** ms; default the client's timeoutMs */
  timeout?: number;
}
