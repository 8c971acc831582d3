// Terminals' reports: POST /report from each terminal every second; the backend remembers the
// last one (to know which terminals may take commands) and publishes it to the dashboard.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"regexp"
	"sync"
	"time"

	wshub "wshub.dev/sdk/go"
)

// Report is what a terminal sends. HubConnected is the terminal's own view of its wshub
// connection; LastCommand is the id of the last command it carried out.
type Report struct {
	Device       string  `json:"device"`
	Seq          uint64  `json:"seq"`
	LED          bool    `json:"led"`
	TemperatureC float64 `json:"temperature_c"`
	UptimeS      uint64  `json:"uptime_s"`
	HubConnected bool    `json:"hub_connected"`
	LastCommand  string  `json:"last_command"`
}

// ReportUpdate is a report as the dashboard's channel carries it, with the time the backend
// got it.
type ReportUpdate struct {
	Report
	ReceivedMS int64 `json:"received_ms"`
}

// NoticeUpdate is news about a terminal from wshub (its disconnect notice), merged by the
// page into the terminal's row until its next report.
type NoticeUpdate struct {
	Device       string `json:"device"`
	Notice       string `json:"notice"`
	HubConnected bool   `json:"hub_connected"`
	ReceivedMS   int64  `json:"received_ms"`
}

// Device ids become channel names ($device:ID) and token claims: keep them plain.
var deviceID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func checkDeviceID(device string) error {
	if !deviceID.MatchString(device) {
		return fmt.Errorf("device must be 1 to 64 letters, digits, '-' or '_', not %q", device)
	}
	return nil
}

// Terminals remembers each terminal's last report and when it came.
type Terminals struct {
	mu   sync.Mutex
	last map[string]lastReport
}

type lastReport struct {
	report Report
	at     time.Time
}

func NewTerminals() *Terminals {
	return &Terminals{last: map[string]lastReport{}}
}

func (t *Terminals) Record(report Report, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.last[report.Device] = lastReport{report, at}
}

// ReachableWindow is how recent a report must be for a command to be sent to its terminal.
const ReachableWindow = 5 * time.Second

// Reachable says whether `device` can take a command now: it reported within ReachableWindow
// and said it was connected to wshub. An error says why not.
func (t *Terminals) Reachable(device string, now time.Time) error {
	t.mu.Lock()
	last, known := t.last[device]
	t.mu.Unlock()
	switch {
	case !known:
		return fmt.Errorf("terminal %s has never reported", device)
	case now.Sub(last.at) > ReachableWindow:
		return fmt.Errorf("terminal %s has not reported for %s", device, now.Sub(last.at).Round(time.Second))
	case !last.report.HubConnected:
		return fmt.Errorf("terminal %s is not connected to wshub", device)
	}
	return nil
}

// HubDisconnected notes wshub's disconnect notice until the terminal reports again.
func (t *Terminals) HubDisconnected(device string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if last, known := t.last[device]; known {
		last.report.HubConnected = false
		t.last[device] = last
	}
}

// Publisher is the part of wshub's API the handlers use; *wshub.Client is one.
type Publisher interface {
	Publish(ctx context.Context, request wshub.PublishRequest) (wshub.Position, error)
}

// ReportHandler serves POST /report.
type ReportHandler struct {
	Hub       Publisher
	Terminals *Terminals
}

func (h *ReportHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, "POST a report")
		return
	}
	var report Report
	if err := readJSON(w, r, &report); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := checkDeviceID(report.Device); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	now := time.Now()
	h.Terminals.Record(report, now)
	position, err := h.Hub.Publish(r.Context(), wshub.PublishRequest{Channel: ReportsChannel,
		Data: ReportUpdate{Report: report, ReceivedMS: now.UnixMilli()}})
	if err != nil {
		log.Printf("report from %s not published: %v", report.Device, err)
		writeError(w, http.StatusBadGateway, "the report was not published: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"channel": ReportsChannel, "offset": position.Offset})
}

// maxRequestBytes bounds every JSON body the backend reads.
const maxRequestBytes = 64 << 10

func readJSON(w http.ResponseWriter, r *http.Request, into any) error {
	decoder := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRequestBytes))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(into); err != nil {
		return fmt.Errorf("the body is not the expected JSON: %v", err)
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, value any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(value)
}

func writeError(w http.ResponseWriter, status int, message string) {
	writeJSON(w, status, map[string]string{"error": message})
}
