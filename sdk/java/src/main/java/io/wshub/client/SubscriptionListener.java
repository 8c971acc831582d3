// What a Subscription tells the application. Only onPublication must be written (a lambda will
// do); the rest have empty defaults. Calls come on the client's thread, one at a time.
package io.wshub.client;

public interface SubscriptionListener {
    void onPublication(Subscription subscription, Publication publication);

    /** Subscribed at first, and again after each reconnect (see SubscribedEvent.positionLost). */
    default void onSubscribed(Subscription subscription, SubscribedEvent event) {}

    default void onJoin(Subscription subscription, JoinLeave event) {}

    default void onLeave(Subscription subscription, JoinLeave event) {}

    /** A refusal: for good (state FAILED), or one that may pass (116, 111; subscribed again later). */
    default void onError(Subscription subscription, WshubException.ServerError error) {}

    /** Ended: code 0 when the application unsubscribed, the unsub push's code when the server did. */
    default void onUnsubscribed(Subscription subscription, int code, String reason) {}
}
