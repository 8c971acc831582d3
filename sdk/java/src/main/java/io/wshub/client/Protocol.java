// Names and rules of hub protocol v1 (docs/hub-protocol.md) that the client acts on: the
// subprotocol, the error codes, the close codes and which of them allow reconnecting. No I/O.
package io.wshub.client;

public final class Protocol {
    private Protocol() {}

    /** The subprotocol a hub route serves; the client always offers it. */
    public static final String SUBPROTOCOL = "wshub.v1.json";

    /** Error codes ({@code err.code}) the hub defines; 1000 and up belong to the application. */
    public static final class ErrorCode {
        private ErrorCode() {}
        public static final int INTERNAL = 100;
        public static final int UNAUTHORIZED = 101;
        public static final int UNKNOWN_CHANNEL = 102;
        public static final int PERMISSION_DENIED = 103;
        public static final int METHOD_NOT_FOUND = 104;
        public static final int ALREADY_SUBSCRIBED = 105;
        public static final int LIMIT_EXCEEDED = 106;
        public static final int BAD_REQUEST = 107;
        public static final int NOT_AVAILABLE = 108;
        public static final int TOKEN_EXPIRED = 109;
        public static final int TOO_MANY_REQUESTS = 111;
        public static final int UNRECOVERABLE_POSITION = 112;
        public static final int TOO_LARGE = 114;
        public static final int INBOX_FULL = 115;
        public static final int BACKEND_UNAVAILABLE = 116;
    }

    /** Close codes the client treats specially. */
    public static final class CloseCode {
        private CloseCode() {}
        public static final int TOKEN_EXPIRED = 3005;
        public static final int REPLACED = 3520;
        /** what this client closes with when it drops a connection it found dead */
        public static final int CLIENT_DROPPED = 4000;
    }

    /** Whether an error code says "the same request may succeed later" (the protocol's {@code retry}). */
    public static boolean errorIsRetryable(int code) {
        return code == ErrorCode.INTERNAL || code == ErrorCode.TOO_MANY_REQUESTS
            || code == ErrorCode.INBOX_FULL || code == ErrorCode.BACKEND_UNAVAILABLE;
    }

    /**
     * Whether a close code means "reconnect": 3000-3499 and 4000-4499 do, 3500-3999 and
     * 4500-4999 do not. Codes below 3000 are the WebSocket layer's (1006 network loss, 1001
     * idle, size limits): the client reconnects after them.
     */
    public static boolean closeAllowsReconnect(int code) {
        if (code >= 3500 && code <= 3999) return false;
        return code < 4500 || code > 4999;
    }
}
