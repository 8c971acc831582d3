'use strict';
// A request handler for http.createServer (or Express, mounted before any body parser) that
// takes wshub's webhook calls: it reads the raw body, verifies X-Wshub-Signature, hands the
// decoded body to the function for its type, and writes the answer wshub reads
// (docs/hub-protocol.md, "Webhook bodies").
const { verifySignature, DEFAULT_TOLERANCE_S } = require('./signature');
const { SignatureError, WebhookRefusal } = require('./errors');

const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** A refusal to return (or throw) from a webhook function. */
function refuse(code, message) {
  return new WebhookRefusal(code, message);
}

/** How each type's function result becomes the answer body. */
const ANSWERS = {
  connect: (identity) => ({ result: identity }),
  rpc: (data) => ({ data: data === undefined ? null : data }),
  subscribe: () => ({}),
  // undefined: allowed as it is; anything else (null included) replaces the data.
  publish: (data) => (data === undefined ? {} : { result: { data } }),
  disconnect: () => ({}),
};

/** The inbox receipts (docs/webhooks.md, "Inbox notices"): one `inbox` function takes them all. */
const INBOX_TYPES = new Set(['inbox.delivered', 'inbox.acked', 'inbox.expired', 'inbox.undelivered']);

class HttpProblem extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function readBody(request, limit) {
  if (Buffer.isBuffer(request.body)) return Promise.resolve(request.body);
  if (request.readableEnded) {
    return Promise.reject(new HttpProblem(500, 'the body was already read (a JSON body parser?): mount the webhook handler before it'));
  }
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    request.on('data', (chunk) => {
      size += chunk.length;
      if (size > limit) {
        reject(new HttpProblem(413, `the body is larger than ${limit} bytes`));
        request.pause();
      } else {
        chunks.push(chunk);
      }
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', (error) => reject(new HttpProblem(400, `reading the body: ${error.message}`)));
  });
}

/**
 * @param {object} options
 * @param {string|Buffer|Array<string|Buffer>} options.secret the [[webhook]] secret; several while rotating
 * @param {number} [options.toleranceS] how far t may be from this clock; 300 s
 * @param {number} [options.maxBodyBytes] 1 MiB
 * @param {() => number} [options.nowS] the clock, Unix seconds
 * @param {(message: string) => void} [options.log] refused calls and failures; console.warn
 * @param {Function} [options.connect] (event, meta) => identity {user, device?, channels?, info?, exp?}
 * @param {Function} [options.rpc] (event, meta) => data
 * @param {Function} [options.subscribe] (event, meta) => anything: allowed
 * @param {Function} [options.publish] (event, meta) => undefined (allowed) or replacement data
 * @param {Function} [options.disconnect] (event, meta) => anything
 * @param {Function} [options.inbox] (event, meta) => anything, for the receipts inbox.delivered, inbox.acked,
 *   inbox.expired and inbox.undelivered: event {type, user, device, id, seq}; notices, retried until a 2xx
 *   and possibly repeated, so key them by id and device
 * @param {Function} [options.other] (event, meta) => the answer body, for types not above
 * Each function may be async; meta is {deliveryId, attempt, request}. Throw or return a
 * WebhookRefusal to refuse; any other throw is answered 500 (the client gets 116; a
 * disconnect notice is retried). A type without a function is answered 404.
 * @returns {(request: import('node:http').IncomingMessage, response: import('node:http').ServerResponse) => Promise<void>}
 */
function createWebhookHandler(options = {}) {
  const secrets = Array.isArray(options.secret) ? options.secret : [options.secret];
  if (secrets.length === 0 || secrets.some((s) => !s || s.length === 0)) {
    throw new TypeError('wshub: createWebhookHandler needs the [[webhook]] secret');
  }
  const toleranceS = options.toleranceS ?? DEFAULT_TOLERANCE_S;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const log = options.log ?? ((message) => console.warn(message));

  const fail = (request, response, status, message) => {
    log(`wshub webhook from ${request.socket?.remoteAddress} answered ${status}: ${message}`);
    if (response.headersSent) return response.end();
    const headers = { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(message) };
    if (status === 405) headers.allow = 'POST';
    if (status === 413) headers.connection = 'close';
    response.writeHead(status, headers);
    response.end(message);
  };

  return async function wshubWebhookHandler(request, response) {
    try {
      if (request.method !== 'POST') throw new HttpProblem(405, 'wshub POSTs its webhooks');
      const body = await readBody(request, maxBodyBytes);
      try {
        verifySignature(request.headers['x-wshub-signature'], body, secrets, {
          toleranceS, nowS: options.nowS ? options.nowS() : Date.now() / 1000,
        });
      } catch (error) {
        if (error instanceof SignatureError) throw new HttpProblem(401, error.message);
        throw error;
      }
      let event;
      try {
        event = JSON.parse(body.toString('utf8'));
      } catch {
        event = undefined;
      }
      if (!event || typeof event !== 'object' || Array.isArray(event) || typeof event.type !== 'string') {
        throw new HttpProblem(400, 'the body is not a JSON object with a type');
      }
      const known = Object.hasOwn(ANSWERS, event.type);
      const receipt = INBOX_TYPES.has(event.type) && typeof options.inbox === 'function';
      if (receipt && (typeof event.id !== 'string' || !Number.isSafeInteger(event.seq) || typeof event.device !== 'string')) {
        throw new HttpProblem(400, `the ${event.type} body needs id (a string), device (a string) and seq (an integer)`);
      }
      const handler = known ? options[event.type] : receipt ? options.inbox : options.other;
      if (typeof handler !== 'function') throw new HttpProblem(404, `this backend does not take ${event.type} webhooks`);
      const meta = {
        deliveryId: request.headers['x-wshub-delivery'],
        attempt: Number(request.headers['x-wshub-attempt']) || 0,
        request,
      };
      let answer;
      try {
        const value = await handler(event, meta);
        if (value instanceof WebhookRefusal) throw value;
        answer = known ? ANSWERS[event.type](value) : receipt ? {} : value ?? {};
      } catch (error) {
        if (!(error instanceof WebhookRefusal)) throw new HttpProblem(500, `${event.type} webhook failed: ${error?.message ?? error}`);
        answer = { error: { code: error.code, message: error.message } };
      }
      const text = JSON.stringify(answer);
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      response.end(text);
    } catch (error) {
      if (error instanceof HttpProblem) fail(request, response, error.status, error.message);
      else fail(request, response, 500, `the webhook handler failed: ${error?.message ?? error}`);
    }
  };
}

module.exports = { createWebhookHandler, refuse };
