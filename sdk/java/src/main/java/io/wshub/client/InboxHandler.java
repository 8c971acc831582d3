// Handles one inbox message. Returning normally acknowledges it (ack {upto: seq}); throwing
// leaves it and every later message unacknowledged, so the server sends them again. Runs on the
// client's thread: store the message durably and return, rather than doing long work here.
package io.wshub.client;

public interface InboxHandler {
    void handle(InboxMessage message) throws Exception;
}
