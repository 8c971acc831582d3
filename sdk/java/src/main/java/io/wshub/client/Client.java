// The hub protocol v1 client for Android terminals and the JVM: one connection at a time through
// a Transport, reconnected with full jitter (or the server's retry_after), channels resumed from
// their cursors, requests answered as Replies, the JSON heartbeat answered and watched, the token
// refreshed before its exp, inbox messages acked after their handler returned, and a persistent
// outbox for reports. All state lives on the Scheduler's one thread; public methods may be
// called from any thread and post onto it.
package io.wshub.client;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.json.JSONArray;
import org.json.JSONObject;

public final class Client {
    public static final String VERSION = "0.1";

    private final String url;
    private final ClientOptions options;
    private final Scheduler scheduler;
    private final Backoff backoff;
    private final RequestTable requests;
    private final TokenRefresh tokenRefresh;
    private final Inbox inbox;
    private final Outbox outbox;
    private final Map<String, Subscription> subscriptions = Collections.synchronizedMap(new LinkedHashMap<String, Subscription>());
    private final Subscription.Host subscriptionHost;
    private volatile ClientListener listener = new ClientListener() {};
    private volatile ClientListener.State state = ClientListener.State.DISCONNECTED;
    private volatile ConnectedInfo info;

    // Only on the scheduler's thread:
    private Transport.Connection connection;
    private int generation;
    private String token;
    private boolean tokenStale;
    private boolean started;
    private JSONObject disconnectPush;
    private int closingCode;
    private String closingReason;
    private boolean closingReconnect;
    private boolean closingByClient;
    private long heartbeatMs;
    private Scheduler.Cancellable reconnectTimer;
    private Scheduler.Cancellable connectTimer;
    private Scheduler.Cancellable livenessTimer;
    private boolean probing;

    /** Nothing happens until connect(). Throws when the outbox file cannot be read. */
    public Client(String url, ClientOptions options) throws IOException {
        this.url = url;
        this.options = options;
        this.scheduler = options.scheduler;
        this.backoff = new Backoff(options.minReconnectDelayMs, options.maxReconnectDelayMs, options.random);
        this.token = options.token;
        this.tokenStale = options.token == null;
        this.requests = new RequestTable(scheduler, new RequestTable.Writer() {
            @Override
            public boolean write(JSONObject frame) {
                return Client.this.write(frame);
            }
        });
        this.tokenRefresh = options.tokenSupplier == null ? null : new TokenRefresh(scheduler, new TokenRefresh.Host() {
            @Override
            public void fetchToken(Callback<String> callback) {
                Client.this.fetchToken(callback);
            }

            @Override
            public Reply<JSONObject> sendRefresh(String newToken) {
                return request(Json.object("t", "refresh", "token", newToken), "refresh", options.timeoutMs);
            }

            @Override
            public void tokenFetched(String newToken) {
                token = newToken;
                tokenStale = false;
            }

            @Override
            public void refreshed(Long exp) {
                ConnectedInfo now = info;
                if (now != null) info = new ConnectedInfo(now.cid, now.user, now.device, exp);
            }

            @Override
            public void reportError(Throwable error) {
                Client.this.reportError(error);
            }
        }, options.refreshMarginMs);
        this.subscriptionHost = new Subscription.Host() {
            @Override
            public void unsubscribe(final Subscription sub) {
                scheduler.execute(new Runnable() {
                    @Override
                    public void run() {
                        if (subscriptions.get(sub.channel()) != sub) return;
                        subscriptions.remove(sub.channel());
                        sub.ended(0, "unsubscribed", true);
                        sendUnsubscribe(sub.channel());
                    }
                });
            }

            @Override
            public void persist(String key, String value) {
                storageSet(key, value);
            }

            @Override
            public void forget(String key) {
                try {
                    options.storage.remove(key);
                } catch (Exception e) {
                    reportError(e);
                }
            }

            @Override
            public String load(String key) {
                return storageGet(key);
            }

            @Override
            public void reportError(Throwable error) {
                Client.this.reportError(error);
            }
        };
        this.inbox = new Inbox(new Inbox.Host() {
            @Override
            public boolean sendAck(long upto) {
                return state == ClientListener.State.CONNECTED && write(Json.object("t", "ack", "upto", upto));
            }

            @Override
            public void persist(String key, String value) {
                storageSet(key, value);
            }

            @Override
            public String load(String key) {
                return storageGet(key);
            }

            @Override
            public void reportError(Throwable error) {
                Client.this.reportError(error);
            }

            @Override
            public void execute(Runnable task) {
                scheduler.execute(task);
            }
        }, options.storagePrefix + "inbox");
        this.outbox = new Outbox(new Outbox.Host() {
            @Override
            public boolean isConnected() {
                return state == ClientListener.State.CONNECTED;
            }

            @Override
            public Reply<JSONObject> send(JSONObject frame, String what) {
                return request(frame, what, options.timeoutMs);
            }

            @Override
            public Scheduler scheduler() {
                return scheduler;
            }

            @Override
            public void reportError(Throwable error) {
                Client.this.reportError(error);
            }
        }, options.outboxFile, options.outboxSync, options.outboxWindow, options.outboxCapacity);
    }

    public String url() {
        return url;
    }

    public void setListener(ClientListener newListener) {
        listener = newListener != null ? newListener : new ClientListener() {};
    }

    public ClientListener.State state() {
        return state;
    }

    /** The identity of the current connection, or null when not connected. */
    public ConnectedInfo connectedAs() {
        return state == ClientListener.State.CONNECTED ? info : null;
    }

    public Inbox inbox() {
        return inbox;
    }

    public Outbox outbox() {
        return outbox;
    }

    /** Starts connecting (and reconnecting) until close() or a close that forbids reconnecting. */
    public void connect() {
        scheduler.execute(new Runnable() {
            @Override
            public void run() {
                if (started) return;
                started = true;
                backoff.reset();
                open();
            }
        });
    }

    /** Closes for good; waiting requests fail with kind CLOSED. The outbox keeps its entries. */
    public void close() {
        scheduler.execute(new Runnable() {
            @Override
            public void run() {
                stop(1000, "client closed");
            }
        });
    }

    /**
     * Subscribes to a channel; the listener gets its publications. Kept across reconnects and
     * resumed from its cursor. Throws IllegalStateException if this client holds the channel.
     */
    public Subscription subscribe(String ch, SubscriptionListener subscriptionListener) {
        final Subscription sub = new Subscription(ch, subscriptionListener, subscriptionHost, options.storagePrefix + "sub:" + ch);
        synchronized (subscriptions) {
            if (subscriptions.containsKey(ch)) throw new IllegalStateException("wshub: already subscribed to " + ch);
            subscriptions.put(ch, sub);
        }
        scheduler.execute(new Runnable() {
            @Override
            public void run() {
                if (state == ClientListener.State.CONNECTED && subscriptions.get(sub.channel()) == sub
                    && sub.state() == Subscription.State.SUBSCRIBING) {
                    sendSubscribe(sub);
                }
            }
        });
        return sub;
    }

    /** The Subscription this client holds for {@code ch}, or null. */
    public Subscription subscription(String ch) {
        return subscriptions.get(ch);
    }

    /** Calls {@code method} on the backend (the rpc webhook); settles with its data (JSONObject.NULL for none). */
    public Reply<Object> rpc(String method, Object data) {
        return rpc(method, data, options.timeoutMs, null);
    }

    public Reply<Object> rpc(String method, Object data, long timeoutMs, String mid) {
        JSONObject frame = Json.object("t", "rpc", "m", method, "data", Json.data(data), "mid", mid);
        return call(frame, "rpc " + method, timeoutMs, new Mapper<Object>() {
            @Override
            public Object map(JSONObject answer) {
                return Json.dataField(answer, "data");
            }
        });
    }

    /** Publishes to a channel (where its namespace lets clients publish). Not persisted: see outbox(). */
    public Reply<PublishAnswer> publish(String ch, Object data) {
        return publish(ch, data, options.timeoutMs, null);
    }

    public Reply<PublishAnswer> publish(String ch, Object data, long timeoutMs, String mid) {
        JSONObject frame = Json.object("t", "publish", "ch", ch, "data", Json.data(data), "mid", mid);
        return call(frame, "publish " + ch, timeoutMs, new Mapper<PublishAnswer>() {
            @Override
            public PublishAnswer map(JSONObject answer) {
                return new PublishAnswer(answer.optLong("off"), answer.optString("ep"), answer.optBoolean("dup", false));
            }
        });
    }

    /** Who is subscribed to a channel (namespaces with presence = true). */
    public Reply<PresenceAnswer> presence(String ch) {
        return presence(ch, options.timeoutMs);
    }

    public Reply<PresenceAnswer> presence(String ch, long timeoutMs) {
        return call(Json.object("t", "presence", "ch", ch), "presence " + ch, timeoutMs, new Mapper<PresenceAnswer>() {
            @Override
            public PresenceAnswer map(JSONObject answer) {
                Map<String, PresenceEntry> clients = new HashMap<String, PresenceEntry>();
                JSONObject list = answer.optJSONObject("clients");
                if (list != null) {
                    for (Iterator<String> it = list.keys(); it.hasNext(); ) {
                        String cid = it.next();
                        JSONObject entry = list.optJSONObject(cid);
                        if (entry != null) {
                            clients.put(cid, new PresenceEntry(entry.optString("user"), entry.optString("device"), entry.opt("info")));
                        }
                    }
                }
                return new PresenceAnswer(clients, answer.optLong("total", clients.size()));
            }
        });
    }

    /**
     * Checks the connection with a ping now. Connected and unanswered within probeTimeoutMs: the
     * connection is dropped and a new one made. Waiting to reconnect: reconnects at once. Call it
     * when the app comes to the foreground and when the network changes.
     */
    public void probe() {
        scheduler.execute(new Runnable() {
            @Override
            public void run() {
                probeNow();
            }
        });
    }

    // ---- connection lifecycle (scheduler thread) ----

    private void setState(ClientListener.State next) {
        if (next == state) return;
        ClientListener.State previous = state;
        state = next;
        try {
            listener.onState(next, previous);
        } catch (RuntimeException e) {
            reportError(e);
        }
    }

    private void open() {
        if (!started || connection != null || state == ClientListener.State.CONNECTING) return;
        setState(ClientListener.State.CONNECTING);
        final int opening = ++generation;
        if (options.tokenSupplier != null && (tokenStale || token == null)) {
            fetchToken(new Callback<String>() {
                @Override
                public void onSuccess(String value) {
                    if (opening != generation || !started) return;
                    token = value;
                    tokenStale = false;
                    openTransport(opening);
                }

                @Override
                public void onError(WshubException error) {
                    if (opening != generation || !started) return;
                    reportError(error);
                    setState(ClientListener.State.DISCONNECTED);
                    scheduleReconnect(-1);
                }
            });
            return;
        }
        openTransport(opening);
    }

    private void openTransport(final int opening) {
        disconnectPush = null;
        closingByClient = false;
        try {
            connection = options.transport.open(url, Collections.singletonList(Protocol.SUBPROTOCOL), new Transport.Listener() {
                @Override
                public void onOpen() {
                    onClientThread(opening, new Runnable() {
                        @Override
                        public void run() {
                            sendConnect();
                        }
                    });
                }

                @Override
                public void onMessage(final String text) {
                    onClientThread(opening, new Runnable() {
                        @Override
                        public void run() {
                            receive(text);
                        }
                    });
                }

                @Override
                public void onClosed(final int code, final String reason) {
                    onClientThread(opening, new Runnable() {
                        @Override
                        public void run() {
                            closed(code, reason == null ? "" : reason);
                        }
                    });
                }
            });
        } catch (RuntimeException e) {
            connection = null;
            reportError(new WshubException(WshubException.Kind.TRANSPORT, "cannot open " + url + ": " + e.getMessage(), e));
            setState(ClientListener.State.DISCONNECTED);
            scheduleReconnect(-1);
            return;
        }
        connectTimer = scheduler.schedule(new Runnable() {
            @Override
            public void run() {
                if (opening == generation) dropConnection("no connect answer in time");
            }
        }, options.connectTimeoutMs);
    }

    /** Runs a transport event on the client's thread, unless its connection is no longer the current one. */
    private void onClientThread(final int of, final Runnable task) {
        scheduler.execute(new Runnable() {
            @Override
            public void run() {
                if (of == generation) task.run();
            }
        });
    }

    private void sendConnect() {
        JSONObject frame = Json.object("t", "connect", "client", Json.object("sdk", options.sdkName, "version", options.sdkVersion),
            "inbox", inbox.connectField());
        if (token != null && !token.isEmpty()) Json.put(frame, "token", token);
        JSONObject subs = new JSONObject();
        final Map<String, StreamPosition> sinces = new LinkedHashMap<String, StreamPosition>();
        for (Subscription sub : subscriptionsNow()) {
            if (sub.state() != Subscription.State.SUBSCRIBING) continue;
            StreamPosition since = sub.since();
            sinces.put(sub.channel(), since);
            Json.put(subs, sub.channel(), since == null ? new JSONObject() : Json.object("since", Json.object("ep", since.ep, "off", since.off)));
        }
        if (!sinces.isEmpty()) Json.put(frame, "subs", subs);
        final int connecting = generation;
        requests.call(frame, "connect", options.connectTimeoutMs, true).then(new Callback<JSONObject>() {
            @Override
            public void onSuccess(JSONObject answer) {
                if (connecting == generation) connected(answer, sinces);
            }

            @Override
            public void onError(WshubException error) {
                if (connecting != generation) return;
                // The server closes after a refused connect; the close decides what comes next.
                if (error instanceof WshubException.ServerError
                    && ((WshubException.ServerError) error).code() == Protocol.ErrorCode.TOKEN_EXPIRED) {
                    tokenStale = true;
                }
                if (error.kind() != WshubException.Kind.DISCONNECTED) reportError(error);
            }
        });
    }

    private void connected(JSONObject answer, Map<String, StreamPosition> sinces) {
        cancel(connectTimer);
        Long exp = Json.optLong(answer, "exp");
        info = new ConnectedInfo(answer.optString("cid"), answer.optString("user"), answer.optString("device"), exp);
        backoff.reset();
        JSONObject hb = answer.optJSONObject("hb");
        heartbeatMs = hb != null && hb.optLong("iv", 0) > 0 ? hb.optLong("iv") + hb.optLong("to", 0) : 0;
        watchLiveness();
        inbox.connected(answer.optJSONObject("inbox"));
        setState(ClientListener.State.CONNECTED);
        try {
            listener.onConnected(info);
        } catch (RuntimeException e) {
            reportError(e);
        }
        JSONObject answers = answer.optJSONObject("subs");
        for (Map.Entry<String, StreamPosition> entry : sinces.entrySet()) {
            String ch = entry.getKey();
            Subscription sub = subscriptions.get(ch);
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
                else subscribeFailed(sub, new WshubException.ServerError(code, err.optString("msg"), Protocol.errorIsRetryable(code)));
            } else if (result != null) {
                sub.handleAnswer(result, entry.getValue());
            } else {
                sendSubscribe(sub);
            }
        }
        // Subscriptions made while the connect was in flight.
        for (Subscription sub : subscriptionsNow()) {
            if (sub.state() == Subscription.State.SUBSCRIBING && !sinces.containsKey(sub.channel())) sendSubscribe(sub);
        }
        requests.flush();
        if (tokenRefresh != null) tokenRefresh.schedule(exp);
        outbox.pump();
    }

    /** The transport reported the close of the current connection. */
    private void closed(int code, String reason) {
        connection = null;
        clearConnectionTimers();
        boolean byClient = closingByClient;
        JSONObject push = disconnectPush;
        closingByClient = false;
        disconnectPush = null;
        // The server's disconnect push names the close better than what the transport saw (a
        // proxy or a dead network may report 1006 for a close the server explained).
        int finalCode = byClient ? closingCode : push != null ? push.optInt("code", code) : code;
        String finalReason = byClient ? closingReason : push != null ? push.optString("reason", reason) : reason;
        requests.connectionLost(finalCode, finalReason);
        for (Subscription sub : subscriptionsNow()) sub.connectionLost();
        inbox.connectionLost();
        if (!started) return;
        boolean reconnect = byClient ? closingReconnect : Protocol.closeAllowsReconnect(finalCode);
        if (finalCode == Protocol.CloseCode.TOKEN_EXPIRED && !byClient) {
            tokenStale = true;
            if (options.tokenSupplier == null) {
                // A fixed token cannot be renewed: reconnecting would only be refused again.
                reconnect = false;
                reportError(new WshubException(WshubException.Kind.TOKEN, "the token expired and there is no token supplier to fetch a new one"));
            }
        }
        if (!reconnect) {
            notifyDisconnected(new DisconnectedEvent(finalCode, finalReason, false, 0));
            stop(finalCode, finalReason);
            return;
        }
        long retryAfter = -1;
        if (push != null && push.opt("retry_after") instanceof Number && push.optLong("retry_after") >= 0) {
            retryAfter = push.optLong("retry_after");
        }
        long delay = scheduleReconnect(retryAfter);
        setState(ClientListener.State.DISCONNECTED);
        notifyDisconnected(new DisconnectedEvent(finalCode, finalReason, true, delay));
    }

    private void notifyDisconnected(DisconnectedEvent event) {
        try {
            listener.onDisconnected(event);
        } catch (RuntimeException e) {
            reportError(e);
        }
    }

    /** Plans the next attempt: after retryAfterMs when the server gave one (>= 0), else a jittered draw. */
    private long scheduleReconnect(long retryAfterMs) {
        long delay = retryAfterMs >= 0 ? retryAfterMs : backoff.next();
        cancel(reconnectTimer);
        reconnectTimer = scheduler.schedule(new Runnable() {
            @Override
            public void run() {
                reconnectTimer = null;
                open();
            }
        }, delay);
        return delay;
    }

    /** Closes the current connection from this side and reconnects. */
    private void dropConnection(String reason) {
        if (connection == null) return;
        closingByClient = true;
        closingCode = Protocol.CloseCode.CLIENT_DROPPED;
        closingReason = reason;
        closingReconnect = true;
        // The transport reports the close; closed() takes it from there.
        connection.close(Protocol.CloseCode.CLIENT_DROPPED, shortReason(reason));
    }

    /** Ends for good: no reconnect until connect() is called again. */
    private void stop(int code, String reason) {
        started = false;
        cancel(reconnectTimer);
        reconnectTimer = null;
        clearConnectionTimers();
        Transport.Connection current = connection;
        connection = null;
        generation += 1;
        if (current != null) current.close(1000, shortReason(reason));
        requests.closeAll(code, reason);
        for (Subscription sub : subscriptionsNow()) sub.connectionLost();
        inbox.connectionLost();
        outbox.close();
        setState(ClientListener.State.CLOSED);
    }

    private void clearConnectionTimers() {
        cancel(connectTimer);
        cancel(livenessTimer);
        connectTimer = livenessTimer = null;
        if (tokenRefresh != null) tokenRefresh.cancel();
        probing = false;
    }

    // The server pings every hb.iv and closes after hb.to without a pong: a connection that has
    // heard nothing for iv + to is dead even when the socket has not noticed (a phone that
    // changed networks can keep a TCP connection "open" for minutes).
    private void watchLiveness() {
        if (heartbeatMs <= 0) return;
        cancel(livenessTimer);
        final int watched = generation;
        livenessTimer = scheduler.schedule(new Runnable() {
            @Override
            public void run() {
                if (watched == generation) dropConnection("no heartbeat from the server");
            }
        }, heartbeatMs);
    }

    private void probeNow() {
        if (!started) return;
        if (state == ClientListener.State.DISCONNECTED && connection == null) {
            cancel(reconnectTimer);
            reconnectTimer = null;
            open();
            return;
        }
        if (state != ClientListener.State.CONNECTED || probing) return;
        probing = true;
        final int probed = generation;
        request(Json.object("t", "ping"), "ping (probe)", options.probeTimeoutMs).then(new Callback<JSONObject>() {
            @Override
            public void onSuccess(JSONObject value) {
                probing = false;
            }

            @Override
            public void onError(WshubException error) {
                probing = false;
                if (error.kind() == WshubException.Kind.TIMEOUT && probed == generation) dropConnection("no answer to a ping probe");
            }
        });
    }

    // ---- requests ----

    private interface Mapper<T> {
        T map(JSONObject answer);
    }

    /** A public request: made on the client's thread, its answer mapped for the caller. */
    private <T> Reply<T> call(final JSONObject frame, final String what, final long timeoutMs, final Mapper<T> mapper) {
        final Reply<T> result = new Reply<T>();
        scheduler.execute(new Runnable() {
            @Override
            public void run() {
                request(frame, what, timeoutMs).then(new Callback<JSONObject>() {
                    @Override
                    public void onSuccess(JSONObject answer) {
                        result.complete(mapper.map(answer));
                    }

                    @Override
                    public void onError(WshubException error) {
                        result.fail(error);
                    }
                });
            }
        });
        return result;
    }

    /** Sends a request when connected, or queues it until the connection is; times out either way. */
    private Reply<JSONObject> request(JSONObject frame, String what, long timeoutMs) {
        if (!started) {
            return Reply.failed(new WshubException.Disconnected(true, 0, "the client is not connecting: call connect()"));
        }
        return requests.call(frame, what, timeoutMs, state == ClientListener.State.CONNECTED);
    }

    private boolean write(JSONObject frame) {
        return connection != null && connection.send(frame.toString());
    }

    private void fetchToken(final Callback<String> callback) {
        options.tokenExecutor.execute(new Runnable() {
            @Override
            public void run() {
                String value = null;
                Exception failure = null;
                try {
                    value = options.tokenSupplier.getToken();
                    if (value == null) failure = new IllegalStateException("the token supplier returned null");
                } catch (Exception e) {
                    failure = e;
                }
                final String fetched = value;
                final Exception error = failure;
                scheduler.execute(new Runnable() {
                    @Override
                    public void run() {
                        if (error == null) callback.onSuccess(fetched);
                        else callback.onError(new WshubException(WshubException.Kind.TOKEN, "getToken failed: " + error, error));
                    }
                });
            }
        });
    }

    // ---- subscriptions ----

    private List<Subscription> subscriptionsNow() {
        synchronized (subscriptions) {
            return new ArrayList<Subscription>(subscriptions.values());
        }
    }

    private void sendUnsubscribe(String ch) {
        if (state != ClientListener.State.CONNECTED) return; // the next connection does not subscribe it
        request(Json.object("t", "unsubscribe", "ch", ch), "unsubscribe " + ch, options.timeoutMs);
    }

    private void sendSubscribe(final Subscription sub) {
        final StreamPosition since = sub.since();
        JSONObject frame = Json.object("t", "subscribe", "ch", sub.channel());
        if (since != null) Json.put(frame, "since", Json.object("ep", since.ep, "off", since.off));
        final int subscribing = generation;
        request(frame, "subscribe " + sub.channel(), options.timeoutMs).then(new Callback<JSONObject>() {
            @Override
            public void onSuccess(JSONObject answer) {
                if (subscribing == generation && subscriptions.get(sub.channel()) == sub) sub.handleAnswer(answer, since);
            }

            @Override
            public void onError(WshubException error) {
                if (subscribing != generation || subscriptions.get(sub.channel()) != sub) return;
                if (error instanceof WshubException.ServerError) subscribeFailed(sub, (WshubException.ServerError) error);
                else if (error.kind() == WshubException.Kind.TIMEOUT) retrySubscribe(sub, subscribing);
                // DISCONNECTED: the next connection subscribes again.
            }
        });
    }

    private void subscribeFailed(Subscription sub, WshubException.ServerError error) {
        if (error.retry()) {
            sub.transientError(error);
            retrySubscribe(sub, generation);
            return;
        }
        subscriptions.remove(sub.channel());
        sub.fail(error);
    }

    private void retrySubscribe(final Subscription sub, final int of) {
        scheduler.schedule(new Runnable() {
            @Override
            public void run() {
                if (of == generation && state == ClientListener.State.CONNECTED && subscriptions.get(sub.channel()) == sub) {
                    sendSubscribe(sub);
                }
            }
        }, backoff.shortRetry());
    }

    // ---- incoming frames ----

    private void receive(String text) {
        Object message = Json.parse(text);
        if (message == null) {
            reportError(new WshubException(WshubException.Kind.TRANSPORT, "the server sent a frame that is not JSON"));
            return;
        }
        if (state == ClientListener.State.CONNECTED) watchLiveness();
        if (message instanceof JSONArray) {
            JSONArray batch = (JSONArray) message;
            for (int i = 0; i < batch.length(); i++) {
                JSONObject m = batch.optJSONObject(i);
                if (m != null) dispatch(m);
            }
        } else if (message instanceof JSONObject) {
            dispatch((JSONObject) message);
        }
    }

    private void dispatch(JSONObject m) {
        String t = m.optString("t");
        if ("ok".equals(t) || "err".equals(t)) {
            requests.answer(m);
            return;
        }
        try {
            dispatchPush(t, m);
        } catch (RuntimeException e) {
            reportError(e); // a listener threw: the frame is handled, the client goes on
        }
    }

    private void dispatchPush(String t, JSONObject m) {
        if ("ping".equals(t)) {
            write(Json.object("t", "pong"));
        } else if ("pub".equals(t)) {
            Publication pub = new Publication(m.optString("ch"), m.optLong("off"), Json.dataField(m, "data"), m.optLong("ts"));
            Subscription sub = subscriptions.get(pub.ch);
            if (sub != null) sub.handlePublication(pub);
            else listener.onPublication(pub);
        } else if ("join".equals(t) || "leave".equals(t)) {
            JoinLeave event = new JoinLeave(m.optString("ch"), m.optString("cid"), m.optString("user"), m.optString("device"));
            Subscription sub = subscriptions.get(event.ch);
            if (sub != null) sub.handleJoinLeave("join".equals(t), event);
            else if ("join".equals(t)) listener.onJoin(event);
            else listener.onLeave(event);
        } else if ("sub".equals(t)) {
            listener.onSub(m.optString("ch"), new StreamPosition(m.optString("ep"), m.optLong("off")));
        } else if ("unsub".equals(t)) {
            String ch = m.optString("ch");
            int code = m.optInt("code");
            String reason = m.optString("reason", "");
            Subscription sub = subscriptions.remove(ch);
            if (sub != null) sub.ended(code, reason, false);
            listener.onUnsub(ch, code, reason);
        } else if ("disconnect".equals(t)) {
            disconnectPush = m;
        } else if ("msg".equals(t)) {
            Object seq = m.opt("seq");
            if (!(seq instanceof Number)) return;
            inbox.handleMessage(new InboxMessage(((Number) seq).longValue(), m.has("id") ? m.optString("id") : null,
                Json.dataField(m, "data"), m.optLong("ts"), Json.optLong(m, "exp")));
        }
        // Pushes this version does not know are ignored, as the protocol asks.
    }

    private String storageGet(String key) {
        try {
            return options.storage.get(key);
        } catch (Exception e) {
            reportError(e);
            return null;
        }
    }

    private void storageSet(String key, String value) {
        try {
            options.storage.set(key, value);
        } catch (Exception e) {
            reportError(e);
        }
    }

    private boolean reportingError;

    // Errors with nowhere else to go: the listener's onError, or stderr when it threw itself.
    private void reportError(Throwable error) {
        if (!reportingError) {
            reportingError = true;
            try {
                listener.onError(error);
                return;
            } catch (RuntimeException e) {
                error = e;
            } finally {
                reportingError = false;
            }
        }
        System.err.println("wshub: " + error);
    }

    private static void cancel(Scheduler.Cancellable timer) {
        if (timer != null) timer.cancel();
    }

    // A WebSocket close reason is at most 123 bytes of UTF-8.
    private static String shortReason(String reason) {
        String text = reason == null ? "" : reason;
        while (text.getBytes(java.nio.charset.Charset.forName("UTF-8")).length > 123) text = text.substring(0, text.length() - 1);
        return text;
    }
}
