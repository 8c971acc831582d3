// A `join` or `leave` push: someone subscribed to or left a channel (namespaces with join_leave).
package io.wshub.client;

public final class JoinLeave {
    public final String ch;
    public final String cid;
    public final String user;
    public final String device;

    public JoinLeave(String ch, String cid, String user, String device) {
        this.ch = ch;
        this.cid = cid;
        this.user = user;
        this.device = device;
    }
}
