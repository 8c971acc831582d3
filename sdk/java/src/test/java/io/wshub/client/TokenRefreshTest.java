// Refreshing the token before exp on the open connection, rescheduling from the answer's exp,
// and the one-second floor against a device clock ahead of the server's.
package io.wshub.client;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import org.json.JSONObject;
import org.junit.Test;

public class TokenRefreshTest {
    /** Advances the clock by {@code ms} while the server pings every 20 s, as a live one does. */
    static void live(Harness h, FakeTransport.Connection c, long ms) {
        for (long left = ms; left > 0; left -= Math.min(20000, left)) {
            h.scheduler.advance(Math.min(20000, left));
            c.push("{\"t\":\"ping\"}");
            h.scheduler.runDue();
        }
    }

    @Test
    public void theTokenIsRefreshedBeforeExpAndAgainFromTheNewExp() throws Exception {
        final int[] fetched = {0};
        Harness h = new Harness(ClientOptions.builder().refreshMarginMs(60000).tokenSupplier(new TokenSupplier() {
            @Override
            public String getToken() {
                fetched[0] += 1;
                return "tok-" + fetched[0];
            }
        }));
        long now = h.scheduler.now();
        FakeTransport.Connection c = h.connected("\"exp\":" + (now + 600000));
        assertEquals(1, fetched[0]);
        live(h, c, 600000 - 60000 - 1);
        assertTrue(c.sentOf("refresh").isEmpty());
        h.scheduler.advance(1);
        JSONObject refresh = c.lastOf("refresh");
        assertEquals("tok-2", refresh.getString("token"));
        long newExp = h.scheduler.now() + 600000;
        c.answerOk(refresh, "\"exp\":" + newExp);
        h.scheduler.runDue();
        assertEquals(Long.valueOf(newExp), h.client.connectedAs().exp);
        live(h, c, 540000);
        assertEquals(2, c.sentOf("refresh").size());
        assertEquals(1, h.transport.connections.size());
    }

    @Test
    public void anExpInThePastDoesNotRefreshInALoop() throws Exception {
        Harness h = new Harness(ClientOptions.builder().tokenSupplier(new TokenSupplier() {
            @Override
            public String getToken() {
                return "tok";
            }
        }));
        FakeTransport.Connection c = h.connected("\"exp\":" + (h.scheduler.now() - 5000));
        h.scheduler.advance(999);
        assertTrue(c.sentOf("refresh").isEmpty());
        h.scheduler.advance(1);
        assertEquals(1, c.sentOf("refresh").size());
    }
}
