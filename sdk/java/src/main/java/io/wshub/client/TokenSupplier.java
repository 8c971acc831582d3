// Fetches a token (from the app's backend, a login, a keystore). Called off the client's thread
// (see ClientOptions.Builder.tokenExecutor), so it may block on network I/O.
package io.wshub.client;

public interface TokenSupplier {
    String getToken() throws Exception;
}
