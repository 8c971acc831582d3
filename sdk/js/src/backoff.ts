// Reconnect delays: "full jitter" (a uniform draw up to an exponentially growing ceiling) kept
// between a floor and a cap, as docs/hub-protocol.md asks (0.5 s to 20 s; terminals up to
// 120 s). A server's `retry_after` replaces the draw.

export interface BackoffOptions {
  /** the shortest delay, ms (default 500) */
  minDelayMs?: number;
  /** the longest delay, ms (default 20000) */
  maxDelayMs?: number;
}

export class Backoff {
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
  private attempts = 0;

  constructor(options: BackoffOptions = {}, private readonly random: () => number = Math.random) {
    this.minDelayMs = Math.max(0, options.minDelayMs ?? 500);
    this.maxDelayMs = Math.max(this.minDelayMs, options.maxDelayMs ?? 20000);
  }

  /** The ceiling of the next draw: min * 2^attempts, capped at max. */
  ceiling(): number {
    const grown = this.minDelayMs * Math.pow(2, Math.min(this.attempts, 30));
    return Math.min(this.maxDelayMs, Math.max(this.minDelayMs, grown));
  }

  /** The delay before the next attempt, in [min, ceiling); counts the attempt. */
  next(): number {
    const ceiling = this.ceiling();
    this.attempts += 1;
    return Math.floor(this.minDelayMs + this.random() * (ceiling - this.minDelayMs));
  }

  /** After a connection that reached `connected`: the next failure starts from the floor. */
  reset(): void {
    this.attempts = 0;
  }
}
