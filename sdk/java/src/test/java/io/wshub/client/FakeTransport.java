// A Transport for unit tests: records every connection the client opens and the frames it sends,
// and lets the test play the server (open, send frames, close). Events reach the client through
// its scheduler, as OkHttp's would from its own thread.
package io.wshub.client;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.json.JSONException;
import org.json.JSONObject;

final class FakeTransport implements Transport {
    final class Connection implements Transport.Connection {
        final String url;
        final List<String> protocols;
        final Listener listener;
        final List<JSONObject> sent = new ArrayList<JSONObject>();
        boolean closed;
        int closeCode;

        Connection(String url, List<String> protocols, Listener listener) {
            this.url = url;
            this.protocols = protocols;
            this.listener = listener;
        }

        @Override
        public boolean send(String text) {
            if (closed) return false;
            try {
                sent.add(new JSONObject(text));
            } catch (JSONException e) {
                throw new AssertionError("the client sent a frame that is not a JSON object: " + text);
            }
            return true;
        }

        @Override
        public void close(int code, String reason) {
            if (closed) return;
            closed = true;
            closeCode = code;
            listener.onClosed(code, reason);
        }

        /** The server side accepts the WebSocket. */
        void open() {
            listener.onOpen();
        }

        void push(String json) {
            listener.onMessage(json);
        }

        /** The server closes (or the network drops: 1006). */
        void serverClose(int code, String reason) {
            closed = true;
            listener.onClosed(code, reason);
        }

        /** Frames of type {@code t} sent so far. */
        List<JSONObject> sentOf(String t) {
            List<JSONObject> out = new ArrayList<JSONObject>();
            for (JSONObject frame : sent) {
                if (t.equals(frame.optString("t"))) out.add(frame);
            }
            return out;
        }

        JSONObject lastOf(String t) {
            List<JSONObject> frames = sentOf(t);
            assertTrue("the client sent no " + t + " frame; sent: " + sent, !frames.isEmpty());
            return frames.get(frames.size() - 1);
        }

        /** Answers the connect request with ok and these extra fields (as JSON text without braces). */
        void acceptConnect(String extraFields) {
            JSONObject connect = lastOf("connect");
            push("{\"t\":\"ok\",\"id\":" + connect.optLong("id") + ",\"cid\":\"0-1\",\"user\":\"alice\",\"device\":\"d1\","
                + "\"hb\":{\"iv\":25000,\"to\":10000}" + (extraFields.isEmpty() ? "" : "," + extraFields) + "}");
        }

        void answerOk(JSONObject request, String extraFields) {
            push("{\"t\":\"ok\",\"id\":" + request.optLong("id") + (extraFields.isEmpty() ? "" : "," + extraFields) + "}");
        }

        void answerErr(JSONObject request, int code, boolean retry) {
            push("{\"t\":\"err\",\"id\":" + request.optLong("id") + ",\"code\":" + code + ",\"msg\":\"refused\",\"retry\":" + retry + "}");
        }
    }

    final List<Connection> connections = new ArrayList<Connection>();

    @Override
    public Transport.Connection open(String url, List<String> protocols, Listener listener) {
        Connection connection = new Connection(url, protocols, listener);
        connections.add(connection);
        return connection;
    }

    Connection last() {
        assertTrue("the client opened no connection", !connections.isEmpty());
        return connections.get(connections.size() - 1);
    }

    void assertConnections(int count) {
        assertEquals("connections opened", count, connections.size());
    }

    static JSONObject json(String text) {
        try {
            return new JSONObject(text);
        } catch (JSONException e) {
            throw new AssertionError(e);
        }
    }

    static void assertNotNullField(JSONObject frame, String key) {
        assertNotNull(key + " in " + frame, frame.opt(key));
    }
}
