// Where the client's work runs: one thread at a time, with timers. The client keeps all of its
// state on this thread, so it needs no locks; transports and public calls post onto it. Tests
// substitute a scheduler with a hand-driven clock.
package io.wshub.client;

public interface Scheduler {
    /** A scheduled task that can be called off. */
    interface Cancellable {
        void cancel();
    }

    /** Milliseconds since the Unix epoch (compared with the server's {@code exp}). */
    long now();

    /** Runs the task soon, on the client's thread, after tasks posted before it. */
    void execute(Runnable task);

    /** Runs the task on the client's thread after {@code delayMs}. */
    Cancellable schedule(Runnable task, long delayMs);
}
