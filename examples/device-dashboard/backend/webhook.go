// POST /hooks/wshub: wshub's webhook calls, verified (X-Wshub-Signature) and decoded by the SDK's
// wshub.WebhookHandler, then handed on by type: rpc to Commands, disconnect to the dashboard as
// a notice. Other events are answered 404: this backend does not take them.
package main

import (
	"context"
	"log"
	"time"

	wshub "wshub.dev/sdk/go"
)

// NewWebhookHandler answers the events wshub.toml's [[webhook]] sends here, signed with secret.
func NewWebhookHandler(secret []byte, commands *Commands, hub Publisher, terminals *Terminals) *wshub.WebhookHandler {
	notices := &disconnectNotices{hub: hub, terminals: terminals}
	return &wshub.WebhookHandler{
		Secrets:      [][]byte{secret},
		MaxBodyBytes: maxRequestBytes,
		RPC:          commands.Call,
		Disconnect:   notices.disconnected,
	}
}

type disconnectNotices struct {
	hub       Publisher
	terminals *Terminals
}

// disconnected tells the dashboard at once that a terminal left wshub, rather than waiting for
// its next report (which a dead terminal never sends). A notice that cannot be published is
// logged, not failed: wshub would retry it, and the next report says the same.
func (n *disconnectNotices) disconnected(ctx context.Context, event wshub.DisconnectEvent) error {
	if event.Device == "" {
		return nil // the dashboard page itself, or another connection without a device
	}
	n.terminals.HubDisconnected(event.Device)
	notice := NoticeUpdate{Device: event.Device, Notice: "disconnected from wshub", ReceivedMS: time.Now().UnixMilli()}
	if _, err := n.hub.Publish(ctx, wshub.PublishRequest{Channel: ReportsChannel, Data: notice}); err != nil {
		log.Printf("disconnect notice for %s not published: %v", event.Device, err)
	}
	return nil
}
