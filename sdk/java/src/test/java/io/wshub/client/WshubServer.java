// The real wshub binary ($WSHUB_BIN) for the server tests: a config in a temp dir, loopback
// ports it picks itself (or fixed ones, to restart on the same address) read from its
// "listening on" lines, stopped by its own PID (SIGTERM, or SIGKILL to crash it). Also HS256
// tokens signed here with javax.crypto (not with wshub's code), the backend API with X-API-Key,
// and a webhook backend in this process.
package io.wshub.client;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.InetSocketAddress;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import org.json.JSONObject;

import com.sun.net.httpserver.HttpServer;

final class WshubServer {
    static final String JWT_SECRET = "sdk-java-test-secret-of-at-least-32-bytes";
    static final String API_KEY = "sdk-java-api-key";

    private final String config;
    private Process process;
    private File dir;
    private final StringBuffer log = new StringBuffer();
    int wsPort;
    int apiPort;

    /**
     * Namespace "" open to clients (subscribers publish, presence on), namespace "report" whose
     * publications the webhook decides, HS256 tokens, and publish/rpc webhooks at {@code webhookUrl}.
     */
    static String config(int wsPort, int apiPort, String webhookUrl) {
        return config(wsPort, apiPort, webhookUrl, "");
    }

    /** The same with {@code extra} TOML at the end (a [store] path, more namespaces). */
    static String config(int wsPort, int apiPort, String webhookUrl, String extra) {
        return "[server]\nlog_level = \"info\"\n"
            + "[[listen]]\naddress = \"127.0.0.1:" + wsPort + "\"\n"
            + "[api]\nlisten = \"127.0.0.1:" + apiPort + "\"\nkey = \"" + API_KEY + "\"\n"
            + "[hub]\n"
            + "[[hub.namespace]]\nname = \"\"\nsubscribe = \"authenticated\"\npublish = \"subscribers\"\npresence = true\n"
            + "[[hub.namespace]]\nname = \"report\"\nsubscribe = \"authenticated\"\npublish = \"webhook\"\n"
            + "[hub.jwt]\nkeys = [{ alg = \"HS256\", secret = \"" + JWT_SECRET + "\" }]\nleeway_s = 0\n"
            + (webhookUrl == null ? "" : "[[webhook]]\nname = \"backend\"\nurl = \"" + webhookUrl
                + "\"\nsecret = \"sdk-java-webhook-secret\"\nevents = [\"publish\", \"rpc\"]\ntimeout_ms = 2000\n")
            + extra;
    }

    WshubServer(String config) {
        this.config = config;
    }

    WshubServer start() throws Exception {
        String binary = System.getenv("WSHUB_BIN");
        if (binary == null) throw new IllegalStateException("set WSHUB_BIN to the wshub binary under test");
        dir = Files.createTempDirectory("wshub-sdk-java-").toFile();
        File path = new File(dir, "wshub.toml");
        try (OutputStream out = new FileOutputStream(path)) {
            out.write(config.getBytes(StandardCharsets.UTF_8));
        }
        process = new ProcessBuilder(binary, "--config", path.getPath(), "--threads", "1")
            .redirectOutput(ProcessBuilder.Redirect.to(new File(dir, "stdout.log"))).start();
        final InputStream stderr = process.getErrorStream();
        Thread reader = new Thread(() -> {
            byte[] buffer = new byte[4096];
            try {
                for (int n; (n = stderr.read(buffer)) > 0; ) log.append(new String(buffer, 0, n, StandardCharsets.UTF_8));
            } catch (Exception ignored) {
                // the process ended
            }
        }, "wshub-stderr");
        reader.setDaemon(true);
        reader.start();
        long deadline = System.currentTimeMillis() + 20000;
        Pattern ws = Pattern.compile("listening on 127\\.0\\.0\\.1:(\\d+) \\(ws;");
        Pattern api = Pattern.compile("listening on 127\\.0\\.0\\.1:(\\d+) \\(API");
        while (System.currentTimeMillis() < deadline) {
            Matcher w = ws.matcher(log);
            Matcher a = api.matcher(log);
            if (w.find() && a.find()) {
                wsPort = Integer.parseInt(w.group(1));
                apiPort = Integer.parseInt(a.group(1));
                return this;
            }
            if (!process.isAlive()) break;
            Thread.sleep(20);
        }
        process.destroyForcibly().waitFor();
        removeDir();
        throw new IllegalStateException("wshub did not start listening; stderr:\n" + log);
    }

    /**
     * Starts on two free ports below the system's ephemeral range (32768 and up on Linux), for a
     * server that is killed and restarted on the same ports: an ephemeral port freed by the kill
     * may be taken by any outgoing connection on this shared machine before the restart binds it.
     */
    static WshubServer startForRestart(String webhookUrl) throws Exception {
        return startForRestart(webhookUrl, "");
    }

    static WshubServer startForRestart(String webhookUrl, String extra) throws Exception {
        return startForRestart(webhookUrl, extra, "");
    }

    /** The same with {@code hubKeys} (TOML lines) in the [hub] table. */
    static WshubServer startForRestart(String webhookUrl, String extra, String hubKeys) throws Exception {
        java.util.Random random = new java.util.Random();
        IllegalStateException last = null;
        for (int attempt = 0; attempt < 10; attempt++) {
            int ws = 20000 + random.nextInt(6000) * 2;
            try {
                return new WshubServer(config(ws, ws + 1, webhookUrl, extra).replace("[hub]\n", "[hub]\n" + hubKeys)).start();
            } catch (IllegalStateException taken) {
                last = taken; // a port in use: draw again
            }
        }
        throw last;
    }

    String url() {
        return "ws://127.0.0.1:" + wsPort + "/hub";
    }

    /** SIGKILL (a crash) or SIGTERM (a shutdown) to this process only; waits for it to end. */
    void stop(boolean kill) throws Exception {
        if (kill) process.destroyForcibly();
        else process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) process.destroyForcibly().waitFor();
        removeDir();
    }

    private void removeDir() {
        File[] files = dir.listFiles();
        for (int i = 0; files != null && i < files.length; i++) files[i].delete();
        dir.delete();
    }

    String log() {
        return log.toString();
    }

    /** POSTs {@code body} to the backend API with X-API-Key; returns the answer (status in "status"). */
    JSONObject api(String path, JSONObject body) throws Exception {
        HttpURLConnection http = (HttpURLConnection) new URL("http://127.0.0.1:" + apiPort + path).openConnection();
        http.setRequestMethod("POST");
        http.setDoOutput(true);
        http.setRequestProperty("X-API-Key", API_KEY);
        http.setRequestProperty("Content-Type", "application/json");
        try (OutputStream out = http.getOutputStream()) {
            out.write(body.toString().getBytes(StandardCharsets.UTF_8));
        }
        int status = http.getResponseCode();
        InputStream in = status < 400 ? http.getInputStream() : http.getErrorStream();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        byte[] buffer = new byte[4096];
        for (int n; in != null && (n = in.read(buffer)) > 0; ) bytes.write(buffer, 0, n);
        String text = bytes.toString("UTF-8");
        JSONObject answer = text.isEmpty() ? new JSONObject() : new JSONObject(text);
        return answer.put("status", status);
    }

    /** GETs {@code path} from the backend API; returns the answer (status in "status"). */
    JSONObject apiGet(String path) throws Exception {
        HttpURLConnection http = (HttpURLConnection) new URL("http://127.0.0.1:" + apiPort + path).openConnection();
        http.setRequestProperty("X-API-Key", API_KEY);
        int status = http.getResponseCode();
        InputStream in = status < 400 ? http.getInputStream() : http.getErrorStream();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        byte[] buffer = new byte[4096];
        for (int n; in != null && (n = in.read(buffer)) > 0; ) bytes.write(buffer, 0, n);
        String text = bytes.toString("UTF-8");
        return (text.isEmpty() ? new JSONObject() : new JSONObject(text)).put("status", status);
    }

    /** An HS256 JWT for {@code sub} (and {@code device} when not null), expiring in ttlS seconds. */
    static String token(String sub, String device, long ttlS) throws Exception {
        JSONObject claims = new JSONObject().put("sub", sub).put("exp", System.currentTimeMillis() / 1000 + ttlS);
        if (device != null) claims.put("device", device);
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        String input = b64.encodeToString("{\"alg\":\"HS256\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8)) + "."
            + b64.encodeToString(claims.toString().getBytes(StandardCharsets.UTF_8));
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(JWT_SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        return input + "." + b64.encodeToString(mac.doFinal(input.getBytes(StandardCharsets.UTF_8)));
    }

    /** A webhook backend on 127.0.0.1: records every body; answers rpc with an echo, publish with {}. */
    static final class Backend {
        final List<JSONObject> calls = Collections.synchronizedList(new ArrayList<JSONObject>());
        private final HttpServer server;

        Backend() throws Exception {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
            server.createContext("/hook", exchange -> {
                ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                byte[] buffer = new byte[4096];
                InputStream in = exchange.getRequestBody();
                for (int n; (n = in.read(buffer)) > 0; ) bytes.write(buffer, 0, n);
                String reply = "{}";
                try {
                    JSONObject body = new JSONObject(bytes.toString("UTF-8"));
                    calls.add(body);
                    if ("rpc".equals(body.optString("type"))) {
                        reply = new JSONObject().put("data", new JSONObject().put("echo", body.opt("data"))
                            .put("m", body.optString("m")).put("user", body.optString("user"))).toString();
                    }
                } catch (Exception e) {
                    reply = "not json";
                }
                byte[] out = reply.getBytes(StandardCharsets.UTF_8);
                exchange.getResponseHeaders().add("Content-Type", "application/json");
                exchange.sendResponseHeaders(200, out.length);
                exchange.getResponseBody().write(out);
                exchange.close();
            });
            server.start();
        }

        String url() {
            return "http://127.0.0.1:" + server.getAddress().getPort() + "/hook";
        }

        /** The calls of one type ("publish", "rpc"). */
        List<JSONObject> of(String type) {
            List<JSONObject> out = new ArrayList<JSONObject>();
            synchronized (calls) {
                for (JSONObject call : calls) {
                    if (type.equals(call.optString("type"))) out.add(call);
                }
            }
            return out;
        }

        void close() {
            server.stop(0);
        }
    }

    interface Condition {
        boolean holds() throws Exception;
    }

    /** Polls until {@code condition} holds; fails naming {@code what} after timeoutMs. */
    static void until(Condition condition, String what, long timeoutMs) throws Exception {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (!condition.holds()) {
            if (System.currentTimeMillis() > deadline) throw new AssertionError("timed out waiting for " + what);
            Thread.sleep(10);
        }
    }
}
