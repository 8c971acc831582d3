package wshub

import (
	"encoding/json"
	"errors"
	"fmt"
)

// The webhook bodies of docs/hub-protocol.md ("Webhook bodies"), decoded. Each event also
// carries the call's X-Wshub-Delivery and X-Wshub-Attempt: a delivery id seen before is a
// repeat (a retried notice, or a call libcurl resent on a new connection).

// Delivery is what the headers say about one webhook call.
type Delivery struct {
	ID      string // X-Wshub-Delivery: 16 hex digits, the same on every attempt
	Attempt int    // X-Wshub-Attempt: 1 for the first attempt
}

// ConnectEvent: a client's connect that no JWT decided, or (Stage "upgrade", with
// hub.connect_at_upgrade) a WebSocket upgrade before its 101.
type ConnectEvent struct {
	Delivery `json:"-"`
	CID      string          `json:"cid"`
	Token    string          `json:"token"`
	Client   json.RawMessage `json:"client,omitempty"`
	// Set only at the upgrade stage:
	Stage   string            `json:"stage,omitempty"`
	IP      string            `json:"ip,omitempty"`
	Path    string            `json:"path,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
}

// ConnectResult is the identity a connect handler gives the connection, as a JWT's claims would:
// User is required ("" for anonymous); Device makes the connection join $device:ID; Channels are
// those it may subscribe to in namespaces with subscribe = "token" (it is not subscribed to
// them: the client subscribes); Info is shown in presence; Exp is the identity's expiry in Unix
// seconds (0: none), when the connection is closed with 3005.
type ConnectResult struct {
	User     string   `json:"user"`
	Device   string   `json:"device,omitempty"`
	Channels []string `json:"channels,omitempty"`
	Info     any      `json:"info,omitempty"`
	Exp      int64    `json:"exp,omitempty"`
}

// RPCEvent: a client's rpc. Data is the request's data (null when it gave none); MID its
// optional message id.
type RPCEvent struct {
	Delivery `json:"-"`
	CID      string          `json:"cid"`
	User     string          `json:"user"`
	Device   string          `json:"device"`
	Method   string          `json:"m"`
	Data     json.RawMessage `json:"data"`
	MID      string          `json:"mid,omitempty"`
}

// SubscribeEvent: a client's subscribe in a namespace with subscribe = "webhook".
type SubscribeEvent struct {
	Delivery `json:"-"`
	CID      string `json:"cid"`
	User     string `json:"user"`
	Device   string `json:"device"`
	Channel  string `json:"ch"`
}

// PublishEvent: a client's publish in a namespace with publish = "webhook".
type PublishEvent struct {
	Delivery `json:"-"`
	CID      string          `json:"cid"`
	User     string          `json:"user"`
	Device   string          `json:"device"`
	Channel  string          `json:"ch"`
	Data     json.RawMessage `json:"data"`
	MID      string          `json:"mid,omitempty"`
}

// DisconnectEvent: a connection that was connected has closed. A notice: wshub retries it
// until a 2xx, so the same Delivery.ID may come more than once.
type DisconnectEvent struct {
	Delivery `json:"-"`
	CID      string `json:"cid"`
	User     string `json:"user"`
	Device   string `json:"device"`
}

// The inbox receipts' event types (docs/webhooks.md, "Inbox notices").
const (
	InboxDelivered   = "inbox.delivered"   // pushed to its device for the first time
	InboxAcked       = "inbox.acked"       // the device acknowledged it
	InboxExpired     = "inbox.expired"     // its ttl passed before an ack
	InboxUndelivered = "inbox.undelivered" // still unacknowledged inbox.fallback_after_s after it was queued
)

// InboxEvent: a receipt of one message (ID, Send's SendResult.ID) in one device's inbox, Type
// one of the Inbox* constants. A notice: retried until a 2xx, in no guaranteed order and
// possibly more than once, so key it by ID and Device. User is "" for a device that never
// connected.
type InboxEvent struct {
	Delivery `json:"-"`
	Type     string `json:"type"`
	User     string `json:"user"`
	Device   string `json:"device"`
	ID       string `json:"id"`
	Seq      uint64 `json:"seq"`
}

// Refusal is a handler's "no": wshub passes Code and Message on to the client (a connect is
// then closed with 3502). Return it as the handler's error; any other error is a failure of the
// backend (HTTP 500), which the client sees as 116 "backend unavailable".
type Refusal struct {
	Code    int
	Message string
}

func (r *Refusal) Error() string { return fmt.Sprintf("refused with %d: %s", r.Code, r.Message) }

// Refuse returns a *Refusal with code (1 to 65535, else the handler answers 500; application
// codes are 1000 and up) and the formatted message.
func Refuse(code int, format string, args ...any) error {
	return &Refusal{Code: code, Message: fmt.Sprintf(format, args...)}
}

// refusalBody is the answer for err when it is a *Refusal with a code wshub accepts; a code
// outside 1..65535 would be read as garbage, so such a refusal is a failure of the handler.
func refusalBody(err error) (map[string]ErrorValue, bool) {
	var refusal *Refusal
	if !errors.As(err, &refusal) || refusal.Code < 1 || refusal.Code > 65535 {
		return nil, false
	}
	return map[string]ErrorValue{"error": {Code: refusal.Code, Message: refusal.Message}}, true
}
