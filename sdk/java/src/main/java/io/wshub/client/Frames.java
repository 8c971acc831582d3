// Reading the server's answers and pushes into the SDK's value types. Field names are the
// protocol's (docs/hub-protocol.md); missing fields read as 0 or "" rather than failing.
package io.wshub.client;

import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

import org.json.JSONObject;

final class Frames {
    private Frames() {}

    static Publication publication(JSONObject m) {
        return new Publication(m.optString("ch"), m.optLong("off"), Json.dataField(m, "data"), m.optLong("ts"));
    }

    static JoinLeave joinLeave(JSONObject m) {
        return new JoinLeave(m.optString("ch"), m.optString("cid"), m.optString("user"), m.optString("device"));
    }

    /** A `msg` push, or null when it has no numeric seq. */
    static InboxMessage inboxMessage(JSONObject m) {
        Object seq = m.opt("seq");
        if (!(seq instanceof Number)) return null;
        return new InboxMessage(((Number) seq).longValue(), m.has("id") ? m.optString("id") : null,
            Json.dataField(m, "data"), m.optLong("ts"), Json.optLong(m, "exp"));
    }

    static ConnectedInfo connectedInfo(JSONObject answer) {
        return new ConnectedInfo(answer.optString("cid"), answer.optString("user"), answer.optString("device"), Json.optLong(answer, "exp"));
    }

    static PublishAnswer publishAnswer(JSONObject answer) {
        return new PublishAnswer(answer.optLong("off"), answer.optString("ep"), answer.optBoolean("dup", false));
    }

    static PresenceAnswer presenceAnswer(JSONObject answer) {
        Map<String, PresenceEntry> clients = new HashMap<String, PresenceEntry>();
        JSONObject list = answer.optJSONObject("clients");
        if (list != null) {
            for (Iterator<String> it = list.keys(); it.hasNext(); ) {
                String cid = it.next();
                JSONObject entry = list.optJSONObject(cid);
                if (entry != null) clients.put(cid, new PresenceEntry(entry.optString("user"), entry.optString("device"), entry.opt("info")));
            }
        }
        return new PresenceAnswer(clients, answer.optLong("total", clients.size()));
    }

    /** The heartbeat silence after which the connection is dead: hb.iv + hb.to, or 0 without hb. */
    static long heartbeatMs(JSONObject answer) {
        JSONObject hb = answer.optJSONObject("hb");
        return hb != null && hb.optLong("iv", 0) > 0 ? hb.optLong("iv") + hb.optLong("to", 0) : 0;
    }

    /** The disconnect push's retry_after (ms), or -1 when it has none. */
    static long retryAfterMs(JSONObject push) {
        if (push == null || !(push.opt("retry_after") instanceof Number)) return -1;
        long value = push.optLong("retry_after");
        return value >= 0 ? value : -1;
    }
}
