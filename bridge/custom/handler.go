package custom

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/smscbridge/smscbridge/bridge"
)

// ServeHTTP handles the platform's POST {API Base URL}/message (A.4): it
// checks the Bearer token, validates the body, commits the MT through the
// Accepter and only then answers 200 {"mId": "<bridge id>"}.
func (a *Adapter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, "method: must be POST")
		return
	}
	if !a.authorized(r.Header.Get("Authorization")) {
		a.log.Info("custom: rejected /message with a missing or wrong token")
		w.Header().Set("WWW-Authenticate", `Bearer realm="smscbridge"`)
		writeError(w, http.StatusUnauthorized, "unauthorized")
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		a.bodyError(w, err)
		return
	}
	s, err := parseSend(body, a.cfg.ChannelID, a.cfg.IDType)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	id, err := a.acc.Accept(r.Context(), a.mt(s, body))
	if err != nil {
		a.acceptError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		MID string `json:"mId"`
	}{id})
}

// authorized checks an Authorization header against the API token (A.2):
// scheme "Bearer" in any case, surrounding whitespace ignored, token
// compared in constant time (hashes first, so its length does not leak).
func (a *Adapter) authorized(header string) bool {
	header = strings.TrimSpace(header)
	i := strings.IndexAny(header, " \t")
	if i < 0 || !strings.EqualFold(header[:i], "Bearer") {
		return false
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(header[i:])))
	return subtle.ConstantTimeCompare(sum[:], a.tokenSum[:]) == 1
}

// mt builds the MT of a validated request.
func (a *Adapter) mt(s send, body []byte) bridge.MT {
	mt := bridge.MT{Channel: a.cfg.Channel, To: s.contactID, Text: s.text}
	if a.cfg.DedupWindow > 0 {
		sum := sha256.Sum256(body)
		mt.DedupKey = hex.EncodeToString(sum[:])
		mt.DedupWindow = a.cfg.DedupWindow
	}
	return mt
}

func (a *Adapter) bodyError(w http.ResponseWriter, err error) {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body: larger than %d bytes", tooBig.Limit))
		return
	}
	a.log.Info("custom: reading /message body", "err", err)
	writeError(w, http.StatusBadRequest, "body: could not be read")
}

// acceptError maps an Accepter error to the answer: the core's validation
// errors are the platform's fault (400), anything else means the MT was
// not committed and the platform must retry (503).
func (a *Adapter) acceptError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, bridge.ErrInvalid):
		field, msg := bridge.Invalid(err)
		writeError(w, http.StatusBadRequest, wireField(field, msg))
	case errors.Is(err, bridge.ErrNoRoute):
		writeError(w, http.StatusBadRequest, "contactId: no route to this destination")
	default:
		a.log.Warn("custom: could not commit MT", "err", err)
		writeError(w, http.StatusServiceUnavailable, "temporarily unavailable, retry later")
	}
}

// wireField names the core's field at fault (bridge.InvalidError) by its
// place in the /message body.
func wireField(field, msg string) string {
	switch field {
	case "":
		return msg
	case "to":
		field = "contactId"
	case "text":
		field = "message"
	}
	return field + ": " + msg
}

// writeError answers {"error":{"message":msg}} (A.4.3), the shape the core
// uses for this platform too.
func writeError(w http.ResponseWriter, code int, msg string) {
	bridge.WriteError(w, bridge.KindCustom, code, "", msg)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := marshal(v)
	if err != nil { // cannot happen with the fixed types used here
		code, b = http.StatusInternalServerError, []byte(`{"error":{"message":"internal error"}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", fmt.Sprint(len(b)))
	w.WriteHeader(code)
	w.Write(b)
}

// marshal is json.Marshal without HTML escaping, so "<", ">" and "&" in
// texts reach the platform as typed.
func marshal(v any) ([]byte, error) {
	var sb strings.Builder
	enc := json.NewEncoder(&sb)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return []byte(strings.TrimSuffix(sb.String(), "\n")), nil
}
