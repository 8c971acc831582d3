// FileStorage: values round-trip, an absent key reads null, removal, channel-length keys (255
// bytes) named by their hash without clashing, and a value replaced whole.
package io.wshub.client;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;

import java.io.File;

import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class StorageTest {
    @Rule
    public TemporaryFolder folder = new TemporaryFolder();

    @Test
    public void valuesRoundTripAndRemovedOnesReadNull() throws Exception {
        FileStorage storage = new FileStorage(new File(folder.getRoot(), "cursors"));
        assertNull(storage.get("wshub:sub:news"));
        storage.set("wshub:sub:news", "{\"ep\":\"e\",\"off\":1}");
        storage.set("wshub:sub:news", "{\"ep\":\"e\",\"off\":2}");
        assertEquals("{\"ep\":\"e\",\"off\":2}", new FileStorage(new File(folder.getRoot(), "cursors")).get("wshub:sub:news"));
        storage.remove("wshub:sub:news");
        assertNull(storage.get("wshub:sub:news"));
    }

    @Test
    public void longKeysAreNamedByTheirHashAndDoNotClash() throws Exception {
        FileStorage storage = new FileStorage(folder.getRoot());
        StringBuilder channel = new StringBuilder();
        for (int i = 0; i < 254; i++) channel.append('a');
        String a = "wshub:sub:" + channel + "a";
        String b = "wshub:sub:" + channel + "b";
        storage.set(a, "A");
        storage.set(b, "B");
        assertEquals("A", storage.get(a));
        assertEquals("B", storage.get(b));
        assertEquals(2, folder.getRoot().listFiles().length);
    }

    @Test
    public void aCursorInFileStorageSurvivesANewClient() throws Exception {
        File dir = new File(folder.getRoot(), "cursors");
        Harness first = new Harness(ClientOptions.builder().token("t").storage(new FileStorage(dir)));
        first.client.subscribe("news", (sub, pub) -> { });
        FakeTransport.Connection c = first.connected("\"subs\":{\"news\":{\"ep\":\"e1\",\"off\":4,\"rec\":false,\"pubs\":[],\"more\":false}}");
        c.push("{\"t\":\"pub\",\"ch\":\"news\",\"off\":5,\"data\":1,\"ts\":1}");
        first.scheduler.runDue();

        Harness second = new Harness(ClientOptions.builder().token("t").storage(new FileStorage(dir)));
        second.client.subscribe("news", (sub, pub) -> { });
        second.client.connect();
        second.scheduler.runDue();
        second.transport.last().open();
        second.scheduler.runDue();
        assertEquals(5, second.transport.last().lastOf("connect").getJSONObject("subs").getJSONObject("news")
            .getJSONObject("since").getLong("off"));
    }
}
