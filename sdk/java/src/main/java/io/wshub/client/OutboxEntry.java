// One report in the outbox: a publish to a channel or an rpc to the backend, with the mid that
// names it across resends and app restarts.
package io.wshub.client;

public final class OutboxEntry {
    public enum Kind { PUBLISH, RPC }

    public final String mid;
    public final Kind kind;
    /** the channel (PUBLISH) or the method (RPC) */
    public final String target;
    /** the JSON value sent as {@code data} */
    public final Object data;
    /** when it was queued, ms since the Unix epoch */
    public final long queuedAt;

    public OutboxEntry(String mid, Kind kind, String target, Object data, long queuedAt) {
        this.mid = mid;
        this.kind = kind;
        this.target = target;
        this.data = data;
        this.queuedAt = queuedAt;
    }
}
