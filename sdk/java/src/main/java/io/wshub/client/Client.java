// The hub protocol v1 client for Android terminals and the JVM: one connection at a time through
// a Transport, reconnected with full jitter (or the server's retry_after), channels resumed from
// their cursors (SubscriptionTable), requests answered as Replies (RequestTable), the JSON
// heartbeat answered and watched, the token refreshed before its exp (TokenRefresh), inbox
// messages acked after their handler returned (Inbox), and a persistent outbox for reports
// (Outbox). All state lives on the Scheduler's one thread; public methods may be called from
// any thread and post onto it.
package io.wshub.client;

import java.io.IOException;
import java.nio.charset.Charset;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

import org.json.JSONArray;
import org.json.JSONObject;

public final class Client {
    public static final String VERSION = "0.1";

    private final String url;
    private final ClientOptions options;
    private final Scheduler scheduler;
    private final Backoff backoff;
    private final SafeStorage storage;
    private final RequestTable requests;
    private final TokenRefresh tokenRefresh;
    private final SubscriptionTable subscriptions;
    private final Inbox inbox;
    private final Outbox outbox;
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
    private boolean closingByClient;
    private int closingCode;
    private String closingReason;
    private boolean closingReconnect;
    private long heartbeatMs;
    private Scheduler.Cancellable reconnectTimer;
    private Scheduler.Cancellable connectTimer;
    private Scheduler.Cancellable livenessTimer;
    private boolean probing;
    private boolean reportingError;

    /** Nothing happens until connect(). Throws when the outbox file cannot be read. */
    public Client(String url, final ClientOptions options) throws IOException {
        this.url = url;
        this.options = options;
        this.scheduler = options.scheduler;
        this.backoff = new Backoff(options.minReconnectDelayMs, options.maxReconnectDelayMs, options.random);
        this.storage = new SafeStorage(options.storage, this::reportError);
        this.token = options.token;
        this.tokenStale = options.token == null;
        this.requests = new RequestTable(scheduler, this::write);
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
        ClientContext context = new ClientContext() {
            @Override
            public boolean isConnected() {
                return state == ClientListener.State.CONNECTED;
            }

            @Override
            public int generation() {
                return generation;
            }

            @Override
            public Reply<JSONObject> request(JSONObject frame, String what) {
                return Client.this.request(frame, what, options.timeoutMs);
            }

            @Override
            public boolean send(JSONObject frame) {
                return write(frame);
            }

            @Override
            public Scheduler scheduler() {
                return scheduler;
            }

            @Override
            public SafeStorage storage() {
                return storage;
            }

            @Override
            public long retryDelayMs() {
                return backoff.shortRetry();
            }

            @Override
            public void reportError(Throwable error) {
                Client.this.reportError(error);
            }
        };
        this.subscriptions = new SubscriptionTable(context, options.storagePrefix + "sub:");
        this.inbox = new Inbox(context, options.storagePrefix + "inbox");
        this.outbox = new Outbox(context, options.outboxFile, options.outboxSync, options.outboxWindow, options.outboxCapacity);
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
        scheduler.execute(() -> {
            if (started) return;
            started = true;
            backoff.reset();
            open();
        });
    }

    /** Closes for good; waiting requests fail with kind CLOSED. The outbox keeps its entries. */
    public void close() {
        scheduler.execute(() -> stop(1000, "client closed"));
    }

    /**
     * Subscribes to a channel; the listener gets its publications. Kept across reconnects and
     * resumed from its cursor. Throws IllegalStateException if this client holds the channel.
     */
    public Subscription subscribe(String ch, SubscriptionListener subscriptionListener) {
        Subscription sub = subscriptions.add(ch, subscriptionListener);
        subscriptions.subscribeWhenConnected(sub);
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
        return call(frame, "rpc " + method, timeoutMs, answer -> Json.dataField(answer, "data"));
    }

    /** Publishes to a channel (where its namespace lets clients publish). Not persisted: see outbox(). */
    public Reply<PublishAnswer> publish(String ch, Object data) {
        return publish(ch, data, options.timeoutMs, null);
    }

    public Reply<PublishAnswer> publish(String ch, Object data, long timeoutMs, String mid) {
        JSONObject frame = Json.object("t", "publish", "ch", ch, "data", Json.data(data), "mid", mid);
        return call(frame, "publish " + ch, timeoutMs, Frames::publishAnswer);
    }

    /** Who is subscribed to a channel (namespaces with presence = true). */
    public Reply<PresenceAnswer> presence(String ch) {
        return presence(ch, options.timeoutMs);
    }

    public Reply<PresenceAnswer> presence(String ch, long timeoutMs) {
        return call(Json.object("t", "presence", "ch", ch), "presence " + ch, timeoutMs, Frames::presenceAnswer);
    }

    /**
     * Checks the connection with a ping now. Connected and unanswered within probeTimeoutMs: the
     * connection is dropped and a new one made. Waiting to reconnect: reconnects at once. Call it
     * when the app comes to the foreground and when the network changes.
     */
    public void probe() {
        scheduler.execute(this::probeNow);
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
        if (options.tokenSupplier == null || !(tokenStale || token == null)) {
            openTransport(opening);
            return;
        }
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
    }

    private void openTransport(final int opening) {
        disconnectPush = null;
        closingByClient = false;
        try {
            connection = options.transport.open(url, Collections.singletonList(Protocol.SUBPROTOCOL), new Transport.Listener() {
                @Override
                public void onOpen() {
                    onClientThread(opening, Client.this::sendConnect);
                }

                @Override
                public void onMessage(final String text) {
                    onClientThread(opening, () -> receive(text));
                }

                @Override
                public void onClosed(final int code, final String reason) {
                    onClientThread(opening, () -> closed(code, reason == null ? "" : reason));
                }
            });
        } catch (RuntimeException e) {
            connection = null;
            reportError(new WshubException(WshubException.Kind.TRANSPORT, "cannot open " + url + ": " + e.getMessage(), e));
            setState(ClientListener.State.DISCONNECTED);
            scheduleReconnect(-1);
            return;
        }
        connectTimer = scheduler.schedule(() -> {
            if (opening == generation) dropConnection("no connect answer in time");
        }, options.connectTimeoutMs);
    }

    /** Runs a transport event on the client's thread, unless its connection is no longer the current one. */
    private void onClientThread(final int of, final Runnable task) {
        scheduler.execute(() -> {
            if (of == generation) task.run();
        });
    }

    private void sendConnect() {
        JSONObject frame = Json.object("t", "connect", "client", Json.object("sdk", options.sdkName, "version", options.sdkVersion),
            "inbox", inbox.connectField());
        if (token != null && !token.isEmpty()) Json.put(frame, "token", token);
        final Map<String, StreamPosition> sinces = new LinkedHashMap<String, StreamPosition>();
        Json.put(frame, "subs", subscriptions.connectField(sinces));
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
        info = Frames.connectedInfo(answer);
        backoff.reset();
        heartbeatMs = Frames.heartbeatMs(answer);
        watchLiveness();
        inbox.connected(answer.optJSONObject("inbox"));
        setState(ClientListener.State.CONNECTED);
        try {
            listener.onConnected(info);
        } catch (RuntimeException e) {
            reportError(e);
        }
        subscriptions.connectAnswered(answer.optJSONObject("subs"), sinces);
        requests.flush();
        if (tokenRefresh != null) tokenRefresh.schedule(info.exp);
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
        subscriptions.connectionLost();
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
        long delay = scheduleReconnect(Frames.retryAfterMs(push));
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
        reconnectTimer = scheduler.schedule(() -> {
            reconnectTimer = null;
            open();
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
        subscriptions.connectionLost();
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
        livenessTimer = scheduler.schedule(() -> {
            if (watched == generation) dropConnection("no heartbeat from the server");
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
        scheduler.execute(() -> request(frame, what, timeoutMs).then(new Callback<JSONObject>() {
            @Override
            public void onSuccess(JSONObject answer) {
                result.complete(mapper.map(answer));
            }

            @Override
            public void onError(WshubException error) {
                result.fail(error);
            }
        }));
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

    /** Runs the TokenSupplier on the token executor; the callback runs on the client's thread. */
    private void fetchToken(final Callback<String> callback) {
        options.tokenExecutor.execute(() -> {
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
            scheduler.execute(() -> {
                if (error == null) callback.onSuccess(fetched);
                else callback.onError(new WshubException(WshubException.Kind.TOKEN, "getToken failed: " + error, error));
            });
        });
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
            Publication pub = Frames.publication(m);
            Subscription sub = subscriptions.get(pub.ch);
            if (sub != null) sub.handlePublication(pub);
            else listener.onPublication(pub);
        } else if ("join".equals(t) || "leave".equals(t)) {
            JoinLeave event = Frames.joinLeave(m);
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
            InboxMessage message = Frames.inboxMessage(m);
            if (message != null) inbox.handleMessage(message);
        }
        // Pushes this version does not know are ignored, as the protocol asks.
    }

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
        while (text.getBytes(Charset.forName("UTF-8")).length > 123) text = text.substring(0, text.length() - 1);
        return text;
    }
}
