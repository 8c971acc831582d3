// Refreshing the connection's token before its `exp` without reconnecting: a timer set from
// each `connect`/`refresh` answer's exp, getToken for the new token, a `refresh` request, and a
// retry while time remains when either fails. At exp without a refresh the server closes with
// 3005 and the client reconnects with a fresh token anyway, so a failed refresh costs little.

import type { Clock } from './clock.js';
import { ServerError, WshubError } from './errors.js';
import { ErrorCode } from './protocol.js';

/** The shortest wait before a refresh, whatever exp says (see `schedule`). */
const MIN_REFRESH_DELAY_MS = 1000;

export interface TokenRefreshHost {
  clock: Clock;
  getToken: () => string | Promise<string>;
  /** refresh this long before exp, at most half the remaining life */
  marginMs: number;
  /** sends `{t: 'refresh', token}` on the current connection */
  sendRefresh(token: string): Promise<Record<string, unknown>>;
  /** a new token was fetched (kept for the next connect) */
  tokenFetched(token: string): void;
  /** the server accepted it: the connection's new exp */
  refreshed(exp: number | undefined): void;
  reportError(error: unknown): void;
}

export class TokenRefresh {
  private timer: unknown;
  // Bumped by cancel(): work started for an earlier connection stops at its next step.
  private round = 0;

  constructor(private readonly host: TokenRefreshHost) {}

  /** Plans the refresh for a connection whose token expires at `exp` (server ms). */
  schedule(exp: number | undefined): void {
    this.host.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (exp === undefined) return;
    const remaining = exp - this.host.clock.now();
    const margin = Math.min(this.host.marginMs, remaining / 2);
    const round = this.round;
    // exp is the server's clock and now() this device's: a clock far ahead would see every token
    // as expired and refresh in a loop. The floor bounds that to one refresh a second.
    this.timer = this.host.clock.setTimeout(() => {
      if (round === this.round) void this.refresh(exp);
    }, Math.max(MIN_REFRESH_DELAY_MS, remaining - margin));
  }

  /** The connection ended: nothing more for it. */
  cancel(): void {
    this.round += 1;
    this.host.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async refresh(exp: number): Promise<void> {
    const round = this.round;
    let token: string;
    try {
      token = await this.host.getToken();
    } catch (error) {
      if (round === this.round) this.retryLater(exp, new WshubError('token', `getToken failed: ${describe(error)}`));
      return;
    }
    if (round !== this.round) return;
    this.host.tokenFetched(token);
    try {
      const answer = await this.host.sendRefresh(token);
      if (round !== this.round) return;
      const newExp = answer.exp as number | undefined;
      this.host.refreshed(newExp);
      this.schedule(newExp);
    } catch (error) {
      if (round !== this.round) return;
      if (error instanceof ServerError && error.code === ErrorCode.notAvailable) return; // no JWTs here
      this.retryLater(exp, error);
    }
  }

  private retryLater(exp: number, error: unknown): void {
    this.host.reportError(error);
    const remaining = exp - this.host.clock.now();
    if (remaining <= 2000) return;
    const round = this.round;
    this.timer = this.host.clock.setTimeout(() => {
      if (round === this.round) void this.refresh(exp);
    }, Math.min(5000, remaining / 2));
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
