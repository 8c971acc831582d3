// The Go SDK's quick start (../../README.md): a backend that decides who connects (the connect
// webhook) and gives each a device, answers the rpc "hello" by publishing a greeting to the
// channel "news" and sending a welcome to the caller's device inbox, and logs the inbox receipts
// and disconnects. Run wshub with sdk/examples/backend-hello.toml first.
package main

import (
	"context"
	"encoding/json"
	"log"
	"net/http"

	wshub "wshub.dev/sdk/go"
)

func main() {
	api, err := wshub.New("http://127.0.0.1:8078", "dev-api-key")
	if err != nil {
		log.Fatal(err)
	}
	hooks := &wshub.WebhookHandler{
		Secrets: [][]byte{[]byte("hello-webhook-secret")},
		// Every client is who its token says; a real backend looks the token up.
		Connect: func(ctx context.Context, e wshub.ConnectEvent) (wshub.ConnectResult, error) {
			if e.Token == "" {
				return wshub.ConnectResult{}, wshub.Refuse(4001, "send a token")
			}
			log.Printf("%s connected", e.Token)
			return wshub.ConnectResult{User: e.Token, Device: e.Token + "-phone"}, nil
		},
		RPC: func(ctx context.Context, e wshub.RPCEvent) (any, error) {
			if e.Method != "hello" {
				return nil, wshub.Refuse(wshub.CodeMethodNotFound, "no method %q", e.Method)
			}
			greeting := map[string]any{"greeting": "hello, " + e.User, "data": json.RawMessage(e.Data)}
			position, err := api.Publish(ctx, wshub.PublishRequest{Channel: "news", Data: greeting})
			if err != nil {
				return nil, err // the client gets 116 "backend unavailable"
			}
			// Durable: kept until the device acks it, pushed again after a reconnect.
			sent, err := api.Send(ctx, wshub.SendRequest{Device: e.Device, Data: map[string]string{"text": "welcome"}, TTLSeconds: 3600})
			if err != nil {
				return nil, err
			}
			return map[string]any{"published_at": position.Offset, "sent": sent.ID}, nil
		},
		Inbox: func(ctx context.Context, e wshub.InboxEvent) error {
			log.Printf("%s: %s (seq %d) for %s", e.Type, e.ID, e.Seq, e.Device)
			return nil
		},
		Disconnect: func(ctx context.Context, e wshub.DisconnectEvent) error {
			log.Printf("%s disconnected", e.User)
			return nil
		},
	}
	log.Printf("webhooks on http://127.0.0.1:9000/wshub")
	log.Fatal(http.ListenAndServe("127.0.0.1:9000", http.StripPrefix("/wshub", hooks)))
}
