// A connection ended: its close code and reason, and what the client does next.
package io.wshub.client;

public final class DisconnectedEvent {
    public final int code;
    public final String reason;
    /** whether the client reconnects by itself */
    public final boolean reconnect;
    /** when it does, after how long (ms); 0 otherwise */
    public final long delayMs;

    public DisconnectedEvent(int code, String reason, boolean reconnect, long delayMs) {
        this.code = code;
        this.reason = reason;
        this.reconnect = reconnect;
        this.delayMs = delayMs;
    }
}
