// Reconnect delays: "full jitter" (a uniform draw up to an exponentially growing ceiling) kept
// between a floor and a cap, as docs/hub-protocol.md asks (0.5 s to 20 s; terminals up to
// 120 s). A server's retry_after replaces the draw; that is the client's business, not this one's.
package io.wshub.client;

import java.util.Random;

final class Backoff {
    final long minDelayMs;
    final long maxDelayMs;
    private final Random random;
    private int attempts;

    Backoff(long minDelayMs, long maxDelayMs, Random random) {
        this.minDelayMs = Math.max(0, minDelayMs);
        this.maxDelayMs = Math.max(this.minDelayMs, maxDelayMs);
        this.random = random;
    }

    /** The ceiling of the next draw: min * 2^attempts, capped at max. */
    long ceiling() {
        double grown = minDelayMs * Math.pow(2, Math.min(attempts, 30));
        return (long) Math.min(maxDelayMs, Math.max(minDelayMs, grown));
    }

    /** The delay before the next attempt, in [min, ceiling); counts the attempt. */
    long next() {
        long ceiling = ceiling();
        attempts += 1;
        return minDelayMs + (long) Math.floor(random.nextDouble() * (ceiling - minDelayMs));
    }

    /** After a connection that reached connected: the next failure starts from the floor. */
    void reset() {
        attempts = 0;
    }

    /** A short random pause for retrying one request (a subscribe refused with 116): min to 5 min. */
    long shortRetry() {
        return minDelayMs + (long) Math.floor(random.nextDouble() * minDelayMs * 4);
    }
}
