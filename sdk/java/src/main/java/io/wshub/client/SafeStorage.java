// The client's CursorStorage with its failures reported rather than thrown: a storage that
// fails (a full disk, a broken SharedPreferences) must not stop delivery.
package io.wshub.client;

final class SafeStorage {
    interface ErrorSink {
        void reportError(Throwable error);
    }

    private final CursorStorage storage;
    private final ErrorSink errors;

    SafeStorage(CursorStorage storage, ErrorSink errors) {
        this.storage = storage;
        this.errors = errors;
    }

    /** The value, or null when there is none or the storage failed. */
    String get(String key) {
        try {
            return storage.get(key);
        } catch (Exception e) {
            errors.reportError(e);
            return null;
        }
    }

    void set(String key, String value) {
        try {
            storage.set(key, value);
        } catch (Exception e) {
            errors.reportError(e);
        }
    }

    void remove(String key) {
        try {
            storage.remove(key);
        } catch (Exception e) {
            errors.reportError(e);
        }
    }
}
