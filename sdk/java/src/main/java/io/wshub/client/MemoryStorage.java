// Cursors kept in memory only: they survive reconnects, not a restart of the app. The default.
package io.wshub.client;

import java.util.HashMap;
import java.util.Map;

public final class MemoryStorage implements CursorStorage {
    private final Map<String, String> values = new HashMap<String, String>();

    @Override
    public synchronized String get(String key) {
        return values.get(key);
    }

    @Override
    public synchronized void set(String key, String value) {
        values.put(key, value);
    }

    @Override
    public synchronized void remove(String key) {
        values.remove(key);
    }
}
