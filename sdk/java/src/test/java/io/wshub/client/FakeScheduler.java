// A Scheduler on a hand-driven clock for unit tests: tasks run only inside runDue()/advance(),
// in time order (and posting order for equal times), on the test's thread.
package io.wshub.client;

import java.util.ArrayList;
import java.util.List;

final class FakeScheduler implements Scheduler {
    private static final class Task {
        final long due;
        final long order;
        final Runnable body;
        boolean cancelled;

        Task(long due, long order, Runnable body) {
            this.due = due;
            this.order = order;
            this.body = body;
        }
    }

    private long now = 1_800_000_000_000L;
    private long order;
    private final List<Task> tasks = new ArrayList<Task>();

    @Override
    public synchronized long now() {
        return now;
    }

    @Override
    public synchronized void execute(Runnable task) {
        tasks.add(new Task(now, order++, task));
    }

    @Override
    public synchronized Cancellable schedule(Runnable body, long delayMs) {
        final Task task = new Task(now + Math.max(0, delayMs), order++, body);
        tasks.add(task);
        return new Cancellable() {
            @Override
            public void cancel() {
                task.cancelled = true;
            }
        };
    }

    /** Runs every task due now, including those they post. */
    void runDue() {
        while (true) {
            Task next = nextDue(now);
            if (next == null) return;
            next.body.run();
        }
    }

    /** Moves the clock forward by {@code ms}, running tasks at their times. */
    void advance(long ms) {
        long until = now() + ms;
        while (true) {
            Task next = nextDue(until);
            if (next == null) break;
            synchronized (this) {
                if (next.due > now) now = next.due;
            }
            next.body.run();
        }
        synchronized (this) {
            now = until;
        }
    }

    /** The delay until the earliest pending timer, or -1. */
    synchronized long nextDelay() {
        long best = -1;
        for (Task task : tasks) {
            if (!task.cancelled && (best < 0 || task.due - now < best)) best = task.due - now;
        }
        return best;
    }

    private synchronized Task nextDue(long until) {
        Task best = null;
        for (Task task : tasks) {
            if (task.cancelled || task.due > until) continue;
            if (best == null || task.due < best.due || (task.due == best.due && task.order < best.order)) best = task;
        }
        if (best != null) tasks.remove(best);
        for (int i = tasks.size() - 1; i >= 0; i--) {
            if (tasks.get(i).cancelled) tasks.remove(i);
        }
        return best;
    }
}
