// The client's requests waiting for answers: ids (whole numbers from 1, unique while waiting),
// one timeout per request counted from the call, requests queued while there is no connection,
// and the ok/err answers matched back to their replies. Knows nothing of sockets: it sends
// through the Writer it is given. Runs on the client's thread only.
package io.wshub.client;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.json.JSONException;
import org.json.JSONObject;

final class RequestTable {
    interface Writer {
        /** Sends a frame on the current connection; false when there is none. */
        boolean write(JSONObject frame);
    }

    private static final long MAX_ID = (1L << 53) - 1;

    private final class Waiting {
        final JSONObject frame;
        final Reply<JSONObject> reply;
        Scheduler.Cancellable timer;

        Waiting(JSONObject frame, Reply<JSONObject> reply) {
            this.frame = frame;
            this.reply = reply;
        }
    }

    private final Scheduler scheduler;
    private final Writer writer;
    private final Map<Long, Waiting> sent = new LinkedHashMap<Long, Waiting>();
    private List<Waiting> queued = new ArrayList<Waiting>();
    private long nextId = 1;

    RequestTable(Scheduler scheduler, Writer writer) {
        this.scheduler = scheduler;
        this.writer = writer;
    }

    /**
     * Sends {@code frame} now ({@code sendNow}) or at the next flush(); fails with a Timeout
     * {@code timeoutMs} from now either way.
     */
    Reply<JSONObject> call(JSONObject frame, final String what, final long timeoutMs, boolean sendNow) {
        final Reply<JSONObject> reply = new Reply<JSONObject>();
        final Waiting waiting = new Waiting(frame, reply);
        waiting.timer = scheduler.schedule(new Runnable() {
            @Override
            public void run() {
                queued.remove(waiting);
                for (Iterator<Waiting> it = sent.values().iterator(); it.hasNext(); ) {
                    if (it.next() == waiting) it.remove();
                }
                reply.fail(new WshubException.Timeout(what, timeoutMs));
            }
        }, timeoutMs);
        if (sendNow) send(waiting);
        else queued.add(waiting);
        return reply;
    }

    /** Sends the queued requests, in the order they were made. */
    void flush() {
        List<Waiting> toSend = queued;
        queued = new ArrayList<Waiting>();
        for (Waiting waiting : toSend) send(waiting);
    }

    /** An ok or err answer: settles its request. False when no request waits for its id. */
    boolean answer(JSONObject message) {
        long id = message.optLong("id", -1);
        Waiting waiting = sent.remove(id);
        if (waiting == null) return false; // timed out already, or not ours
        waiting.timer.cancel();
        if ("ok".equals(message.optString("t"))) {
            waiting.reply.complete(message);
        } else {
            int code = message.optInt("code", Protocol.ErrorCode.INTERNAL);
            waiting.reply.fail(new WshubException.ServerError(code, message.optString("msg", ""), message.optBoolean("retry", false)));
        }
        return true;
    }

    /** The connection ended: the requests sent on it fail; the queued ones keep waiting. */
    void connectionLost(int code, String reason) {
        List<Waiting> lost = new ArrayList<Waiting>(sent.values());
        sent.clear();
        for (Waiting waiting : lost) {
            waiting.timer.cancel();
            waiting.reply.fail(new WshubException.Disconnected(false, code, reason));
        }
    }

    /** The client closed for good: everything fails. */
    void closeAll(int code, String reason) {
        List<Waiting> all = new ArrayList<Waiting>(sent.values());
        all.addAll(queued);
        sent.clear();
        queued = new ArrayList<Waiting>();
        for (Waiting waiting : all) {
            waiting.timer.cancel();
            waiting.reply.fail(new WshubException.Disconnected(true, code, reason));
        }
    }

    private void send(Waiting waiting) {
        long id = nextId;
        nextId = id >= MAX_ID ? 1 : id + 1;
        sent.put(id, waiting);
        try {
            waiting.frame.put("id", id);
        } catch (JSONException impossible) {
            throw new IllegalStateException(impossible);
        }
        writer.write(waiting.frame);
    }
}
