// The `publish` answer.
package io.wshub.client;

public final class PublishAnswer {
    public final long off;
    public final String ep;
    /** true when the server had this mid already (with the store) */
    public final boolean dup;

    public PublishAnswer(long off, String ep, boolean dup) {
        this.off = off;
        this.ep = ep;
        this.dup = dup;
    }
}
