// The SDK's device inbox and persistent outbox against the real wshub with its SQLite store (a
// file in the test's folder, kept across a SIGKILL and a restart on the same ports): inbox
// messages sent with POST /api/send reach the handler once each, acked after it returned; a
// handler failure leaves the rest unacked, the server is killed, and the restarted one pushes
// them again to the client that reconnected by itself with its persisted cursor. The outbox: a
// publish the server stored but whose answer the client never read (its transport drops what
// comes in) is sent again with the same mid after the restart and answered dup: true; reports
// queued while the server was down follow; the channel's history holds each report once. And a
// graceful stop's retry_after holds the reconnect back past the client's own backoff.
package io.wshub.client;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static io.wshub.client.WshubServer.until;

import java.io.File;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import org.json.JSONArray;
import org.json.JSONObject;
import org.junit.After;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class InboxServerTest {
    @Rule
    public TemporaryFolder folder = new TemporaryFolder();

    private final List<Client> clients = new ArrayList<Client>();
    private final List<WshubServer> servers = new ArrayList<WshubServer>();
    private final List<Throwable> errors = Collections.synchronizedList(new ArrayList<Throwable>());

    @After
    public void stopAll() throws Exception {
        for (Client client : clients) client.close();
        for (WshubServer server : servers) {
            try {
                server.stop(false);
            } catch (Exception ignored) {
                // stopped by the test already
            }
        }
    }

    /** OkHttp, with every frame sent and received recorded, and what comes in dropped on demand. */
    static final class RecordingTransport implements Transport {
        final List<JSONObject> sent = Collections.synchronizedList(new ArrayList<JSONObject>());
        final List<JSONObject> received = Collections.synchronizedList(new ArrayList<JSONObject>());
        volatile boolean dropIncoming;
        private final Transport inner = new OkHttpTransport();

        @Override
        public Connection open(String url, List<String> protocols, final Listener listener) {
            final Connection connection = inner.open(url, protocols, new Listener() {
                @Override
                public void onOpen() {
                    listener.onOpen();
                }

                @Override
                public void onMessage(String text) {
                    if (dropIncoming) return;
                    received.add(parse(text));
                    listener.onMessage(text);
                }

                @Override
                public void onClosed(int code, String reason) {
                    listener.onClosed(code, reason);
                }
            });
            return new Connection() {
                @Override
                public boolean send(String text) {
                    sent.add(parse(text));
                    return connection.send(text);
                }

                @Override
                public void close(int code, String reason) {
                    connection.close(code, reason);
                }
            };
        }

        private static JSONObject parse(String text) {
            try {
                return new JSONObject(text);
            } catch (org.json.JSONException e) {
                throw new AssertionError("not a JSON object: " + text, e);
            }
        }

        List<JSONObject> sentOfType(String t) {
            List<JSONObject> out = new ArrayList<JSONObject>();
            synchronized (sent) {
                for (JSONObject frame : sent) {
                    if (t.equals(frame.optString("t"))) out.add(frame);
                }
            }
            return out;
        }

        JSONObject answerTo(JSONObject request) {
            synchronized (received) {
                for (JSONObject frame : received) {
                    if ("ok".equals(frame.optString("t")) && frame.optLong("id") == request.optLong("id")) return frame;
                }
            }
            return null;
        }
    }

    private String storeConfig() throws Exception {
        File store = new File(folder.getRoot(), "wshub.db");
        return "[store]\nkind = \"sqlite\"\npath = \"" + store.getPath() + "\"\n"
            + "[[hub.namespace]]\nname = \"log\"\nsubscribe = \"authenticated\"\npublish = \"subscribers\"\nhistory_size = 100\n";
    }

    private WshubServer restart(WshubServer first) throws Exception {
        WshubServer second = new WshubServer(WshubServer.config(first.wsPort, first.apiPort, null, storeConfig())).start();
        servers.add(second);
        return second;
    }

    private Client client(String url, ClientOptions.Builder options) throws Exception {
        Client client = new Client(url, options.reconnectDelay(100, 1000).build());
        client.setListener(new ClientListener() {
            @Override
            public void onError(Throwable error) {
                errors.add(error);
            }
        });
        clients.add(client);
        return client;
    }

    private static String send(WshubServer server, String device, int n) throws Exception {
        JSONObject answer = server.api("/api/send", new JSONObject().put("device", device).put("data", new JSONObject().put("n", n)));
        assertEquals(answer.toString(), 200, answer.getInt("status"));
        return answer.getString("id");
    }

    private static void untilState(WshubServer server, String id, String device, String state) throws Exception {
        until(() -> state.equals(server.apiGet("/api/messages/" + id).optJSONObject("states").optString(device)),
            id + " " + state + " for " + device, 15000);
    }

    @Test
    public void inboxMessagesReachTheHandlerOnceAndUnackedOnesComeAgainAfterAKill() throws Exception {
        WshubServer first = WshubServer.startForRestart(null, storeConfig());
        servers.add(first);
        MemoryStorage storage = new MemoryStorage();
        RecordingTransport transport = new RecordingTransport();
        Client client = client(first.url(), ClientOptions.builder().token(WshubServer.token("carol", "tab-1", 3600))
            .storage(storage).transport(transport));
        final List<String> handled = Collections.synchronizedList(new ArrayList<String>());
        final List<Long> failedOnce = Collections.synchronizedList(new ArrayList<Long>());
        client.inbox().setHandler(message -> {
            if (message.seq == 4 && failedOnce.isEmpty()) {
                failedOnce.add(message.seq);
                throw new IllegalStateException("the app could not store it this time");
            }
            handled.add(message.id);
        });
        client.connect();
        until(() -> client.state() == ClientListener.State.CONNECTED, "the connect", 10000);
        JSONObject connect = transport.sentOfType("connect").get(0);
        assertEquals("a first connect sends inbox {}", 0, connect.getJSONObject("inbox").length());
        String epoch = transport.answerTo(connect).getJSONObject("inbox").getString("ep");

        List<String> ids = new ArrayList<String>();
        for (int n = 1; n <= 6; n++) ids.add(send(first, "tab-1", n));
        until(() -> handled.size() == 3 && failedOnce.size() == 1, "three handled, the fourth failed", 10000);
        for (int i = 0; i < 3; i++) untilState(first, ids.get(i), "tab-1", "acked");
        Thread.sleep(200);
        assertEquals("nothing after the failed one is handed over", ids.subList(0, 3), new ArrayList<String>(handled));
        assertEquals("delivered", first.apiGet("/api/messages/" + ids.get(3)).getJSONObject("states").getString("tab-1"));
        JSONObject cursor = new JSONObject(storage.get("wshub:inbox"));
        assertEquals(epoch, cursor.getString("ep"));
        assertEquals(3, cursor.getLong("acked"));
        assertEquals(3, client.inbox().acked());

        first.stop(true);
        until(() -> client.state() != ClientListener.State.CONNECTED, "the client to notice the kill", 10000);
        WshubServer second = restart(first);
        until(() -> client.state() == ClientListener.State.CONNECTED, "the reconnect to the restarted server", 20000);
        JSONObject reconnect = transport.sentOfType("connect").get(1);
        assertEquals("the persisted cursor goes with the reconnect", epoch, reconnect.getJSONObject("inbox").getString("ep"));
        assertEquals(3, reconnect.getJSONObject("inbox").getLong("acked"));
        ids.add(send(second, "tab-1", 7));
        until(() -> handled.size() >= 7, "every message handled", 15000);
        for (String id : ids) untilState(second, id, "tab-1", "acked");
        Thread.sleep(200);
        assertEquals("each id once, in order", ids, new ArrayList<String>(handled));
        assertEquals(7, client.inbox().acked());
        assertEquals(7, new JSONObject(storage.get("wshub:inbox")).getLong("acked"));
        assertEquals("the handler's one failure is the only error: " + errors, 1, errors.size());
        assertEquals(WshubException.Kind.INBOX, ((WshubException) errors.get(0)).kind());
    }

    @Test
    public void aPublishStoredButNotAnsweredIsResentWithItsMidAfterARestartAndAnsweredDup() throws Exception {
        WshubServer first = WshubServer.startForRestart(null, storeConfig());
        servers.add(first);
        RecordingTransport transport = new RecordingTransport();
        File outboxFile = new File(folder.getRoot(), "outbox.log");
        Client terminal = client(first.url(), ClientOptions.builder().token(WshubServer.token("dev-user", "dev1", 3600))
            .terminal().outboxFile(outboxFile).transport(transport));
        final List<JSONObject> answers = Collections.synchronizedList(new ArrayList<JSONObject>());
        final List<String> answeredMids = Collections.synchronizedList(new ArrayList<String>());
        terminal.outbox().setListener(new OutboxListener() {
            @Override
            public void onSent(OutboxEntry entry, JSONObject answer) {
                answeredMids.add(entry.mid);
                answers.add(answer);
            }
        });
        Subscription log = terminal.subscribe("log:dev1", new SubscriptionListener() {
            @Override
            public void onPublication(Subscription subscription, Publication publication) {}
        });
        terminal.connect();
        log.ready().await(10000);

        // The server stores the report; its answer never reaches the client.
        transport.dropIncoming = true;
        String firstMid = terminal.outbox().publish("log:dev1", new JSONObject().put("n", 1));
        until(() -> first.apiGet("/api/history?channel=log:dev1").optJSONArray("publications").length() == 1,
            "the report stored", 10000);
        until(() -> !transport.sentOfType("publish").isEmpty(), "the publish sent", 10000);
        assertEquals(firstMid, transport.sentOfType("publish").get(0).getString("mid"));
        assertEquals("unanswered, it stays in the outbox", 1, terminal.outbox().size());
        first.stop(true);
        transport.dropIncoming = false;
        until(() -> terminal.state() != ClientListener.State.CONNECTED, "the terminal to notice the kill", 10000);

        // Two more while the server is down.
        String secondMid = terminal.outbox().publish("log:dev1", new JSONObject().put("n", 2));
        String thirdMid = terminal.outbox().publish("log:dev1", new JSONObject().put("n", 3));
        WshubServer second = restart(first);
        until(() -> answers.size() >= 3, "the three reports answered", 20000);
        assertEquals(java.util.Arrays.asList(firstMid, secondMid, thirdMid), new ArrayList<String>(answeredMids));
        assertTrue("the resent publish is answered dup: " + answers.get(0), answers.get(0).getBoolean("dup"));
        assertEquals("with the first publish's offset", 1, answers.get(0).getLong("off"));
        assertFalse(answers.get(1).getBoolean("dup"));
        assertFalse(answers.get(2).getBoolean("dup"));
        assertEquals(3, answers.get(2).getLong("off"));
        int resent = 0;
        for (JSONObject frame : transport.sentOfType("publish")) if (firstMid.equals(frame.getString("mid"))) resent++;
        assertEquals("the first report went twice, with the same mid", 2, resent);

        JSONArray history = second.apiGet("/api/history?channel=log:dev1").getJSONArray("publications");
        assertEquals("the channel holds each report once: " + history, 3, history.length());
        for (int i = 0; i < 3; i++) assertEquals(i + 1, history.getJSONObject(i).getJSONObject("data").getInt("n"));
        assertEquals(0, terminal.outbox().size());
        assertTrue("errors: " + errors, errors.isEmpty());
    }

    @Test
    public void aGracefulStopsRetryAfterHoldsTheReconnectBack() throws Exception {
        // The server's window (1.5 to 2.5 s) is above the client's own backoff (at most 1 s
        // here), so only retry_after can hold the reconnect back that long.
        WshubServer first = WshubServer.startForRestart(null, "", "retry_after_min_ms = 1500\nretry_after_max_ms = 2500\n");
        servers.add(first);
        Client client = client(first.url(), ClientOptions.builder().token(WshubServer.token("dave", null, 3600)));
        final List<DisconnectedEvent> gone = Collections.synchronizedList(new ArrayList<DisconnectedEvent>());
        final List<Long> goneAt = Collections.synchronizedList(new ArrayList<Long>());
        final List<Long> attempts = Collections.synchronizedList(new ArrayList<Long>());
        client.setListener(new ClientListener() {
            @Override
            public void onDisconnected(DisconnectedEvent event) {
                goneAt.add(System.nanoTime());
                gone.add(event);
            }

            @Override
            public void onState(State state, State previous) {
                if (state == State.CONNECTING) attempts.add(System.nanoTime());
            }
        });
        client.connect();
        until(() -> client.state() == ClientListener.State.CONNECTED, "the connect", 10000);
        attempts.clear();
        first.stop(false); // SIGTERM: disconnect 3001 with retry_after, then the close
        until(() -> gone.size() == 1, "the client to see the disconnect", 10000);
        DisconnectedEvent event = gone.get(0);
        assertEquals(3001, event.code);
        assertTrue(event.reconnect);
        assertTrue("reconnect delay " + event.delayMs + " is the server's retry_after", event.delayMs >= 1500 && event.delayMs <= 2500);
        WshubServer second = new WshubServer(WshubServer.config(first.wsPort, first.apiPort, null)).start();
        servers.add(second);
        until(() -> client.state() == ClientListener.State.CONNECTED, "the reconnect", 20000);
        assertEquals("one attempt, after retry_after", 1, attempts.size());
        long waitedMs = (attempts.get(0) - goneAt.get(0)) / 1000000;
        assertTrue("reconnected " + waitedMs + " ms after the disconnect, retry_after " + event.delayMs, waitedMs >= event.delayMs - 2);
    }
}
