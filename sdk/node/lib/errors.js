'use strict';
// The errors the client and the webhook helpers throw, and the hub's error codes
// (docs/hub-protocol.md, "Codes"). Nothing here does I/O.

/** The hub's error codes; application codes are 1000 and up. */
const Codes = Object.freeze({
  INTERNAL: 100,
  UNAUTHORIZED: 101,
  UNKNOWN_CHANNEL: 102,
  PERMISSION_DENIED: 103,
  METHOD_NOT_FOUND: 104,
  ALREADY_SUBSCRIBED: 105,
  LIMIT_EXCEEDED: 106,
  BAD_REQUEST: 107,
  NOT_AVAILABLE: 108,
  TOKEN_EXPIRED: 109,
  TOO_MANY_REQUESTS: 111,
  UNRECOVERABLE_POSITION: 112,
  TOO_LARGE: 114,
  INBOX_FULL: 115,
  BACKEND_UNAVAILABLE: 116,
  TIMEOUT: 504,
});

const RETRYABLE_CODES = new Set([Codes.INTERNAL, Codes.TOO_MANY_REQUESTS, Codes.INBOX_FULL, Codes.BACKEND_UNAVAILABLE]);

/**
 * The API's refusal: the HTTP status and its {"error":{"code","message"}}. Errors of the HTTP
 * framing (413, 431, …) come as plain text: `code` is 0 and `message` holds that text.
 */
class WshubError extends Error {
  constructor({ status, code, message, method, path }) {
    super(`wshub: ${method} ${path}: HTTP ${status}, code ${code}: ${message}`);
    this.name = 'WshubError';
    /** @type {number} */ this.status = status;
    /** @type {number} */ this.code = code;
    /** @type {string} the server's sentence */ this.serverMessage = message;
    /** @type {string} */ this.method = method;
    /** @type {string} */ this.path = path;
  }

  /**
   * Whether the same request may succeed if sent again later: the hub was overloaded, could
   * not reach a broker or a backend, or did not answer in time. Not for a refusal of the
   * request itself, nor for 501 (send and messages with the memory store). A publish or send
   * without an idempotency key retried after a 504 may be delivered twice.
   */
  get retryable() {
    if (RETRYABLE_CODES.has(this.code)) return true;
    if (this.status === 408 || this.status === 429) return true;
    if (this.status === 501) return false;
    return this.status >= 500;
  }

  /** 501: send and messages on a server with `[store] kind = "memory"` (no device inbox). */
  get notImplemented() {
    return this.status === 501;
  }
}

/**
 * A request that got no answer: the connection failed or broke, the client's timeout passed,
 * the caller aborted it, or the answer was not the expected JSON. `retryable` is false only
 * for an abort by the caller.
 */
class WshubTransportError extends Error {
  constructor({ method, path, message, cause, timedOut = false, aborted = false }) {
    super(`wshub: ${method} ${path}: ${message}`, cause ? { cause } : undefined);
    this.name = 'WshubTransportError';
    this.method = method;
    this.path = path;
    /** @type {boolean} the client's timeoutMs passed */ this.timedOut = timedOut;
    /** @type {boolean} the caller's AbortSignal fired */ this.aborted = aborted;
  }

  get retryable() {
    return !this.aborted;
  }
}

/** Why a webhook signature was refused: `reason` is one of the four below. */
class SignatureError extends Error {
  constructor(reason, message) {
    super(message);
    this.name = 'SignatureError';
    /** @type {'missing'|'malformed'|'outside_tolerance'|'mismatch'} */ this.reason = reason;
  }
}

/**
 * A webhook handler's "no": throw it (or return refuse(...)'s value) and wshub passes `code`
 * and `message` on to the client; a connect is then closed with 3502. Any other error thrown by
 * a handler is answered 500, which the client sees as 116 "backend unavailable".
 */
class WebhookRefusal extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'WebhookRefusal';
    if (!Number.isInteger(code) || code < 1 || code > 65535) {
      throw new RangeError(`a refusal's code is a whole number from 1 to 65535, not ${code}`);
    }
    this.code = code;
  }
}

/** Whether `error`, thrown by a client method, is worth retrying (see the two `retryable`s). */
function isRetryable(error) {
  return (error instanceof WshubError || error instanceof WshubTransportError) && error.retryable;
}

module.exports = { Codes, WshubError, WshubTransportError, SignatureError, WebhookRefusal, isRetryable };
