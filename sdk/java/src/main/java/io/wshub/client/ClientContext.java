// What the client's parts (SubscriptionTable, Inbox, Outbox) need from the Client: its
// connection state, requests on the current connection, its thread and its storage. Called on
// the client's thread, except scheduler() and reportError().
package io.wshub.client;

import org.json.JSONObject;

interface ClientContext {
    boolean isConnected();

    /** The current connection's number: answers meant for an older one are ignored. */
    int generation();

    /** Sends a request (queued until connected), with the client's default timeout. */
    Reply<JSONObject> request(JSONObject frame, String what);

    /** Sends a frame that gets no answer (ack); false when not connected. */
    boolean send(JSONObject frame);

    Scheduler scheduler();

    SafeStorage storage();

    /** A short random pause before trying one refused request again. */
    long retryDelayMs();

    void reportError(Throwable error);
}
