// What the Client tells the application about its connection, and the pushes that belong to no
// Subscription here. Every method has an empty default. Calls come on the client's thread.
package io.wshub.client;

public interface ClientListener {
    enum State { DISCONNECTED, CONNECTING, CONNECTED, CLOSED }

    default void onState(State state, State previous) {}

    default void onConnected(ConnectedInfo info) {}

    default void onDisconnected(DisconnectedEvent event) {}

    /** Problems that fail no Reply: a token fetch or refresh, a storage, a listener that threw. */
    default void onError(Throwable error) {}

    /** A publication on a channel without a Subscription here: personal channels, /api/subscribe. */
    default void onPublication(Publication publication) {}

    /** The backend subscribed this connection (POST /api/subscribe). */
    default void onSub(String ch, StreamPosition position) {}

    /** The server ended a subscription (an unsub push). */
    default void onUnsub(String ch, int code, String reason) {}

    default void onJoin(JoinLeave event) {}

    default void onLeave(JoinLeave event) {}
}
