// The inbox: messages handed over in seq order, ack {upto} sent only after the handler returned,
// nothing acked from a failed message on, duplicates by seq and by id not handed over twice, and
// the position sent at connect.
package io.wshub.client;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.json.JSONObject;
import org.junit.Test;

public class InboxTest {
    static void msg(FakeTransport.Connection c, long seq) {
        c.push("{\"t\":\"msg\",\"seq\":" + seq + ",\"id\":\"m" + seq + "\",\"data\":{\"n\":" + seq + "},\"ts\":1}");
    }

    @Test
    public void acksFollowTheHandlerInSeqOrderAndDuplicatesAreNotHandedOverTwice() throws Exception {
        Harness h = Harness.withToken();
        final FakeTransport.Connection c = h.connected("\"inbox\":{\"ep\":\"ib1\",\"head\":3,\"pending\":3}");
        final List<String> log = new ArrayList<String>();
        // Messages that arrive before there is a handler wait for it, in seq order.
        msg(c, 2);
        msg(c, 1);
        h.scheduler.runDue();
        assertTrue(c.sentOf("ack").isEmpty());
        h.client.inbox().setHandler(new InboxHandler() {
            @Override
            public void handle(InboxMessage message) {
                // What was acked when the handler ran: the ack must come after it returns.
                log.add("handle " + message.seq + " acks-so-far " + c.sentOf("ack").size());
            }
        });
        h.scheduler.runDue();
        msg(c, 2); // redelivered after ack_timeout: acked again, not handed over
        msg(c, 3);
        msg(c, 3);
        h.scheduler.runDue();
        assertEquals(Arrays.asList("handle 1 acks-so-far 0", "handle 2 acks-so-far 1", "handle 3 acks-so-far 3"), log);
        List<Long> acks = new ArrayList<Long>();
        for (JSONObject ack : c.sentOf("ack")) acks.add(ack.getLong("upto"));
        assertEquals(Arrays.asList(1L, 2L, 2L, 3L, 3L), acks);
        assertEquals(3, h.client.inbox().acked());
    }

    @Test
    public void aHandlerThatThrowsLeavesItAndLaterOnesUnacked() throws Exception {
        Harness h = Harness.withToken();
        FakeTransport.Connection c = h.connected("\"inbox\":{\"ep\":\"ib1\",\"head\":3,\"pending\":3}");
        final List<Long> handled = new ArrayList<Long>();
        final boolean[] failing = {true};
        h.client.inbox().setHandler(new InboxHandler() {
            @Override
            public void handle(InboxMessage message) throws Exception {
                if (message.seq == 2 && failing[0]) throw new Exception("disk full");
                handled.add(message.seq);
            }
        });
        msg(c, 1);
        h.scheduler.runDue();
        c.push("[{\"t\":\"msg\",\"seq\":2,\"id\":\"m2\",\"data\":2,\"ts\":1},{\"t\":\"msg\",\"seq\":3,\"id\":\"m3\",\"data\":3,\"ts\":1}]");
        h.scheduler.runDue();
        assertEquals(Arrays.asList(1L), handled);
        assertEquals(1, c.lastOf("ack").getLong("upto"));
        assertEquals(1, h.errors.size());
        assertEquals(WshubException.Kind.INBOX, ((WshubException) h.errors.get(0)).kind());
        assertEquals("disk full", h.errors.get(0).getCause().getMessage());
        failing[0] = false;
        msg(c, 2); // sent again by the server
        msg(c, 3);
        h.scheduler.runDue();
        assertEquals(Arrays.asList(1L, 2L, 3L), handled);
        assertEquals(3, c.lastOf("ack").getLong("upto"));
    }

    @Test
    public void thePositionGoesOutAtConnectAndANewEpochDeduplicatesById() throws Exception {
        MemoryStorage storage = new MemoryStorage();
        Harness h = new Harness(ClientOptions.builder().token("t").storage(storage));
        FakeTransport.Connection c = h.connected("\"inbox\":{\"ep\":\"ib1\",\"head\":2,\"pending\":2}");
        final List<String> handled = new ArrayList<String>();
        h.client.inbox().setHandler(new InboxHandler() {
            @Override
            public void handle(InboxMessage message) {
                handled.add(message.id);
            }
        });
        msg(c, 1);
        msg(c, 2);
        h.scheduler.runDue();
        FakeTransport.Connection c2 = h.reopenAfterDrop(c);
        JSONObject inbox = c2.lastOf("connect").getJSONObject("inbox");
        assertEquals("ib1", inbox.getString("ep"));
        assertEquals(2, inbox.getLong("acked"));
        // The inbox was reset to another epoch: every retained message comes again, seq from 1.
        c2.acceptConnect("\"inbox\":{\"ep\":\"ib2\",\"head\":3,\"pending\":3}");
        h.scheduler.runDue();
        c2.push("{\"t\":\"msg\",\"seq\":1,\"id\":\"m1\",\"data\":1,\"ts\":1}");
        c2.push("{\"t\":\"msg\",\"seq\":2,\"id\":\"m2\",\"data\":1,\"ts\":1}");
        c2.push("{\"t\":\"msg\",\"seq\":3,\"id\":\"new\",\"data\":1,\"ts\":1}");
        h.scheduler.runDue();
        assertEquals(Arrays.asList("m1", "m2", "new"), handled);
        assertEquals(3, c2.lastOf("ack").getLong("upto"));
        assertTrue(storage.get("wshub:inbox").contains("\"ep\":\"ib2\""));
    }
}
