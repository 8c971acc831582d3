package wshub

import (
	"strings"
	"testing"
	"time"
)

var (
	vectorSecret = []byte("webhook-secret-16b")
	vectorBody   = []byte(`{"type":"rpc","cid":"0-1","user":"operator","device":"","m":"command","data":{"device":"term-1","action":"toggle_led"}}`)
	// HMAC-SHA256(vectorSecret, "1700000000." + vectorBody), computed with Python's hmac module.
	vectorV1 = "afe812e416c58d0a9c008b5410e1628518dfff44887556a8209248910c7db2af"
	vectorAt = time.Unix(1700000000, 0)
)

func TestSignMatchesAnIndependentHMAC(t *testing.T) {
	if got, want := Sign(vectorSecret, vectorAt, vectorBody), "t=1700000000,v1="+vectorV1; got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}

func TestVerifySignature(t *testing.T) {
	good := "t=1700000000,v1=" + vectorV1
	wrongV1 := strings.Repeat("0", 64)
	other := []byte("another-secret-16b")
	cases := []struct {
		name    string
		header  string
		body    []byte
		now     time.Time
		secrets [][]byte
		want    error
	}{
		{"valid", good, vectorBody, vectorAt, [][]byte{vectorSecret}, nil},
		{"uppercase hex", "t=1700000000,v1=" + strings.ToUpper(vectorV1), vectorBody, vectorAt, [][]byte{vectorSecret}, nil},
		{"299 s late", good, vectorBody, vectorAt.Add(299 * time.Second), [][]byte{vectorSecret}, nil},
		{"299 s early", good, vectorBody, vectorAt.Add(-299 * time.Second), [][]byte{vectorSecret}, nil},
		{"wshub rotating: the second v1 matches", "t=1700000000,v1=" + wrongV1 + ",v1=" + vectorV1, vectorBody, vectorAt, [][]byte{vectorSecret}, nil},
		{"backend rotating: the second secret matches", good, vectorBody, vectorAt, [][]byte{other, vectorSecret}, nil},
		{"unknown keys and spaces ignored", "t=1700000000, v2=abc ,\tv1=" + vectorV1, vectorBody, vectorAt, [][]byte{vectorSecret}, nil},
		{"missing", "", vectorBody, vectorAt, [][]byte{vectorSecret}, ErrSignatureMissing},
		{"no v1", "t=1700000000", vectorBody, vectorAt, [][]byte{vectorSecret}, ErrSignatureMalformed},
		{"no t", "v1=" + vectorV1, vectorBody, vectorAt, [][]byte{vectorSecret}, ErrSignatureMalformed},
		{"t not digits", "t=-1700000000,v1=" + vectorV1, vectorBody, vectorAt, [][]byte{vectorSecret}, ErrSignatureMalformed},
		{"two t", "t=1700000000,t=1700000000,v1=" + vectorV1, vectorBody, vectorAt, [][]byte{vectorSecret}, ErrSignatureMalformed},
		{"v1 too short", "t=1700000000,v1=" + vectorV1[:62], vectorBody, vectorAt, [][]byte{vectorSecret}, ErrSignatureMalformed},
		{"v1 not hex", "t=1700000000,v1=" + strings.Repeat("zz", 32), vectorBody, vectorAt, [][]byte{vectorSecret}, ErrSignatureMalformed},
		{"a part without =", "t=1700000000,v1", vectorBody, vectorAt, [][]byte{vectorSecret}, ErrSignatureMalformed},
		{"nine v1", "t=1700000000" + strings.Repeat(",v1="+wrongV1, 8) + ",v1=" + vectorV1, vectorBody, vectorAt, [][]byte{vectorSecret}, ErrSignatureMalformed},
		{"301 s late: a replay", good, vectorBody, vectorAt.Add(301 * time.Second), [][]byte{vectorSecret}, ErrSignatureExpired},
		{"301 s early", good, vectorBody, vectorAt.Add(-301 * time.Second), [][]byte{vectorSecret}, ErrSignatureExpired},
		{"another secret", good, vectorBody, vectorAt, [][]byte{other}, ErrSignatureMismatch},
		{"no secret", good, vectorBody, vectorAt, nil, ErrSignatureMismatch},
		{"tampered body", good, []byte(strings.Replace(string(vectorBody), "term-1", "term-2", 1)), vectorAt, [][]byte{vectorSecret}, ErrSignatureMismatch},
		{"reformatted body", good, append([]byte(" "), vectorBody...), vectorAt, [][]byte{vectorSecret}, ErrSignatureMismatch},
		{"tampered timestamp", "t=1700000001,v1=" + vectorV1, vectorBody, vectorAt, [][]byte{vectorSecret}, ErrSignatureMismatch},
	}
	for _, c := range cases {
		if got := VerifySignature(c.header, c.body, c.now, 300*time.Second, c.secrets...); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}
