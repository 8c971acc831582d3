// An inbox message (`msg` push).
package io.wshub.client;

public final class InboxMessage {
    public final long seq;
    public final String id;
    public final Object data;
    public final long ts;
    /** ms; null when the message does not expire */
    public final Long exp;

    public InboxMessage(long seq, String id, Object data, long ts, Long exp) {
        this.seq = seq;
        this.id = id;
        this.data = data;
        this.ts = ts;
        this.exp = exp;
    }
}
