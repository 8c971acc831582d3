// The client's subscriptions by channel: adding and ending them, the `subs` field of `connect`
// with each cursor as `since`, the connect answer's per-channel results, and subscribing on
// their own the channels connect cannot take (webhook namespaces), with refusals that may pass
// retried. The map may be read from any thread; everything else runs on the client's thread.
package io.wshub.client;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.json.JSONObject;

final class SubscriptionTable {
    private final ClientContext host;
    private final String keyPrefix;
    private final Map<String, Subscription> byChannel = Collections.synchronizedMap(new LinkedHashMap<String, Subscription>());
    private final Subscription.Host subscriptionHost;

    SubscriptionTable(final ClientContext host, String keyPrefix) {
        this.host = host;
        this.keyPrefix = keyPrefix;
        this.subscriptionHost = new Subscription.Host() {
            @Override
            public void unsubscribe(final Subscription sub) {
                host.scheduler().execute(() -> {
                    if (byChannel.get(sub.channel()) != sub) return;
                    byChannel.remove(sub.channel());
                    sub.ended(0, "unsubscribed", true);
                    sendUnsubscribe(sub.channel());
                });
            }

            @Override
            public SafeStorage storage() {
                return host.storage();
            }

            @Override
            public void reportError(Throwable error) {
                host.reportError(error);
            }
        };
    }

    /** A new subscription (any thread). Throws IllegalStateException when the channel is held. */
    Subscription add(String ch, SubscriptionListener listener) {
        Subscription sub = new Subscription(ch, listener, subscriptionHost, keyPrefix + ch);
        synchronized (byChannel) {
            if (byChannel.containsKey(ch)) throw new IllegalStateException("wshub: already subscribed to " + ch);
            byChannel.put(ch, sub);
        }
        return sub;
    }

    Subscription get(String ch) {
        return byChannel.get(ch);
    }

    Subscription remove(String ch) {
        return byChannel.remove(ch);
    }

    List<Subscription> all() {
        synchronized (byChannel) {
            return new ArrayList<Subscription>(byChannel.values());
        }
    }

    /** The connection ended: every subscription subscribes again on the next one. */
    void connectionLost() {
        for (Subscription sub : all()) sub.connectionLost();
    }

    /** Sends a subscribe for a subscription made while connected (any thread). */
    void subscribeWhenConnected(final Subscription sub) {
        host.scheduler().execute(() -> {
            if (host.isConnected() && byChannel.get(sub.channel()) == sub && sub.state() == Subscription.State.SUBSCRIBING) {
                sendSubscribe(sub);
            }
        });
    }

    /** The `subs` field of connect (null when empty); records in {@code sinces} what each was sent with. */
    JSONObject connectField(Map<String, StreamPosition> sinces) {
        JSONObject subs = new JSONObject();
        for (Subscription sub : all()) {
            if (sub.state() != Subscription.State.SUBSCRIBING) continue;
            StreamPosition since = sub.since();
            sinces.put(sub.channel(), since);
            Json.put(subs, sub.channel(), since == null ? new JSONObject() : Json.object("since", sinceField(since)));
        }
        return sinces.isEmpty() ? null : subs;
    }

    /** The connect answer's `subs` (null when absent) for the channels sent with {@code sinces}. */
    void connectAnswered(JSONObject answers, Map<String, StreamPosition> sinces) {
        for (Map.Entry<String, StreamPosition> entry : sinces.entrySet()) {
            String ch = entry.getKey();
            Subscription sub = byChannel.get(ch);
            JSONObject result = answers == null ? null : answers.optJSONObject(ch);
            if (sub == null) {
                // Unsubscribed while the connect was on its way: undo what connect subscribed.
                if (result != null && !result.has("err")) sendUnsubscribe(ch);
                continue;
            }
            JSONObject err = result == null ? null : result.optJSONObject("err");
            if (err != null) {
                int code = err.optInt("code", Protocol.ErrorCode.INTERNAL);
                // Webhook namespaces cannot be subscribed in connect (108): subscribe on their own.
                if (code == Protocol.ErrorCode.NOT_AVAILABLE) sendSubscribe(sub);
                else failed(sub, new WshubException.ServerError(code, err.optString("msg"), Protocol.errorIsRetryable(code)));
            } else if (result != null) {
                sub.handleAnswer(result, entry.getValue());
            } else {
                sendSubscribe(sub);
            }
        }
        // Subscriptions made while the connect was in flight.
        for (Subscription sub : all()) {
            if (sub.state() == Subscription.State.SUBSCRIBING && !sinces.containsKey(sub.channel())) sendSubscribe(sub);
        }
    }

    private void sendUnsubscribe(String ch) {
        if (!host.isConnected()) return; // the next connection does not subscribe it
        host.request(Json.object("t", "unsubscribe", "ch", ch), "unsubscribe " + ch);
    }

    private void sendSubscribe(final Subscription sub) {
        final StreamPosition since = sub.since();
        JSONObject frame = Json.object("t", "subscribe", "ch", sub.channel());
        if (since != null) Json.put(frame, "since", sinceField(since));
        final int subscribing = host.generation();
        host.request(frame, "subscribe " + sub.channel()).then(new Callback<JSONObject>() {
            @Override
            public void onSuccess(JSONObject answer) {
                if (subscribing == host.generation() && byChannel.get(sub.channel()) == sub) sub.handleAnswer(answer, since);
            }

            @Override
            public void onError(WshubException error) {
                if (subscribing != host.generation() || byChannel.get(sub.channel()) != sub) return;
                if (error instanceof WshubException.ServerError) failed(sub, (WshubException.ServerError) error);
                else if (error.kind() == WshubException.Kind.TIMEOUT) retry(sub, subscribing);
                // DISCONNECTED: the next connection subscribes again.
            }
        });
    }

    private void failed(Subscription sub, WshubException.ServerError error) {
        if (error.retry()) {
            sub.transientError(error);
            retry(sub, host.generation());
            return;
        }
        byChannel.remove(sub.channel());
        sub.fail(error);
    }

    private void retry(final Subscription sub, final int of) {
        host.scheduler().schedule(() -> {
            if (of == host.generation() && host.isConnected() && byChannel.get(sub.channel()) == sub) sendSubscribe(sub);
        }, host.retryDelayMs());
    }

    private static JSONObject sinceField(StreamPosition since) {
        return Json.object("ep", since.ep, "off", since.off);
    }
}
