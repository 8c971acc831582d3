package wshub

// Against the real wshub ($WSHUB_BIN; skipped without it): a hub client (sdk/testing/hub_client.py,
// python3-websockets) connects through the connect webhook answered by WebhookHandler, gets a
// publication made with Client.Publish, calls an rpc and publishes through webhooks, and is
// disconnected by the API; the API's refusals come back as typed errors.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const serverTestKey = "sdk-go-api-key"

type wshubProcess struct {
	cmd             *exec.Cmd
	wsPort, apiPort string
	log             *lockedBuffer
}

type lockedBuffer struct {
	mu   sync.Mutex
	text strings.Builder
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.text.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.text.String()
}

// startWshub runs $WSHUB_BIN with config on ports it picks itself, reads them from its
// "listening on" lines, and stops it by PID when the test ends.
func startWshub(t *testing.T, config string) *wshubProcess {
	binary := os.Getenv("WSHUB_BIN")
	if binary == "" {
		t.Skip("WSHUB_BIN is not set: the tests against the real server are skipped")
	}
	path := filepath.Join(t.TempDir(), "wshub.toml")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	process := &wshubProcess{log: &lockedBuffer{}}
	process.cmd = exec.Command(binary, "--config", path, "--threads", "2")
	process.cmd.Stderr = process.log
	if err := process.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { process.cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		process.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			process.cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("wshub's log:\n%s", process.log)
		}
	})
	ws := regexp.MustCompile(`listening on 127\.0\.0\.1:(\d+) \(ws;`)
	api := regexp.MustCompile(`listening on 127\.0\.0\.1:(\d+) \(API`)
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		text := process.log.String()
		if w, a := ws.FindStringSubmatch(text), api.FindStringSubmatch(text); w != nil && a != nil {
			process.wsPort, process.apiPort = w[1], a[1]
			return process
		}
		select {
		case <-exited:
			t.Fatalf("wshub ended at start:\n%s", process.log)
		default:
		}
	}
	t.Fatalf("wshub did not start listening:\n%s", process.log)
	return nil
}

// hubClient drives sdk/testing/hub_client.py: frames in on stdin, frames out on stdout.
type hubClient struct {
	t      *testing.T
	stdin  io.WriteCloser
	frames chan map[string]any
}

func startHubClient(t *testing.T, url string) *hubClient {
	python := "/usr/bin/python3" // Debian's, where python3-websockets is installed
	if _, err := os.Stat(python); err != nil {
		python = "python3"
	}
	cmd := exec.Command(python, "../testing/hub_client.py", url)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	client := &hubClient{t: t, stdin: stdin, frames: make(chan map[string]any, 100)}
	go func() {
		scanner := bufio.NewScanner(stdout)
		for scanner.Scan() {
			var frame map[string]any
			if json.Unmarshal(scanner.Bytes(), &frame) == nil {
				client.frames <- frame
			}
		}
		close(client.frames)
	}()
	t.Cleanup(func() { stdin.Close(); cmd.Wait() })
	return client
}

func (c *hubClient) send(frame string) {
	if _, err := io.WriteString(c.stdin, frame+"\n"); err != nil {
		c.t.Fatal(err)
	}
}

// next returns the next frame of type kind, skipping pings; other frames fail the test.
func (c *hubClient) next(kind string) map[string]any {
	c.t.Helper()
	timeout := time.After(15 * time.Second)
	for {
		select {
		case frame, open := <-c.frames:
			if !open {
				c.t.Fatalf("the hub client ended while waiting for %q", kind)
			}
			if frame["t"] == "ping" {
				continue
			}
			if frame["t"] != kind {
				c.t.Fatalf("got %v while waiting for %q", frame, kind)
			}
			return frame
		case <-timeout:
			c.t.Fatalf("no %q frame within 15 s", kind)
		}
	}
}

func asJSON(value any) string {
	text, _ := json.Marshal(value)
	return string(text)
}

func TestServerEndToEnd(t *testing.T) {
	var mu sync.Mutex
	var disconnects []DisconnectEvent
	var deliveries []string
	handler := &WebhookHandler{
		Secrets:  [][]byte{[]byte("sdk-go-webhook-secret")},
		ErrorLog: log.New(io.Discard, "", 0),
		Connect: func(_ context.Context, e ConnectEvent) (ConnectResult, error) {
			if e.Token != "alice-session" {
				return ConnectResult{}, Refuse(4001, "unknown session")
			}
			mu.Lock()
			deliveries = append(deliveries, e.Delivery.ID)
			mu.Unlock()
			return ConnectResult{User: "alice", Device: "phone-1", Channels: []string{"news"}, Info: map[string]string{"name": "Alice"}}, nil
		},
		RPC: func(_ context.Context, e RPCEvent) (any, error) {
			if e.Method == "getOrder" && e.User == "alice" {
				return map[string]any{"order": json.RawMessage(e.Data), "state": "shipped"}, nil
			}
			return nil, Refuse(1001, "no method %s for %s", e.Method, e.User)
		},
		Subscribe: func(_ context.Context, e SubscribeEvent) error {
			if e.Channel == "room:secret" {
				return Refuse(CodePermissionDenied, "room:secret is not for %s", e.User)
			}
			return nil
		},
		Publish: func(_ context.Context, e PublishEvent) (any, error) {
			return map[string]any{"text": strings.ToUpper(fmt.Sprint(string(e.Data))), "by": e.User}, nil
		},
		Disconnect: func(_ context.Context, e DisconnectEvent) error {
			mu.Lock()
			disconnects = append(disconnects, e)
			mu.Unlock()
			return nil
		},
	}
	backend := httptest.NewServer(handler)
	defer backend.Close()

	template, err := os.ReadFile("../testing/webhook_hub.toml")
	if err != nil {
		t.Fatal(err)
	}
	hub := startWshub(t, strings.NewReplacer("API_KEY", serverTestKey, "WEBHOOK_URL", backend.URL+"/hooks/wshub",
		"WEBHOOK_SECRET", "sdk-go-webhook-secret").Replace(string(template)))
	ctx := context.Background()
	api, err := New("http://127.0.0.1:"+hub.apiPort, serverTestKey)
	if err != nil {
		t.Fatal(err)
	}
	client := startHubClient(t, "ws://127.0.0.1:"+hub.wsPort+"/hub")

	// connect: decided by the connect webhook through the handler, whose Channels let alice
	// subscribe to news (subscribe = "token") and not to sports.
	client.send(`{"t":"connect","id":1,"token":"alice-session","subs":{"news":{},"sports":{}}}`)
	ok := client.next("ok")
	subs, _ := ok["subs"].(map[string]any)
	news, _ := subs["news"].(map[string]any)
	if ok["user"] != "alice" || ok["device"] != "phone-1" || news["err"] != nil || news["off"] != 0.0 ||
		!strings.Contains(asJSON(subs["sports"]), `"code":103`) {
		t.Fatalf("connect answer %v", ok)
	}

	// publish reaches the subscribed client.
	position, err := api.Publish(ctx, PublishRequest{Channel: "news", Data: map[string]string{"text": "hello"}})
	if err != nil || position.Offset != 1 || position.Epoch == "" {
		t.Fatalf("Publish = %+v, %v", position, err)
	}
	if pub := client.next("pub"); pub["ch"] != "news" || asJSON(pub["data"]) != `{"text":"hello"}` || pub["off"] != 1.0 {
		t.Fatalf("pub %v", pub)
	}
	results, err := api.Broadcast(ctx, BroadcastRequest{Channels: []string{"sports", "news"}, Data: 2})
	if err != nil || len(results) != 2 || results[1].Channel != "news" || results[1].Offset != 2 || results[1].Error != nil {
		t.Fatalf("Broadcast = %+v, %v", results, err)
	}
	if pub := client.next("pub"); pub["ch"] != "news" || pub["data"] != 2.0 {
		t.Fatalf("broadcast pub %v", pub)
	}

	// rpc: answered through the handler, a refusal passed on with its code.
	client.send(`{"t":"rpc","id":2,"m":"getOrder","data":{"order":7}}`)
	if ok := client.next("ok"); asJSON(ok["data"]) != `{"order":{"order":7},"state":"shipped"}` {
		t.Fatalf("rpc answer %v", ok)
	}
	client.send(`{"t":"rpc","id":3,"m":"deleteEverything"}`)
	if refused := client.next("err"); refused["code"] != 1001.0 || refused["msg"] != "no method deleteEverything for alice" {
		t.Fatalf("rpc refusal %v", refused)
	}

	// subscribe and publish webhooks.
	client.send(`{"t":"subscribe","id":4,"ch":"room:secret"}`)
	if refused := client.next("err"); refused["code"] != 103.0 {
		t.Fatalf("subscribe refusal %v", refused)
	}
	client.send(`{"t":"subscribe","id":5,"ch":"room:1"}`)
	client.next("ok")
	client.send(`{"t":"publish","id":6,"ch":"room:1","data":"hi"}`)
	client.next("ok")
	if pub := client.next("pub"); pub["ch"] != "room:1" || asJSON(pub["data"]) != `{"by":"alice","text":"\"HI\""}` {
		t.Fatalf("rewritten pub %v", pub)
	}

	// presence, channels, info.
	presence, err := api.Presence(ctx, "room:1")
	if err != nil || presence.Total != 1 || len(presence.Clients) != 1 {
		t.Fatalf("Presence = %+v, %v", presence, err)
	}
	for _, who := range presence.Clients {
		if who.User != "alice" || who.Device != "phone-1" || string(who.Info) != `{"name":"Alice"}` {
			t.Errorf("presence entry %+v", who)
		}
	}
	if personal, err := api.Presence(ctx, "$device:phone-1"); err != nil || personal.Total != 1 {
		t.Errorf("Presence($device:phone-1) = %+v, %v", personal, err)
	}
	channels, err := api.Channels(ctx)
	found := false
	for _, channel := range channels {
		found = found || (channel.Channel == "news" && channel.Subscribers == 1 && channel.Offset == 2)
	}
	if err != nil || !found {
		t.Errorf("Channels = %+v, %v", channels, err)
	}
	if info, err := api.Info(ctx); err != nil || info.Connected != 1 || info.PublicationsDelivered < 3 {
		t.Errorf("Info = %+v, %v", info, err)
	}

	// subscribe and unsubscribe by the backend.
	if n, err := api.Subscribe(ctx, "alice", "alerts"); n != 1 || err != nil {
		t.Fatalf("Subscribe = %d, %v", n, err)
	}
	if sub := client.next("sub"); sub["ch"] != "alerts" {
		t.Fatalf("sub push %v", sub)
	}
	if n, err := api.Unsubscribe(ctx, "alice", "alerts"); n != 1 || err != nil {
		t.Fatalf("Unsubscribe = %d, %v", n, err)
	}
	if unsub := client.next("unsub"); unsub["ch"] != "alerts" || unsub["code"] != 3000.0 {
		t.Fatalf("unsub push %v", unsub)
	}

	// the refusals, as typed errors.
	wrongKey, _ := New("http://127.0.0.1:"+hub.apiPort, "not-the-key")
	_, err = wrongKey.Publish(ctx, PublishRequest{Channel: "news", Data: 1})
	expectError(t, "a bad key", err, 401, CodeUnauthorized, "missing or wrong API key")
	_, err = api.Publish(ctx, PublishRequest{Channel: "a b", Data: 1})
	expectError(t, "a bad channel name", err, 400, CodeBadRequest, "the channel name has a character outside")
	_, err = api.Publish(ctx, PublishRequest{Channel: "chat:1", Data: 1})
	expectError(t, "an unknown namespace", err, 404, CodeUnknownChannel, "no namespace 'chat' is configured")
	_, err = api.Disconnect(ctx, DisconnectRequest{User: "alice", Device: "phone-1"})
	expectError(t, "user and device", err, 400, CodeBadRequest, "give exactly one of user or device")
	_, err = api.Presence(ctx, "news")
	expectError(t, "presence off", err, 400, CodeNotAvailable, "presence is off")
	// The device inbox (docs/api.md): a user with no device gets nothing queued.
	_, err = api.Send(ctx, SendRequest{User: "nobody", Data: 1})
	expectError(t, "send", err, 404, CodeUnknownChannel, "user 'nobody' has no device seen")
	_, err = api.History(ctx, HistoryRequest{Channel: "news"})
	expectError(t, "history where none is kept", err, 400, CodeNotAvailable, "history is not kept for this channel")
	for n := 1; n <= 2; n++ {
		if _, err := api.Publish(ctx, PublishRequest{Channel: "log:1", Data: map[string]int{"n": n}}); err != nil {
			t.Fatalf("publish to a channel with history: %v", err)
		}
	}
	history, err := api.History(ctx, HistoryRequest{Channel: "log:1"})
	if err != nil {
		t.Fatalf("history: %v", err)
	}
	if len(history.Publications) != 2 || history.Offset != 2 || history.Epoch == "" ||
		history.Publications[0].Offset != 1 || string(history.Publications[1].Data) != `{"n":2}` {
		t.Errorf("history = %+v", history)
	}
	since := uint64(1)
	later, err := api.History(ctx, HistoryRequest{Channel: "log:1", Epoch: history.Epoch, Since: &since})
	if err != nil || !later.Recovered || len(later.Publications) != 1 || later.Publications[0].Offset != 2 {
		t.Errorf("history since 1 = %+v, %v", later, err)
	}
	_, err = api.Message(ctx, "m-1")
	expectError(t, "messages", err, 404, CodeUnknownChannel, "no message 'm-1' is known")

	if ready, err := api.Ready(ctx); !ready || err != nil {
		t.Errorf("Ready = %v, %v", ready, err)
	}
	if health, err := api.Health(ctx); err != nil || !strings.Contains(string(health), `"status":"ok"`) {
		t.Errorf("Health = %s, %v", health, err)
	}
	if metrics, err := api.Metrics(ctx); err != nil || !strings.Contains(metrics, "wshub_api_requests_total") {
		t.Errorf("Metrics: %v", err)
	}

	// disconnect: the client gets the code, and the disconnect notice reaches the handler.
	if n, err := api.Disconnect(ctx, DisconnectRequest{User: "alice", Code: 4001, Reason: "account closed"}); n != 1 || err != nil {
		t.Fatalf("Disconnect = %d, %v", n, err)
	}
	if notice := client.next("disconnect"); notice["code"] != 4001.0 || notice["reason"] != "account closed" {
		t.Fatalf("disconnect push %v", notice)
	}
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		mu.Lock()
		got := append([]DisconnectEvent(nil), disconnects...)
		mu.Unlock()
		if len(got) == 1 && got[0].User == "alice" && got[0].Device == "phone-1" && len(got[0].Delivery.ID) == 16 && got[0].Delivery.Attempt == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("disconnect webhooks: %+v", got)
		}
	}
	if len(deliveries) != 1 || len(deliveries[0]) != 16 {
		t.Errorf("connect deliveries %v", deliveries)
	}
}

func expectError(t *testing.T, what string, err error, status, code int, message string) {
	t.Helper()
	var refusal *Error
	if !errors.As(err, &refusal) || refusal.Status != status || refusal.Code != code || !strings.HasPrefix(refusal.Message, message) {
		t.Errorf("%s: %#v, want HTTP %d code %d %q…", what, err, status, code, message)
	}
}
