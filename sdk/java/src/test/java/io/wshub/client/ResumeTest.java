// Subscriptions: the cursor {ep, off} sent as since in connect's subs after a reconnect, no
// publication handed over twice, a position the server cannot fill reported as positionLost,
// publications that overtake the answer, persisted cursors, and refusals.
package io.wshub.client;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.json.JSONObject;
import org.junit.Test;

public class ResumeTest {
    static final class Recorder implements SubscriptionListener {
        final List<Long> offs = new ArrayList<Long>();
        final List<SubscribedEvent> subscribed = new ArrayList<SubscribedEvent>();
        final List<WshubException.ServerError> errors = new ArrayList<WshubException.ServerError>();

        @Override
        public void onPublication(Subscription subscription, Publication publication) {
            offs.add(publication.off);
        }

        @Override
        public void onSubscribed(Subscription subscription, SubscribedEvent event) {
            subscribed.add(event);
        }

        @Override
        public void onError(Subscription subscription, WshubException.ServerError error) {
            errors.add(error);
        }
    }

    static void pub(FakeTransport.Connection c, String ch, long off) {
        c.push("{\"t\":\"pub\",\"ch\":\"" + ch + "\",\"off\":" + off + ",\"data\":{\"n\":" + off + "},\"ts\":1}");
    }

    @Test
    public void theCursorGoesOutAsSinceAndNothingIsHandedOverTwice() throws Exception {
        MemoryStorage storage = new MemoryStorage();
        Harness h = new Harness(ClientOptions.builder().token("t").storage(storage));
        Recorder news = new Recorder();
        Subscription sub = h.client.subscribe("news", news);
        FakeTransport.Connection c = h.connected("\"subs\":{\"news\":{\"ep\":\"e1\",\"off\":4,\"rec\":false,\"pubs\":[],\"more\":false}}");
        assertEquals("first connect: no since", 0, c.lastOf("connect").getJSONObject("subs").getJSONObject("news").length());
        assertEquals(Subscription.State.SUBSCRIBED, sub.state());
        assertFalse(news.subscribed.get(0).positionLost);
        for (long off = 5; off <= 7; off++) pub(c, "news", off);
        pub(c, "news", 6); // a duplicate push is dropped by the cursor
        h.scheduler.runDue();
        assertEquals(java.util.Arrays.asList(5L, 6L, 7L), news.offs);
        assertEquals(new StreamPosition("e1", 7), sub.position());
        assertEquals("{\"ep\":\"e1\",\"off\":7}", storage.get("wshub:sub:news"));

        FakeTransport.Connection c2 = h.reopenAfterDrop(c);
        JSONObject since = c2.lastOf("connect").getJSONObject("subs").getJSONObject("news").getJSONObject("since");
        assertEquals("e1", since.getString("ep"));
        assertEquals(7, since.getLong("off"));
        // The server recovers: 6 and 7 again (at or below the cursor), then 8 and 9.
        c2.acceptConnect("\"subs\":{\"news\":{\"ep\":\"e1\",\"off\":9,\"rec\":true,\"pubs\":["
            + "{\"off\":6,\"data\":1,\"ts\":1},{\"off\":7,\"data\":1,\"ts\":1},{\"off\":8,\"data\":1,\"ts\":1},{\"off\":9,\"data\":1,\"ts\":1}],\"more\":false}}");
        h.scheduler.runDue();
        assertTrue(news.subscribed.get(1).recovered);
        assertEquals(java.util.Arrays.asList(5L, 6L, 7L, 8L, 9L), news.offs);
        pub(c2, "news", 10);
        h.scheduler.runDue();
        assertEquals(Long.valueOf(10), news.offs.get(news.offs.size() - 1));
    }

    @Test
    public void aGapTheServerCannotFillIsReportedAndTheStreamGoesOnFromTheAnswer() throws Exception {
        MemoryStorage storage = new MemoryStorage();
        storage.set("wshub:sub:news", "{\"ep\":\"old\",\"off\":12}");
        Harness h = new Harness(ClientOptions.builder().token("t").storage(storage));
        Recorder news = new Recorder();
        Subscription sub = h.client.subscribe("news", news);
        FakeTransport.Connection c = h.connected("\"subs\":{\"news\":{\"ep\":\"new\",\"off\":0,\"rec\":false,\"pubs\":[],\"more\":false}}");
        assertEquals("old", c.lastOf("connect").getJSONObject("subs").getJSONObject("news").getJSONObject("since").getString("ep"));
        assertTrue(news.subscribed.get(0).positionLost);
        pub(c, "news", 1);
        h.scheduler.runDue();
        assertEquals(java.util.Arrays.asList(1L), news.offs);
        assertEquals(new StreamPosition("new", 1), sub.position());
    }

    @Test
    public void publicationsThatOvertakeTheAnswerAreDeliveredAfterIt() throws Exception {
        Harness h = Harness.withToken();
        FakeTransport.Connection c = h.connected("");
        Recorder feed = new Recorder();
        h.client.subscribe("feed", feed);
        h.scheduler.runDue();
        JSONObject subscribe = c.lastOf("subscribe");
        assertFalse(subscribe.has("since"));
        pub(c, "feed", 3); // before the answer (at or below its offset: dropped)
        pub(c, "feed", 4);
        h.scheduler.runDue();
        assertTrue(feed.offs.isEmpty());
        c.answerOk(subscribe, "\"ep\":\"e\",\"off\":3,\"rec\":false,\"pubs\":[],\"more\":false");
        h.scheduler.runDue();
        assertEquals(java.util.Arrays.asList(4L), feed.offs);
    }

    @Test
    public void aRefusalFailsTheSubscriptionAndARetryableOneIsTriedAgain() throws Exception {
        Harness h = Harness.withToken();
        FakeTransport.Connection c = h.connected("");
        Recorder denied = new Recorder();
        Subscription deniedSub = h.client.subscribe("secret", denied);
        h.scheduler.runDue();
        c.answerErr(c.lastOf("subscribe"), 103, false);
        h.scheduler.runDue();
        assertEquals(Subscription.State.FAILED, deniedSub.state());
        assertEquals(103, denied.errors.get(0).code());
        assertNull(h.client.subscription("secret"));
        try {
            deniedSub.ready().await(0);
            throw new AssertionError("ready() should fail");
        } catch (WshubException.ServerError expected) {
            assertEquals(103, expected.code());
        }

        Recorder busy = new Recorder();
        Subscription busySub = h.client.subscribe("busy", busy);
        h.scheduler.runDue();
        c.answerErr(c.lastOf("subscribe"), 116, true);
        h.scheduler.runDue();
        assertEquals(Subscription.State.SUBSCRIBING, busySub.state());
        h.scheduler.advance(2500); // at most min * 5
        JSONObject again = c.lastOf("subscribe");
        assertEquals("busy", again.getString("ch"));
        assertEquals(2, c.sentOf("subscribe").size() - 1);
        c.answerOk(again, "\"ep\":\"e\",\"off\":0,\"rec\":false,\"pubs\":[],\"more\":false");
        h.scheduler.runDue();
        assertEquals(Subscription.State.SUBSCRIBED, busySub.state());
    }

    @Test
    public void unsubscribeForgetsTheCursorAndUnsubPushesEndTheSubscription() throws Exception {
        MemoryStorage storage = new MemoryStorage();
        Harness h = new Harness(ClientOptions.builder().token("t").storage(storage));
        Subscription a = h.client.subscribe("a", new Recorder());
        Subscription b = h.client.subscribe("b", new Recorder());
        FakeTransport.Connection c = h.connected("\"subs\":{\"a\":{\"ep\":\"e\",\"off\":1,\"rec\":false,\"pubs\":[],\"more\":false},"
            + "\"b\":{\"ep\":\"e\",\"off\":1,\"rec\":false,\"pubs\":[],\"more\":false}}");
        assertTrue(storage.get("wshub:sub:a") != null);
        a.unsubscribe();
        h.scheduler.runDue();
        assertEquals("a", c.lastOf("unsubscribe").getString("ch"));
        assertNull(storage.get("wshub:sub:a"));
        assertEquals(Subscription.State.UNSUBSCRIBED, a.state());
        c.push("{\"t\":\"unsub\",\"ch\":\"b\",\"code\":3000,\"reason\":\"unsubscribed by the server\"}");
        h.scheduler.runDue();
        assertEquals(Subscription.State.UNSUBSCRIBED, b.state());
        assertNull(h.client.subscription("b"));
    }
}
