// The `presence` answer: clients by cid (each {user, device, info?}) and how many there are.
package io.wshub.client;

import java.util.Map;

public final class PresenceAnswer {
    /** at most hub.max_presence_clients entries */
    public final Map<String, PresenceEntry> clients;
    public final long total;

    public PresenceAnswer(Map<String, PresenceEntry> clients, long total) {
        this.clients = clients;
        this.total = total;
    }
}
