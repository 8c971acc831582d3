// One channel subscription and its resume cursor {ep, off}: the position of the last publication
// handed to the application. It survives reconnects (and, with a persistent CursorStorage, app
// restarts) and is sent as `since` when the client subscribes again, so that publications are
// neither skipped silently nor handed over twice. Runs on the client's thread, except the
// public getters and unsubscribe(), which may be called from any thread.
package io.wshub.client;

import java.util.ArrayList;
import java.util.List;

import org.json.JSONArray;
import org.json.JSONObject;

public final class Subscription {
    public enum State { SUBSCRIBING, SUBSCRIBED, UNSUBSCRIBED, FAILED }

    /** What a Subscription needs from its client. */
    interface Host {
        void unsubscribe(Subscription subscription);

        SafeStorage storage();

        void reportError(Throwable error);
    }

    private final String channel;
    private final Host host;
    private final String storageKey;
    private final SubscriptionListener listener;
    private volatile State state = State.SUBSCRIBING;
    private volatile StreamPosition cursor;
    // Publications that arrived before the subscribe answer (an answer held back behind a
    // webhook lets pushes overtake it); replayed past the answer's offset.
    private List<Publication> early = new ArrayList<Publication>();
    private final Reply<SubscribedEvent> ready = new Reply<SubscribedEvent>();

    Subscription(String channel, SubscriptionListener listener, Host host, String storageKey) {
        this.channel = channel;
        this.listener = listener;
        this.host = host;
        this.storageKey = storageKey;
        this.cursor = parseCursor(host.storage().get(storageKey));
    }

    public String channel() {
        return channel;
    }

    public State state() {
        return state;
    }

    /** The position of the last publication handed over, or null before the first answer. */
    public StreamPosition position() {
        return cursor;
    }

    /** Settles at the first successful subscribe; fails if the server refuses the channel or it is unsubscribed first. */
    public Reply<SubscribedEvent> ready() {
        return ready;
    }

    /** Ends the subscription and forgets its cursor. */
    public void unsubscribe() {
        host.unsubscribe(this);
    }

    // ---- called by the client, on its thread ----

    /** The `since` to send, when there is a position to resume from. */
    StreamPosition since() {
        return cursor;
    }

    /** The connection ended: the next connection subscribes again from the cursor. */
    void connectionLost() {
        if (state == State.SUBSCRIBED) state = State.SUBSCRIBING;
        early = new ArrayList<Publication>();
    }

    /** A subscribe answer (or a connect answer's subs entry), for a request sent with {@code since}. */
    void handleAnswer(JSONObject answer, StreamPosition since) {
        if (state != State.SUBSCRIBING) return;
        String ep = answer.optString("ep", "");
        long off = answer.optLong("off", 0);
        boolean recovered = since != null && answer.optBoolean("rec", false) && since.ep.equals(ep);
        JSONArray pubs = answer.optJSONArray("pubs");
        int count = pubs == null ? 0 : pubs.length();
        long base = recovered ? since.off : count > 0 ? pubs.optJSONObject(0).optLong("off", 1) - 1 : off;
        cursor = new StreamPosition(ep, base);
        state = State.SUBSCRIBED;
        SubscribedEvent event = new SubscribedEvent(channel, ep, off, recovered, since != null && !recovered);
        try {
            listener.onSubscribed(this, event);
        } catch (RuntimeException e) {
            host.reportError(e);
        }
        ready.complete(event);
        for (int i = 0; i < count; i++) {
            JSONObject pub = pubs.optJSONObject(i);
            if (pub != null) deliver(new Publication(channel, pub.optLong("off"), Json.dataField(pub, "data"), pub.optLong("ts")));
        }
        // With `more`, missed publications go on arriving as pushes: the cursor stays at the last
        // one delivered. Otherwise the stream continues after the answer's offset.
        if (!answer.optBoolean("more", false) && cursor.off < off) cursor = new StreamPosition(ep, off);
        List<Publication> overtaking = early;
        early = new ArrayList<Publication>();
        for (Publication pub : overtaking) deliver(pub);
        persist();
    }

    void handlePublication(Publication pub) {
        if (state == State.SUBSCRIBING) {
            early.add(pub);
            return;
        }
        if (state != State.SUBSCRIBED) return;
        deliver(pub);
        persist();
    }

    void handleJoinLeave(boolean join, JoinLeave event) {
        if (state != State.SUBSCRIBED) return;
        try {
            if (join) listener.onJoin(this, event);
            else listener.onLeave(this, event);
        } catch (RuntimeException e) {
            host.reportError(e);
        }
    }

    /** The server refused the channel for good. */
    void fail(WshubException.ServerError error) {
        state = State.FAILED;
        reportToListener(error);
        ready.fail(error);
    }

    /** A refusal that may pass (116, 111): reported; the client subscribes again later. */
    void transientError(WshubException.ServerError error) {
        reportToListener(error);
    }

    void ended(int code, String reason, boolean forget) {
        state = State.UNSUBSCRIBED;
        early = new ArrayList<Publication>();
        if (forget) host.storage().remove(storageKey);
        ready.fail(new WshubException.Disconnected(true, code, "unsubscribed from " + channel + ": " + reason));
        try {
            listener.onUnsubscribed(this, code, reason);
        } catch (RuntimeException e) {
            host.reportError(e);
        }
    }

    private void reportToListener(WshubException.ServerError error) {
        try {
            listener.onError(this, error);
        } catch (RuntimeException e) {
            host.reportError(e);
        }
    }

    private void deliver(Publication pub) {
        // Offsets grow by one per publication: anything at or before the cursor was handed over.
        StreamPosition at = cursor;
        if (at != null && pub.off <= at.off) return;
        if (at != null) cursor = new StreamPosition(at.ep, pub.off);
        try {
            listener.onPublication(this, pub);
        } catch (RuntimeException e) {
            host.reportError(e);
        }
    }

    private void persist() {
        StreamPosition at = cursor;
        if (at != null) host.storage().set(storageKey, Json.object("ep", at.ep, "off", at.off).toString());
    }

    private static StreamPosition parseCursor(String text) {
        if (text == null) return null;
        Object value = Json.parse(text);
        if (!(value instanceof JSONObject)) return null; // a damaged entry: start afresh
        JSONObject object = (JSONObject) value;
        // `since` must be {ep: string, off: number}: anything else would close the connection.
        Object ep = object.opt("ep");
        Object off = object.opt("off");
        if (!(ep instanceof String) || !(off instanceof Number) || ((Number) off).longValue() < 0) return null;
        return new StreamPosition((String) ep, ((Number) off).longValue());
    }
}
