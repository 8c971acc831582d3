// A subscription was (re)established: where its stream stands, and whether the gap since the
// cursor was filled.
package io.wshub.client;

public final class SubscribedEvent {
    public final String ch;
    public final String ep;
    /** the channel's offset in the answer */
    public final long off;
    /** `since` was sent and the server said every publication after it follows */
    public final boolean recovered;
    /** `since` was sent and the gap cannot be filled (another epoch, or no history): reload the channel's state from the backend, then go on from here */
    public final boolean positionLost;

    public SubscribedEvent(String ch, String ep, long off, boolean recovered, boolean positionLost) {
        this.ch = ch;
        this.ep = ep;
        this.off = off;
        this.recovered = recovered;
        this.positionLost = positionLost;
    }
}
