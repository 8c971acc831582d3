// Types of @wshub/node (index.js). Field names are the wire's (docs/api.md, docs/hub-protocol.md).
import type { Agent, IncomingMessage, ServerResponse } from 'node:http';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export declare const Codes: Readonly<{
  INTERNAL: 100; UNAUTHORIZED: 101; UNKNOWN_CHANNEL: 102; PERMISSION_DENIED: 103; METHOD_NOT_FOUND: 104;
  ALREADY_SUBSCRIBED: 105; LIMIT_EXCEEDED: 106; BAD_REQUEST: 107; NOT_AVAILABLE: 108; TOKEN_EXPIRED: 109;
  TOO_MANY_REQUESTS: 111; UNRECOVERABLE_POSITION: 112; TOO_LARGE: 114; INBOX_FULL: 115;
  BACKEND_UNAVAILABLE: 116; TIMEOUT: 504;
}>;

/** The API's refusal: HTTP status and {"error":{"code","message"}} (code 0 for plain-text errors). */
export declare class WshubError extends Error {
  readonly name: 'WshubError';
  readonly status: number;
  readonly code: number;
  /** The server's sentence naming the problem. */
  readonly serverMessage: string;
  readonly method: string;
  readonly path: string;
  /** The same request may succeed later (overload, broker or backend down, 504). */
  readonly retryable: boolean;
  /** 501: send and messages on a server with the memory store (no device inbox). */
  readonly notImplemented: boolean;
}

/** No answer: connection failed or broke, timeoutMs passed, aborted, or not JSON. */
export declare class WshubTransportError extends Error {
  readonly name: 'WshubTransportError';
  readonly method: string;
  readonly path: string;
  readonly timedOut: boolean;
  readonly aborted: boolean;
  /** False only when the caller aborted. */
  readonly retryable: boolean;
}

export declare class SignatureError extends Error {
  readonly name: 'SignatureError';
  readonly reason: 'missing' | 'malformed' | 'outside_tolerance' | 'mismatch';
}

/** A webhook function's "no": passed on to the client with this code and message. */
export declare class WebhookRefusal extends Error {
  constructor(code: number, message: string);
  readonly name: 'WebhookRefusal';
  readonly code: number;
}

export declare function isRetryable(error: unknown): boolean;

export interface ClientOptions {
  /** The API, e.g. "http://127.0.0.1:8078" ([api] listen). */
  url: string;
  /** [api] key. */
  apiKey: string;
  /** Bounds each call, answer included. Default 10000. */
  timeoutMs?: number;
  agent?: Agent;
}

export interface CallOptions { signal?: AbortSignal }
export interface Position { epoch: string; offset: number }
export interface BroadcastResult {
  channel: string;
  epoch?: string;
  offset?: number;
  /** The broker could not place this one. */
  error?: { code: number; message: string };
}
export interface PresenceClient { user: string; device: string; info?: Json }
export interface Presence { clients: Record<string, PresenceClient>; total: number }
export interface ChannelInfo { channel: string; subscribers: number; offset: number }
export interface HubInfo {
  sessions: number; connected: number; subscriptions: number;
  publications_delivered: number; backend_unavailable: number;
}
export interface SendOptions extends CallOptions {
  user?: string;
  device?: string;
  data: unknown;
  /** Seconds. */
  ttl?: number;
  idempotencyKey?: string;
  collapseKey?: string;
}
export interface SendResult { id: string; seq?: number; copies?: { device: string; seq: number }[] }
export interface HistoryOptions extends CallOptions { epoch?: string; since?: number; limit?: number }
export interface History {
  publications: { offset: number; data: Json; ts: number }[];
  epoch: string;
  offset: number;
  /** False when the publications after `since` in `epoch` are no longer all kept. */
  recovered: boolean;
  /** More publications follow the last one given: ask again from its offset. */
  more: boolean;
}
export interface MessageStatus {
  id: string;
  created: number;
  states: Record<string, 'queued' | 'delivered' | 'acked' | 'expired' | 'replaced'>;
}
export interface DisconnectOptions extends CallOptions {
  user?: string;
  device?: string;
  /** 3000–4999. */
  code?: number;
  /** At most 100 bytes. */
  reason?: string;
}

export declare class WshubClient {
  constructor(options: ClientOptions);
  readonly baseUrl: string;
  readonly timeoutMs: number;
  close(): void;
  publish(channel: string, data: unknown, options?: CallOptions & { idempotencyKey?: string }): Promise<Position>;
  broadcast(channels: string[], data: unknown, options?: CallOptions): Promise<BroadcastResult[]>;
  subscribe(user: string, channel: string, options?: CallOptions): Promise<number>;
  unsubscribe(user: string, channel: string, options?: CallOptions): Promise<number>;
  disconnect(options: DisconnectOptions): Promise<number>;
  presence(channel: string, options?: CallOptions): Promise<Presence>;
  channels(options?: CallOptions): Promise<ChannelInfo[]>;
  info(options?: CallOptions): Promise<HubInfo>;
  /** Queues `data` in the durable inbox of a device, or of each device of a user (501 with the memory store). */
  send(options: SendOptions): Promise<SendResult>;
  /** A channel's kept publications (its namespace must keep history: else 400, code 108). */
  history(channel: string, options?: HistoryOptions): Promise<History>;
  /** Where a sent message is, per device (404 code 102 for an unknown id; 501 with the memory store). */
  message(id: string, options?: CallOptions): Promise<MessageStatus>;
  ready(options?: CallOptions): Promise<boolean>;
  health(options?: CallOptions): Promise<Record<string, Json>>;
  metrics(options?: CallOptions): Promise<string>;
}

export declare function sign(secret: string | Buffer, body: string | Buffer, unixSeconds?: number): string;
export declare function verifySignature(
  header: string | undefined,
  body: string | Buffer,
  secrets: string | Buffer | Array<string | Buffer>,
  options?: { toleranceS?: number; nowS?: number },
): void;

export interface ConnectEvent {
  type: 'connect';
  cid?: string;
  token?: string;
  client?: Json;
  /** Only with hub.connect_at_upgrade: */
  stage?: 'upgrade';
  ip?: string;
  path?: string;
  headers?: Record<string, string>;
}
export interface RpcEvent { type: 'rpc'; cid: string; user: string; device: string; m: string; data: Json; mid?: string }
export interface SubscribeEvent { type: 'subscribe'; cid: string; user: string; device: string; ch: string }
export interface PublishEvent { type: 'publish'; cid: string; user: string; device: string; ch: string; data: Json; mid?: string }
export interface DisconnectEvent { type: 'disconnect'; cid: string; user: string; device: string }
/** An inbox receipt: a notice, retried until a 2xx and possibly repeated (key it by id and device). */
export interface InboxEvent {
  type: 'inbox.delivered' | 'inbox.acked' | 'inbox.expired' | 'inbox.undelivered';
  /** "" for a device that never connected. */
  user: string;
  device: string;
  /** The message id (SendResult.id). */
  id: string;
  /** Its seq in the device's inbox. */
  seq: number;
}
export interface ConnectIdentity {
  /** "" for anonymous. */
  user: string;
  /** The connection joins $device:ID. */
  device?: string;
  /** Channels it may subscribe to where a namespace says subscribe = "token" (not subscribed by this). */
  channels?: string[];
  /** Shown in presence. */
  info?: unknown;
  /** Unix seconds; the connection is closed with 3005 then. */
  exp?: number;
}
export interface WebhookMeta {
  /** X-Wshub-Delivery: the same on every attempt of a call. */
  deliveryId: string | undefined;
  /** X-Wshub-Attempt, 1 for the first. */
  attempt: number;
  request: IncomingMessage;
}
type Answer<T> = T | WebhookRefusal | Promise<T | WebhookRefusal>;
export interface WebhookHandlerOptions {
  secret: string | Buffer | Array<string | Buffer>;
  toleranceS?: number;
  maxBodyBytes?: number;
  nowS?: () => number;
  log?: (message: string) => void;
  connect?: (event: ConnectEvent, meta: WebhookMeta) => Answer<ConnectIdentity>;
  rpc?: (event: RpcEvent, meta: WebhookMeta) => Answer<unknown>;
  subscribe?: (event: SubscribeEvent, meta: WebhookMeta) => Answer<unknown>;
  /** undefined allows the publication as it is; any other value replaces its data. */
  publish?: (event: PublishEvent, meta: WebhookMeta) => Answer<unknown>;
  disconnect?: (event: DisconnectEvent, meta: WebhookMeta) => Answer<unknown>;
  /** inbox.delivered, inbox.acked, inbox.expired, inbox.undelivered (answered {}). */
  inbox?: (event: InboxEvent, meta: WebhookMeta) => Answer<unknown>;
  /** Types not above; the value is the answer body. */
  other?: (event: { type: string; [key: string]: Json }, meta: WebhookMeta) => Answer<unknown>;
}
export declare function createWebhookHandler(
  options: WebhookHandlerOptions,
): (request: IncomingMessage, response: ServerResponse) => Promise<void>;
export declare function refuse(code: number, message: string): WebhookRefusal;
