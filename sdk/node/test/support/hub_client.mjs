// A hub client for the server tests: sdk/testing/hub_client.py (python3-websockets; Node 18 has
// no WebSocket client and this package takes no dependency), one JSON frame a line each way.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const hubClientScript = fileURLToPath(new URL('../../../testing/hub_client.py', import.meta.url));

/** Drives hub_client.py: send() writes a frame, next(t) resolves the next frame of type t. */
export class HubClient {
  constructor(url) {
    const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
    this.process = spawn(python, [hubClientScript, url], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.frames = [];
    this.waiters = [];
    this.ended = new Promise((resolve) => this.process.on('exit', resolve));
    createInterface({ input: this.process.stdout }).on('line', (line) => {
      const frame = JSON.parse(line);
      if (frame.t === 'ping') return;
      this.frames.push(frame);
      this.waiters.shift()?.();
    });
  }

  send(frame) {
    this.process.stdin.write(`${JSON.stringify(frame)}\n`);
  }

  async next(type, timeoutMs = 15000) {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length === 0) {
      if (Date.now() > deadline) throw new Error(`no ${type} frame within ${timeoutMs} ms`);
      await new Promise((resolve) => { this.waiters.push(resolve); setTimeout(resolve, 100); });
    }
    const frame = this.frames.shift();
    assert.equal(frame.t, type, `got ${JSON.stringify(frame)} while waiting for ${type}`);
    return frame;
  }

  async close() {
    this.process.stdin.end();
    await this.ended;
  }
}
