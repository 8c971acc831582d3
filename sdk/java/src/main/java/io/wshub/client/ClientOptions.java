// The Client's settings, made with a Builder. Defaults follow the JS SDK's, except the
// `terminal()` preset for Android terminals (reconnect ceiling 120 s, as the protocol allows).
package io.wshub.client;

import java.io.File;
import java.util.Random;
import java.util.concurrent.Executor;

public final class ClientOptions {
    final String token;
    final TokenSupplier tokenSupplier;
    final Transport transport;
    final Scheduler scheduler;
    final Executor tokenExecutor;
    final CursorStorage storage;
    final String storagePrefix;
    final String sdkName;
    final String sdkVersion;
    final long minReconnectDelayMs;
    final long maxReconnectDelayMs;
    final long timeoutMs;
    final long connectTimeoutMs;
    final long refreshMarginMs;
    final long probeTimeoutMs;
    final File outboxFile;
    final boolean outboxSync;
    final int outboxWindow;
    final int outboxCapacity;
    final Random random;

    private ClientOptions(Builder b) {
        token = b.token;
        tokenSupplier = b.tokenSupplier;
        transport = b.transport != null ? b.transport : new OkHttpTransport();
        scheduler = b.scheduler != null ? b.scheduler : new ExecutorScheduler();
        tokenExecutor = b.tokenExecutor != null ? b.tokenExecutor : new Executor() {
            @Override
            public void execute(Runnable task) {
                Thread thread = new Thread(task, "wshub-token");
                thread.setDaemon(true);
                thread.start();
            }
        };
        storage = b.storage != null ? b.storage : new MemoryStorage();
        storagePrefix = b.storagePrefix;
        sdkName = b.sdkName;
        sdkVersion = b.sdkVersion;
        minReconnectDelayMs = b.minReconnectDelayMs;
        maxReconnectDelayMs = b.maxReconnectDelayMs;
        timeoutMs = b.timeoutMs;
        connectTimeoutMs = b.connectTimeoutMs;
        refreshMarginMs = b.refreshMarginMs;
        probeTimeoutMs = b.probeTimeoutMs;
        outboxFile = b.outboxFile;
        outboxSync = b.outboxSync;
        outboxWindow = b.outboxWindow;
        outboxCapacity = b.outboxCapacity;
        random = b.random != null ? b.random : new Random();
    }

    public static Builder builder() {
        return new Builder();
    }

    public static final class Builder {
        private String token;
        private TokenSupplier tokenSupplier;
        private Transport transport;
        private Scheduler scheduler;
        private Executor tokenExecutor;
        private CursorStorage storage;
        private String storagePrefix = "wshub:";
        private String sdkName = "java";
        private String sdkVersion = Client.VERSION;
        private long minReconnectDelayMs = 500;
        private long maxReconnectDelayMs = 20000;
        private long timeoutMs = 10000;
        private long connectTimeoutMs = 15000;
        private long refreshMarginMs = 60000;
        private long probeTimeoutMs = 5000;
        private File outboxFile;
        private boolean outboxSync = true;
        private int outboxWindow = 1;
        private int outboxCapacity = 10000;
        private Random random;

        /** A fixed token (a JWT, or an opaque token the connect webhook checks). */
        public Builder token(String value) { token = value; return this; }

        /** Called for the first token, after an expiry (3005/109) and before exp to refresh. */
        public Builder tokenSupplier(TokenSupplier value) { tokenSupplier = value; return this; }

        /** Default: OkHttpTransport on a new OkHttpClient. */
        public Builder transport(Transport value) { transport = value; return this; }

        /** Default: ExecutorScheduler (one daemon thread). */
        public Builder scheduler(Scheduler value) { scheduler = value; return this; }

        /** Where the TokenSupplier runs; default: a new daemon thread per fetch. */
        public Builder tokenExecutor(Executor value) { tokenExecutor = value; return this; }

        /** Where resume cursors and the inbox position live; default MemoryStorage. */
        public Builder storage(CursorStorage value) { storage = value; return this; }

        /** Key prefix: PREFIX + "sub:" + channel, PREFIX + "inbox"; default "wshub:". */
        public Builder storagePrefix(String value) { storagePrefix = value; return this; }

        /** Sent in connect as client {sdk, version} (and so to the connect webhook). */
        public Builder client(String sdk, String version) { sdkName = sdk; sdkVersion = version; return this; }

        /** Full jitter between these, ms; default 500 and 20000. */
        public Builder reconnectDelay(long minMs, long maxMs) { minReconnectDelayMs = minMs; maxReconnectDelayMs = maxMs; return this; }

        /** Android terminals: reconnect ceiling 120 s, so a fleet coming back does not stampede. */
        public Builder terminal() { maxReconnectDelayMs = 120000; return this; }

        /** Default timeout of rpc, publish, presence and subscribe, ms; default 10000. */
        public Builder timeoutMs(long value) { timeoutMs = value; return this; }

        /** From opening the socket to the connect answer, ms; default 15000. */
        public Builder connectTimeoutMs(long value) { connectTimeoutMs = value; return this; }

        /** Refresh the token this long before exp (at most half its remaining life), ms; default 60000. */
        public Builder refreshMarginMs(long value) { refreshMarginMs = value; return this; }

        /** How long a probe ping may wait before the connection is dropped, ms; default 5000. */
        public Builder probeTimeoutMs(long value) { probeTimeoutMs = value; return this; }

        /** The outbox's file; default none (the outbox is kept in memory only). */
        public Builder outboxFile(File value) { outboxFile = value; return this; }

        /** fsync every outbox write (default true): a queued report survives a power cut. */
        public Builder outboxSync(boolean value) { outboxSync = value; return this; }

        /**
         * Outbox entries in flight at once; default 1: each is sent after the previous one was
         * answered, so the backend and subscribers see reports in the order they were made. More
         * drains a backlog faster over a slow link, but webhook-decided publishes and rpcs in
         * flight together may complete, and be published, in another order.
         */
        public Builder outboxWindow(int value) { outboxWindow = value; return this; }

        /** Most entries the outbox holds; past it publish/rpc throw; default 10000. */
        public Builder outboxCapacity(int value) { outboxCapacity = value; return this; }

        /** Tests: the randomness of the reconnect jitter. */
        public Builder random(Random value) { random = value; return this; }

        public ClientOptions build() {
            return new ClientOptions(this);
        }
    }
}
