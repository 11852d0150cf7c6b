package bridge

import (
	"net/http"
	"strconv"
)

// KindKannel is the kind of Kannel-compatible channels, served at
// SendsmsPath.
const KindKannel = "kannel"

// SendsmsPath is Kannel smsbox's send URL, which every Kannel client (and
// RapidPro's Kannel channel) calls: one path for every kannel channel.
const SendsmsPath = "/cgi-bin/sendsms"

// SendsmsUser is the interface of an Adapter of kind "kannel": the core
// hands it the sendsms calls whose username (user; X-Kannel-Username) is
// SendsmsUser().
type SendsmsUser interface {
	SendsmsUser() string
}

// serveSendsms finds the kannel channel a sendsms call names by its
// username and lets its adapter answer; an unknown username gets Kannel's
// 403 "Authorization failed for sendsms".
func (b *Bridge) serveSendsms(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodPost: // Kannel takes HEAD as GET
	default:
		w.WriteHeader(http.StatusBadRequest) // as Kannel's HTTP server: no body
		return
	}
	t := b.t()
	r.Body = http.MaxBytesReader(w, r.Body, t.maxBody)
	if err := r.ParseForm(); err != nil {
		KannelReply(w, http.StatusBadRequest, "Charset or body misformed, rejected")
		return
	}
	user := r.Form.Get("username")
	if _, ok := r.Form["username"]; !ok {
		user = r.Form.Get("user")
	}
	if user == "" {
		user = r.Header.Get("X-Kannel-Username")
	}
	for _, cs := range t.channels {
		if su, ok := cs.adapter.(SendsmsUser); ok && cs.Kind == KindKannel && su.SendsmsUser() == user {
			if !cs.allow(w) { // over max_requests_per_second: 503 and Retry-After, never 429 (courier)
				KannelReply(w, http.StatusServiceUnavailable, "Temporal failure, try again later.")
				return
			}
			cs.adapter.ServeHTTP(w, r)
			return
		}
	}
	KannelReply(w, http.StatusForbidden, "Authorization failed for sendsms")
}

// KannelReply answers like Kannel's smsbox: text/html, no-cache (the
// sendsms front door here and the kannel channel's own answers).
func KannelReply(w http.ResponseWriter, code int, body string) {
	h := w.Header()
	h.Set("Content-Type", "text/html")
	h.Set("Pragma", "no-cache")
	h.Set("Cache-Control", "no-cache")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	_, _ = w.Write([]byte(body))
}
