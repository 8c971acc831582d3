package wshub

// Send and Message against the real wshub (its SQLite store, in the test's temporary folder), and
// the inbox.* receipts through WebhookHandler.Inbox: the device form with a ttl, the user form
// with an idempotency_key repeated, a collapse_key replacing a message never pushed, and the
// receipts as a hub client (sdk/testing/hub_client.py) is pushed the messages and acks them.

import (
	"context"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestServerInbox(t *testing.T) {
	var mu sync.Mutex
	var receipts []InboxEvent
	handler := &WebhookHandler{
		Secrets:  [][]byte{[]byte("sdk-go-webhook-secret")},
		ErrorLog: log.New(io.Discard, "", 0),
		Connect: func(_ context.Context, e ConnectEvent) (ConnectResult, error) {
			return ConnectResult{User: "alice", Device: "phone-1"}, nil
		},
		Inbox: func(_ context.Context, e InboxEvent) error {
			mu.Lock()
			receipts = append(receipts, e)
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
	config := strings.NewReplacer("API_KEY", serverTestKey, "WEBHOOK_URL", backend.URL+"/hooks/wshub",
		"WEBHOOK_SECRET", "sdk-go-webhook-secret",
		`"disconnect"]`, `"disconnect", "inbox.delivered", "inbox.acked", "inbox.expired", "inbox.undelivered"]`,
	).Replace(string(template))
	hub := startWshub(t, config)
	ctx := context.Background()
	api, err := New("http://127.0.0.1:"+hub.apiPort, serverTestKey)
	if err != nil {
		t.Fatal(err)
	}
	client := startHubClient(t, "ws://127.0.0.1:"+hub.wsPort+"/hub")
	client.send(`{"t":"connect","id":1,"token":"alice-session","inbox":{}}`)
	ok := client.next("ok")
	inbox, _ := ok["inbox"].(map[string]any)
	if ok["device"] != "phone-1" || inbox["head"] != 0.0 || inbox["pending"] != 0.0 || inbox["ep"] == "" {
		t.Fatalf("connect answer %v", ok)
	}

	// The device form, with a ttl: pushed at once, exp = ts + ttl.
	first, err := api.Send(ctx, SendRequest{Device: "phone-1", Data: map[string]int{"n": 1}, TTLSeconds: 60})
	if err != nil || first.ID == "" || first.Seq != 1 || first.Copies != nil {
		t.Fatalf("Send(device) = %+v, %v", first, err)
	}
	msg := client.next("msg")
	if msg["seq"] != 1.0 || msg["id"] != first.ID || asJSON(msg["data"]) != `{"n":1}` {
		t.Fatalf("msg %v", msg)
	}
	if ts, exp := msg["ts"].(float64), msg["exp"].(float64); exp-ts != 60000 {
		t.Errorf("msg ts %v exp %v: want exp 60 s after ts", ts, exp)
	}

	// The user form: a copy per device; the repeat of its idempotency_key queues nothing.
	second, err := api.Send(ctx, SendRequest{User: "alice", Data: "two", IdempotencyKey: "welcome-alice"})
	if err != nil || second.Seq != 0 || len(second.Copies) != 1 || second.Copies[0] != (SendCopy{Device: "phone-1", Seq: 2}) {
		t.Fatalf("Send(user) = %+v, %v", second, err)
	}
	again, err := api.Send(ctx, SendRequest{User: "alice", Data: "two", IdempotencyKey: "welcome-alice"})
	if err != nil || again.ID != second.ID || len(again.Copies) != 1 || again.Copies[0].Seq != 2 {
		t.Fatalf("the repeat = %+v, %v; want the first answer %+v", again, err, second)
	}
	if msg := client.next("msg"); msg["seq"] != 2.0 || msg["id"] != second.ID || msg["data"] != "two" {
		t.Fatalf("msg %v", msg)
	}
	waitForState(t, api, first.ID, "phone-1", MessageDelivered)
	client.send(`{"t":"ack","upto":2}`)
	client.send(`{"t":"ping","id":2}`)
	client.next("ok") // the ack was taken before the ping's answer; nothing else came (no third msg)
	waitForState(t, api, first.ID, "phone-1", MessageAcked)
	status := waitForState(t, api, second.ID, "phone-1", MessageAcked)
	if status.ID != second.ID || status.Created <= 0 || len(status.States) != 1 {
		t.Errorf("Message = %+v", status)
	}

	// collapse_key: a newer message replaces one the offline device was never pushed.
	badge1, err := api.Send(ctx, SendRequest{Device: "watch-9", Data: 1, CollapseKey: "badge"})
	if err != nil {
		t.Fatal(err)
	}
	badge2, err := api.Send(ctx, SendRequest{Device: "watch-9", Data: 2, CollapseKey: "badge"})
	if err != nil || badge2.ID == badge1.ID {
		t.Fatalf("Send(collapse_key) = %+v, %v", badge2, err)
	}
	waitForState(t, api, badge1.ID, "watch-9", MessageReplaced)
	waitForState(t, api, badge2.ID, "watch-9", MessageQueued)
	_, err = api.Send(ctx, SendRequest{Device: "phone-1", Data: 1, TTLSeconds: -1})
	expectError(t, "a negative ttl", err, 400, CodeBadRequest, "ttl")

	// The receipts as webhooks: delivered and acked for both of phone-1's messages, typed.
	want := map[string]bool{}
	for _, id := range []string{first.ID, second.ID} {
		want[InboxDelivered+" "+id] = true
		want[InboxAcked+" "+id] = true
	}
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		mu.Lock()
		got := append([]InboxEvent(nil), receipts...)
		mu.Unlock()
		seen := map[string]bool{}
		for _, e := range got {
			if e.User != "alice" || e.Device != "phone-1" || len(e.Delivery.ID) != 16 || e.Delivery.Attempt < 1 ||
				(e.ID == first.ID && e.Seq != 1) || (e.ID == second.ID && e.Seq != 2) {
				t.Fatalf("receipt %+v", e)
			}
			seen[e.Type+" "+e.ID] = true
		}
		complete := true
		for key := range want {
			complete = complete && seen[key]
		}
		if complete {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("receipts %+v; want delivered and acked for %s and %s", got, first.ID, second.ID)
		}
	}
}

// waitForState polls Message(id) until device's state is state.
func waitForState(t *testing.T, api *Client, id, device, state string) MessageStatus {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		status, err := api.Message(context.Background(), id)
		if err == nil && status.States[device] == state {
			return status
		}
		if time.Now().After(deadline) {
			t.Fatalf("Message(%s) = %+v, %v; want %s for %s", id, status, err, state, device)
		}
	}
}
