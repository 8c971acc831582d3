package wshub

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"
)

var hookSecret = []byte("hook-secret-of-16-bytes")

// testHandler takes every event kind and records what it was given.
func testHandler(seen *[]any) *WebhookHandler {
	return &WebhookHandler{
		Secrets:  [][]byte{hookSecret},
		ErrorLog: log.New(io.Discard, "", 0),
		Connect: func(_ context.Context, e ConnectEvent) (ConnectResult, error) {
			*seen = append(*seen, e)
			if e.Token == "banned" {
				return ConnectResult{}, Refuse(4001, "banned until %s", "Monday")
			}
			return ConnectResult{User: "carol", Device: "c1", Channels: []string{"feed:carol"}, Info: map[string]string{"name": "Carol"}, Exp: 1796592607}, nil
		},
		RPC: func(_ context.Context, e RPCEvent) (any, error) {
			*seen = append(*seen, e)
			switch e.Method {
			case "fail":
				return nil, Refuse(1001, "no such order")
			case "crash":
				return nil, errors.New("the database is down")
			case "bad-code":
				return nil, Refuse(70000, "no such code")
			}
			return map[string]any{"echo": e.Data}, nil
		},
		Subscribe: func(_ context.Context, e SubscribeEvent) error {
			*seen = append(*seen, e)
			if e.Channel == "room:secret" {
				return Refuse(CodePermissionDenied, "not for %s", e.User)
			}
			return nil
		},
		Publish: func(_ context.Context, e PublishEvent) (any, error) {
			*seen = append(*seen, e)
			if e.Channel == "room:rewrite" {
				return map[string]bool{"rewritten": true}, nil
			}
			return nil, nil
		},
		Disconnect: func(_ context.Context, e DisconnectEvent) error {
			*seen = append(*seen, e)
			return nil
		},
	}
}

func callHook(h http.Handler, body string, header http.Header) *httptest.ResponseRecorder {
	request := httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(body))
	for key, values := range header {
		request.Header[key] = values
	}
	answer := httptest.NewRecorder()
	h.ServeHTTP(answer, request)
	return answer
}

func signedHeader(body string, at time.Time) http.Header {
	return http.Header{
		"X-Wshub-Signature": {Sign(hookSecret, at, []byte(body))},
		"X-Wshub-Delivery":  {"0e384b8cd75913e1"},
		"X-Wshub-Attempt":   {"2"},
	}
}

func TestWebhookHandlerDecodesEachKindAndWritesItsAnswer(t *testing.T) {
	delivery := Delivery{ID: "0e384b8cd75913e1", Attempt: 2}
	cases := []struct {
		name, body, answer string
		event              any
	}{
		{"connect", `{"type":"connect","cid":"0-4","token":"opaque-123","client":{"sdk":"js","version":"0.1"}}`,
			`{"result":{"user":"carol","device":"c1","channels":["feed:carol"],"info":{"name":"Carol"},"exp":1796592607}}`,
			ConnectEvent{Delivery: delivery, CID: "0-4", Token: "opaque-123", Client: json.RawMessage(`{"sdk":"js","version":"0.1"}`)}},
		{"connect at the upgrade", `{"type":"connect","stage":"upgrade","ip":"10.0.0.7","path":"/hub","headers":{"Cookie":"s=1"}}`,
			`{"result":{"user":"carol","device":"c1","channels":["feed:carol"],"info":{"name":"Carol"},"exp":1796592607}}`,
			ConnectEvent{Delivery: delivery, Stage: "upgrade", IP: "10.0.0.7", Path: "/hub", Headers: map[string]string{"Cookie": "s=1"}}},
		{"connect refused", `{"type":"connect","cid":"0-5","token":"banned"}`,
			`{"error":{"code":4001,"message":"banned until Monday"}}`,
			ConnectEvent{Delivery: delivery, CID: "0-5", Token: "banned"}},
		{"rpc", `{"type":"rpc","cid":"0-1","user":"alice","device":"d-alice","m":"getOrder","data":{"order":7},"mid":"r-1"}`,
			`{"data":{"echo":{"order":7}}}`,
			RPCEvent{Delivery: delivery, CID: "0-1", User: "alice", Device: "d-alice", Method: "getOrder", Data: json.RawMessage(`{"order":7}`), MID: "r-1"}},
		{"rpc refused", `{"type":"rpc","cid":"0-1","user":"alice","device":"","m":"fail","data":null}`,
			`{"error":{"code":1001,"message":"no such order"}}`,
			RPCEvent{Delivery: delivery, CID: "0-1", User: "alice", Method: "fail", Data: json.RawMessage(`null`)}},
		{"subscribe allowed", `{"type":"subscribe","cid":"0-1","user":"alice","device":"","ch":"room:1"}`, `{}`,
			SubscribeEvent{Delivery: delivery, CID: "0-1", User: "alice", Channel: "room:1"}},
		{"subscribe refused", `{"type":"subscribe","cid":"0-1","user":"alice","device":"","ch":"room:secret"}`,
			`{"error":{"code":103,"message":"not for alice"}}`,
			SubscribeEvent{Delivery: delivery, CID: "0-1", User: "alice", Channel: "room:secret"}},
		{"publish allowed", `{"type":"publish","cid":"0-1","user":"alice","device":"","ch":"room:1","data":[1]}`, `{}`,
			PublishEvent{Delivery: delivery, CID: "0-1", User: "alice", Channel: "room:1", Data: json.RawMessage(`[1]`)}},
		{"publish rewritten", `{"type":"publish","cid":"0-1","user":"alice","device":"","ch":"room:rewrite","data":[1],"mid":"m"}`,
			`{"result":{"data":{"rewritten":true}}}`,
			PublishEvent{Delivery: delivery, CID: "0-1", User: "alice", Channel: "room:rewrite", Data: json.RawMessage(`[1]`), MID: "m"}},
		{"disconnect", `{"type":"disconnect","cid":"0-1","user":"alice","device":"d"}`, `{}`,
			DisconnectEvent{Delivery: delivery, CID: "0-1", User: "alice", Device: "d"}},
	}
	for _, c := range cases {
		var seen []any
		answer := callHook(testHandler(&seen), c.body, signedHeader(c.body, time.Now()))
		if answer.Code != 200 || answer.Body.String() != c.answer || answer.Header().Get("Content-Type") != "application/json" {
			t.Errorf("%s: %d %q, want 200 %s", c.name, answer.Code, answer.Body, c.answer)
		}
		if len(seen) != 1 || !reflect.DeepEqual(seen[0], c.event) {
			t.Errorf("%s: handed %#v, want %#v", c.name, seen, c.event)
		}
	}
}

func TestWebhookHandlerRefusesWhatWshubDidNotSign(t *testing.T) {
	body := `{"type":"rpc","cid":"0-1","user":"alice","device":"","m":"getOrder","data":1}`
	cases := map[string]struct {
		body   string
		header http.Header
	}{
		"unsigned":           {body, nil},
		"another secret":     {body, http.Header{"X-Wshub-Signature": {Sign([]byte("not-the-secret-16b"), time.Now(), []byte(body))}}},
		"tampered body":      {strings.Replace(body, "alice", "mallory", 1), signedHeader(body, time.Now())},
		"replayed 10 min on": {body, signedHeader(body, time.Now().Add(-10*time.Minute))},
		"malformed":          {body, http.Header{"X-Wshub-Signature": {"v1=zz"}}},
	}
	for name, c := range cases {
		var seen []any
		if answer := callHook(testHandler(&seen), c.body, c.header); answer.Code != http.StatusUnauthorized || len(seen) != 0 {
			t.Errorf("%s: %d %q, handler saw %d", name, answer.Code, answer.Body, len(seen))
		}
	}
}

func TestWebhookHandlerStatuses(t *testing.T) {
	var seen []any
	handler := testHandler(&seen)
	handler.MaxBodyBytes = 90
	crash := `{"type":"rpc","cid":"0-1","user":"a","device":"","m":"crash","data":1}`
	large := `{"type":"rpc","m":"x","data":"` + strings.Repeat("a", 100) + `"}`
	cases := map[string]struct {
		body   string
		status int
	}{
		"a handler failure is 500 (116 for the client)": {crash, 500},
		"a refusal code wshub cannot take":              {strings.Replace(crash, "crash", "bad-code", 1), 500},
		"an event type nobody takes":                    {`{"type":"inbox.acked","id":"m-1"}`, 404},
		"not JSON":                                      {`[1,2]`, 400},
		"a body the type does not fit":                  {`{"type":"rpc","m":7}`, 400},
		"a body over MaxBodyBytes":                      {large, 413},
	}
	for name, c := range cases {
		if answer := callHook(handler, c.body, signedHeader(c.body, time.Now())); answer.Code != c.status {
			t.Errorf("%s: %d %q, want %d", name, answer.Code, answer.Body, c.status)
		}
	}
	get := httptest.NewRequest(http.MethodGet, "/hook", nil)
	answer := httptest.NewRecorder()
	handler.ServeHTTP(answer, get)
	if answer.Code != http.StatusMethodNotAllowed || answer.Header().Get("Allow") != "POST" {
		t.Errorf("GET: %d", answer.Code)
	}
}

func TestWebhookHandlerOtherTakesUnknownKinds(t *testing.T) {
	handler := &WebhookHandler{Secrets: [][]byte{hookSecret}, Other: func(_ context.Context, kind string, body json.RawMessage) (any, error) {
		return map[string]string{"kind": kind, "body": string(body)}, nil
	}}
	body := `{"type":"inbox.acked","id":"m-1"}`
	answer := callHook(handler, body, signedHeader(body, time.Now()))
	want := `{"body":"{\"type\":\"inbox.acked\",\"id\":\"m-1\"}","kind":"inbox.acked"}`
	if answer.Code != 200 || answer.Body.String() != want {
		t.Errorf("%d %s", answer.Code, answer.Body)
	}
}

func TestWebhookHandlerInboxTakesTheReceipts(t *testing.T) {
	var got []InboxEvent
	handler := &WebhookHandler{Secrets: [][]byte{hookSecret}, Inbox: func(_ context.Context, e InboxEvent) error {
		got = append(got, e)
		return nil
	}}
	for _, kind := range []string{InboxDelivered, InboxAcked, InboxExpired, InboxUndelivered} {
		body := `{"type":"` + kind + `","user":"alice","device":"phone-1","id":"m-1a24e58a071-5902fa","seq":7}`
		if answer := callHook(handler, body, signedHeader(body, time.Now())); answer.Code != 200 || answer.Body.String() != `{}` {
			t.Errorf("%s: %d %s", kind, answer.Code, answer.Body)
		}
	}
	want := InboxEvent{Delivery: Delivery{ID: "0e384b8cd75913e1", Attempt: 2}, User: "alice", Device: "phone-1", ID: "m-1a24e58a071-5902fa", Seq: 7}
	for i, kind := range []string{InboxDelivered, InboxAcked, InboxExpired, InboxUndelivered} {
		want.Type = kind
		if i >= len(got) || got[i] != want {
			t.Fatalf("events %+v, want %+v at %d", got, want, i)
		}
	}
	// A seq that is not a number is a body that does not decode: 400, the handler not called.
	body := `{"type":"inbox.acked","user":"alice","device":"phone-1","id":"m-1","seq":"7"}`
	if answer := callHook(handler, body, signedHeader(body, time.Now())); answer.Code != 400 || len(got) != 4 {
		t.Errorf("a bad seq: %d %s, %d events", answer.Code, answer.Body, len(got))
	}
	// Another type falls through to Other (nil here): 404.
	body = `{"type":"inbox.later","id":"m-1"}`
	if answer := callHook(handler, body, signedHeader(body, time.Now())); answer.Code != 404 {
		t.Errorf("an unknown type: %d %s", answer.Code, answer.Body)
	}
}
