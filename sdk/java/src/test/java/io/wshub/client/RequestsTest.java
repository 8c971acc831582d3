// rpc, publish and presence: ids, answers mapped, err as ServerError, timeouts, requests queued
// while offline sent after connect, and everything failed with CLOSED by close().
package io.wshub.client;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.HashMap;
import java.util.Map;

import org.json.JSONObject;
import org.junit.Test;

public class RequestsTest {
    @Test
    public void rpcPublishAndPresenceAnswersAreMapped() throws Exception {
        Harness h = Harness.withToken();
        FakeTransport.Connection c = h.connected("");
        Map<String, Object> order = new HashMap<String, Object>();
        order.put("order", 7);
        Reply<Object> rpc = h.client.rpc("getOrder", order, 5000, "r-1");
        Reply<PublishAnswer> publish = h.client.publish("room", "hi");
        Reply<PresenceAnswer> presence = h.client.presence("room");
        h.scheduler.runDue();
        JSONObject rpcFrame = c.lastOf("rpc");
        assertEquals("getOrder", rpcFrame.getString("m"));
        assertEquals(7, rpcFrame.getJSONObject("data").getInt("order"));
        assertEquals("r-1", rpcFrame.getString("mid"));
        assertFalse(c.lastOf("publish").has("mid"));
        c.answerOk(rpcFrame, "\"data\":{\"status\":\"shipped\"}");
        c.answerOk(c.lastOf("publish"), "\"off\":3,\"ep\":\"e9\",\"dup\":false");
        c.answerOk(c.lastOf("presence"), "\"clients\":{\"0-1\":{\"user\":\"alice\",\"device\":\"d1\",\"info\":{\"n\":1}}},\"total\":1");
        h.scheduler.runDue();
        assertEquals("shipped", ((JSONObject) rpc.await(0)).getString("status"));
        assertEquals(3, publish.await(0).off);
        assertEquals("e9", publish.await(0).ep);
        assertEquals(1, presence.await(0).total);
        assertEquals("d1", presence.await(0).clients.get("0-1").device);
        long[] ids = {rpcFrame.getLong("id"), c.lastOf("publish").getLong("id"), c.lastOf("presence").getLong("id")};
        assertTrue(ids[0] != ids[1] && ids[1] != ids[2] && ids[0] != ids[2]);
    }

    @Test
    public void anErrIsAServerErrorWithItsCodeAndRetry() throws Exception {
        Harness h = Harness.withToken();
        FakeTransport.Connection c = h.connected("");
        Reply<Object> rpc = h.client.rpc("fail", null);
        h.scheduler.runDue();
        assertEquals(JSONObject.NULL, c.lastOf("rpc").get("data"));
        c.answerErr(c.lastOf("rpc"), 116, true);
        h.scheduler.runDue();
        try {
            rpc.await(0);
            fail("the rpc should fail");
        } catch (WshubException.ServerError e) {
            assertEquals(116, e.code());
            assertTrue(e.retry());
        }
    }

    @Test
    public void aRequestWithoutAnswerTimesOutAndALateAnswerIsIgnored() throws Exception {
        Harness h = Harness.withToken();
        FakeTransport.Connection c = h.connected("");
        Reply<Object> rpc = h.client.rpc("slow", null, 3000, null);
        h.scheduler.advance(2999);
        assertFalse(rpc.isDone());
        h.scheduler.advance(1);
        try {
            rpc.await(0);
            fail("the rpc should time out");
        } catch (WshubException e) {
            assertEquals(WshubException.Kind.TIMEOUT, e.kind());
        }
        c.answerOk(c.lastOf("rpc"), "\"data\":1");
        h.scheduler.runDue(); // nothing waits for it: no exception, no error
        assertTrue(h.errors.isEmpty());
    }

    @Test
    public void requestsMadeOfflineAreSentAfterConnectAndCloseFailsTheRest() throws Exception {
        Harness h = Harness.withToken();
        h.client.connect();
        h.scheduler.runDue();
        Reply<Object> early = h.client.rpc("early", 1);
        h.scheduler.runDue();
        FakeTransport.Connection c = h.transport.last();
        c.open();
        h.scheduler.runDue();
        assertTrue(c.sentOf("rpc").isEmpty());
        c.acceptConnect("");
        h.scheduler.runDue();
        assertEquals("early", c.lastOf("rpc").getString("m"));
        Reply<Object> unanswered = h.client.rpc("never", 1);
        h.client.close();
        h.scheduler.runDue();
        for (Reply<Object> reply : java.util.Arrays.asList(early, unanswered)) {
            try {
                reply.await(0);
                fail("closed: it should fail");
            } catch (WshubException e) {
                assertEquals(WshubException.Kind.CLOSED, e.kind());
            }
        }
    }
}
