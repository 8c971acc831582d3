package wshub

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
)

// PublishRequest is POST /api/publish's body. Data is any value encoding/json can encode; a
// json.RawMessage is passed on byte for byte.
type PublishRequest struct {
	Channel string `json:"channel"`
	Data    any    `json:"data"`
	// IdempotencyKey: a repeat within 24 h returns the first answer and publishes nothing.
	// Arrives with the store; this build of wshub ignores it.
	IdempotencyKey string `json:"idempotency_key,omitempty"`
}

// Position is where a publication landed: the channel's epoch and offset after it.
type Position struct {
	Epoch  string `json:"epoch"`
	Offset uint64 `json:"offset"`
}

// Publish sends Data to every subscriber of Channel as {"t":"pub","ch","off","data","ts"}.
func (c *Client) Publish(ctx context.Context, request PublishRequest) (Position, error) {
	var answer Position
	err := c.postJSON(ctx, "/api/publish", request, &answer)
	return answer, err
}

// BroadcastRequest is POST /api/broadcast's body: one Data to at most 1000 channels.
type BroadcastRequest struct {
	Channels []string `json:"channels"`
	Data     any      `json:"data"`
}

// BroadcastResult is one channel's outcome, in the order of the request's Channels. Error is
// set (and Epoch, Offset are not) when the broker could not place that publication.
type BroadcastResult struct {
	Channel string      `json:"channel"`
	Epoch   string      `json:"epoch,omitempty"`
	Offset  uint64      `json:"offset,omitempty"`
	Error   *ErrorValue `json:"error,omitempty"`
}

// ErrorValue is the {"code","message"} object of the API and of webhook refusals.
type ErrorValue struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// Broadcast publishes Data to each channel as Publish would. A bad channel name refuses the
// whole request (an *Error) and nothing is published.
func (c *Client) Broadcast(ctx context.Context, request BroadcastRequest) ([]BroadcastResult, error) {
	var answer struct {
		Results []BroadcastResult `json:"results"`
	}
	err := c.postJSON(ctx, "/api/broadcast", request, &answer)
	return answer.Results, err
}

type userChannel struct {
	User    string `json:"user"`
	Channel string `json:"channel"`
}

// Subscribe subscribes every connection of user, on every worker, to channel, whatever the
// namespace's rules; it returns how many connections were newly subscribed (0 when the user
// has none). The subscription lasts as long as the connection.
func (c *Client) Subscribe(ctx context.Context, user, channel string) (int, error) {
	var answer struct {
		Subscribed int `json:"subscribed"`
	}
	err := c.postJSON(ctx, "/api/subscribe", userChannel{user, channel}, &answer)
	return answer.Subscribed, err
}

// Unsubscribe ends channel's subscription on every connection of user; it returns how many
// were subscribed.
func (c *Client) Unsubscribe(ctx context.Context, user, channel string) (int, error) {
	var answer struct {
		Unsubscribed int `json:"unsubscribed"`
	}
	err := c.postJSON(ctx, "/api/unsubscribe", userChannel{user, channel}, &answer)
	return answer.Unsubscribed, err
}

// DisconnectRequest is POST /api/disconnect's body: exactly one of User or Device. Code is a
// close code from 3000 to 4999 (0: the server's 3000); 3000–3499 and 4000–4499 tell the
// client to reconnect, 3500–3999 and 4500–4999 not to. Reason is at most 100 bytes.
type DisconnectRequest struct {
	User   string `json:"user,omitempty"`
	Device string `json:"device,omitempty"`
	Code   int    `json:"code,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// Disconnect closes every connection of the user or device, on every worker; it returns how
// many were closed.
func (c *Client) Disconnect(ctx context.Context, request DisconnectRequest) (int, error) {
	var answer struct {
		Disconnected int `json:"disconnected"`
	}
	err := c.postJSON(ctx, "/api/disconnect", request, &answer)
	return answer.Disconnected, err
}

// PresenceClient is one connection subscribed to a channel. Info is the identity's info
// (nil when it has none).
type PresenceClient struct {
	User   string          `json:"user"`
	Device string          `json:"device"`
	Info   json.RawMessage `json:"info,omitempty"`
}

// Presence is who is subscribed to a channel: Clients by connection id (at most
// hub.max_presence_clients of them) and Total, how many there are.
type Presence struct {
	Clients map[string]PresenceClient `json:"clients"`
	Total   int                       `json:"total"`
}

// Presence asks who is subscribed to channel (its namespace needs presence = true). For
// "$user:U" or "$device:D" it lists that user's or device's connections: Total 0 means it is
// not connected now.
func (c *Client) Presence(ctx context.Context, channel string) (Presence, error) {
	var answer Presence
	err := c.getJSON(ctx, "/api/presence", url.Values{"channel": {channel}}, &answer)
	return answer, err
}

// ChannelInfo is a channel with at least one subscriber.
type ChannelInfo struct {
	Channel     string `json:"channel"`
	Subscribers int    `json:"subscribers"`
	Offset      uint64 `json:"offset"`
}

// Channels lists the channels with subscribers (at most 10,000), in no particular order.
func (c *Client) Channels(ctx context.Context) ([]ChannelInfo, error) {
	var answer struct {
		Channels []ChannelInfo `json:"channels"`
	}
	err := c.getJSON(ctx, "/api/channels", nil, &answer)
	return answer.Channels, err
}

// HubInfo is GET /api/info's hub counters.
type HubInfo struct {
	Sessions              uint64 `json:"sessions"`
	Connected             uint64 `json:"connected"`
	Subscriptions         uint64 `json:"subscriptions"`
	PublicationsDelivered uint64 `json:"publications_delivered"`
	BackendUnavailable    uint64 `json:"backend_unavailable"`
}

// Info returns the hub's counters.
func (c *Client) Info(ctx context.Context) (HubInfo, error) {
	var answer struct {
		Hub HubInfo `json:"hub"`
	}
	err := c.getJSON(ctx, "/api/info", nil, &answer)
	return answer.Hub, err
}

// SendRequest is POST /api/send's body: Data for the inbox of one Device, or of each of a
// User's devices (those that connected within inbox.device_ttl_s). TTLSeconds 0: the server's
// inbox.default_ttl_s. A repeat of IdempotencyKey gets the first answer and queues nothing;
// CollapseKey replaces a message with the same key that was never pushed. Needs the SQLite
// store: with [store] kind = "memory" the server answers 501.
type SendRequest struct {
	User           string `json:"user,omitempty"`
	Device         string `json:"device,omitempty"`
	Data           any    `json:"data"`
	TTLSeconds     int    `json:"ttl,omitempty"`
	IdempotencyKey string `json:"idempotency_key,omitempty"`
	CollapseKey    string `json:"collapse_key,omitempty"`
}

// SendResult names the message: Seq in the device's inbox for a Device, Copies (one per
// device) for a User.
type SendResult struct {
	ID     string     `json:"id"`
	Seq    uint64     `json:"seq,omitempty"`
	Copies []SendCopy `json:"copies,omitempty"`
}

// SendCopy is the copy of a message in one device's inbox.
type SendCopy struct {
	Device string `json:"device"`
	Seq    uint64 `json:"seq"`
}

// Send appends a message to an inbox, delivered until the device acks it. With the memory
// store wshub answers 501 (an *Error whose NotImplemented() is true).
func (c *Client) Send(ctx context.Context, request SendRequest) (SendResult, error) {
	var answer SendResult
	err := c.postJSON(ctx, "/api/send", request, &answer)
	return answer, err
}

// HistoryRequest asks for a channel's publications after Since (in Epoch), at most Limit.
type HistoryRequest struct {
	Channel string
	Epoch   string // empty: the channel's current epoch
	Since   *uint64
	Limit   int // 0: the server's default
}

// Publication is one kept publication of a channel.
type Publication struct {
	Offset uint64          `json:"offset"`
	Data   json.RawMessage `json:"data"`
	TS     int64           `json:"ts"` // ms since the Unix epoch, when the hub took it
}

// History is a channel's kept publications after the asked position, and the channel's
// position now: the hub protocol's history answer (pubs, ep, off, rec, more) with the API's
// long names.
type History struct {
	Publications []Publication `json:"publications"`
	Epoch        string        `json:"epoch"`
	Offset       uint64        `json:"offset"`
	// Recovered is false when the publications after Since in Epoch are no longer all kept.
	Recovered bool `json:"recovered"`
	// More is true when more publications follow the last one given: ask again from its offset.
	More bool `json:"more"`
}

// History reads a channel's kept publications (its namespace must keep history; else 400
// with code 108).
func (c *Client) History(ctx context.Context, request HistoryRequest) (History, error) {
	query := url.Values{"channel": {request.Channel}}
	if request.Epoch != "" {
		query.Set("epoch", request.Epoch)
	}
	if request.Since != nil {
		query.Set("since", strconv.FormatUint(*request.Since, 10))
	}
	if request.Limit > 0 {
		query.Set("limit", strconv.Itoa(request.Limit))
	}
	var answer History
	err := c.getJSON(ctx, "/api/history", query, &answer)
	return answer, err
}

// Delivery states of a message in one device's inbox.
const (
	MessageQueued    = "queued"
	MessageDelivered = "delivered"
	MessageAcked     = "acked"
	MessageExpired   = "expired"
	MessageReplaced  = "replaced" // by a newer message with the same collapse_key, never pushed
)

// MessageStatus is where a sent message is, per device.
type MessageStatus struct {
	ID      string            `json:"id"`
	Created int64             `json:"created"`
	States  map[string]string `json:"states"`
}

// Message asks where the message id (Send's SendResult.ID) is, per device (States: one of the
// Message* constants). An unknown id is a 404 with code 102; the memory store answers 501.
func (c *Client) Message(ctx context.Context, id string) (MessageStatus, error) {
	if id == "" {
		return MessageStatus{}, errors.New("wshub: Message needs the message id")
	}
	var answer MessageStatus
	err := c.getJSON(ctx, "/api/messages/"+url.PathEscape(id), nil, &answer)
	return answer, err
}

// Ready asks GET /ready: true while the server runs, false (503) while it starts. An error
// means no answer.
func (c *Client) Ready(ctx context.Context) (bool, error) {
	text, err := c.do(ctx, http.MethodGet, "/ready", nil)
	var refusal *Error
	if errors.As(err, &refusal) && refusal.Status == http.StatusServiceUnavailable {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var answer struct {
		Ready bool `json:"ready"`
	}
	err = decodeAnswer(http.MethodGet, "/ready", text, &answer)
	return answer.Ready, err
}

// Health returns GET /health's JSON as it is (its keys are in docs/protocol.md).
func (c *Client) Health(ctx context.Context) (json.RawMessage, error) {
	var answer json.RawMessage
	err := c.getJSON(ctx, "/health", nil, &answer)
	return answer, err
}

// Metrics returns GET /metrics: every counter in the Prometheus text format.
func (c *Client) Metrics(ctx context.Context) (string, error) {
	text, err := c.do(ctx, http.MethodGet, "/metrics", nil)
	return string(text), err
}
