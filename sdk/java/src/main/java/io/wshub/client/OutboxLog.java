// The outbox's file: an append-only log of JSON lines, {"op":"add",...} when a report is queued
// (appended and, with sync, fsynced before publish() returns) and {"op":"done","mid"} when it
// is settled. Loading replays it, ignoring a torn last line; compacting rewrites the live
// entries (and recent done mids, for deduplication) to a temporary file, fsyncs it and renames
// it over the log, so a crash leaves one whole version or the other.
// Uses java.io only (java.nio.file needs Android API 26).
package io.wshub.client;

import java.io.BufferedReader;
import java.io.File;
import java.io.FileInputStream;
import java.io.FileNotFoundException;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.Charset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

import org.json.JSONObject;

final class OutboxLog {
    private static final Charset UTF8 = Charset.forName("UTF-8");

    static final class Contents {
        final List<OutboxEntry> pending = new ArrayList<OutboxEntry>();
        final LinkedHashSet<String> done = new LinkedHashSet<String>();
        int lines;
    }

    private final File file;
    private final boolean sync;
    private FileOutputStream out;
    private int linesSinceCompaction;

    OutboxLog(File file, boolean sync) {
        this.file = file;
        this.sync = sync;
    }

    /** Reads the log (an absent file is an empty outbox). */
    Contents load() throws IOException {
        Contents contents = new Contents();
        Map<String, OutboxEntry> live = new LinkedHashMap<String, OutboxEntry>();
        BufferedReader reader;
        try {
            reader = new BufferedReader(new InputStreamReader(new FileInputStream(file), UTF8));
        } catch (FileNotFoundException absent) {
            return contents;
        }
        try {
            for (String line; (line = reader.readLine()) != null; ) {
                contents.lines += 1;
                Object value = Json.parse(line);
                if (!(value instanceof JSONObject)) continue; // a line torn by a crash
                JSONObject record = (JSONObject) value;
                String mid = record.optString("mid", "");
                if (mid.isEmpty()) continue;
                if ("done".equals(record.optString("op"))) {
                    live.remove(mid);
                    contents.done.remove(mid);
                    contents.done.add(mid);
                } else if ("add".equals(record.optString("op"))) {
                    OutboxEntry entry = parseEntry(record);
                    if (entry != null && !contents.done.contains(mid)) live.put(mid, entry);
                }
            }
        } finally {
            reader.close();
        }
        contents.pending.addAll(live.values());
        return contents;
    }

    /** Appends a queued entry; with sync it is on disk when this returns. */
    void appendAdd(OutboxEntry entry) throws IOException {
        append(addRecord(entry), sync);
    }

    /**
     * Appends a settled mid without an fsync of its own: it reaches the disk with the next add's
     * fsync or the system's write-back. Losing it in a power cut sends the entry again with the
     * same mid (at least once, as after a lost answer). An fsync per answer cut the drain rate
     * from 4,600-7,700 to 1,200-1,600 reports/s on loopback (OutboxDrainMeasure, window 8).
     */
    void appendDone(String mid) throws IOException {
        append(Json.object("op", "done", "mid", mid), false);
    }

    /** Lines written since the last compaction (or load). */
    int linesSinceCompaction() {
        return linesSinceCompaction;
    }

    /** Replaces the log with the live entries and the remembered done mids. */
    void compact(Collection<OutboxEntry> pending, Collection<String> done) throws IOException {
        closeStream();
        File temp = new File(file.getPath() + ".tmp");
        FileOutputStream rewrite = new FileOutputStream(temp);
        try {
            StringBuilder text = new StringBuilder();
            for (String mid : done) text.append(Json.object("op", "done", "mid", mid)).append('\n');
            rewrite.write(text.toString().getBytes(UTF8));
            text.setLength(0);
            for (OutboxEntry entry : pending) text.append(addRecord(entry)).append('\n');
            rewrite.write(text.toString().getBytes(UTF8));
            rewrite.getFD().sync();
        } finally {
            rewrite.close();
        }
        if (!temp.renameTo(file)) throw new IOException("cannot rename " + temp + " to " + file);
        linesSinceCompaction = 0;
    }

    void close() {
        closeStream();
    }

    private static JSONObject addRecord(OutboxEntry entry) {
        boolean publish = entry.kind == OutboxEntry.Kind.PUBLISH;
        return Json.object("op", "add", "mid", entry.mid, "t", publish ? "publish" : "rpc",
            publish ? "ch" : "m", entry.target, "data", entry.data, "at", entry.queuedAt);
    }

    private static OutboxEntry parseEntry(JSONObject record) {
        String t = record.optString("t");
        OutboxEntry.Kind kind = "publish".equals(t) ? OutboxEntry.Kind.PUBLISH : "rpc".equals(t) ? OutboxEntry.Kind.RPC : null;
        if (kind == null) return null;
        Object target = record.opt(kind == OutboxEntry.Kind.PUBLISH ? "ch" : "m");
        if (!(target instanceof String)) return null;
        return new OutboxEntry(record.optString("mid"), kind, (String) target, Json.dataField(record, "data"), record.optLong("at", 0));
    }

    private void append(JSONObject record, boolean fsync) throws IOException {
        if (out == null) {
            File parent = file.getAbsoluteFile().getParentFile();
            if (parent != null && !parent.isDirectory() && !parent.mkdirs()) throw new IOException("cannot create " + parent);
            out = new FileOutputStream(file, true);
        }
        out.write((record.toString() + "\n").getBytes(UTF8));
        if (fsync) out.getFD().sync();
        linesSinceCompaction += 1;
    }

    private void closeStream() {
        if (out == null) return;
        try {
            out.close();
        } catch (IOException ignored) {
            // nothing was left unwritten: every append wrote through
        }
        out = null;
    }
}
