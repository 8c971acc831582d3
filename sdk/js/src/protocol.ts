// The frames of hub protocol v1 (docs/hub-protocol.md) as TypeScript types, and the rules the
// client derives from its codes. Field names are the protocol's own; nothing here does I/O.

/** The subprotocol a hub route serves; the client always offers it. */
export const SUBPROTOCOL = 'wshub.v1.json';

/** A position in a channel: its epoch and the offset of the last publication seen. */
export interface StreamPosition {
  ep: string;
  off: number;
}

/** A publication as `pub` pushes and `subscribe` answers' `pubs` carry it. */
export interface Publication {
  ch: string;
  off: number;
  data: unknown;
  /** ms since the Unix epoch, when the hub took the publication */
  ts: number;
}

/** The fields of a `subscribe` answer (and of each entry of a `connect` answer's `subs`). */
export interface SubscribeAnswer {
  ep: string;
  off: number;
  rec: boolean;
  pubs: Array<{ off: number; data: unknown; ts: number }>;
  more: boolean;
}

export interface ConnectAnswer {
  cid: string;
  user: string;
  device: string;
  hb: { iv: number; to: number };
  /** ms since the Unix epoch; absent when the identity has none */
  exp?: number;
  subs?: Record<string, SubscribeAnswer | { err: { code: number; msg: string } }>;
  /** for an identity with a device (SQLite store); `{err}` when the store could not open it */
  inbox?: { ep: string; head: number; pending: number };
}

export interface PublishAnswer {
  off: number;
  ep: string;
  dup: boolean;
}

export interface PresenceAnswer {
  clients: Record<string, { user: string; device: string; info?: unknown }>;
  total: number;
}

/** An inbox message (`msg` push). */
export interface InboxMessage {
  seq: number;
  id: string;
  data: unknown;
  ts: number;
  exp?: number;
}

export interface JoinLeave {
  ch: string;
  cid: string;
  user: string;
  device: string;
}

/** `disconnect` push: sent before every close of a connected session the server starts. */
export interface DisconnectPush {
  code: number;
  reason: string;
  /** ms; wins over the client's own backoff when present */
  retry_after?: number;
}

/** Error codes (`err.code`) the hub defines; 1000 and up belong to the application. */
export const ErrorCode = {
  internal: 100,
  unauthorized: 101,
  unknownChannel: 102,
  permissionDenied: 103,
  methodNotFound: 104,
  alreadySubscribed: 105,
  limitExceeded: 106,
  badRequest: 107,
  notAvailable: 108,
  tokenExpired: 109,
  tooManyRequests: 111,
  unrecoverablePosition: 112,
  tooLarge: 114,
  inboxFull: 115,
  backendUnavailable: 116,
} as const;

/** Whether an error code says "the same request may succeed later" (the protocol's `retry`). */
export function errorIsRetryable(code: number): boolean {
  return code === ErrorCode.internal || code === ErrorCode.tooManyRequests
    || code === ErrorCode.inboxFull || code === ErrorCode.backendUnavailable;
}

/** Close codes the client treats specially. */
export const CloseCode = {
  tokenExpired: 3005,
  replaced: 3520,
} as const;

/**
 * Whether a close code means "reconnect". The protocol: 3000-3499 and 4000-4499 reconnect,
 * 3500-3999 and 4500-4999 do not. Codes below 3000 are the WebSocket layer's (network loss
 * 1006, idle 1001, size limits): the client reconnects after them.
 */
export function closeAllowsReconnect(code: number): boolean {
  if (code >= 3500 && code <= 3999) return false;
  if (code >= 4500 && code <= 4999) return false;
  return true;
}
