// The Go SDK's quick start (../../README.md): a backend that decides who connects (the connect
// webhook), answers the rpc "hello" by publishing a greeting to the channel "news", and logs
// disconnects. Run wshub with sdk/examples/backend-hello.toml first.
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
			return wshub.ConnectResult{User: e.Token}, nil
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
			return map[string]any{"published_at": position.Offset}, nil
		},
		Disconnect: func(ctx context.Context, e wshub.DisconnectEvent) error {
			log.Printf("%s disconnected", e.User)
			return nil
		},
	}
	log.Printf("webhooks on http://127.0.0.1:9000/wshub")
	log.Fatal(http.ListenAndServe("127.0.0.1:9000", http.StripPrefix("/wshub", hooks)))
}
