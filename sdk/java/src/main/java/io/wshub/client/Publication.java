// A publication as `pub` pushes and `subscribe` answers' `pubs` carry it.
package io.wshub.client;

public final class Publication {
    public final String ch;
    /** its offset in the channel: one more than the previous one */
    public final long off;
    /** the JSON value: JSONObject, JSONArray, String, Number, Boolean or JSONObject.NULL */
    public final Object data;
    /** ms since the Unix epoch, when the hub took the publication */
    public final long ts;

    public Publication(String ch, long off, Object data, long ts) {
        this.ch = ch;
        this.off = off;
        this.data = data;
        this.ts = ts;
    }

    @Override
    public String toString() {
        return "pub " + ch + " " + off + " " + data;
    }
}
