// The default Scheduler: one daemon thread ("wshub-client") that ends after a minute without
// work and is started again by the next task, so a closed client leaves no thread behind.
package io.wshub.client;

import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;

public final class ExecutorScheduler implements Scheduler {
    private final ScheduledThreadPoolExecutor executor;

    public ExecutorScheduler() {
        executor = new ScheduledThreadPoolExecutor(1, new ThreadFactory() {
            @Override
            public Thread newThread(Runnable r) {
                Thread thread = new Thread(r, "wshub-client");
                thread.setDaemon(true);
                return thread;
            }
        });
        executor.setKeepAliveTime(60, TimeUnit.SECONDS);
        executor.allowCoreThreadTimeOut(true);
        executor.setRemoveOnCancelPolicy(true);
    }

    @Override
    public long now() {
        return System.currentTimeMillis();
    }

    @Override
    public void execute(Runnable task) {
        executor.execute(task);
    }

    @Override
    public Cancellable schedule(Runnable task, long delayMs) {
        final ScheduledFuture<?> future = executor.schedule(task, Math.max(0, delayMs), TimeUnit.MILLISECONDS);
        return new Cancellable() {
            @Override
            public void cancel() {
                future.cancel(false);
            }
        };
    }
}
