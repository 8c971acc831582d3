package main

import (
	"testing"
	"time"
)

var (
	testWebhookSecret = []byte("webhook-secret-16b")
	testWebhookBody   = []byte(`{"type":"rpc","cid":"0-1","user":"operator","device":"","m":"command","data":{"device":"term-1","action":"toggle_led"}}`)
	// HMAC-SHA256(testWebhookSecret, "1700000000." + testWebhookBody), computed with Python's hmac.
	testWebhookV1 = "afe812e416c58d0a9c008b5410e1628518dfff44887556a8209248910c7db2af"
	testWebhookAt = time.Unix(1700000000, 0)
)

func TestVerifySignature(t *testing.T) {
	good := "t=1700000000,v1=" + testWebhookV1
	cases := []struct {
		name   string
		header string
		body   []byte
		secret []byte
		now    time.Time
		want   error
	}{
		{"valid", good, testWebhookBody, testWebhookSecret, testWebhookAt, nil},
		{"valid within tolerance", good, testWebhookBody, testWebhookSecret, testWebhookAt.Add(299 * time.Second), nil},
		{"rotation: a second v1 matches", "t=1700000000,v1=" + testWebhookV1[1:] + "0,v1=" + testWebhookV1, testWebhookBody, testWebhookSecret, testWebhookAt, nil},
		{"unknown keys ignored", "t=1700000000, v2=abc, v1=" + testWebhookV1, testWebhookBody, testWebhookSecret, testWebhookAt, nil},
		{"missing", "", testWebhookBody, testWebhookSecret, testWebhookAt, errNoSignature},
		{"no v1", "t=1700000000", testWebhookBody, testWebhookSecret, testWebhookAt, errMalformed},
		{"no t", "v1=" + testWebhookV1, testWebhookBody, testWebhookSecret, testWebhookAt, errMalformed},
		{"t not a number", "t=soon,v1=" + testWebhookV1, testWebhookBody, testWebhookSecret, testWebhookAt, errMalformed},
		{"too old", good, testWebhookBody, testWebhookSecret, testWebhookAt.Add(301 * time.Second), errStale},
		{"from the future", good, testWebhookBody, testWebhookSecret, testWebhookAt.Add(-301 * time.Second), errStale},
		{"another secret", good, testWebhookBody, []byte("another-secret-16b"), testWebhookAt, errSignatureInvalid},
		{"body changed", good, append([]byte(" "), testWebhookBody...), testWebhookSecret, testWebhookAt, errSignatureInvalid},
		{"t changed", "t=1700000001,v1=" + testWebhookV1, testWebhookBody, testWebhookSecret, testWebhookAt, errSignatureInvalid},
	}
	for _, c := range cases {
		if got := VerifySignature(c.header, c.body, c.secret, c.now); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}
