package wshub

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// DefaultTolerance is how far a signature's t may be from the backend's clock: a captured
// call cannot be replayed later than this, and clocks a little apart still agree.
const DefaultTolerance = 5 * time.Minute

// Why a webhook signature is refused. VerifySignature returns exactly one of these.
var (
	ErrSignatureMissing   = errors.New("wshub: no X-Wshub-Signature header")
	ErrSignatureMalformed = errors.New("wshub: X-Wshub-Signature is not t=UNIX,v1=HEX(64)")
	ErrSignatureExpired   = errors.New("wshub: X-Wshub-Signature's t is too far from this clock (a replay, or clocks apart)")
	ErrSignatureMismatch  = errors.New("wshub: X-Wshub-Signature does not match the body (another secret, or a changed body)")
)

// maxSignatures bounds the v1 values read from one header, as the server's own verifier does.
const maxSignatures = 8

// Sign returns the X-Wshub-Signature value wshub would send for body at time t: the lowercase
// hex HMAC-SHA256, keyed with secret, of the decimal Unix seconds, a dot and the body.
// Backends need it only to test their handlers.
func Sign(secret []byte, t time.Time, body []byte) string {
	stamp := strconv.FormatInt(t.Unix(), 10)
	return "t=" + stamp + ",v1=" + hex.EncodeToString(signatureDigest(secret, stamp, body))
}

func signatureDigest(secret []byte, stamp string, body []byte) []byte {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(stamp))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return mac.Sum(nil)
}

// VerifySignature checks an X-Wshub-Signature header against the raw body as received (before
// any JSON decoding), following docs/webhooks.md: one t of digits, 1 to 8 v1 values of 64 hex
// digits, unknown keys ignored; t within tolerance of now; and one v1 equal, compared in
// constant time, to the HMAC under one of secrets (several while a secret is rotated).
func VerifySignature(header string, body []byte, now time.Time, tolerance time.Duration, secrets ...[]byte) error {
	if header == "" {
		return ErrSignatureMissing
	}
	var stamp string
	var given [][]byte
	for _, part := range strings.Split(header, ",") {
		key, value, found := strings.Cut(strings.Trim(part, " \t"), "=")
		if !found {
			return ErrSignatureMalformed
		}
		switch key {
		case "t":
			if stamp != "" || !allDigits(value) || len(value) > 18 {
				return ErrSignatureMalformed
			}
			stamp = value
		case "v1":
			signature, err := hex.DecodeString(value)
			if err != nil || len(signature) != sha256.Size || len(given) == maxSignatures {
				return ErrSignatureMalformed
			}
			given = append(given, signature)
		}
	}
	if stamp == "" || len(given) == 0 {
		return ErrSignatureMalformed
	}
	unix, _ := strconv.ParseInt(stamp, 10, 64)
	if skew := now.Sub(time.Unix(unix, 0)); skew > tolerance || skew < -tolerance {
		return ErrSignatureExpired
	}
	matched := 0
	for _, secret := range secrets {
		expected := signatureDigest(secret, stamp, body)
		for _, signature := range given {
			if hmac.Equal(expected, signature) {
				matched = 1
			}
		}
	}
	if matched == 0 {
		return ErrSignatureMismatch
	}
	return nil
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
