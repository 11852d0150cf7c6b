package bridge

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// Platform kinds whose send calls the core routes (ServeHTTP).
const (
	KindRapidPro = "rapidpro"
	KindCustom   = "custom"
)

// WriteError answers a platform's send call with an error in the one shape
// that platform gets for every error, whoever finds it (the core or the
// adapter):
//
//   - "rapidpro": {"status":"error","error":"<msg>","field":"<field>"}
//     (field left out when empty). courier reads only the status code
//     (platforms.md B.1.5); the body mirrors the success answer
//     {"status":"accepted",...}.
//   - "custom", and paths of no known kind: {"error":{"message":"<field>:
//     <msg>"}} (platforms.md A.4.3), the field, if any, leading the message.
//
// msg must be safe to show the caller: no internal error text.
func WriteError(w http.ResponseWriter, kind string, code int, field, msg string) {
	var v any
	if kind == KindRapidPro {
		v = struct {
			Status string `json:"status"`
			Error  string `json:"error"`
			Field  string `json:"field,omitempty"`
		}{"error", msg, field}
	} else {
		if field != "" {
			msg = field + ": " + msg
		}
		type message struct {
			Message string `json:"message"`
		}
		v = struct {
			Error message `json:"error"`
		}{message{msg}}
	}
	var sb strings.Builder
	enc := json.NewEncoder(&sb) // HTML characters in texts stay as typed
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // cannot fail for these types
	body := strings.TrimSuffix(sb.String(), "\n")
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(body))
}

// KindNotify is the template-notifications channel kind (platforms.md D),
// served at POST /website/{websiteId}/hsm/notifications.
const KindNotify = "notify"

// WriteNotify answers a template-notifications request with the body of
// platforms.md D.3: {"code","statusCode","description","result"}, where
// statusCode repeats the HTTP status.
func WriteNotify(w http.ResponseWriter, status int, code, description string, result any) {
	var sb strings.Builder
	enc := json.NewEncoder(&sb) // links and texts stay as typed
	enc.SetEscapeHTML(false)
	_ = enc.Encode(struct {
		Code        string `json:"code"`
		StatusCode  int    `json:"statusCode"`
		Description string `json:"description"`
		Result      any    `json:"result"`
	}{code, status, description, result})
	body := strings.TrimSuffix(sb.String(), "\n")
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}
