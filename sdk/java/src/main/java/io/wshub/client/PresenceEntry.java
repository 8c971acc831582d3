// One client in a `presence` answer.
package io.wshub.client;

public final class PresenceEntry {
    public final String user;
    public final String device;
    /** the token's info claim (a JSONObject), or null */
    public final Object info;

    public PresenceEntry(String user, String device, Object info) {
        this.user = user;
        this.device = device;
        this.info = info;
    }
}
