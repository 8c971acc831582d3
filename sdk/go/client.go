// Package wshub is a client of wshub's backend HTTP API (docs/api.md) and a verifier and
// decoder of its webhooks (docs/webhooks.md), standard library only. The hub protocol that
// browsers and devices speak is not here: a backend never holds a WebSocket.
package wshub

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultTimeout bounds one API call unless WithTimeout or WithHTTPClient says otherwise (a
// context deadline bounds it too). It is shorter than the server's own [api]
// response_timeout_ms (30 s): a backend's request handler should rarely wait that long.
const DefaultTimeout = 10 * time.Second

// maxAnswerBytes bounds how much of an answer is read: the largest the API gives is
// /api/channels (10,000 channels) or /metrics, well under it.
const maxAnswerBytes = 16 << 20

// Client calls one wshub's API. It is safe for concurrent use; its http.Client keeps
// connections alive.
type Client struct {
	baseURL string
	key     string
	http    *http.Client
}

// Option changes a Client made by New.
type Option func(*Client)

// WithHTTPClient uses c for every call (its Timeout and Transport included) instead of one
// with DefaultTimeout.
func WithHTTPClient(c *http.Client) Option { return func(client *Client) { client.http = c } }

// WithTimeout bounds each call, connection, request and whole answer, to d. Options apply in
// order: after WithHTTPClient it sets the timeout of a copy of that client.
func WithTimeout(d time.Duration) Option {
	return func(client *Client) {
		copy := *client.http
		copy.Timeout = d
		client.http = &copy
	}
}

// New returns a client of the API at baseURL (e.g. "http://127.0.0.1:8078", [api] listen)
// sending key ([api] key) with every request.
func New(baseURL, key string, options ...Option) (*Client, error) {
	parsed, err := url.Parse(baseURL)
	if err != nil || (parsed.Scheme != "http" && parsed.Scheme != "https") || parsed.Host == "" {
		return nil, fmt.Errorf("wshub: the API URL must be http://HOST:PORT or https://HOST:PORT, not %q", baseURL)
	}
	if key == "" {
		return nil, errors.New("wshub: the API key is empty; give [api] key")
	}
	client := &Client{baseURL: strings.TrimRight(baseURL, "/"), key: key, http: &http.Client{Timeout: DefaultTimeout}}
	for _, option := range options {
		option(client)
	}
	return client, nil
}

// postJSON sends request as the JSON body of POST path and decodes a 200's body into answer.
func (c *Client) postJSON(ctx context.Context, path string, request, answer any) error {
	body, err := json.Marshal(request)
	if err != nil {
		return fmt.Errorf("wshub: POST %s: the request cannot be encoded as JSON: %w", path, err)
	}
	text, err := c.do(ctx, http.MethodPost, path, body)
	if err != nil {
		return err
	}
	return decodeAnswer(http.MethodPost, path, text, answer)
}

// getJSON sends GET path?query and decodes a 200's body into answer.
func (c *Client) getJSON(ctx context.Context, path string, query url.Values, answer any) error {
	target := path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	text, err := c.do(ctx, http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	return decodeAnswer(http.MethodGet, path, text, answer)
}

func decodeAnswer(method, path string, text []byte, answer any) error {
	if err := json.Unmarshal(text, answer); err != nil {
		return &TransportError{Method: method, Path: path, Err: fmt.Errorf("the answer is not the expected JSON: %w", err)}
	}
	return nil
}

// do sends one request and returns the body of a 200; any other status becomes an *Error.
func (c *Client) do(ctx context.Context, method, target string, body []byte) ([]byte, error) {
	path, _, _ := strings.Cut(target, "?")
	var reader io.Reader
	if body != nil {
		reader = bytes.NewReader(body)
	}
	request, err := http.NewRequestWithContext(ctx, method, c.baseURL+target, reader)
	if err != nil {
		return nil, &TransportError{Method: method, Path: path, Err: err}
	}
	if body != nil {
		request.Header.Set("Content-Type", "application/json")
	}
	request.Header.Set("X-API-Key", c.key)
	response, err := c.http.Do(request)
	if err != nil {
		return nil, &TransportError{Method: method, Path: path, Cancelled: ctx.Err() != nil, Err: err}
	}
	defer response.Body.Close()
	text, err := io.ReadAll(io.LimitReader(response.Body, maxAnswerBytes))
	if err != nil {
		return nil, &TransportError{Method: method, Path: path, Cancelled: ctx.Err() != nil, Err: fmt.Errorf("reading the answer: %w", err)}
	}
	if response.StatusCode == http.StatusOK {
		return text, nil
	}
	return nil, refusalFrom(method, path, response.StatusCode, text)
}

// refusalFrom reads {"error":{"code","message"}}; a body without it (the HTTP layer's plain
// text errors) becomes the message as it is.
func refusalFrom(method, path string, status int, text []byte) *Error {
	var envelope struct {
		Error *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(text, &envelope) == nil && envelope.Error != nil {
		return &Error{Status: status, Code: envelope.Error.Code, Message: envelope.Error.Message, Method: method, Path: path}
	}
	message := strings.TrimSpace(string(text))
	if message == "" {
		message = http.StatusText(status)
	}
	return &Error{Status: status, Message: message, Method: method, Path: path}
}
