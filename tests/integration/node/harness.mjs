// Starts the real wshub binary ($WSHUB_BIN) on 127.0.0.1:<ephemeral> for the node tests and
// stops it by PID with SIGTERM. Knows only wshub's command line and its "listening on" lines
// (the WebSocket listener's, and the API's when the config has an [api] table).
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function wshubBinary() {
  const path = process.env.WSHUB_BIN;
  if (!path) throw new Error('set WSHUB_BIN to the wshub binary under test');
  return path;
}

export class Wshub {
  constructor({ config, threads = 1 } = {}) {
    this.config = config;
    this.threads = threads;
    this.log = '';
    this.port = undefined;
    this.apiPort = undefined;
  }

  async start(timeoutMs = 20000) {
    this.dir = mkdtempSync(join(tmpdir(), 'wshub-node-'));
    const args = ['--listen', '127.0.0.1:0', '--threads', String(this.threads)];
    if (this.config !== undefined) {
      const path = join(this.dir, 'wshub.toml');
      writeFileSync(path, this.config);
      args.push('--config', path);
    }
    // Its own directory as the working one: a run without a config opens wshub.db there.
    this.process = spawn(wshubBinary(), args, { cwd: this.dir, stdio: ['ignore', 'ignore', 'pipe'] });
    this.exited = new Promise((resolve) => {
      this.process.on('exit', (code, signal) => resolve(code ?? `signal ${signal}`));
    });
    this.process.stderr.setEncoding('utf8');
    this.process.stderr.on('data', (chunk) => { this.log += chunk; });
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const match = /listening on 127\.0\.0\.1:(\d+) (?!\(API)/.exec(this.log);
      const api = /listening on 127\.0\.0\.1:(\d+) \(API/.exec(this.log);
      const wantsApi = this.config !== undefined && /^\s*\[api\]/m.test(this.config);
      if (match && (api || !wantsApi)) {
        this.port = Number(match[1]);
        this.apiPort = api ? Number(api[1]) : undefined;
        return this;
      }
      if (this.process.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    this.process.kill('SIGKILL');
    throw new Error(`wshub did not start listening; stderr:\n${this.log}`);
  }

  url(path) {
    return `ws://127.0.0.1:${this.port}${path}`;
  }

  // SIGTERM to this process only; resolves to its exit code (or 'timeout').
  async stop(timeoutMs = 30000) {
    if (this.process.exitCode === null && this.process.signalCode === null) {
      this.process.kill('SIGTERM');
    }
    let timer;
    const timeout = new Promise((resolve) => { timer = setTimeout(() => resolve('timeout'), timeoutMs); });
    const code = await Promise.race([this.exited, timeout]);
    clearTimeout(timer);
    if (code === 'timeout') this.process.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
    return code;
  }
}

// Resolves with the next event `name` on an EventEmitter or EventTarget, or rejects on error,
// on an unexpected close, or after `timeoutMs`.
export function next(socket, name, timeoutMs = 30000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { cleanup(); reject(new Error(`no '${name}' within ${timeoutMs} ms`)); }, timeoutMs);
    const onEvent = (...args) => { cleanup(); resolve(args.length > 1 ? args : args[0]); };
    const onError = (e) => { cleanup(); reject(e instanceof Error ? e : new Error(`error event: ${e?.message ?? e}`)); };
    const onClose = (...args) => { cleanup(); reject(new Error(`closed while waiting for '${name}': ${args.map(String).join(' ')}`)); };
    const target = socket;
    const on = target.on ? (n, f) => target.on(n, f) : (n, f) => target.addEventListener(n, f);
    const off = target.off ? (n, f) => target.off(n, f) : (n, f) => target.removeEventListener(n, f);
    function cleanup() {
      clearTimeout(timer);
      off(name, onEvent);
      if (name !== 'error') off('error', onError);
      if (name !== 'close') off('close', onClose);
    }
    on(name, onEvent);
    if (name !== 'error') on('error', onError);
    if (name !== 'close') on('close', onClose);
  });
}
