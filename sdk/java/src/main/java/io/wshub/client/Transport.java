// How the client reaches the server: open a WebSocket offering subprotocols, send text, close.
// The default is OkHttpTransport; tests use a fake. Listener calls may come on any thread: the
// client moves them onto its own.
package io.wshub.client;

import java.util.List;

public interface Transport {
    /** Events of one connection. After onClosed nothing more is reported for it. */
    interface Listener {
        void onOpen();

        void onMessage(String text);

        /** The connection ended: the close code and reason seen, or 1006 and a cause when it failed. */
        void onClosed(int code, String reason);
    }

    /** One open (or opening) connection. */
    interface Connection {
        /** Queues a text frame; false when the connection cannot take it (closing, closed). */
        boolean send(String text);

        /** Starts the close handshake; the listener's onClosed follows. */
        void close(int code, String reason);
    }

    Connection open(String url, List<String> protocols, Listener listener);
}
