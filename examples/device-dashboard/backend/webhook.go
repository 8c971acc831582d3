// POST /hooks/wshub: wshub's webhook calls. Each is verified (X-Wshub-Signature) before its
// body is read as JSON, then handed on by its type: rpc to Commands, disconnect to the
// dashboard as a notice.
package main

import (
	"encoding/json"
	"io"
	"log"
	"net/http"
	"time"
)

// WebhookHandler answers the events wshub.toml's [[webhook]] sends here.
type WebhookHandler struct {
	Secret    []byte
	Commands  *Commands
	Hub       Publisher
	Terminals *Terminals
	Now       func() time.Time
}

// webhookEvent is the part every webhook body shares.
type webhookEvent struct {
	Type   string `json:"type"`
	Device string `json:"device"`
}

func (h *WebhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, "wshub POSTs its webhooks")
		return
	}
	// The signature covers the raw bytes, so read them all before any JSON parsing.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBytes))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "the body is larger than 64 KiB")
		return
	}
	now := time.Now()
	if h.Now != nil {
		now = h.Now()
	}
	if err := VerifySignature(r.Header.Get("X-Wshub-Signature"), body, h.Secret, now); err != nil {
		log.Printf("webhook from %s refused: %v", r.RemoteAddr, err)
		writeError(w, http.StatusUnauthorized, err.Error())
		return
	}
	var event webhookEvent
	if err := json.Unmarshal(body, &event); err != nil {
		writeError(w, http.StatusBadRequest, "the body is not JSON: "+err.Error())
		return
	}
	switch event.Type {
	case "rpc":
		var call RPCCall
		if err := json.Unmarshal(body, &call); err != nil {
			writeError(w, http.StatusBadRequest, "an rpc body this backend cannot read: "+err.Error())
			return
		}
		writeJSON(w, http.StatusOK, h.Commands.Call(r.Context(), call))
	case "disconnect":
		h.disconnected(r, event.Device)
		writeJSON(w, http.StatusOK, struct{}{})
	default:
		// A 4xx is final for wshub: it does not retry an event this backend does not take.
		writeError(w, http.StatusNotFound, "this backend does not answer "+event.Type+" events")
	}
}

// disconnected tells the dashboard at once that a terminal left wshub, rather than waiting for
// its next report (which a dead terminal never sends).
func (h *WebhookHandler) disconnected(r *http.Request, device string) {
	if device == "" {
		return // the dashboard page itself, or another connection without a device
	}
	h.Terminals.HubDisconnected(device)
	notice := NoticeUpdate{Device: device, Notice: "disconnected from wshub", ReceivedMS: time.Now().UnixMilli()}
	if _, err := h.Hub.Publish(r.Context(), ReportsChannel, notice); err != nil {
		log.Printf("disconnect notice for %s not published: %v", device, err)
	}
}
