package wshub

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"
)

// seenRequest is what the fake API received.
type seenRequest struct {
	Method, Path, RawQuery, Key, ContentType string
	Body                                     map[string]any
}

// fakeAPI answers every request with status and body, and records it.
func fakeAPI(t *testing.T, status int, body string) (*Client, *[]seenRequest) {
	t.Helper()
	var seen []seenRequest
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		request := seenRequest{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery,
			Key: r.Header.Get("X-API-Key"), ContentType: r.Header.Get("Content-Type")}
		text, _ := io.ReadAll(r.Body)
		if len(text) > 0 {
			if err := json.Unmarshal(text, &request.Body); err != nil {
				t.Errorf("the request body is not a JSON object: %s", text)
			}
		}
		seen = append(seen, request)
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(server.Close)
	client, err := New(server.URL+"/", "the-key", WithHTTPClient(server.Client()))
	if err != nil {
		t.Fatal(err)
	}
	return client, &seen
}

func TestRequestsAreWhatTheAPIDocumentsAndAnswersDecode(t *testing.T) {
	ctx := context.Background()
	since := uint64(7)
	cases := []struct {
		name   string
		answer string
		call   func(*Client) (any, error)
		want   any
		seen   seenRequest
	}{
		{"publish", `{"epoch":"32a4d5ca","offset":1}`,
			func(c *Client) (any, error) {
				return c.Publish(ctx, PublishRequest{Channel: "news", Data: json.RawMessage(`{"text":"hello"}`)})
			},
			Position{"32a4d5ca", 1},
			seenRequest{Method: "POST", Path: "/api/publish", Body: map[string]any{"channel": "news", "data": map[string]any{"text": "hello"}}}},
		{"publish with an idempotency key", `{"epoch":"e","offset":2}`,
			func(c *Client) (any, error) {
				return c.Publish(ctx, PublishRequest{Channel: "news", Data: 1, IdempotencyKey: "k-1"})
			},
			Position{"e", 2},
			seenRequest{Method: "POST", Path: "/api/publish", Body: map[string]any{"channel": "news", "data": 1.0, "idempotency_key": "k-1"}}},
		{"broadcast", `{"results":[{"channel":"news","epoch":"a","offset":2},{"channel":"x","error":{"code":503,"message":"no broker"}}]}`,
			func(c *Client) (any, error) {
				return c.Broadcast(ctx, BroadcastRequest{Channels: []string{"news", "x"}, Data: "both"})
			},
			[]BroadcastResult{{Channel: "news", Epoch: "a", Offset: 2}, {Channel: "x", Error: &ErrorValue{503, "no broker"}}},
			seenRequest{Method: "POST", Path: "/api/broadcast", Body: map[string]any{"channels": []any{"news", "x"}, "data": "both"}}},
		{"subscribe", `{"subscribed":2}`,
			func(c *Client) (any, error) { return c.Subscribe(ctx, "alice", "alerts") },
			2,
			seenRequest{Method: "POST", Path: "/api/subscribe", Body: map[string]any{"user": "alice", "channel": "alerts"}}},
		{"unsubscribe", `{"unsubscribed":1}`,
			func(c *Client) (any, error) { return c.Unsubscribe(ctx, "alice", "alerts") },
			1,
			seenRequest{Method: "POST", Path: "/api/unsubscribe", Body: map[string]any{"user": "alice", "channel": "alerts"}}},
		{"disconnect", `{"disconnected":1}`,
			func(c *Client) (any, error) {
				return c.Disconnect(ctx, DisconnectRequest{Device: "term-7", Code: 4001, Reason: "account closed"})
			},
			1,
			seenRequest{Method: "POST", Path: "/api/disconnect", Body: map[string]any{"device": "term-7", "code": 4001.0, "reason": "account closed"}}},
		{"presence of a personal channel", `{"clients":{"0-1":{"user":"alice","device":"d","info":{"name":"Alice"}}},"total":1}`,
			func(c *Client) (any, error) { return c.Presence(ctx, "$device:term 7") },
			Presence{Clients: map[string]PresenceClient{"0-1": {User: "alice", Device: "d", Info: json.RawMessage(`{"name":"Alice"}`)}}, Total: 1},
			seenRequest{Method: "GET", Path: "/api/presence", RawQuery: "channel=%24device%3Aterm+7"}},
		{"channels", `{"channels":[{"channel":"news","subscribers":3,"offset":9}]}`,
			func(c *Client) (any, error) { return c.Channels(ctx) },
			[]ChannelInfo{{"news", 3, 9}},
			seenRequest{Method: "GET", Path: "/api/channels"}},
		{"info", `{"hub":{"sessions":1,"connected":1,"subscriptions":3,"publications_delivered":2,"backend_unavailable":5}}`,
			func(c *Client) (any, error) { return c.Info(ctx) },
			HubInfo{1, 1, 3, 2, 5},
			seenRequest{Method: "GET", Path: "/api/info"}},
		{"send to a user", `{"id":"m-1","copies":[{"device":"a","seq":4},{"device":"b","seq":1}]}`,
			func(c *Client) (any, error) {
				return c.Send(ctx, SendRequest{User: "alice", Data: 1, TTLSeconds: 60, IdempotencyKey: "i", CollapseKey: "c"})
			},
			SendResult{ID: "m-1", Copies: []SendCopy{{"a", 4}, {"b", 1}}},
			seenRequest{Method: "POST", Path: "/api/send", Body: map[string]any{"user": "alice", "data": 1.0, "ttl": 60.0, "idempotency_key": "i", "collapse_key": "c"}}},
		{"history", `{"publications":[{"offset":8,"data":{"a":1},"ts":1796588789422}],"epoch":"e","offset":8}`,
			func(c *Client) (any, error) {
				return c.History(ctx, HistoryRequest{Channel: "news", Epoch: "e", Since: &since, Limit: 10})
			},
			History{Publications: []Publication{{8, json.RawMessage(`{"a":1}`), 1796588789422}}, Epoch: "e", Offset: 8},
			seenRequest{Method: "GET", Path: "/api/history", RawQuery: "channel=news&epoch=e&limit=10&since=7"}},
		{"message", `{"id":"m/1","created":1796588789,"states":{"a":"acked"}}`,
			func(c *Client) (any, error) { return c.Message(ctx, "m/1") },
			MessageStatus{ID: "m/1", Created: 1796588789, States: map[string]string{"a": MessageAcked}},
			seenRequest{Method: "GET", Path: "/api/messages/m/1"}}, // sent as m%2F1
		{"ready", `{"ready":true}`,
			func(c *Client) (any, error) { return c.Ready(ctx) },
			true,
			seenRequest{Method: "GET", Path: "/ready"}},
		{"metrics", "wshub_connections 1",
			func(c *Client) (any, error) { return c.Metrics(ctx) },
			"wshub_connections 1\n",
			seenRequest{Method: "GET", Path: "/metrics"}},
	}
	for _, c := range cases {
		client, seen := fakeAPI(t, 200, c.answer+"\n")
		got, err := c.call(client)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %#v, want %#v", c.name, got, c.want)
		}
		if len(*seen) != 1 {
			t.Fatalf("%s: %d requests", c.name, len(*seen))
		}
		request := (*seen)[0]
		if request.Key != "the-key" {
			t.Errorf("%s: X-API-Key %q", c.name, request.Key)
		}
		if (request.Method == "POST") != (request.ContentType == "application/json") {
			t.Errorf("%s: Content-Type %q on %s", c.name, request.ContentType, request.Method)
		}
		request.Key, request.ContentType = "", ""
		if !reflect.DeepEqual(request, c.seen) {
			t.Errorf("%s: sent %#v, want %#v", c.name, request, c.seen)
		}
	}
}

func TestRefusalsBecomeTypedErrors(t *testing.T) {
	cases := []struct {
		name           string
		status         int
		body           string
		code           int
		message        string
		retryable      bool
		notImplemented bool
	}{
		{"bad key", 401, `{"error":{"code":101,"message":"missing or wrong API key: send 'Authorization: Bearer KEY' or 'X-API-Key: KEY' with the key from [api] key"}}`,
			CodeUnauthorized, "missing or wrong API key: send 'Authorization: Bearer KEY' or 'X-API-Key: KEY' with the key from [api] key", false, false},
		{"bad channel", 400, `{"error":{"code":107,"message":"the channel name has a character outside A-Z a-z 0-9 - _ . : @ = / # , $: 'a b'"}}`,
			CodeBadRequest, "the channel name has a character outside A-Z a-z 0-9 - _ . : @ = / # , $: 'a b'", false, false},
		{"unknown namespace", 404, `{"error":{"code":102,"message":"no namespace 'chat' is configured ([[hub.namespace]])"}}`,
			CodeUnknownChannel, "no namespace 'chat' is configured ([[hub.namespace]])", false, false},
		{"data too large", 413, `{"error":{"code":114,"message":"data is larger than hub.max_data_bytes"}}`,
			CodeTooLarge, "data is larger than hub.max_data_bytes", false, false},
		{"store not in this build", 501, `{"error":{"code":108,"message":"the durable store (inbox, history, receipts) is not part of this build yet"}}`,
			CodeNotAvailable, "the durable store (inbox, history, receipts) is not part of this build yet", false, true},
		{"broker down", 503, `{"error":{"code":116,"message":"backend unavailable"}}`, CodeBackendUnavailable, "backend unavailable", true, false},
		{"not answered in time", 504, `{"error":{"code":504,"message":"the request was not answered in time"}}`, CodeTimeout, "the request was not answered in time", true, false},
		{"plain text framing error", 413, "The body is larger than the server's limit (max_body_bytes); send a smaller body or raise the limit.\n",
			0, "The body is larger than the server's limit (max_body_bytes); send a smaller body or raise the limit.", false, false},
		{"empty body", 502, "", 0, "Bad Gateway", true, false},
	}
	for _, c := range cases {
		client, _ := fakeAPI(t, c.status, c.body)
		_, err := client.Publish(context.Background(), PublishRequest{Channel: "news", Data: 1})
		var refusal *Error
		if !errors.As(err, &refusal) {
			t.Errorf("%s: %T %v is not an *Error", c.name, err, err)
			continue
		}
		if refusal.Status != c.status || refusal.Code != c.code || refusal.Message != c.message ||
			refusal.Method != "POST" || refusal.Path != "/api/publish" {
			t.Errorf("%s: %#v", c.name, refusal)
		}
		if refusal.Retryable() != c.retryable || IsRetryable(err) != c.retryable {
			t.Errorf("%s: retryable %v, want %v", c.name, refusal.Retryable(), c.retryable)
		}
		if refusal.NotImplemented() != c.notImplemented {
			t.Errorf("%s: NotImplemented %v", c.name, refusal.NotImplemented())
		}
	}
}

func TestReadyIsFalseWhileTheServerStarts(t *testing.T) {
	client, _ := fakeAPI(t, 503, `{"ready":false}`)
	if ready, err := client.Ready(context.Background()); ready || err != nil {
		t.Fatalf("Ready = %v, %v", ready, err)
	}
}

func TestAnAnswerThatIsNotJSONIsATransportError(t *testing.T) {
	client, _ := fakeAPI(t, 200, `<html>a proxy's page</html>`)
	_, err := client.Info(context.Background())
	var transport *TransportError
	if !errors.As(err, &transport) || transport.Path != "/api/info" {
		t.Fatalf("err = %#v", err)
	}
}

func TestNoAnswerIsARetryableTransportError(t *testing.T) {
	server := httptest.NewServer(http.NotFoundHandler())
	url := server.URL
	server.Close() // nothing listens there now
	client, _ := New(url, "k")
	_, err := client.Publish(context.Background(), PublishRequest{Channel: "news", Data: 1})
	var transport *TransportError
	if !errors.As(err, &transport) || transport.Cancelled || !IsRetryable(err) {
		t.Fatalf("err = %#v", err)
	}
}

func TestTimeoutAndCancellation(t *testing.T) {
	release := make(chan struct{})
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer server.Close()
	defer close(release)

	client, _ := New(server.URL, "k", WithTimeout(50*time.Millisecond))
	_, err := client.Info(context.Background())
	var transport *TransportError
	if !errors.As(err, &transport) || !transport.Timeout() || transport.Cancelled || !IsRetryable(err) {
		t.Errorf("the client's timeout: %#v", err)
	}

	client, _ = New(server.URL, "k")
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	_, err = client.Info(ctx)
	if !errors.As(err, &transport) || !transport.Cancelled || IsRetryable(err) || !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled context: %#v", err)
	}
}

func TestNewRefusesABadURLOrNoKey(t *testing.T) {
	for _, c := range []struct{ url, key string }{{"127.0.0.1:8078", "k"}, {"ftp://h", "k"}, {"http://", "k"}, {"http://h:1", ""}} {
		if _, err := New(c.url, c.key); err == nil {
			t.Errorf("New(%q, %q) took it", c.url, c.key)
		}
	}
}
