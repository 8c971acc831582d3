// The device dashboard's backend: serves the page, mints wshub tokens, takes the terminals'
// reports over HTTP and publishes them to the dashboard's channel, and answers wshub's
// webhooks. Standard library only. Secrets come from the environment, never the command line.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	wshub "wshub.dev/sdk/go"
)

// Names this example's wshub.toml and page agree on.
const (
	ReportsChannel = "dashboard:reports" // namespace "dashboard": subscribe = "token", publish = "backend"
	OperatorUser   = "operator"          // the dashboard page's user
	TerminalUser   = "terminal"          // the user of every terminal; each has its own device id
)

type secrets struct {
	apiKey, jwtSecret, webhookSecret string
}

func secretsFromEnv() (secrets, error) {
	s := secrets{
		apiKey:        os.Getenv("WSHUB_API_KEY"),
		jwtSecret:     os.Getenv("WSHUB_JWT_SECRET"),
		webhookSecret: os.Getenv("WSHUB_WEBHOOK_SECRET"),
	}
	if s.apiKey == "" || s.jwtSecret == "" || s.webhookSecret == "" {
		return s, errors.New("set WSHUB_API_KEY, WSHUB_JWT_SECRET and WSHUB_WEBHOOK_SECRET to wshub.toml's [api] key, [hub.jwt] secret and [[webhook]] secret")
	}
	if len(s.jwtSecret) < MinSecretBytes {
		return s, fmt.Errorf("WSHUB_JWT_SECRET has %d bytes; HS256 needs at least %d", len(s.jwtSecret), MinSecretBytes)
	}
	return s, nil
}

func main() {
	listen := flag.String("listen", "127.0.0.1:8080", "HOST:PORT to serve on (keep it private: nginx is the public side)")
	hubAPI := flag.String("hub-api", "http://127.0.0.1:8078", "wshub's backend API ([api] listen)")
	webDir := flag.String("web", "web", "the dashboard page's directory")
	tokenTTL := flag.Duration("token-ttl", time.Hour, "how long minted tokens are valid")
	flag.Parse()
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)
	s, err := secretsFromEnv()
	if err != nil {
		log.Fatal(err)
	}

	hub, err := wshub.New(*hubAPI, s.apiKey, wshub.WithTimeout(5*time.Second))
	if err != nil {
		log.Fatal(err)
	}
	terminals := NewTerminals()
	issuer := TokenIssuer{Secret: []byte(s.jwtSecret), TTL: *tokenTTL}
	mux := http.NewServeMux()
	mux.Handle("/", http.FileServer(http.Dir(*webDir)))
	mux.Handle("/token/device", &DeviceTokenHandler{Issuer: issuer})
	mux.Handle("/token/dashboard", &DashboardTokenHandler{Issuer: issuer})
	mux.Handle("/report", &ReportHandler{Hub: hub, Terminals: terminals})
	mux.Handle("/hooks/wshub", NewWebhookHandler([]byte(s.webhookSecret), &Commands{Hub: hub, Terminals: terminals}, hub, terminals))

	listener, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	server := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: time.Minute}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		server.Shutdown(shutdown)
	}()
	log.Printf("listening on http://%s (wshub API %s)", listener.Addr(), *hubAPI)
	if err := server.Serve(listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}
