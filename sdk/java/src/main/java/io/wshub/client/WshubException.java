// Every failure the client reports is a WshubException whose kind says which: a server's refusal
// (with its protocol code), a timeout, a lost connection, a closed client, a transport that could
// not open, or a token that could not be had. Subclasses carry the details.
package io.wshub.client;

public class WshubException extends Exception {
    private static final long serialVersionUID = 1L;

    public enum Kind { SERVER, TIMEOUT, DISCONNECTED, CLOSED, TRANSPORT, TOKEN, OUTBOX, INBOX }

    private final Kind kind;

    public WshubException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public WshubException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }

    /** The hub answered {@code err}: {@link #code()} is the protocol's, or the backend's (1000 and up). */
    public static final class ServerError extends WshubException {
        private static final long serialVersionUID = 1L;

        private final int code;
        private final boolean retry;

        public ServerError(int code, String msg, boolean retry) {
            super(Kind.SERVER, msg);
            this.code = code;
            this.retry = retry;
        }

        public int code() {
            return code;
        }

        /** true when sending the same request again later may succeed (100, 111, 115, 116) */
        public boolean retry() {
            return retry;
        }
    }

    /** No answer within the request's timeout. The request may still have run on the server. */
    public static final class Timeout extends WshubException {
        private static final long serialVersionUID = 1L;

        public Timeout(String what, long ms) {
            super(Kind.TIMEOUT, what + ": no answer within " + ms + " ms");
        }
    }

    /**
     * The connection ended while the request waited for its answer (it may or may not have run),
     * or (kind CLOSED) the client was closed before it could be sent.
     */
    public static final class Disconnected extends WshubException {
        private static final long serialVersionUID = 1L;

        private final int code;

        public Disconnected(boolean closed, int code, String reason) {
            super(closed ? Kind.CLOSED : Kind.DISCONNECTED,
                reason == null || reason.isEmpty() ? "connection closed with " + code : reason);
            this.code = code;
        }

        public int code() {
            return code;
        }
    }
}
