package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	wshub "wshub.dev/sdk/go"
)

// fakeHub stands for wshub's API: it records each /api/publish and answers an offset.
type fakeHub struct {
	mu        sync.Mutex
	published []publishRequest
	server    *httptest.Server
}

type publishRequest struct {
	Channel string         `json:"channel"`
	Data    map[string]any `json:"data"`
}

func newFakeHub(t *testing.T) *fakeHub {
	hub := &fakeHub{}
	hub.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/publish" || r.Header.Get("X-API-Key") != "test-api-key" {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":{"code":101,"message":"missing or wrong API key"}}`)
			return
		}
		var request publishRequest
		if err := json.NewDecoder(r.Body).Decode(&request); err != nil {
			t.Errorf("publish body: %v", err)
		}
		hub.mu.Lock()
		hub.published = append(hub.published, request)
		offset := len(hub.published)
		hub.mu.Unlock()
		io.WriteString(w, `{"epoch":"abcd1234","offset":`+strconv.Itoa(offset)+"}\n")
	}))
	t.Cleanup(hub.server.Close)
	return hub
}

func (h *fakeHub) publications() []publishRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]publishRequest(nil), h.published...)
}

type backendUnderTest struct {
	hub       *fakeHub
	terminals *Terminals
	mux       *http.ServeMux
}

func newBackend(t *testing.T) *backendUnderTest {
	hub := newFakeHub(t)
	api, err := wshub.New(hub.server.URL, "test-api-key", wshub.WithHTTPClient(hub.server.Client()))
	if err != nil {
		t.Fatal(err)
	}
	terminals := NewTerminals()
	mux := http.NewServeMux()
	mux.Handle("/report", &ReportHandler{Hub: api, Terminals: terminals})
	mux.Handle("/hooks/wshub", NewWebhookHandler(testWebhookSecret, &Commands{Hub: api, Terminals: terminals}, api, terminals))
	return &backendUnderTest{hub, terminals, mux}
}

func (b *backendUnderTest) post(path, body string, header http.Header) *httptest.ResponseRecorder {
	request := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	for key, values := range header {
		request.Header[key] = values
	}
	answer := httptest.NewRecorder()
	b.mux.ServeHTTP(answer, request)
	return answer
}

func signed(body string, secret []byte) http.Header {
	stamp := strconv.FormatInt(time.Now().Unix(), 10)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(stamp + "." + body))
	return http.Header{"X-Wshub-Signature": {"t=" + stamp + ",v1=" + hex.EncodeToString(mac.Sum(nil))}}
}

func (b *backendUnderTest) hook(body string) *httptest.ResponseRecorder {
	return b.post("/hooks/wshub", body, signed(body, testWebhookSecret))
}

func (b *backendUnderTest) report(t *testing.T, device string, hubConnected bool) {
	t.Helper()
	body := `{"device":"` + device + `","seq":1,"led":false,"temperature_c":21.5,"uptime_s":3,"hub_connected":` +
		strconv.FormatBool(hubConnected) + `,"last_command":""}`
	if answer := b.post("/report", body, nil); answer.Code != http.StatusOK {
		t.Fatalf("report: %d %s", answer.Code, answer.Body)
	}
}

var testWebhookSecret = []byte("webhook-secret-16b")

// rpcAnswer is the rpc webhook's answer as wshub reads it.
type rpcAnswer struct {
	Data  any               `json:"data"`
	Error *wshub.ErrorValue `json:"error"`
}

const commandCall = `{"type":"rpc","cid":"0-2","user":"operator","device":"","m":"command","data":{"device":"term-1","action":"toggle_led"}}`

func TestReportIsPublishedToTheDashboard(t *testing.T) {
	b := newBackend(t)
	b.report(t, "term-1", true)
	published := b.hub.publications()
	if len(published) != 1 || published[0].Channel != ReportsChannel {
		t.Fatalf("published: %+v", published)
	}
	data := published[0].Data
	if data["device"] != "term-1" || data["temperature_c"] != 21.5 || data["hub_connected"] != true || data["received_ms"] == nil {
		t.Errorf("report data: %v", data)
	}
}

func TestReportRefusals(t *testing.T) {
	b := newBackend(t)
	for name, body := range map[string]string{
		"device id with a colon": `{"device":"a:b","seq":1}`,
		"no device":              `{"seq":1}`,
		"unknown field":          `{"device":"term-1","seq":1,"colour":"red"}`,
		"not JSON":               `device=term-1`,
	} {
		if answer := b.post("/report", body, nil); answer.Code != http.StatusBadRequest {
			t.Errorf("%s: %d %s", name, answer.Code, answer.Body)
		}
	}
	if published := b.hub.publications(); len(published) != 0 {
		t.Errorf("refused reports were published: %+v", published)
	}
}

func TestCommandGoesToTheTerminalsPersonalChannel(t *testing.T) {
	b := newBackend(t)
	b.report(t, "term-1", true)
	answer := b.hook(commandCall)
	if answer.Code != http.StatusOK {
		t.Fatalf("rpc: %d %s", answer.Code, answer.Body)
	}
	var rpc struct {
		Data  CommandQueued     `json:"data"`
		Error *wshub.ErrorValue `json:"error"`
	}
	if err := json.Unmarshal(answer.Body.Bytes(), &rpc); err != nil || rpc.Error != nil || !rpc.Data.Queued || rpc.Data.Command != "cmd-1" {
		t.Fatalf("rpc answer: %s (%v)", answer.Body, err)
	}
	published := b.hub.publications()
	if len(published) != 2 {
		t.Fatalf("published: %+v", published)
	}
	command := published[1]
	if command.Channel != "$device:term-1" || command.Data["command"] != "cmd-1" ||
		command.Data["action"] != "toggle_led" || command.Data["by"] != OperatorUser {
		t.Errorf("command: %+v", command)
	}
	if rpc.Data.Offset != 2 {
		t.Errorf("offset %d, want the hub's 2", rpc.Data.Offset)
	}
}

func TestCommandRefusals(t *testing.T) {
	b := newBackend(t)
	b.report(t, "term-1", true)
	b.report(t, "term-2", false)
	cases := map[string]struct {
		call string
		code int
	}{
		"another method":       {`{"type":"rpc","user":"operator","m":"reboot","data":{}}`, wshub.CodeMethodNotFound},
		"a terminal calls":     {strings.Replace(commandCall, `"user":"operator"`, `"user":"terminal"`, 1), wshub.CodePermissionDenied},
		"data not an object":   {`{"type":"rpc","user":"operator","m":"command","data":[1]}`, wshub.CodeBadRequest},
		"unknown action":       {strings.Replace(commandCall, "toggle_led", "self_destruct", 1), wshub.CodeBadRequest},
		"bad device id":        {strings.Replace(commandCall, `"device":"term-1"`, `"device":"$user:x"`, 1), wshub.CodeBadRequest},
		"never reported":       {strings.Replace(commandCall, "term-1", "term-9", 1), wshub.CodeNotAvailable},
		"not connected to hub": {strings.Replace(commandCall, "term-1", "term-2", 1), wshub.CodeNotAvailable},
	}
	for name, c := range cases {
		answer := b.hook(c.call)
		var rpc rpcAnswer
		if answer.Code != http.StatusOK || json.Unmarshal(answer.Body.Bytes(), &rpc) != nil || rpc.Error == nil ||
			rpc.Error.Code != c.code || rpc.Data != nil {
			t.Errorf("%s: %d %s, want error %d", name, answer.Code, answer.Body, c.code)
		}
	}
	if published := b.hub.publications(); len(published) != 2 {
		t.Errorf("refused commands were published: %+v", published[2:])
	}
}

func TestUnsignedWebhooksAreRefused(t *testing.T) {
	b := newBackend(t)
	b.report(t, "term-1", true)
	proper := signed(commandCall, testWebhookSecret)
	for name, header := range map[string]http.Header{
		"no signature":   nil,
		"another secret": signed(commandCall, []byte("not-the-webhook-secret")),
		"another body":   signed(strings.Replace(commandCall, "term-1", "term-2", 1), testWebhookSecret),
		"garbage":        {"X-Wshub-Signature": {"v1=zz"}},
	} {
		if answer := b.post("/hooks/wshub", commandCall, header); answer.Code != http.StatusUnauthorized {
			t.Errorf("%s: %d %s", name, answer.Code, answer.Body)
		}
	}
	if published := b.hub.publications(); len(published) != 1 {
		t.Errorf("an unsigned call published: %+v", published[1:])
	}
	if answer := b.post("/hooks/wshub", commandCall, proper); answer.Code != http.StatusOK {
		t.Errorf("the properly signed call: %d %s", answer.Code, answer.Body)
	}
}

func TestDisconnectNoticeReachesTheDashboard(t *testing.T) {
	b := newBackend(t)
	b.report(t, "term-1", true)
	if answer := b.hook(`{"type":"disconnect","cid":"0-1","user":"terminal","device":"term-1"}`); answer.Code != http.StatusOK {
		t.Fatalf("disconnect: %d %s", answer.Code, answer.Body)
	}
	if answer := b.hook(`{"type":"disconnect","cid":"0-2","user":"operator","device":""}`); answer.Code != http.StatusOK {
		t.Fatalf("the operator's disconnect: %d %s", answer.Code, answer.Body)
	}
	published := b.hub.publications()
	if len(published) != 2 || published[1].Channel != ReportsChannel || published[1].Data["device"] != "term-1" ||
		published[1].Data["hub_connected"] != false || published[1].Data["notice"] == nil {
		t.Fatalf("published: %+v", published)
	}
	if err := b.terminals.Reachable("term-1", time.Now()); err == nil {
		t.Error("a disconnected terminal still takes commands")
	}
}

func TestHubRefusalIsAnError(t *testing.T) {
	hub := newFakeHub(t)
	api, _ := wshub.New(hub.server.URL, "wrong", wshub.WithHTTPClient(hub.server.Client()))
	_, err := api.Publish(context.Background(), wshub.PublishRequest{Channel: ReportsChannel, Data: map[string]int{}})
	refusal, ok := err.(*wshub.Error)
	if !ok || refusal.Status != http.StatusUnauthorized || refusal.Code != 101 {
		t.Fatalf("err = %#v", err)
	}
}
