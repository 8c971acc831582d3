// The answer to an asynchronous call. A plain interface rather than CompletableFuture, which
// Android has only from API 24: this SDK runs on API 21 and up.
package io.wshub.client;

public interface Callback<T> {
    void onSuccess(T value);

    void onError(WshubException error);
}
