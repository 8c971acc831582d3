// A Client on a FakeScheduler and a FakeTransport, with its events recorded in order: the setup
// every unit test shares.
package io.wshub.client;

import java.io.IOException;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Executor;

final class Harness {
    final FakeScheduler scheduler = new FakeScheduler();
    final FakeTransport transport = new FakeTransport();
    final RecordingListener recorded = new RecordingListener();
    final List<Throwable> errors = recorded.errors;
    final List<DisconnectedEvent> disconnects = recorded.disconnects;
    final Client client;

    Harness(ClientOptions.Builder options) throws IOException {
        client = new Client("ws://hub.test/hub", options.transport(transport).scheduler(scheduler)
            .tokenExecutor(new Executor() {
                @Override
                public void execute(Runnable task) {
                    task.run();
                }
            })
            .random(new Random(7)).build());
        client.setListener(recorded);
    }

    static Harness withToken() throws IOException {
        return new Harness(ClientOptions.builder().token("tok-1"));
    }

    /** connect(), the socket opens and the connect is accepted with {@code extra} fields. */
    FakeTransport.Connection connected(String extra) {
        client.connect();
        scheduler.runDue();
        FakeTransport.Connection connection = transport.last();
        connection.open();
        scheduler.runDue();
        connection.acceptConnect(extra);
        scheduler.runDue();
        return connection;
    }

    /**
     * The network drops {@code connection} (1006); after the drawn delay the client opens a new
     * one, which the server accepts at the WebSocket level. Returns it, its connect unanswered.
     */
    FakeTransport.Connection reopenAfterDrop(FakeTransport.Connection connection) {
        connection.serverClose(1006, "");
        scheduler.runDue();
        scheduler.advance(recorded.lastDisconnect().delayMs);
        FakeTransport.Connection next = transport.last();
        next.open();
        scheduler.runDue();
        return next;
    }
}
