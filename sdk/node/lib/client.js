'use strict';
// A client of wshub's backend HTTP API (docs/api.md) on node:http and node:https: keep-alive
// connections, a timeout per call, AbortSignal support, and the API's refusals as WshubError.
const http = require('node:http');
const https = require('node:https');
const { WshubError, WshubTransportError } = require('./errors');

/** A call's whole answer is read into memory; the largest the API gives is far under this. */
const MAX_ANSWER_BYTES = 16 * 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 10000;

class WshubClient {
  /**
   * @param {object} options
   * @param {string} options.url the API, e.g. "http://127.0.0.1:8078" ([api] listen)
   * @param {string} options.apiKey [api] key, sent as X-API-Key
   * @param {number} [options.timeoutMs] bounds each call, answer included; 10 s by default
   * @param {http.Agent} [options.agent] instead of the client's own keep-alive agent
   */
  constructor({ url, apiKey, timeoutMs = DEFAULT_TIMEOUT_MS, agent } = {}) {
    let base;
    try {
      base = new URL(url);
    } catch {
      base = undefined;
    }
    if (!base || (base.protocol !== 'http:' && base.protocol !== 'https:')) {
      throw new TypeError(`wshub: the API URL must be http://HOST:PORT or https://HOST:PORT, not ${JSON.stringify(url)}`);
    }
    if (!apiKey) throw new TypeError('wshub: the API key is empty; give [api] key');
    if (!(timeoutMs > 0)) throw new TypeError('wshub: timeoutMs must be a positive number');
    this.baseUrl = base.href.replace(/\/+$/, '');
    this.timeoutMs = timeoutMs;
    this._apiKey = apiKey;
    this._transport = base.protocol === 'https:' ? https : http;
    this._ownAgent = !agent;
    this._agent = agent || new this._transport.Agent({ keepAlive: true });
  }

  /** Closes the kept-alive connections of the client's own agent. */
  close() {
    if (this._ownAgent) this._agent.destroy();
  }

  /** POST /api/publish: every subscriber of `channel` gets `data`. Resolves {epoch, offset}. */
  publish(channel, data, { idempotencyKey, signal } = {}) {
    return this._post('/api/publish', { channel, data, idempotency_key: idempotencyKey }, signal);
  }

  /** POST /api/broadcast: `data` to each of `channels` (at most 1000). Resolves the results in order. */
  async broadcast(channels, data, { signal } = {}) {
    return (await this._post('/api/broadcast', { channels, data }, signal)).results;
  }

  /** POST /api/subscribe: every connection of `user` to `channel`. Resolves how many were subscribed. */
  async subscribe(user, channel, { signal } = {}) {
    return (await this._post('/api/subscribe', { user, channel }, signal)).subscribed;
  }

  /** POST /api/unsubscribe. Resolves how many connections were subscribed. */
  async unsubscribe(user, channel, { signal } = {}) {
    return (await this._post('/api/unsubscribe', { user, channel }, signal)).unsubscribed;
  }

  /**
   * POST /api/disconnect: every connection of exactly one of `user` or `device`, with `code`
   * (3000–4999; 3000–3499 and 4000–4499 say reconnect) and `reason`. Resolves how many closed.
   */
  async disconnect({ user, device, code, reason, signal } = {}) {
    return (await this._post('/api/disconnect', { user, device, code, reason }, signal)).disconnected;
  }

  /** GET /api/presence: resolves {clients: {CID: {user, device, info?}}, total}. */
  presence(channel, { signal } = {}) {
    return this._get('/api/presence', { channel }, signal);
  }

  /** GET /api/channels: resolves [{channel, subscribers, offset}]. */
  async channels({ signal } = {}) {
    return (await this._get('/api/channels', undefined, signal)).channels;
  }

  /** GET /api/info: resolves the hub's counters {sessions, connected, subscriptions, …}. */
  async info({ signal } = {}) {
    return (await this._get('/api/info', undefined, signal)).hub;
  }

  /**
   * POST /api/send: `data` to the inbox of one `device` or each device of a `user`; `ttl` in
   * seconds (default inbox.default_ttl_s). A repeat of `idempotencyKey` resolves the first answer and
   * queues nothing; `collapseKey` replaces a message with that key the device was never pushed.
   * Resolves {id, seq} for a device or {id, copies: [{device, seq}]} for a user. With
   * `[store] kind = "memory"` the server answers 501.
   */
  send({ user, device, data, ttl, idempotencyKey, collapseKey, signal } = {}) {
    return this._post('/api/send', { user, device, data, ttl, idempotency_key: idempotencyKey, collapse_key: collapseKey }, signal);
  }

  /**
   * GET /api/history: a channel's kept publications after `since` in `epoch`, at most `limit`.
   * Resolves {publications: [{offset, data, ts}], epoch, offset, recovered, more}.
   */
  history(channel, { epoch, since, limit, signal } = {}) {
    return this._get('/api/history', { channel, epoch, since, limit }, signal);
  }

  /**
   * GET /api/messages/{id}: resolves {id, created, states: {DEVICE: 'queued'|'delivered'|'acked'|'expired'|'replaced'}}.
   * An unknown id is a 404 (code 102); the memory store answers 501.
   */
  message(id, { signal } = {}) {
    if (!id) return Promise.reject(new TypeError('wshub: message() needs the message id'));
    return this._get(`/api/messages/${encodeURIComponent(id)}`, undefined, signal);
  }

  /** GET /ready: resolves true while the server runs, false (503) while it starts. */
  async ready({ signal } = {}) {
    try {
      return (await this._get('/ready', undefined, signal)).ready === true;
    } catch (error) {
      if (error instanceof WshubError && error.status === 503) return false;
      throw error;
    }
  }

  /** GET /health: resolves the server's health JSON. */
  health({ signal } = {}) {
    return this._get('/health', undefined, signal);
  }

  /** GET /metrics: resolves the Prometheus text. */
  async metrics({ signal } = {}) {
    return (await this._request('GET', '/metrics', undefined, signal)).toString('utf8');
  }

  _post(path, body, signal) {
    return this._json('POST', path, Buffer.from(JSON.stringify(body)), signal);
  }

  _get(path, query, signal) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query || {})) {
      if (value !== undefined && value !== null) params.set(key, String(value));
    }
    const search = params.toString();
    return this._json('GET', search ? `${path}?${search}` : path, undefined, signal);
  }

  async _json(method, target, body, signal) {
    const text = await this._request(method, target, body, signal);
    try {
      return JSON.parse(text.toString('utf8'));
    } catch (cause) {
      throw new WshubTransportError({ method, path: pathOf(target), message: 'the answer is not JSON', cause });
    }
  }

  /** Sends one request; resolves the body of a 200, rejects with WshubError or WshubTransportError. */
  _request(method, target, body, signal) {
    const path = pathOf(target);
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(new WshubTransportError({ method, path, message: 'aborted before it was sent', aborted: true, cause: signal.reason }));
        return;
      }
      const headers = { 'x-api-key': this._apiKey };
      if (body) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = String(body.length);
      }
      let settled = false;
      const finish = (error, value) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else resolve(value);
      };
      const request = this._transport.request(this.baseUrl + target, { method, headers, agent: this._agent }, (response) => {
        const chunks = [];
        let size = 0;
        response.on('data', (chunk) => {
          size += chunk.length;
          if (size > MAX_ANSWER_BYTES) {
            request.destroy();
            finish(new WshubTransportError({ method, path, message: `the answer is larger than ${MAX_ANSWER_BYTES} bytes` }));
          } else {
            chunks.push(chunk);
          }
        });
        response.on('error', (cause) => finish(new WshubTransportError({ method, path, message: cause.message, cause })));
        response.on('end', () => {
          const text = Buffer.concat(chunks);
          if (response.statusCode === 200) finish(null, text);
          else finish(refusalFrom(method, path, response.statusCode, text));
        });
      });
      const timer = setTimeout(() => {
        finish(new WshubTransportError({ method, path, message: `no answer within ${this.timeoutMs} ms`, timedOut: true }));
        request.destroy();
      }, this.timeoutMs);
      const onAbort = () => {
        finish(new WshubTransportError({ method, path, message: 'aborted', aborted: true, cause: signal.reason }));
        request.destroy();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      request.on('error', (cause) => finish(new WshubTransportError({ method, path, message: cause.message, cause })));
      request.end(body);
    });
  }
}

function pathOf(target) {
  return target.split('?')[0];
}

/** Reads {"error":{"code","message"}}; a body without it (plain text errors) becomes the message. */
function refusalFrom(method, path, status, text) {
  try {
    const { error } = JSON.parse(text.toString('utf8'));
    if (error && typeof error === 'object') {
      return new WshubError({ status, code: Number(error.code) || 0, message: String(error.message ?? ''), method, path });
    }
  } catch {
    // not JSON: the HTTP layer's plain text, handled below
  }
  const message = text.toString('utf8').trim() || http.STATUS_CODES[status] || `HTTP ${status}`;
  return new WshubError({ status, code: 0, message, method, path });
}

module.exports = { WshubClient, DEFAULT_TIMEOUT_MS };
