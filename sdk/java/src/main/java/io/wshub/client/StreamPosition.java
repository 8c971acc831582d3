// A position in a channel: its epoch and the offset of the last publication handed over.
package io.wshub.client;

public final class StreamPosition {
    public final String ep;
    public final long off;

    public StreamPosition(String ep, long off) {
        this.ep = ep;
        this.off = off;
    }

    @Override
    public boolean equals(Object other) {
        if (!(other instanceof StreamPosition)) return false;
        StreamPosition that = (StreamPosition) other;
        return ep.equals(that.ep) && off == that.off;
    }

    @Override
    public int hashCode() {
        return ep.hashCode() * 31 + (int) off;
    }

    @Override
    public String toString() {
        return "{ep=" + ep + ", off=" + off + "}";
    }
}
