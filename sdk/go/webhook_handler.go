package wshub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"strconv"
	"time"
)

// WebhookHandler is an http.Handler for wshub's webhook calls: it checks the method, reads the
// body (at most MaxBodyBytes), verifies X-Wshub-Signature against Secrets, decodes the body by
// its "type" and hands it to the matching function, then writes the answer wshub reads. Leave
// a function nil for an event this backend does not take: it is answered 404, which wshub
// treats as a failed call (the client gets 116) and, for disconnect, does not retry.
//
// A function's *Refusal (see Refuse) is answered 200 {"error":{code,message}}; any other error
// 500, which the client sees as 116 and a disconnect notice is retried after.
type WebhookHandler struct {
	// Secrets are the [[webhook]] secret; give the old and the new one while rotating it.
	Secrets   [][]byte
	Tolerance time.Duration // how far t may be from Now; 0: DefaultTolerance
	// MaxBodyBytes bounds a body; 0: 1 MiB, room for a data of hub.max_data_bytes (64 KiB by
	// default) raised sixteenfold.
	MaxBodyBytes int64
	Now          func() time.Time // nil: time.Now
	ErrorLog     *log.Logger      // refused calls and handler failures; nil: the log package's

	Connect   func(context.Context, ConnectEvent) (ConnectResult, error)
	RPC       func(context.Context, RPCEvent) (any, error)
	Subscribe func(context.Context, SubscribeEvent) error
	// Publish allows the publication with (nil, nil), or replaces its data with (data, nil).
	// To replace it with JSON null return json.RawMessage("null").
	Publish    func(context.Context, PublishEvent) (any, error)
	Disconnect func(context.Context, DisconnectEvent) error
	// Inbox takes the inbox receipts (inbox.delivered, inbox.acked, inbox.expired,
	// inbox.undelivered), answered {} on nil.
	Inbox func(context.Context, InboxEvent) error
	// Other takes events this version does not decode: the type and the raw body; its answer is
	// written as the JSON body. nil: 404.
	Other func(ctx context.Context, eventType string, body json.RawMessage) (any, error)
}

const defaultMaxWebhookBody = 1 << 20

func (h *WebhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.fail(w, r, http.StatusMethodNotAllowed, "wshub POSTs its webhooks")
		return
	}
	limit := h.MaxBodyBytes
	if limit <= 0 {
		limit = defaultMaxWebhookBody
	}
	// The signature covers the raw bytes: read them all before any JSON decoding.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			h.fail(w, r, http.StatusRequestEntityTooLarge, "the body is larger than "+strconv.FormatInt(limit, 10)+" bytes")
		} else {
			h.fail(w, r, http.StatusBadRequest, "reading the body: "+err.Error())
		}
		return
	}
	now := time.Now()
	if h.Now != nil {
		now = h.Now()
	}
	tolerance := h.Tolerance
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	if err := VerifySignature(r.Header.Get("X-Wshub-Signature"), body, now, tolerance, h.Secrets...); err != nil {
		h.fail(w, r, http.StatusUnauthorized, err.Error())
		return
	}
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(body, &head); err != nil || head.Type == "" {
		h.fail(w, r, http.StatusBadRequest, "the body is not a JSON object with a type")
		return
	}
	delivery := Delivery{ID: r.Header.Get("X-Wshub-Delivery")}
	delivery.Attempt, _ = strconv.Atoi(r.Header.Get("X-Wshub-Attempt"))
	answer, known, err := h.dispatch(r.Context(), head.Type, delivery, body)
	switch {
	case !known:
		h.fail(w, r, http.StatusNotFound, "this backend does not take "+head.Type+" webhooks")
	case err == nil:
		writeWebhookJSON(w, answer)
	default:
		if refusal, ok := refusalBody(err); ok {
			writeWebhookJSON(w, refusal)
		} else if errors.Is(err, errUndecodable) {
			h.fail(w, r, http.StatusBadRequest, err.Error())
		} else {
			h.fail(w, r, http.StatusInternalServerError, head.Type+" webhook failed: "+err.Error())
		}
	}
}

var errUndecodable = errors.New("the body does not decode as its type says")

// decode reads body into event, wrapping a failure as errUndecodable.
func decode(body []byte, event any) error {
	if err := json.Unmarshal(body, event); err != nil {
		return fmt.Errorf("%w: %v", errUndecodable, err)
	}
	return nil
}

// dispatch decodes the body by type and calls the matching function; known is false when
// there is none.
func (h *WebhookHandler) dispatch(ctx context.Context, eventType string, delivery Delivery, body []byte) (answer any, known bool, err error) {
	switch {
	case eventType == "connect" && h.Connect != nil:
		event := ConnectEvent{Delivery: delivery}
		if err := decode(body, &event); err != nil {
			return nil, true, err
		}
		result, err := h.Connect(ctx, event)
		return map[string]any{"result": result}, true, err
	case eventType == "rpc" && h.RPC != nil:
		event := RPCEvent{Delivery: delivery}
		if err := decode(body, &event); err != nil {
			return nil, true, err
		}
		data, err := h.RPC(ctx, event)
		return map[string]any{"data": data}, true, err
	case eventType == "subscribe" && h.Subscribe != nil:
		event := SubscribeEvent{Delivery: delivery}
		if err := decode(body, &event); err != nil {
			return nil, true, err
		}
		return struct{}{}, true, h.Subscribe(ctx, event)
	case eventType == "publish" && h.Publish != nil:
		event := PublishEvent{Delivery: delivery}
		if err := decode(body, &event); err != nil {
			return nil, true, err
		}
		replacement, err := h.Publish(ctx, event)
		if replacement == nil {
			return struct{}{}, true, err
		}
		return map[string]any{"result": map[string]any{"data": replacement}}, true, err
	case eventType == "disconnect" && h.Disconnect != nil:
		event := DisconnectEvent{Delivery: delivery}
		if err := decode(body, &event); err != nil {
			return nil, true, err
		}
		return struct{}{}, true, h.Disconnect(ctx, event)
	case isInboxEvent(eventType) && h.Inbox != nil:
		event := InboxEvent{Delivery: delivery}
		if err := decode(body, &event); err != nil {
			return nil, true, err
		}
		return struct{}{}, true, h.Inbox(ctx, event)
	case h.Other != nil:
		answer, err := h.Other(ctx, eventType, body)
		return answer, true, err
	}
	return nil, false, nil
}

func isInboxEvent(eventType string) bool {
	switch eventType {
	case InboxDelivered, InboxAcked, InboxExpired, InboxUndelivered:
		return true
	}
	return false
}

func writeWebhookJSON(w http.ResponseWriter, answer any) {
	text, err := json.Marshal(answer)
	if err != nil {
		http.Error(w, "the handler's answer cannot be encoded as JSON: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(text)
}

// fail answers status with a one-line text body and logs why: wshub keeps a failed call's body,
// so the sentence shows up where the operator looks.
func (h *WebhookHandler) fail(w http.ResponseWriter, r *http.Request, status int, message string) {
	logf := log.Printf
	if h.ErrorLog != nil {
		logf = h.ErrorLog.Printf
	}
	logf("wshub webhook from %s answered %d: %s", r.RemoteAddr, status, message)
	http.Error(w, message, status)
}
