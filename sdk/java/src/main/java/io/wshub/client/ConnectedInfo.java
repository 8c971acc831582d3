// The identity of a connection, from the `connect` answer.
package io.wshub.client;

public final class ConnectedInfo {
    public final String cid;
    public final String user;
    public final String device;
    /** ms since the Unix epoch; null when the identity has none */
    public final Long exp;

    public ConnectedInfo(String cid, String user, String device, Long exp) {
        this.cid = cid;
        this.user = user;
        this.device = device;
        this.exp = exp;
    }
}
