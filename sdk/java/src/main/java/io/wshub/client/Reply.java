// A one-shot result of a request: settled once with a value or a WshubException. Callbacks added
// with then() run on the thread that settles it (the client's thread), or at once when it is
// settled already. await() blocks the calling thread: for backends and tests, never for an
// Android main thread. Works on Android API 21+ (CompletableFuture needs API 24).
package io.wshub.client;

import java.util.ArrayList;
import java.util.List;

public final class Reply<T> {
    private T value;
    private WshubException error;
    private boolean settled;
    private List<Callback<T>> callbacks = new ArrayList<Callback<T>>();

    /** A Reply settled already with an error (a call refused before it was sent). */
    public static <T> Reply<T> failed(WshubException error) {
        Reply<T> reply = new Reply<T>();
        reply.fail(error);
        return reply;
    }

    /** Adds a callback; it runs once, when the reply settles (at once if it has). Returns this. */
    public Reply<T> then(Callback<T> callback) {
        synchronized (this) {
            if (!settled) {
                callbacks.add(callback);
                return this;
            }
        }
        deliver(callback);
        return this;
    }

    public synchronized boolean isDone() {
        return settled;
    }

    /**
     * Waits up to {@code timeoutMs} for the reply and returns its value, or throws its error
     * (a {@link WshubException.Timeout} when the wait itself ran out).
     */
    public T await(long timeoutMs) throws WshubException, InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        synchronized (this) {
            while (!settled) {
                long left = deadline - System.currentTimeMillis();
                if (left <= 0) throw new WshubException.Timeout("await", timeoutMs);
                wait(left);
            }
            if (error != null) throw error;
            return value;
        }
    }

    // ---- settled by the client ----

    void complete(T result) {
        settle(result, null);
    }

    void fail(WshubException failure) {
        settle(null, failure);
    }

    private void settle(T result, WshubException failure) {
        List<Callback<T>> toRun;
        synchronized (this) {
            if (settled) return;
            settled = true;
            value = result;
            error = failure;
            toRun = callbacks;
            callbacks = null;
            notifyAll();
        }
        for (Callback<T> callback : toRun) deliver(callback);
    }

    private void deliver(Callback<T> callback) {
        if (error != null) callback.onError(error);
        else callback.onSuccess(value);
    }
}
