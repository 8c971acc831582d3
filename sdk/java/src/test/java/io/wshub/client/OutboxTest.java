// The persistent outbox: entries on disk before publish() returns, sent in order with their mid
// once connected, resent with the same mid after a lost answer, settled by ok or a final refusal,
// retried after a refusal that may pass, deduplicated by mid, and read back by a new client
// (an app restart), a torn last line included.
package io.wshub.client;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.io.FileOutputStream;
import java.util.ArrayList;
import java.util.List;

import org.json.JSONObject;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class OutboxTest {
    @Rule
    public TemporaryFolder folder = new TemporaryFolder();

    private Harness harness(File file) throws Exception {
        return new Harness(ClientOptions.builder().token("t").outboxFile(file).outboxWindow(2));
    }

    static final class Results implements OutboxListener {
        final List<String> sent = new ArrayList<String>();
        final List<String> rejected = new ArrayList<String>();

        @Override
        public void onSent(OutboxEntry entry, JSONObject answer) {
            sent.add(entry.mid);
        }

        @Override
        public void onRejected(OutboxEntry entry, WshubException.ServerError error) {
            rejected.add(entry.mid + ":" + error.code());
        }
    }

    @Test
    public void reportsQueuedOfflineSurviveARestartAndAreSentInOrderWithTheirMid() throws Exception {
        File file = new File(folder.getRoot(), "outbox.log");
        Harness first = harness(file);
        first.client.outbox().publish("report:d1", new JSONObject().put("temp", 21.5), "m-1");
        first.client.outbox().rpc("log", "boot", "m-2");
        first.client.outbox().publish("report:d1", 3, "m-3");
        first.scheduler.runDue();
        first.transport.assertConnections(0); // never connected: nothing sent
        assertTrue(file.length() > 0);

        // The app dies before it connects; a torn line from a crash mid-write follows.
        FileOutputStream torn = new FileOutputStream(file, true);
        torn.write("{\"op\":\"add\",\"mid\":\"m-4\",\"t\":\"pub".getBytes("UTF-8"));
        torn.close();

        Harness second = harness(file);
        assertEquals(3, second.client.outbox().size());
        Results results = new Results();
        second.client.outbox().setListener(results);
        FakeTransport.Connection c = second.connected("");
        // Window 2: two in flight, in order.
        List<JSONObject> frames = new ArrayList<JSONObject>();
        for (JSONObject frame : c.sent) {
            if (frame.has("mid")) frames.add(frame);
        }
        assertEquals(2, frames.size());
        assertEquals("publish", frames.get(0).getString("t"));
        assertEquals("report:d1", frames.get(0).getString("ch"));
        assertEquals("m-1", frames.get(0).getString("mid"));
        assertEquals("rpc", frames.get(1).getString("t"));
        assertEquals("log", frames.get(1).getString("m"));
        assertEquals("m-2", frames.get(1).getString("mid"));
        c.answerOk(frames.get(0), "\"off\":1,\"ep\":\"e\",\"dup\":false");
        second.scheduler.runDue();
        assertEquals("m-3", c.lastOf("publish").getString("mid"));
        c.answerOk(frames.get(1), "\"data\":null");
        c.answerOk(c.lastOf("publish"), "\"off\":2,\"ep\":\"e\",\"dup\":false");
        second.scheduler.runDue();
        assertEquals(java.util.Arrays.asList("m-1", "m-2", "m-3"), results.sent);
        assertEquals(0, second.client.outbox().size());

        Harness third = harness(file);
        assertEquals("settled entries do not come back", 0, third.client.outbox().size());
    }

    @Test
    public void aLostAnswerSendsTheSameMidAgainAndMidsAreDeduplicated() throws Exception {
        Harness h = harness(new File(folder.getRoot(), "outbox.log"));
        Results results = new Results();
        h.client.outbox().setListener(results);
        FakeTransport.Connection c = h.connected("");
        String mid = h.client.outbox().publish("report:d1", 1);
        assertEquals(mid, h.client.outbox().publish("report:d1", 1, mid)); // the same mid again
        h.scheduler.runDue();
        assertEquals(1, c.sentOf("publish").size());
        assertEquals(1, h.client.outbox().size());
        FakeTransport.Connection c2 = h.reopenAfterDrop(c);
        assertTrue("nothing is sent before the connect answer", c2.sentOf("publish").isEmpty());
        c2.acceptConnect("");
        h.scheduler.runDue();
        assertEquals(mid, c2.lastOf("publish").getString("mid"));
        c2.answerOk(c2.lastOf("publish"), "\"off\":1,\"ep\":\"e\",\"dup\":true");
        h.scheduler.runDue();
        assertEquals(java.util.Arrays.asList(mid), results.sent);
        h.client.outbox().publish("report:d1", 1, mid); // settled lately: ignored
        h.scheduler.runDue();
        assertEquals(0, h.client.outbox().size());
        assertEquals(1, c2.sentOf("publish").size());
    }

    @Test
    public void aFinalRefusalSettlesAndARetryableOneWaitsAndTriesAgain() throws Exception {
        Harness h = harness(new File(folder.getRoot(), "outbox.log"));
        Results results = new Results();
        h.client.outbox().setListener(results);
        FakeTransport.Connection c = h.connected("");
        h.client.outbox().publish("nope:x", 1, "bad");
        h.scheduler.runDue();
        c.answerErr(c.lastOf("publish"), 102, false);
        h.scheduler.runDue();
        assertEquals(java.util.Arrays.asList("bad:102"), results.rejected);
        assertEquals(0, h.client.outbox().size());

        h.client.outbox().rpc("save", 1, "busy");
        h.scheduler.runDue();
        c.answerErr(c.lastOf("rpc"), 116, true);
        h.scheduler.runDue();
        assertEquals(1, h.client.outbox().size());
        h.scheduler.advance(999);
        assertEquals(1, c.sentOf("rpc").size());
        h.scheduler.advance(1);
        assertEquals(2, c.sentOf("rpc").size());
        assertEquals("busy", c.lastOf("rpc").getString("mid"));
        c.answerOk(c.lastOf("rpc"), "\"data\":1");
        h.scheduler.runDue();
        assertEquals(java.util.Arrays.asList("busy"), results.sent);
        assertFalse(h.client.outbox().entries().iterator().hasNext());
    }

    @Test
    public void aFullOutboxRefusesMore() throws Exception {
        Harness h = new Harness(ClientOptions.builder().token("t").outboxCapacity(2));
        h.client.outbox().publish("a", 1);
        h.client.outbox().publish("a", 2);
        try {
            h.client.outbox().publish("a", 3);
            throw new AssertionError("a third entry should be refused");
        } catch (WshubException e) {
            assertEquals(WshubException.Kind.OUTBOX, e.kind());
        }
    }
}
