// The client's requests waiting for answers: ids (whole numbers from 1, unique while waiting),
// one timeout per request counted from the call, requests queued while there is no connection,
// and the `ok`/`err` answers matched back to their promises. Knows nothing of sockets: it sends
// through the `write` function it is given.

import type { Clock } from './clock.js';
import { DisconnectedError, ServerError, TimeoutError } from './errors.js';

export type Answer = Record<string, unknown>;

interface Waiting {
  frame: Record<string, unknown>;
  resolve(answer: Answer): void;
  reject(error: unknown): void;
  timer: unknown;
}

export class RequestTable {
  private readonly sent = new Map<number, Waiting>();
  private queued: Waiting[] = [];
  private nextId = 1;

  constructor(
    private readonly clock: Clock,
    private readonly write: (frame: Record<string, unknown>) => boolean,
  ) {}

  /**
   * Sends `frame` now (`sendNow`) or when `flush` is next called; rejects with TimeoutError
   * after `timeoutMs` from now either way.
   */
  call(frame: Record<string, unknown>, what: string, timeoutMs: number, sendNow: boolean): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const waiting: Waiting = { frame, resolve, reject, timer: undefined };
      waiting.timer = this.clock.setTimeout(() => {
        this.queued = this.queued.filter((w) => w !== waiting);
        for (const [id, w] of this.sent) if (w === waiting) this.sent.delete(id);
        reject(new TimeoutError(what, timeoutMs));
      }, timeoutMs);
      if (sendNow) this.send(waiting);
      else this.queued.push(waiting);
    });
  }

  /** Sends the queued requests, in the order they were made. */
  flush(): void {
    const queued = this.queued;
    this.queued = [];
    for (const waiting of queued) this.send(waiting);
  }

  /** An `ok` or `err` answer: settles its request. False when no request waits for the id. */
  answer(m: Answer): boolean {
    const waiting = typeof m.id === 'number' ? this.sent.get(m.id) : undefined;
    if (!waiting) return false; // timed out already, or not ours
    this.sent.delete(m.id as number);
    this.clock.clearTimeout(waiting.timer);
    if (m.t === 'ok') waiting.resolve(m);
    else waiting.reject(new ServerError(Number(m.code), String(m.msg ?? ''), m.retry === true));
    return true;
  }

  /** The connection ended: the requests sent on it reject; the queued ones keep waiting. */
  connectionLost(code: number, reason: string): void {
    const sent = [...this.sent.values()];
    this.sent.clear();
    for (const waiting of sent) {
      this.clock.clearTimeout(waiting.timer);
      waiting.reject(new DisconnectedError('disconnected', code, reason));
    }
  }

  /** The client closed for good: everything rejects. */
  closeAll(code: number, reason: string): void {
    const all = [...this.sent.values(), ...this.queued];
    this.sent.clear();
    this.queued = [];
    for (const waiting of all) {
      this.clock.clearTimeout(waiting.timer);
      waiting.reject(new DisconnectedError('closed', code, reason));
    }
  }

  private send(waiting: Waiting): void {
    const id = this.nextId;
    this.nextId = id >= Number.MAX_SAFE_INTEGER ? 1 : id + 1;
    this.sent.set(id, waiting);
    this.write({ ...waiting.frame, id });
  }
}
