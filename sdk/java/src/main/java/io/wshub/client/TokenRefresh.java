// Refreshing the connection's token before its exp without reconnecting: a timer set from each
// connect/refresh answer's exp, the TokenSupplier for the new token, a `refresh` request, and a
// retry while time remains when either fails. At exp without a refresh the server closes with
// 3005 and the client reconnects with a fresh token anyway, so a failed refresh costs little.
// Runs on the client's thread.
package io.wshub.client;

import org.json.JSONObject;

final class TokenRefresh {
    /** The shortest wait before a refresh, whatever exp says: a device clock ahead of the server's cannot loop it. */
    static final long MIN_REFRESH_DELAY_MS = 1000;

    interface Host {
        /** Fetches a token off the client's thread; the callback runs on it. */
        void fetchToken(Callback<String> callback);

        /** Sends {t: refresh, token} on the current connection. */
        Reply<JSONObject> sendRefresh(String token);

        /** A new token was fetched: kept for the next connect. */
        void tokenFetched(String token);

        /** The server took it: the connection's new exp (null: none). */
        void refreshed(Long exp);

        void reportError(Throwable error);
    }

    private final Scheduler scheduler;
    private final Host host;
    private final long marginMs;
    private Scheduler.Cancellable timer;
    // Bumped by cancel(): work started for an earlier connection stops at its next step.
    private int round;

    TokenRefresh(Scheduler scheduler, Host host, long marginMs) {
        this.scheduler = scheduler;
        this.host = host;
        this.marginMs = marginMs;
    }

    /** Plans the refresh for a connection whose token expires at {@code exp} (server ms; null: never). */
    void schedule(final Long exp) {
        cancelTimer();
        if (exp == null) return;
        long remaining = exp - scheduler.now();
        long margin = Math.min(marginMs, remaining / 2);
        final int planned = round;
        timer = scheduler.schedule(new Runnable() {
            @Override
            public void run() {
                if (planned == round) refresh(exp);
            }
        }, Math.max(MIN_REFRESH_DELAY_MS, remaining - margin));
    }

    /** The connection ended: nothing more for it. */
    void cancel() {
        round += 1;
        cancelTimer();
    }

    private void cancelTimer() {
        if (timer != null) timer.cancel();
        timer = null;
    }

    private void refresh(final long exp) {
        final int started = round;
        host.fetchToken(new Callback<String>() {
            @Override
            public void onSuccess(String token) {
                if (started != round) return;
                host.tokenFetched(token);
                host.sendRefresh(token).then(new Callback<JSONObject>() {
                    @Override
                    public void onSuccess(JSONObject answer) {
                        if (started != round) return;
                        Long newExp = Json.optLong(answer, "exp");
                        host.refreshed(newExp);
                        schedule(newExp);
                    }

                    @Override
                    public void onError(WshubException error) {
                        if (started != round) return;
                        if (error instanceof WshubException.ServerError
                            && ((WshubException.ServerError) error).code() == Protocol.ErrorCode.NOT_AVAILABLE) {
                            return; // no JWTs here: nothing to refresh
                        }
                        retryLater(exp, error);
                    }
                });
            }

            @Override
            public void onError(WshubException error) {
                if (started == round) retryLater(exp, error);
            }
        });
    }

    private void retryLater(final long exp, Throwable error) {
        host.reportError(error);
        long remaining = exp - scheduler.now();
        if (remaining <= 2000) return;
        final int planned = round;
        timer = scheduler.schedule(new Runnable() {
            @Override
            public void run() {
                if (planned == round) refresh(exp);
            }
        }, Math.min(5000, remaining / 2));
    }
}
