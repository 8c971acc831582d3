// The device inbox (a device's connection, SQLite store): `msg` pushes in seq order (a seq may
// be skipped: expired or replaced before it was pushed), handed to one handler in seq order,
// acknowledged with `ack {upto}` only after the handler
// returned, and deduplicated by seq (redelivery after ack_timeout or a reconnect) and by id
// (after the inbox's epoch changed). The acked position is persisted and sent at `connect`.
// Runs on the client's thread.
package io.wshub.client;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;

import org.json.JSONArray;
import org.json.JSONObject;

public final class Inbox {
    /** How many handled message ids are remembered for deduplication across epochs. */
    static final int REMEMBERED_IDS = 256;

    private final ClientContext host;
    private final String storageKey;
    private volatile InboxHandler handler;
    private String epoch;
    private long acked;
    private final LinkedHashSet<String> handledIds = new LinkedHashSet<String>();
    private final List<InboxMessage> queue = new ArrayList<InboxMessage>();
    // The seq whose handler failed, until it comes again: later messages are not handed over
    // meanwhile, since acking one of them would acknowledge the failed one too. -1: none.
    private long failedSeq = -1;

    Inbox(ClientContext host, String storageKey) {
        this.host = host;
        this.storageKey = storageKey;
        load();
    }

    /** Sets the handler (one per client; a second call replaces it, null removes it). Any thread. */
    public void setHandler(InboxHandler newHandler) {
        handler = newHandler;
        host.scheduler().execute(this::pump);
    }

    /** The last seq acknowledged (0 before any). */
    public synchronized long acked() {
        return acked;
    }

    // ---- called by the client ----

    /** The `inbox` field of `connect`: {} the first time, then {ep, acked}. */
    synchronized JSONObject connectField() {
        return epoch == null ? new JSONObject() : Json.object("ep", epoch, "acked", acked);
    }

    /** The connect answer's `inbox` (absent in builds without the store). */
    void connected(JSONObject inbox) {
        if (inbox == null) return;
        Object ep = inbox.opt("ep");
        if (!(ep instanceof String)) return;
        synchronized (this) {
            if (ep.equals(epoch)) return;
            // Another epoch: its seqs start afresh; ids tell what was already handled.
            epoch = (String) ep;
            acked = 0;
        }
        persist();
    }

    /** The connection ended: queued messages come again on the next connect. */
    void connectionLost() {
        queue.clear();
        failedSeq = -1;
    }

    void handleMessage(InboxMessage message) {
        long ackedNow = acked();
        if (message.seq <= ackedNow) {
            // Handled and acked already: our ack may have been lost, so say it again.
            sendAck(ackedNow);
            return;
        }
        if (failedSeq >= 0) {
            if (message.seq > failedSeq) return; // comes again after the failed one
            failedSeq = -1;
        }
        for (InboxMessage waiting : queue) {
            if (waiting.seq == message.seq) return;
        }
        if (message.id != null && handledIds.contains(message.id)) {
            markAcked(message);
            return;
        }
        queue.add(message);
        Collections.sort(queue, new Comparator<InboxMessage>() {
            @Override
            public int compare(InboxMessage a, InboxMessage b) {
                return a.seq < b.seq ? -1 : a.seq == b.seq ? 0 : 1;
            }
        });
        pump();
    }

    private void pump() {
        while (!queue.isEmpty()) {
            InboxHandler current = handler;
            if (current == null) return;
            InboxMessage message = queue.remove(0);
            try {
                current.handle(message);
            } catch (Exception e) {
                // Acks are cumulative: nothing after an unhandled message may be acked. Drop what
                // waits; the server sends it again (after ack_timeout, or at the next connect).
                queue.clear();
                failedSeq = message.seq;
                host.reportError(new WshubException(WshubException.Kind.INBOX,
                    "inbox handler failed for seq " + message.seq + ": " + e, e));
                return;
            }
            markAcked(message);
        }
    }

    private void markAcked(InboxMessage message) {
        long upto;
        synchronized (this) {
            if (message.seq > acked) acked = message.seq;
            upto = acked;
            if (message.id != null) {
                handledIds.remove(message.id);
                handledIds.add(message.id);
                while (handledIds.size() > REMEMBERED_IDS) handledIds.remove(handledIds.iterator().next());
            }
        }
        persist();
        sendAck(upto);
    }

    /** ack {upto} on the current connection; without one, the next connect carries the position. */
    private void sendAck(long upto) {
        if (host.isConnected()) host.send(Json.object("t", "ack", "upto", upto));
    }

    private void persist() {
        JSONObject cursor;
        synchronized (this) {
            cursor = Json.object("ep", epoch, "acked", acked, "ids", new JSONArray(handledIds));
        }
        host.storage().set(storageKey, cursor.toString());
    }

    private void load() {
        String text = host.storage().get(storageKey);
        Object value = text == null ? null : Json.parse(text);
        if (!(value instanceof JSONObject)) return; // none, or damaged: start afresh
        JSONObject cursor = (JSONObject) value;
        Object ackedValue = cursor.opt("acked");
        if (!(ackedValue instanceof Number) || ((Number) ackedValue).longValue() < 0) return;
        acked = ((Number) ackedValue).longValue();
        Object ep = cursor.opt("ep");
        epoch = ep instanceof String ? (String) ep : null;
        JSONArray ids = cursor.optJSONArray("ids");
        for (int i = 0; ids != null && i < ids.length(); i++) {
            Object id = ids.opt(i);
            if (id instanceof String) handledIds.add((String) id);
        }
    }
}
