package main

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

var testJWTSecret = []byte("0123456789abcdef0123456789abcdef")

// The expected token was computed with Python's hmac and base64 modules, not with this code.
func TestMintHS256KnownAnswer(t *testing.T) {
	token, err := MintHS256(testJWTSecret, Claims{Subject: "terminal", Device: "term-1", IssuedAt: 1700000000, Expires: 1700003600})
	if err != nil {
		t.Fatal(err)
	}
	const want = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." +
		"eyJzdWIiOiJ0ZXJtaW5hbCIsImRldmljZSI6InRlcm0tMSIsImlhdCI6MTcwMDAwMDAwMCwiZXhwIjoxNzAwMDAzNjAwfQ." +
		"mVmbqQuDs3UrveSAfev1V_KwHSEQGCTTCwkERycviMg"
	if token != want {
		t.Fatalf("token\n got %s\nwant %s", token, want)
	}
}

func TestMintHS256Refuses(t *testing.T) {
	if _, err := MintHS256([]byte("short"), Claims{Subject: "x"}); err == nil {
		t.Error("a 5-byte secret was accepted")
	}
	if _, err := MintHS256(testJWTSecret, Claims{}); err == nil {
		t.Error("a token without sub was minted")
	}
}

func claimsOf(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	claims := map[string]any{}
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

func TestIssuerClaims(t *testing.T) {
	now := time.Unix(1700000000, 0)
	issuer := TokenIssuer{Secret: testJWTSecret, TTL: time.Hour, Now: func() time.Time { return now }}

	terminal, err := issuer.ForTerminal("term-7")
	if err != nil {
		t.Fatal(err)
	}
	claims := claimsOf(t, terminal.Token)
	if claims["sub"] != TerminalUser || claims["device"] != "term-7" || claims["exp"] != float64(1700003600) {
		t.Errorf("terminal claims: %v", claims)
	}
	if _, has := claims["channels"]; has {
		t.Errorf("a terminal's token lists channels: %v", claims)
	}

	dashboard, err := issuer.ForDashboard()
	if err != nil {
		t.Fatal(err)
	}
	claims = claimsOf(t, dashboard.Token)
	channels, _ := claims["channels"].([]any)
	if claims["sub"] != OperatorUser || len(channels) != 1 || channels[0] != ReportsChannel {
		t.Errorf("dashboard claims: %v", claims)
	}
	if _, has := claims["device"]; has {
		t.Errorf("the dashboard's token names a device: %v", claims)
	}
	if dashboard.Channel != ReportsChannel || dashboard.ExpiresAt != 1700003600 {
		t.Errorf("dashboard answer: %+v", dashboard)
	}
}
