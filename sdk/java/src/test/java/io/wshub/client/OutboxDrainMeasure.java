// Not a test: measures the persistent outbox against the real wshub ($WSHUB_BIN). N reports are
// queued while the client is closed (the disk alone), then drained over one connection; prints
// the queuing cost per report and the drain rate. Arguments: N, outboxSync, outboxWindow.
//   WSHUB_BIN=build/release/wshub sdk/java/build.sh OUT run io.wshub.client.OutboxDrainMeasure 2000 true 8
package io.wshub.client;

import java.io.File;
import java.util.concurrent.atomic.AtomicInteger;
import org.json.JSONObject;

public class OutboxDrainMeasure {
    private OutboxDrainMeasure() {}

    public static void main(String[] args) throws Exception {
        int n = Integer.parseInt(args[0]);
        boolean sync = Boolean.parseBoolean(args[1]);
        int window = Integer.parseInt(args[2]);
        WshubServer server = new WshubServer(WshubServer.config(0, 0, null)).start();
        File file = File.createTempFile("outbox", ".log");
        if (!file.delete()) throw new IllegalStateException("cannot remove " + file);
        Client c = new Client(server.url(), ClientOptions.builder().token(WshubServer.token("m", "d", 3600))
            .outboxFile(file).outboxSync(sync).outboxWindow(window).build());
        final AtomicInteger sent = new AtomicInteger();
        c.outbox().setListener(new OutboxListener() {
            @Override public void onSent(OutboxEntry e, JSONObject a) { sent.incrementAndGet(); }
        });
        c.subscribe("m", (s, p) -> { });
        c.connect();
        while (c.state() != ClientListener.State.CONNECTED || c.subscription("m").state() != Subscription.State.SUBSCRIBED) Thread.sleep(5);
        c.close(); // queue offline first: measures the disk alone
        while (c.state() != ClientListener.State.CLOSED) Thread.sleep(5);
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) c.outbox().publish("m", new JSONObject().put("i", i));
        long t1 = System.nanoTime();
        c.connect();
        while (sent.get() < n) Thread.sleep(1);
        long t2 = System.nanoTime();
        System.out.printf("n=%d sync=%s window=%d: enqueue %.1f us/report; drain %.0f reports/s (file %d bytes)%n",
            n, sync, window, (t1 - t0) / 1e3 / n, n / ((t2 - t1) / 1e9), file.length());
        c.close();
        server.stop(false);
        file.delete();
        System.exit(0);
    }
}
