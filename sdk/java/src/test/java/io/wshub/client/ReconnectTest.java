// Connecting, the close-code policy, full-jitter backoff (with the terminal ceiling), the server's
// retry_after, token expiry with and without a supplier, and the heartbeat watch.
package io.wshub.client;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.util.Arrays;
import java.util.Random;

import org.json.JSONObject;
import org.junit.Test;

public class ReconnectTest {
    @Test
    public void connectOffersTheSubprotocolAndSendsTokenClientAndInbox() throws Exception {
        Harness h = Harness.withToken();
        FakeTransport.Connection c = h.connected("\"exp\":1800000600000");
        assertEquals(Arrays.asList("wshub.v1.json"), c.protocols);
        JSONObject connect = c.lastOf("connect");
        assertEquals("tok-1", connect.getString("token"));
        assertEquals("java", connect.getJSONObject("client").getString("sdk"));
        assertEquals(0, connect.getJSONObject("inbox").length());
        assertEquals(1, connect.getLong("id"));
        assertEquals(ClientListener.State.CONNECTED, h.client.state());
        assertEquals("alice", h.client.connectedAs().user);
        assertEquals(Long.valueOf(1800000600000L), h.client.connectedAs().exp);
        assertEquals(Arrays.asList(ClientListener.State.CONNECTING, ClientListener.State.CONNECTED), h.recorded.states);
    }

    @Test
    public void aDroppedConnectionReconnectsWithinTheJitterCeilingWhichGrowsAndResets() throws Exception {
        Harness h = new Harness(ClientOptions.builder().token("t").reconnectDelay(500, 20000));
        h.connected("");
        long[] ceilings = {500, 1000, 2000, 4000, 8000, 16000, 20000, 20000};
        for (int attempt = 0; attempt < ceilings.length; attempt++) {
            h.transport.last().serverClose(1006, "network lost");
            h.scheduler.runDue();
            DisconnectedEvent event = h.recorded.lastDisconnect();
            assertTrue(event.reconnect);
            assertTrue("delay " + event.delayMs + " below the floor", event.delayMs >= 500);
            assertTrue("delay " + event.delayMs + " at or over the ceiling " + ceilings[attempt],
                event.delayMs <= Math.max(500, ceilings[attempt]));
            int before = h.transport.connections.size();
            h.scheduler.advance(event.delayMs - 1);
            assertEquals("reconnected before the delay", before, h.transport.connections.size());
            h.scheduler.advance(1);
            assertEquals(before + 1, h.transport.connections.size());
            h.transport.last().open(); // open but never answered connect: the attempt keeps counting
            h.scheduler.runDue();
        }
        // A connection that reaches connected resets the ceiling.
        h.transport.last().acceptConnect("");
        h.scheduler.runDue();
        h.transport.last().serverClose(1006, "");
        h.scheduler.runDue();
        assertTrue(h.recorded.lastDisconnect().delayMs < 500 + 1);
    }

    @Test
    public void terminalsBackOffUpTo120Seconds() {
        Backoff backoff = new Backoff(500, ClientOptions.builder().terminal().build().maxReconnectDelayMs, new Random(1));
        long longest = 0;
        for (int i = 0; i < 200; i++) longest = Math.max(longest, backoff.next());
        assertEquals(120000, backoff.ceiling());
        assertTrue("full jitter reaches far into [0.5 s, 120 s): " + longest, longest > 60000 && longest < 120000);
        backoff.reset();
        assertEquals(500, backoff.ceiling());
    }

    @Test
    public void retryAfterInTheDisconnectPushReplacesTheDraw() throws Exception {
        Harness h = Harness.withToken();
        FakeTransport.Connection c = h.connected("");
        c.push("{\"t\":\"disconnect\",\"code\":3001,\"reason\":\"server shutting down\",\"retry_after\":42000}");
        c.serverClose(1006, ""); // a proxy reported the close badly: the push names it
        h.scheduler.runDue();
        DisconnectedEvent event = h.disconnects.get(0);
        assertEquals(3001, event.code);
        assertEquals("server shutting down", event.reason);
        assertEquals(42000, event.delayMs);
        h.scheduler.advance(41999);
        h.transport.assertConnections(1);
        h.scheduler.advance(1);
        h.transport.assertConnections(2);
    }

    @Test
    public void doNotReconnectCodesStopTheClient() throws Exception {
        for (int code : new int[] {3500, 3520, 3502, 4500, 4999}) {
            Harness h = Harness.withToken();
            FakeTransport.Connection c = h.connected("");
            Reply<Object> pending = h.client.rpc("x", null);
            h.scheduler.runDue();
            c.push("{\"t\":\"disconnect\",\"code\":" + code + ",\"reason\":\"no\"}");
            c.serverClose(code, "no");
            h.scheduler.runDue();
            assertEquals(ClientListener.State.CLOSED, h.client.state());
            assertFalse(h.disconnects.get(0).reconnect);
            h.scheduler.advance(600000);
            h.transport.assertConnections(1);
            try {
                pending.await(0);
                throw new AssertionError("the rpc should have failed");
            } catch (WshubException e) {
                assertEquals(WshubException.Kind.DISCONNECTED, e.kind());
            }
        }
    }

    @Test
    public void anExpiredFixedTokenStopsButASupplierFetchesANewOne() throws Exception {
        Harness fixed = Harness.withToken();
        fixed.connected("").serverClose(3005, "token expired");
        fixed.scheduler.runDue();
        assertEquals(ClientListener.State.CLOSED, fixed.client.state());

        final int[] fetched = {0};
        Harness supplied = new Harness(ClientOptions.builder().tokenSupplier(new TokenSupplier() {
            @Override
            public String getToken() {
                fetched[0] += 1;
                return "tok-" + fetched[0];
            }
        }));
        FakeTransport.Connection first = supplied.connected("");
        assertEquals("tok-1", first.lastOf("connect").getString("token"));
        first.serverClose(3005, "token expired");
        supplied.scheduler.runDue();
        assertTrue(supplied.disconnects.get(0).reconnect);
        supplied.scheduler.advance(supplied.disconnects.get(0).delayMs);
        FakeTransport.Connection second = supplied.transport.last();
        second.open();
        supplied.scheduler.runDue();
        assertEquals("tok-2", second.lastOf("connect").getString("token"));
    }

    @Test
    public void silenceLongerThanTheHeartbeatDropsTheConnection() throws Exception {
        Harness h = Harness.withToken();
        FakeTransport.Connection c = h.connected("");
        h.scheduler.advance(20000);
        c.push("{\"t\":\"ping\"}");
        h.scheduler.runDue();
        assertEquals(1, c.sentOf("pong").size());
        h.scheduler.advance(34999); // iv + to after the ping
        assertFalse(c.closed);
        h.scheduler.advance(1);
        assertTrue(c.closed);
        assertEquals(Protocol.CloseCode.CLIENT_DROPPED, c.closeCode);
        assertTrue(h.disconnects.get(0).reconnect);
    }

    @Test
    public void aProbeWithoutAnswerDropsTheConnectionAndAProbeWhileWaitingReconnectsAtOnce() throws Exception {
        Harness h = Harness.withToken();
        FakeTransport.Connection c = h.connected("");
        h.client.probe();
        h.scheduler.runDue();
        assertEquals(1, c.sentOf("ping").size());
        h.scheduler.advance(5000);
        assertTrue(c.closed);
        h.scheduler.runDue();
        h.transport.assertConnections(1);
        h.client.probe();
        h.scheduler.runDue();
        h.transport.assertConnections(2);
    }

    @Test
    public void closeEndsForGood() throws Exception {
        Harness h = Harness.withToken();
        FakeTransport.Connection c = h.connected("");
        h.client.close();
        h.scheduler.runDue();
        assertTrue(c.closed);
        assertEquals(1000, c.closeCode);
        assertEquals(ClientListener.State.CLOSED, h.client.state());
        h.scheduler.advance(600000);
        h.transport.assertConnections(1);
    }
}
