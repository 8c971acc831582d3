// POST /token/device and POST /token/dashboard: where terminals and the page get their wshub
// tokens. Unauthenticated here, to keep the example small; README.md says what a real
// deployment puts in front of them.
package main

import "net/http"

// DeviceTokenHandler answers {"device":ID} with a terminal's token.
type DeviceTokenHandler struct {
	Issuer TokenIssuer
}

func (h *DeviceTokenHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, `POST {"device":ID}`)
		return
	}
	var request struct {
		Device string `json:"device"`
	}
	if err := readJSON(w, r, &request); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := checkDeviceID(request.Device); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	token, err := h.Issuer.ForTerminal(request.Device)
	answerToken(w, token, err)
}

// DashboardTokenHandler answers the operator's token.
type DashboardTokenHandler struct {
	Issuer TokenIssuer
}

func (h *DashboardTokenHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, "POST")
		return
	}
	token, err := h.Issuer.ForDashboard()
	answerToken(w, token, err)
}

func answerToken(w http.ResponseWriter, token Token, err error) {
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, token)
}
