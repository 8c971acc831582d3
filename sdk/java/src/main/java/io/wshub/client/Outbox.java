// The persistent outbox: reports (publish, rpc) that must reach the server even when they are
// made offline or the app dies before they are sent. publish()/rpc() write the entry to the log
// before returning; the client sends entries in order, at most `window` at a time (default 1,
// which keeps their order end to end), whenever it
// is connected, each with its mid; an entry leaves the outbox when the server answers ok or
// refuses it for good. A lost answer (the connection dropped, a timeout) sends the entry again
// with the same mid: delivery is at least once, and the server's deduplication by mid (which
// survives a server restart on channels that keep history) makes it once. The outbox itself
// never holds two entries with one mid and ignores a mid it settled lately.
package io.wshub.client;

import java.io.File;
import java.io.IOException;
import java.nio.charset.Charset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

import org.json.JSONObject;

public final class Outbox {
    /** Settled mids remembered for deduplication (kept in the log across compactions). */
    static final int REMEMBERED_MIDS = 256;
    static final int MAX_MID_BYTES = 128;

    private final ClientContext host;
    private final OutboxLog log; // null: kept in memory only
    private final int window;
    private final int capacity;
    private final List<OutboxEntry> pending = new ArrayList<OutboxEntry>();
    private final LinkedHashSet<String> settled = new LinkedHashSet<String>();
    private final Set<String> inFlight = new HashSet<String>();
    private volatile OutboxListener listener;
    // Retrying after a refusal that may pass, or a timeout: nothing is sent until the timer fires.
    private Scheduler.Cancellable retryTimer;
    private int failuresInARow;

    Outbox(ClientContext host, File file, boolean sync, int window, int capacity) throws IOException {
        this.host = host;
        this.window = Math.max(1, window);
        this.capacity = capacity;
        if (file == null) {
            log = null;
            return;
        }
        log = new OutboxLog(file, sync);
        OutboxLog.Contents contents = log.load();
        pending.addAll(contents.pending);
        settled.addAll(contents.done);
        trimSettled();
        if (contents.lines > pending.size() + settled.size()) log.compact(pending, settled);
    }

    public void setListener(OutboxListener newListener) {
        listener = newListener;
    }

    /** Queues a publish with a new mid; returns the mid. The entry is on disk when this returns. */
    public String publish(String ch, Object data) throws WshubException {
        return add(OutboxEntry.Kind.PUBLISH, ch, data, UUID.randomUUID().toString());
    }

    /** Queues a publish with the application's mid; a mid queued or settled lately is ignored. */
    public String publish(String ch, Object data, String mid) throws WshubException {
        return add(OutboxEntry.Kind.PUBLISH, ch, data, mid);
    }

    /** Queues an rpc (its answer goes to the OutboxListener); returns the mid. */
    public String rpc(String method, Object data) throws WshubException {
        return add(OutboxEntry.Kind.RPC, method, data, UUID.randomUUID().toString());
    }

    public String rpc(String method, Object data, String mid) throws WshubException {
        return add(OutboxEntry.Kind.RPC, method, data, mid);
    }

    /** How many entries wait to be sent or answered. */
    public synchronized int size() {
        return pending.size();
    }

    /** The entries waiting, oldest first. */
    public synchronized List<OutboxEntry> entries() {
        return new ArrayList<OutboxEntry>(pending);
    }

    private String add(OutboxEntry.Kind kind, String target, Object data, String mid) throws WshubException {
        if (target == null || target.isEmpty()) throw new IllegalArgumentException("a channel or method is required");
        if (mid == null || mid.isEmpty() || mid.getBytes(Charset.forName("UTF-8")).length > MAX_MID_BYTES) {
            throw new IllegalArgumentException("mid must be 1 to " + MAX_MID_BYTES + " bytes");
        }
        OutboxEntry entry = new OutboxEntry(mid, kind, target, Json.data(data), host.scheduler().now());
        synchronized (this) {
            if (settled.contains(mid)) return mid;
            for (OutboxEntry queued : pending) {
                if (queued.mid.equals(mid)) return mid;
            }
            if (pending.size() >= capacity) {
                throw new WshubException(WshubException.Kind.OUTBOX, "the outbox is full (" + capacity + " entries)");
            }
            if (log != null) {
                try {
                    log.appendAdd(entry);
                } catch (IOException e) {
                    throw new WshubException(WshubException.Kind.OUTBOX, "cannot write the outbox: " + e.getMessage(), e);
                }
            }
            pending.add(entry);
        }
        host.scheduler().execute(new Runnable() {
            @Override
            public void run() {
                pump();
            }
        });
        return mid;
    }

    // ---- on the client's thread ----

    /** Sends what may be sent now: called when connected and when an answer frees the window. */
    void pump() {
        if (!host.isConnected() || retryTimer != null) return;
        List<OutboxEntry> toSend = new ArrayList<OutboxEntry>();
        synchronized (this) {
            for (OutboxEntry entry : pending) {
                if (inFlight.size() + toSend.size() >= window) break;
                if (!inFlight.contains(entry.mid)) toSend.add(entry);
            }
            for (OutboxEntry entry : toSend) inFlight.add(entry.mid);
        }
        for (OutboxEntry entry : toSend) send(entry);
    }

    /** The client closed for good: the log is closed (entries stay in it for the next start). */
    void close() {
        if (retryTimer != null) retryTimer.cancel();
        retryTimer = null;
        synchronized (this) {
            inFlight.clear();
            if (log != null) log.close();
        }
    }

    private void send(final OutboxEntry entry) {
        boolean publish = entry.kind == OutboxEntry.Kind.PUBLISH;
        JSONObject frame = publish
            ? Json.object("t", "publish", "ch", entry.target, "data", entry.data, "mid", entry.mid)
            : Json.object("t", "rpc", "m", entry.target, "data", entry.data, "mid", entry.mid);
        host.request(frame, (publish ? "outbox publish " : "outbox rpc ") + entry.target).then(new Callback<JSONObject>() {
            @Override
            public void onSuccess(JSONObject answer) {
                failuresInARow = 0;
                settle(entry);
                OutboxListener current = listener;
                try {
                    if (current != null) current.onSent(entry, answer);
                } catch (RuntimeException e) {
                    host.reportError(e);
                }
                pump();
            }

            @Override
            public void onError(WshubException error) {
                if (error instanceof WshubException.ServerError && !((WshubException.ServerError) error).retry()) {
                    settle(entry);
                    OutboxListener current = listener;
                    try {
                        if (current != null) current.onRejected(entry, (WshubException.ServerError) error);
                    } catch (RuntimeException e) {
                        host.reportError(e);
                    }
                    pump();
                    return;
                }
                synchronized (Outbox.this) {
                    inFlight.remove(entry.mid);
                }
                // A lost connection: the next connection sends it again (pump at connected).
                if (error.kind() == WshubException.Kind.DISCONNECTED || error.kind() == WshubException.Kind.CLOSED) return;
                // 116/111/100 or a timeout: wait, then send again with the same mid.
                retryLater();
            }
        });
    }

    private void retryLater() {
        if (retryTimer != null) return;
        failuresInARow += 1;
        long delay = Math.min(60000, 1000L << Math.min(failuresInARow - 1, 6));
        retryTimer = host.scheduler().schedule(new Runnable() {
            @Override
            public void run() {
                retryTimer = null;
                pump();
            }
        }, delay);
    }

    private void settle(OutboxEntry entry) {
        synchronized (this) {
            inFlight.remove(entry.mid);
            pending.remove(entry);
            settled.remove(entry.mid);
            settled.add(entry.mid);
            trimSettled();
            if (log == null) return;
            try {
                log.appendDone(entry.mid);
                if (log.linesSinceCompaction() > 1000 && log.linesSinceCompaction() > 4 * (pending.size() + settled.size())) {
                    log.compact(pending, settled);
                }
            } catch (IOException e) {
                // Settled in memory; after a restart the entry may be sent again (same mid).
                host.reportError(new WshubException(WshubException.Kind.OUTBOX, "cannot write the outbox: " + e.getMessage(), e));
            }
        }
    }

    private void trimSettled() {
        while (settled.size() > REMEMBERED_MIDS) settled.remove(settled.iterator().next());
    }
}
