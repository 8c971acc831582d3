// Checking that a webhook call comes from wshub: X-Wshub-Signature is "t=UNIX,v1=HEX", the
// HMAC-SHA256 keyed with the [[webhook]] secret over t + "." + the raw body (docs/webhooks.md).
package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// SignatureTolerance is how far t may be from our clock: a captured call cannot be replayed
// later than this.
const SignatureTolerance = 5 * time.Minute

// Why a signature is refused; the webhook handler logs these and answers 401.
var (
	errNoSignature      = errors.New("no X-Wshub-Signature header")
	errMalformed        = errors.New("X-Wshub-Signature is not t=UNIX,v1=HEX")
	errStale            = errors.New("X-Wshub-Signature's t is too far from our clock (replay, or clocks apart)")
	errSignatureInvalid = errors.New("X-Wshub-Signature does not match the body (another secret, or a changed body)")
)

// VerifySignature checks `header` against the raw `body`. Several v1 values are allowed (wshub
// may sign with an old and a new secret while one is rotated); unknown keys are ignored.
func VerifySignature(header string, body, secret []byte, now time.Time) error {
	if header == "" {
		return errNoSignature
	}
	var stamp string
	var signatures [][]byte
	for _, part := range strings.Split(header, ",") {
		key, value, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch key {
		case "t":
			stamp = value
		case "v1":
			if signature, err := hex.DecodeString(value); err == nil {
				signatures = append(signatures, signature)
			}
		}
	}
	unix, err := strconv.ParseInt(stamp, 10, 64)
	if err != nil || unix < 0 || len(signatures) == 0 {
		return errMalformed
	}
	if age := now.Sub(time.Unix(unix, 0)); age > SignatureTolerance || age < -SignatureTolerance {
		return errStale
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(stamp + "."))
	mac.Write(body)
	expected := mac.Sum(nil)
	for _, signature := range signatures {
		if hmac.Equal(expected, signature) {
			return nil
		}
	}
	return errSignatureInvalid
}
