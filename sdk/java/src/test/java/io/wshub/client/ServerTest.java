// The SDK on the JVM (OkHttp) against the real wshub binary: subscribe and receive an API
// publish; client publish, presence and rpc; a cut connection resumed without duplicates; the
// server SIGKILLed mid-stream and restarted on the same port, the client back without a
// duplicate and told its position is gone; token refresh on an open connection; a newer
// connection of the same device stopping the older one; 116 from a backend that is down; and
// the persistent outbox: reports queued while the
// server is down (across an app restart) reach the backend and the subscribers exactly once.
package io.wshub.client;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;
import static io.wshub.client.WshubServer.until;

import java.io.File;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.json.JSONObject;
import org.junit.After;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class ServerTest {
    @Rule
    public TemporaryFolder folder = new TemporaryFolder();

    private final List<Client> clients = new ArrayList<Client>();
    private final List<WshubServer> servers = new ArrayList<WshubServer>();
    private final Map<Client, RecordingListener> recorders = new HashMap<Client, RecordingListener>();

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

    private WshubServer start(int wsPort, int apiPort, String webhookUrl) throws Exception {
        WshubServer server = new WshubServer(WshubServer.config(wsPort, apiPort, webhookUrl)).start();
        servers.add(server);
        return server;
    }

    /** A client of {@code url} with short reconnect delays, its events recorded (see recorded()). */
    private Client client(String url, ClientOptions.Builder options) throws Exception {
        Client client = new Client(url, options.reconnectDelay(100, 1000).build());
        RecordingListener recorder = new RecordingListener();
        client.setListener(recorder);
        recorders.put(client, recorder);
        clients.add(client);
        return client;
    }

    private RecordingListener recorded(Client client) {
        return recorders.get(client);
    }

    /** Publications and subscribed events of one subscription, in one ordered log. */
    static final class Follow implements SubscriptionListener {
        final List<Object> log = Collections.synchronizedList(new ArrayList<Object>());

        @Override
        public void onPublication(Subscription subscription, Publication publication) {
            log.add(publication);
        }

        @Override
        public void onSubscribed(Subscription subscription, SubscribedEvent event) {
            log.add(event);
        }

        List<Publication> pubs() {
            List<Publication> out = new ArrayList<Publication>();
            synchronized (log) {
                for (Object entry : log) {
                    if (entry instanceof Publication) out.add((Publication) entry);
                }
            }
            return out;
        }

        List<SubscribedEvent> subscribed() {
            List<SubscribedEvent> out = new ArrayList<SubscribedEvent>();
            synchronized (log) {
                for (Object entry : log) {
                    if (entry instanceof SubscribedEvent) out.add((SubscribedEvent) entry);
                }
            }
            return out;
        }
    }

    private static JSONObject publication(String channel, Object data) throws Exception {
        return new JSONObject().put("channel", channel).put("data", data);
    }

    @Test
    public void subscribeReceivesAnApiPublishAndPublishPresenceRpcWork() throws Exception {
        WshubServer.Backend backend = new WshubServer.Backend();
        try {
            WshubServer server = start(0, 0, backend.url());
            Client alice = client(server.url(), ClientOptions.builder().token(WshubServer.token("alice", null, 3600)));
            Follow news = new Follow();
            Subscription sub = alice.subscribe("news", news);
            alice.connect();
            sub.ready().await(10000);
            assertEquals("alice", alice.connectedAs().user);

            JSONObject published = server.api("/api/publish", publication("news", new JSONObject().put("text", "hello")));
            assertEquals(200, published.getInt("status"));
            until(() -> news.pubs().size() == 1, "the API publication", 10000);
            Publication got = news.pubs().get(0);
            assertEquals(published.getLong("offset"), got.off);
            assertEquals("hello", ((JSONObject) got.data).getString("text"));

            PublishAnswer own = alice.publish("news", new JSONObject().put("text", "mine"), 10000, "m-1").await(10000);
            assertEquals(published.getLong("offset") + 1, own.off);
            assertEquals(published.getString("epoch"), own.ep);
            until(() -> news.pubs().size() == 2, "the own publication", 10000);

            PresenceAnswer presence = alice.presence("news").await(10000);
            assertEquals(1, presence.total);
            assertEquals("alice", presence.clients.values().iterator().next().user);

            JSONObject answer = (JSONObject) alice.rpc("getOrder", new JSONObject().put("order", 7)).await(10000);
            assertEquals(7, answer.getJSONObject("echo").getInt("order"));
            assertEquals("alice", answer.getString("user"));
            assertTrue("errors: " + recorded(alice).errors, recorded(alice).errors.isEmpty());
        } finally {
            backend.close();
        }
    }

    @Test
    public void aNewerConnectionOfTheSameDeviceStopsTheOlderOneAndABackendThatIsDownGives116() throws Exception {
        // The webhook points at a port nobody listens on: the backend is down.
        WshubServer server = start(0, 0, "http://127.0.0.1:1/hook");
        String token = WshubServer.token("erin", "phone-1", 3600);
        Client older = client(server.url(), ClientOptions.builder().token(token));
        final List<DisconnectedEvent> olderDisconnects = recorded(older).disconnects;
        older.connect();
        until(() -> older.state() == ClientListener.State.CONNECTED, "the older connection", 10000);

        try {
            older.rpc("save", 1).await(10000);
            throw new AssertionError("the rpc should fail: the backend is down");
        } catch (WshubException.ServerError e) {
            assertEquals(Protocol.ErrorCode.BACKEND_UNAVAILABLE, e.code());
            assertTrue(e.retry());
        }

        Client newer = client(server.url(), ClientOptions.builder().token(token));
        newer.connect();
        until(() -> older.state() == ClientListener.State.CLOSED, "the older connection to stop for good", 10000);
        assertEquals(Protocol.CloseCode.REPLACED, olderDisconnects.get(0).code);
        assertFalse(olderDisconnects.get(0).reconnect);
        until(() -> newer.state() == ClientListener.State.CONNECTED, "the newer connection", 10000);
        Thread.sleep(1500); // the older one does not come back to fight over the device
        assertEquals(ClientListener.State.CONNECTED, newer.state());
        assertEquals(ClientListener.State.CLOSED, older.state());
        assertEquals(1, olderDisconnects.size());
    }

    @Test
    public void aCutConnectionResumesWithoutGapOrDuplicate() throws Exception {
        WshubServer server = start(0, 0, null);
        Client bob = client(server.url(), ClientOptions.builder().token(WshubServer.token("bob", null, 3600)));
        Follow ticks = new Follow();
        Subscription sub = bob.subscribe("ticks", ticks);
        bob.connect();
        sub.ready().await(10000);
        for (int n = 1; n <= 5; n++) server.api("/api/publish", publication("ticks", n));
        until(() -> ticks.pubs().size() == 5, "five ticks", 10000);
        assertEquals(1, server.api("/api/disconnect", new JSONObject().put("user", "bob").put("code", 3000)).getInt("disconnected"));
        until(() -> ticks.subscribed().size() == 2 && bob.state() == ClientListener.State.CONNECTED, "the reconnect", 10000);
        assertTrue("since = the current position: nothing missed", ticks.subscribed().get(1).recovered);
        for (int n = 6; n <= 10; n++) server.api("/api/publish", publication("ticks", n));
        until(() -> ticks.pubs().size() == 10, "ten ticks", 10000);
        for (int i = 0; i < 10; i++) {
            assertEquals(i + 1, ticks.pubs().get(i).off);
            assertEquals(i + 1, ((Number) ticks.pubs().get(i).data).intValue());
        }
    }

    @Test
    public void theServerKilledMidStreamAndRestartedOnTheSamePortTheClientComesBack() throws Exception {
        final WshubServer first = WshubServer.startForRestart(null);
        servers.add(first);
        final Client carol = client(first.url(), ClientOptions.builder().token(WshubServer.token("carol", null, 3600)).terminal());
        final List<ClientListener.State> states = recorded(carol).states;
        Follow stream = new Follow();
        Subscription sub = carol.subscribe("stream", stream);
        carol.connect();
        sub.ready().await(10000);

        // Publish every few ms; kill the server in the middle of it.
        final AtomicBoolean publishing = new AtomicBoolean(true);
        final List<Long> acknowledged = Collections.synchronizedList(new ArrayList<Long>());
        Thread publisher = new Thread(() -> {
            for (int n = 1; publishing.get() && n < 5000; n++) {
                try {
                    acknowledged.add(first.api("/api/publish", publication("stream", n)).getLong("offset"));
                    Thread.sleep(2);
                } catch (Exception stopped) {
                    return; // the server is gone
                }
            }
        });
        publisher.start();
        until(() -> stream.pubs().size() >= 50, "50 publications before the kill", 20000);
        first.stop(true);
        publishing.set(false);
        publisher.join();
        until(() -> states.contains(ClientListener.State.DISCONNECTED), "the client to notice the kill", 10000);
        List<Publication> before = stream.pubs();
        // Before the kill: offsets 1, 2, 3, ... with neither gap nor duplicate, none unacknowledged.
        for (int i = 0; i < before.size(); i++) assertEquals(i + 1, before.get(i).off);
        assertTrue(before.size() <= acknowledged.size() + 1);

        WshubServer second = start(first.wsPort, first.apiPort, null);
        until(() -> stream.subscribed().size() == 2 && carol.state() == ClientListener.State.CONNECTED,
            "the reconnect to the restarted server", 20000);
        SubscribedEvent resumed = stream.subscribed().get(1);
        assertTrue("a restart starts every channel anew: the client is told", resumed.positionLost);
        assertNotEquals(stream.subscribed().get(0).ep, resumed.ep);
        for (int n = 1; n <= 20; n++) second.api("/api/publish", publication("stream", -n));
        until(() -> stream.pubs().size() == before.size() + 20, "20 publications from the new server", 10000);
        List<Publication> after = stream.pubs().subList(before.size(), before.size() + 20);
        for (int i = 0; i < 20; i++) {
            assertEquals(i + 1, after.get(i).off);
            assertEquals(-(i + 1), ((Number) after.get(i).data).intValue());
        }
        assertEquals(new StreamPosition(resumed.ep, 20), sub.position());
    }

    @Test
    public void aShortLivedTokenIsRefreshedBeforeExpAndTheConnectionOutlivesSeveralTokens() throws Exception {
        WshubServer server = start(0, 0, null);
        final AtomicInteger fetched = new AtomicInteger();
        Client dave = client(server.url(), ClientOptions.builder().tokenSupplier(() -> {
            fetched.incrementAndGet();
            return WshubServer.token("dave", null, 3);
        }));
        final List<DisconnectedEvent> disconnects = recorded(dave).disconnects;
        dave.connect();
        until(() -> dave.state() == ClientListener.State.CONNECTED, "dave to connect", 10000);
        String cid = dave.connectedAs().cid;
        long firstExp = dave.connectedAs().exp;
        Thread.sleep(7000); // more than two lifetimes of a 3-second token
        assertEquals(ClientListener.State.CONNECTED, dave.state());
        assertEquals("the same connection throughout", cid, dave.connectedAs().cid);
        assertTrue("no disconnect: " + disconnects.size(), disconnects.isEmpty());
        assertTrue("refreshed several times: " + fetched.get(), fetched.get() >= 4);
        assertTrue(dave.connectedAs().exp > firstExp + 3000);
        assertTrue("errors: " + recorded(dave).errors, recorded(dave).errors.isEmpty());
    }

    @Test
    public void reportsQueuedWhileTheServerIsDownArriveOnceAfterItIsBack() throws Exception {
        WshubServer.Backend backend = new WshubServer.Backend();
        try {
            WshubServer first = WshubServer.startForRestart(backend.url());
            servers.add(first);
            File outboxFile = new File(folder.getRoot(), "outbox.log");
            String deviceToken = WshubServer.token("dev-user", "dev1", 3600);
            Client terminal = client(first.url(), ClientOptions.builder().token(deviceToken).terminal().outboxFile(outboxFile));
            terminal.connect();
            until(() -> terminal.state() == ClientListener.State.CONNECTED, "the terminal to connect", 10000);
            first.stop(true);
            until(() -> terminal.state() != ClientListener.State.CONNECTED, "the terminal to notice the kill", 10000);

            // Offline: three reports, then the app dies and a new process queues two more.
            for (int n = 1; n <= 3; n++) terminal.outbox().publish("report:dev1", new JSONObject().put("n", n));
            terminal.close();
            until(() -> terminal.state() == ClientListener.State.CLOSED, "the first process to close", 10000);
            Client restarted = client(first.url(), ClientOptions.builder().token(deviceToken).terminal().outboxFile(outboxFile));
            assertEquals("the reports survived the restart", 3, restarted.outbox().size());
            for (int n = 4; n <= 5; n++) restarted.outbox().publish("report:dev1", new JSONObject().put("n", n));
            final List<String> sent = Collections.synchronizedList(new ArrayList<String>());
            restarted.outbox().setListener(new OutboxListener() {
                @Override
                public void onSent(OutboxEntry entry, JSONObject answer) {
                    sent.add(entry.mid);
                }
            });
            assertTrue(backend.of("publish").isEmpty());

            // The server comes back; a subscriber watches the reports' channel.
            WshubServer second = start(first.wsPort, first.apiPort, backend.url());
            Client watcher = client(second.url(), ClientOptions.builder().token(WshubServer.token("ops", null, 3600)));
            Follow reports = new Follow();
            Subscription watching = watcher.subscribe("report:dev1", reports);
            watcher.connect();
            watching.ready().await(10000);
            restarted.connect();
            until(() -> sent.size() >= 5, "the five reports to be sent", 20000);
            until(() -> reports.pubs().size() >= 5, "the subscriber to see the five reports", 10000);
            Thread.sleep(300); // a duplicate would arrive now

            List<JSONObject> calls = backend.of("publish");
            assertEquals("the backend sees each report once: " + calls, 5, calls.size());
            Set<String> mids = new HashSet<String>();
            for (JSONObject call : calls) {
                mids.add(call.getString("mid"));
                assertEquals("dev1", call.getString("device"));
            }
            assertEquals(new HashSet<String>(sent), mids);
            List<Publication> seen = reports.pubs();
            assertEquals(5, seen.size());
            for (int i = 0; i < 5; i++) assertEquals(i + 1, ((JSONObject) seen.get(i).data).getInt("n"));
            assertEquals(0, restarted.outbox().size());
            Client third = new Client(first.url(), ClientOptions.builder().outboxFile(outboxFile).build());
            assertEquals("nothing left in the file", 0, third.outbox().size());
            for (Client client : new Client[] {terminal, restarted, watcher}) {
                assertTrue("errors: " + recorded(client).errors, recorded(client).errors.isEmpty());
            }
        } finally {
            backend.close();
        }
    }
}
