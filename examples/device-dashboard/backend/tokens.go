// Connect tokens for wshub: JWTs signed with HS256 and the secret wshub's [hub.jwt] verifies
// with. Minting tokens is the backend's job; wshub only checks them.
package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"time"
)

// Claims are the JWT claims wshub reads (docs/identity.md): sub is the user, device gives
// the connection its personal channel $device:ID, channels lists what a namespace with
// subscribe = "token" lets it subscribe to.
type Claims struct {
	Subject  string   `json:"sub"`
	Device   string   `json:"device,omitempty"`
	Channels []string `json:"channels,omitempty"`
	IssuedAt int64    `json:"iat"`
	Expires  int64    `json:"exp"`
}

// The header is the same for every token: wshub picks the key by alg (and kid, unused here).
var jwtHeader = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))

// MinSecretBytes is what wshub asks of an HS256 secret (RFC 7518 §3.2: at least the hash size).
const MinSecretBytes = 32

// MintHS256 returns HEADER.CLAIMS.SIGNATURE, each part base64url without padding.
func MintHS256(secret []byte, claims Claims) (string, error) {
	if len(secret) < MinSecretBytes {
		return "", errors.New("the HS256 secret must have at least 32 bytes")
	}
	if claims.Subject == "" {
		return "", errors.New("a token needs a subject (sub)")
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signingInput := jwtHeader + "." + base64.RawURLEncoding.EncodeToString(payload)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(signingInput))
	return signingInput + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil)), nil
}

// TokenIssuer mints the tokens of this example's two kinds of client.
type TokenIssuer struct {
	Secret []byte
	TTL    time.Duration
	Now    func() time.Time
}

// Token is what the token endpoints answer.
type Token struct {
	Token     string `json:"token"`
	User      string `json:"user"`
	Device    string `json:"device,omitempty"`
	Channel   string `json:"channel,omitempty"`
	ExpiresAt int64  `json:"expires_at"`
}

func (t TokenIssuer) issue(claims Claims) (Token, error) {
	now := time.Now()
	if t.Now != nil {
		now = t.Now()
	}
	claims.IssuedAt = now.Unix()
	claims.Expires = now.Add(t.TTL).Unix()
	token, err := MintHS256(t.Secret, claims)
	return Token{Token: token, User: claims.Subject, Device: claims.Device, ExpiresAt: claims.Expires}, err
}

// ForTerminal is a device's token: user "terminal", device ID. wshub subscribes the
// connection to $device:ID at connect; it needs no other channel.
func (t TokenIssuer) ForTerminal(device string) (Token, error) {
	return t.issue(Claims{Subject: TerminalUser, Device: device})
}

// ForDashboard is the operator's token: it may subscribe to the reports channel (namespace
// "dashboard" has subscribe = "token") and, being the operator, send commands.
func (t TokenIssuer) ForDashboard() (Token, error) {
	token, err := t.issue(Claims{Subject: OperatorUser, Channels: []string{ReportsChannel}})
	token.Channel = ReportsChannel
	return token, err
}
