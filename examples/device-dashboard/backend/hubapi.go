// A client of wshub's backend HTTP API ([api] in wshub.toml): the backend publishes reports to
// the dashboard's channel and commands to a terminal's personal channel through it.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// HubAPI calls wshub's API at BaseURL (e.g. http://127.0.0.1:8078) with the API key.
type HubAPI struct {
	BaseURL string
	Key     string
	Client  *http.Client
}

// Position is where a publication landed in its channel's stream.
type Position struct {
	Epoch  string `json:"epoch"`
	Offset uint64 `json:"offset"`
}

// HubError is wshub's refusal: the HTTP status and its {"error":{"code","message"}}.
type HubError struct {
	Status  int
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (e *HubError) Error() string {
	return fmt.Sprintf("wshub API: HTTP %d, code %d: %s", e.Status, e.Code, e.Message)
}

// Publish sends POST /api/publish {channel, data}: every subscriber of `channel` gets
// {"t":"pub","ch":channel,"off":N,"data":data,"ts":MS}.
func (h *HubAPI) Publish(ctx context.Context, channel string, data any) (Position, error) {
	var position Position
	err := h.call(ctx, "/api/publish", map[string]any{"channel": channel, "data": data}, &position)
	return position, err
}

func (h *HubAPI) call(ctx context.Context, path string, request, answer any) error {
	body, err := json.Marshal(request)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.BaseURL+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+h.Key)
	resp, err := h.Client.Do(req)
	if err != nil {
		return fmt.Errorf("wshub API: %w", err)
	}
	defer resp.Body.Close()
	text, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("wshub API: reading the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		refusal := struct {
			Error *HubError `json:"error"`
		}{}
		if json.Unmarshal(text, &refusal) != nil || refusal.Error == nil {
			return &HubError{Status: resp.StatusCode, Message: string(text)}
		}
		refusal.Error.Status = resp.StatusCode
		return refusal.Error
	}
	return json.Unmarshal(text, answer)
}
