// Starts the real wshub binary ($WSHUB_BIN) for the SDK's server tests, on loopback ports it
// picks itself (or fixed ones, to restart on the same address), reads the ports from its
// "listening on" lines, and stops it by PID. Also: HS256 tokens signed with node:crypto (not
// with wshub's code), the backend API, a self-signed certificate made with the openssl CLI, and
// a webhook backend in this process.
import { spawn, execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync, rmSync, readFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const JWT_SECRET = 'sdk-js-test-secret-of-at-least-32-bytes';
export const API_KEY = 'sdk-js-api-key';
export const WEBHOOK_SECRET = 'sdk-js-webhook-secret';

export function wshubBinary() {
  const path = process.env.WSHUB_BIN;
  if (!path) throw new Error('set WSHUB_BIN to the wshub binary under test');
  return path;
}

export function tempDir(prefix = 'wshub-sdk-js-') {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** An HS256 JWT for `claims` (exp in seconds, as JWT wants). */
export function token(claims, secret = JWT_SECRET) {
  const part = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

/** A token for `user` that expires `ttlS` seconds from now. */
export function tokenFor(user, ttlS = 3600, extra = {}) {
  return token({ sub: user, exp: Math.floor(Date.now() / 1000) + ttlS, ...extra });
}

/** A self-signed certificate for 127.0.0.1 and localhost: { cert, key, pem }. */
export function selfSignedCert(dir) {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
  return { cert, key, pem: readFileSync(cert) };
}

/**
 * The hub config the tests share: one plain listener (and one TLS listener with `tls`), the API,
 * HS256 tokens, namespace "" open to clients with presence, and an rpc webhook at `webhookUrl`.
 */
export function hubConfig({ wsPort = 0, wssPort = 0, apiPort = 0, tls, webhookUrl, hub = '' } = {}) {
  return `[server]
log_level = "info"
[[listen]]
address = "127.0.0.1:${wsPort}"
${tls ? `[[listen]]\naddress = "127.0.0.1:${wssPort}"\ntls = { cert = "${tls.cert}", key = "${tls.key}" }\n` : ''}[api]
listen = "127.0.0.1:${apiPort}"
key = "${API_KEY}"
[hub]
${hub}
[[hub.namespace]]
name = ""
subscribe = "authenticated"
publish = "subscribers"
presence = true
[hub.jwt]
keys = [{ alg = "HS256", secret = "${JWT_SECRET}" }]
leeway_s = 0
${webhookUrl ? `[[webhook]]\nname = "backend"\nurl = "${webhookUrl}"\nsecret = "${WEBHOOK_SECRET}"\nevents = ["rpc"]\ntimeout_ms = 2000\n` : ''}`;
}

export class Wshub {
  constructor(config, { threads = 1 } = {}) {
    this.config = config;
    this.threads = threads;
    this.log = '';
    this.ports = {};
  }

  async start(timeoutMs = 20000) {
    this.dir = tempDir('wshub-sdk-js-server-');
    const path = join(this.dir, 'wshub.toml');
    writeFileSync(path, this.config);
    this.process = spawn(wshubBinary(), ['--config', path, '--threads', String(this.threads)],
      { stdio: ['ignore', 'ignore', 'pipe'] });
    this.exited = new Promise((resolve) => this.process.on('exit', (code, signal) => resolve(code ?? signal)));
    this.process.stderr.setEncoding('utf8');
    this.process.stderr.on('data', (chunk) => { this.log += chunk; });
    const deadline = Date.now() + timeoutMs;
    const wantsTls = /tls = \{/.test(this.config);
    while (Date.now() < deadline) {
      const ws = /listening on 127\.0\.0\.1:(\d+) \(ws;/.exec(this.log);
      const wss = /listening on 127\.0\.0\.1:(\d+) \(wss, TLS;/.exec(this.log);
      const api = /listening on 127\.0\.0\.1:(\d+) \(API/.exec(this.log);
      if (ws && api && (wss || !wantsTls)) {
        this.ports = { ws: Number(ws[1]), wss: wss ? Number(wss[1]) : undefined, api: Number(api[1]) };
        return this;
      }
      if (this.process.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    this.process.kill('SIGKILL');
    throw new Error(`wshub did not start listening; stderr:\n${this.log}`);
  }

  url(path = '/hub') {
    return `ws://127.0.0.1:${this.ports.ws}${path}`;
  }

  wssUrl(path = '/hub') {
    return `wss://127.0.0.1:${this.ports.wss}${path}`;
  }

  /** Sends `signal` to this process only and waits for it to exit. */
  async stop(signal = 'SIGTERM', timeoutMs = 20000) {
    if (this.process.exitCode === null && this.process.signalCode === null) this.process.kill(signal);
    let timer;
    const code = await Promise.race([this.exited, new Promise((r) => { timer = setTimeout(() => r('timeout'), timeoutMs); })]);
    clearTimeout(timer);
    if (code === 'timeout') this.process.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
    return code;
  }

  /** POSTs `body` to the backend API (or GETs `path` when `body` is undefined); resolves { status, body }. */
  api(path, body) {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers = { authorization: `Bearer ${API_KEY}` };
    if (data) Object.assign(headers, { 'content-type': 'application/json', 'content-length': data.length });
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: this.ports.api, path, method: data ? 'POST' : 'GET', headers },
      (res) => {
        let text = '';
        res.on('data', (chunk) => { text += chunk; });
        res.on('end', () => resolve({ status: res.statusCode, body: text ? JSON.parse(text) : undefined }));
      });
      req.on('error', reject);
      req.end(data);
    });
  }
}

/**
 * A webhook backend on 127.0.0.1:0 in this process. `answer(body)` returns the JSON to send;
 * rpc bodies are recorded in `calls`. (Signatures are wshub's business, tested elsewhere.)
 */
export async function startBackend(answer) {
  const calls = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk) => { text += chunk; });
    req.on('end', () => {
      const body = JSON.parse(text);
      calls.push(body);
      const reply = JSON.stringify(answer(body) ?? {});
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(reply) });
      res.end(reply);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/hook`,
    calls,
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(() => resolve()); }),
  };
}

/** Resolves when `predicate()` holds, polling; rejects after `timeoutMs` naming `what`. */
export async function until(predicate, what, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
