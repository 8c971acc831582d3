// The Transport on OkHttp 3 (Android's own HTTP stack; Debian's libokhttp-java on the JVM). It
// offers the subprotocol in Sec-WebSocket-Protocol and reports a failed connection as a close
// with 1006, once. WebSocket-level pings are left to OkHttp's defaults (off): the hub's JSON
// heartbeat is what the client watches.
package io.wshub.client;

import java.util.List;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import okhttp3.Dispatcher;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.WebSocket;
import okhttp3.WebSocketListener;

public final class OkHttpTransport implements Transport {
    private final OkHttpClient http;

    /** Shares the application's OkHttpClient (its connection pool, proxies, TLS settings). */
    public OkHttpTransport(OkHttpClient http) {
        this.http = http;
    }

    /**
     * An OkHttpClient of its own whose dispatcher threads are daemons: OkHttp's default ones would
     * keep a JVM program alive for a minute after close().
     */
    public OkHttpTransport() {
        this(new OkHttpClient.Builder().dispatcher(new Dispatcher(new ThreadPoolExecutor(0, Integer.MAX_VALUE, 60, TimeUnit.SECONDS,
            new SynchronousQueue<Runnable>(), new ThreadFactory() {
                @Override
                public Thread newThread(Runnable task) {
                    Thread thread = new Thread(task, "wshub-okhttp");
                    thread.setDaemon(true);
                    return thread;
                }
            }))).build());
    }

    @Override
    public Connection open(String url, List<String> protocols, final Listener listener) {
        Request.Builder request = new Request.Builder().url(url);
        if (!protocols.isEmpty()) request.header("Sec-WebSocket-Protocol", join(protocols));
        final AtomicBoolean ended = new AtomicBoolean();
        final WebSocket socket = http.newWebSocket(request.build(), new WebSocketListener() {
            @Override
            public void onOpen(WebSocket webSocket, Response response) {
                listener.onOpen();
            }

            @Override
            public void onMessage(WebSocket webSocket, String text) {
                if (!ended.get()) listener.onMessage(text);
            }

            @Override
            public void onClosing(WebSocket webSocket, int code, String reason) {
                // Answer the server's close at once (echoing its code when OkHttp may send it,
                // else 1000); OkHttp reports onClosed after that.
                try {
                    webSocket.close(code, null);
                } catch (IllegalArgumentException notSendable) {
                    webSocket.close(1000, null);
                }
                if (ended.compareAndSet(false, true)) listener.onClosed(code, reason);
            }

            @Override
            public void onClosed(WebSocket webSocket, int code, String reason) {
                if (ended.compareAndSet(false, true)) listener.onClosed(code, reason);
            }

            @Override
            public void onFailure(WebSocket webSocket, Throwable t, Response response) {
                String why = response != null ? "HTTP " + response.code() + " " + response.message() : String.valueOf(t);
                if (ended.compareAndSet(false, true)) listener.onClosed(1006, why);
            }
        });
        return new Connection() {
            @Override
            public boolean send(String text) {
                return !ended.get() && socket.send(text);
            }

            @Override
            public void close(int code, String reason) {
                if (!socket.close(code, reason)) socket.cancel();
                // A peer that never answers the close must not keep the client waiting: the
                // client treats the connection as ended now.
                if (ended.compareAndSet(false, true)) listener.onClosed(code, reason);
            }
        };
    }

    private static String join(List<String> values) {
        StringBuilder out = new StringBuilder();
        for (String value : values) {
            if (out.length() > 0) out.append(", ");
            out.append(value);
        }
        return out.toString();
    }
}
