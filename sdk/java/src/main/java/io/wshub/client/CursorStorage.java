// Where resume cursors (per channel), the inbox position and nothing else live between app
// launches: a small synchronous key-value store. MemoryStorage keeps them for the process,
// FileStorage in a directory; on Android, SharedPreferences fits in a few lines (README). A
// store that fails must not break delivery: the client reports its exceptions and goes on.
package io.wshub.client;

public interface CursorStorage {
    /** The value, or null when there is none. */
    String get(String key) throws Exception;

    void set(String key, String value) throws Exception;

    void remove(String key) throws Exception;
}
