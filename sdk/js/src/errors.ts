// Typed errors: every promise the client returns rejects with one of these, so that application
// code can tell a server's refusal (with its protocol code) from a timeout or a lost connection.

export type WshubErrorKind = 'server' | 'timeout' | 'disconnected' | 'closed' | 'transport' | 'token';

export class WshubError extends Error {
  readonly kind: WshubErrorKind;
  constructor(kind: WshubErrorKind, message: string) {
    super(message);
    this.name = 'WshubError';
    this.kind = kind;
  }
}

/** The hub answered `err`: `code` is the protocol's (or the backend's, 1000 and up). */
export class ServerError extends WshubError {
  readonly code: number;
  /** true when sending the same request again later may succeed (100, 111, 115, 116) */
  readonly retry: boolean;
  constructor(code: number, msg: string, retry: boolean) {
    super('server', msg);
    this.name = 'ServerError';
    this.code = code;
    this.retry = retry;
  }
}

/** No answer within the request's timeout. The request may still have run on the server. */
export class TimeoutError extends WshubError {
  constructor(what: string, ms: number) {
    super('timeout', `${what}: no answer within ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

/**
 * The connection ended while the request waited for its answer (it may or may not have run), or
 * the client was closed for good (`kind` 'closed') before it could be sent.
 */
export class DisconnectedError extends WshubError {
  readonly code: number;
  constructor(kind: 'disconnected' | 'closed', code: number, reason: string) {
    super(kind, reason || `connection closed with ${code}`);
    this.name = 'DisconnectedError';
    this.code = code;
  }
}

/**
 * The transport could not open a connection. `fatal` errors will not go away by retrying (a
 * ws:// URL where only wss:// is allowed); the others may (WeChat's five-socket limit).
 */
export class TransportError extends WshubError {
  readonly fatal: boolean;
  constructor(message: string, fatal: boolean) {
    super('transport', message);
    this.name = 'TransportError';
    this.fatal = fatal;
  }
}
