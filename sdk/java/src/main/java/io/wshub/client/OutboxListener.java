// What became of outbox entries. Entries outlive the process that queued them, so results come
// here rather than to the caller. Calls come on the client's thread.
package io.wshub.client;

import org.json.JSONObject;

public interface OutboxListener {
    /** The server answered ok: the publish answer ({off, ep, dup}) or the rpc answer ({data}). */
    default void onSent(OutboxEntry entry, JSONObject answer) {}

    /** The server refused it for good (a code with retry false): it is removed, not sent again. */
    default void onRejected(OutboxEntry entry, WshubException.ServerError error) {}
}
