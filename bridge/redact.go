package bridge

import (
	"encoding/json"
	"errors"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

var secretParams = []string{"password", "pass", "token", "apikey", "api_key", "key", "secret"}

// redactURL hides userinfo passwords and secret-looking query parameters so
// URLs can be logged.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<unparsable url>"
	}
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	q := u.Query()
	changed := false
	for k := range q {
		for _, s := range secretParams {
			if strings.EqualFold(k, s) {
				q.Set(k, "xxxxx")
				changed = true
			}
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// secretInText finds secret-named parameters (secretParams) in any text:
// name=value, the value up to the next separator.
var secretInText = regexp.MustCompile(`(?i)\b(` + strings.Join(secretParams, "|") + `)=([^&\s"'\x00-\x1f]*)`)

// redactParams masks the values of secret-named parameters anywhere in s
// (a URL, or data that holds one).
func redactParams(s string) string {
	if !strings.Contains(s, "=") {
		return s
	}
	return secretInText.ReplaceAllString(s, "${1}=xxxxx")
}

// shownURLs caches redactURL for the URLs callbacks go to: most channels
// post every message to the same few URLs, and parsing one for each
// trace line cost more than a percent of the daemon's CPU.
var shownURLs struct {
	m sync.Map // raw → redacted
	n atomic.Int32
}

// shownURL is redactURL, cached for up to 4096 distinct URLs.
func shownURL(raw string) string {
	if v, ok := shownURLs.m.Load(raw); ok {
		return v.(string)
	}
	r := redactURL(raw)
	if shownURLs.n.Load() < 4096 {
		if _, loaded := shownURLs.m.LoadOrStore(raw, r); !loaded {
			shownURLs.n.Add(1)
		}
	}
	return r
}

// redactErr renders a client error without the URL's secrets.
func redactErr(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Op + " " + redactURL(ue.URL) + ": " + ue.Err.Error()
	}
	return err.Error()
}

// masked replaces a secret where an operator sees it.
const masked = "***"

// secretHeader says whether a header's value is a credential: the
// Authorization headers, cookies, and any name that speaks of a token, key,
// secret, password or signature (X-Auth-Token, apikey, X-Api-Key, ...).
func secretHeader(name string) bool {
	n := strings.ToLower(name)
	switch n {
	case "authorization", "proxy-authorization", "cookie", "set-cookie":
		return true
	}
	for _, s := range []string{"token", "key", "secret", "passw", "auth", "signature", "session", "credential"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// redactHeaderValue masks a secret header's value; an Authorization value
// keeps its scheme ("Bearer ***"), so an operator can see which was used.
func redactHeaderValue(name, v string) string {
	if !secretHeader(name) {
		return v
	}
	if n := strings.ToLower(name); n == "authorization" || n == "proxy-authorization" {
		if scheme, _, ok := strings.Cut(strings.TrimSpace(v), " "); ok && scheme != "" {
			return scheme + " " + masked
		}
	}
	return masked
}

// secretParam says whether a query, form or JSON field name holds a secret.
func secretParam(k string) bool {
	for _, s := range secretParams {
		if strings.EqualFold(k, s) {
			return true
		}
	}
	return false
}

// redactJSON masks the values of secret-named fields at any depth of a
// JSON document; it returns v unchanged when nothing is masked.
func redactJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if secretParam(k) {
				x[k] = masked
			} else {
				x[k] = redactJSON(e)
			}
		}
	case []any:
		for i, e := range x {
			x[i] = redactJSON(e)
		}
	}
	return v
}

// requestView is a callback's request as an operator sees it: secrets
// masked, the body readable.
type requestView struct {
	Method string            `json:"method"`
	URL    string            `json:"url"`
	Header map[string]string `json:"header,omitempty"`
	// Body is a JSON body as JSON, any other UTF-8 body as a JSON string;
	// BodyBase64 holds a body that is neither.
	Body       json.RawMessage `json:"body,omitempty"`
	BodyBase64 []byte          `json:"body_base64,omitempty"`
}

// callbackView is a callback as an operator sees it (RedactPayload).
type callbackView struct {
	Request *requestView `json:"req,omitempty"`
	statusOf
	Log *statusNote `json:"log,omitempty"`
}

// RedactPayload returns a queued item's payload fit for an operator's eyes
// (admin API, smscbridge queue, anything that is copied into a ticket).
// An MT (lane "mt:...") comes back as its record in JSON, as older
// versions stored it (the store keeps a compact binary form). A platform
// callback (lane "http:...") comes back as readable JSON with
// its body decoded (JSON as JSON, text as a string, not base64) and every
// secret masked as "***": the values of Authorization, Cookie, apikey and
// other token or key headers (an Authorization keeps its scheme), the
// URL's userinfo password and secret query parameters (redactURL), and
// secret-named fields of a JSON or form body. ok is false, and payload is
// returned as it is, for any other payload, or a record that does not
// decode.
func RedactPayload(lane string, payload []byte) (out []byte, ok bool) {
	if strings.HasPrefix(lane, "mt:") {
		var rec mtRecord
		if rec.decode(payload) != nil {
			return payload, false
		}
		// An adapter's report data may hold a URL with a password (a
		// Kannel dlr-url): mask secret-named parameters wherever they are.
		rec.ExternalID = redactParams(rec.ExternalID)
		data, err := json.Marshal(rec)
		return data, err == nil
	}
	if !strings.HasPrefix(lane, "http:") {
		return payload, false
	}
	cb, err := decodeCallback(payload)
	if err != nil {
		return payload, false
	}
	v := callbackView{statusOf: cb.statusOf, Log: cb.Log}
	v.Group = redactParams(v.Group) // it may hold the adapter's report data (a dlr-url)
	if cb.Log == nil || cb.Request.URL != "" || cb.Request.Method != "" {
		v.Request = redactRequest(cb.Request)
	}
	data, err := json.Marshal(v)
	if err != nil {
		return payload, false
	}
	return data, true
}

// redactRequest builds the operator's view of a callback request.
func redactRequest(r Request) *requestView {
	v := &requestView{Method: r.Method, URL: redactURL(r.URL)}
	if r.URL == "" {
		v.URL = ""
	}
	if len(r.Header) > 0 {
		v.Header = make(map[string]string, len(r.Header))
		for k, val := range r.Header {
			v.Header[k] = redactHeaderValue(k, val)
		}
	}
	if len(r.Body) == 0 {
		return v
	}
	var doc any
	switch {
	case json.Unmarshal(r.Body, &doc) == nil:
		v.Body, _ = json.Marshal(redactJSON(doc))
	case !utf8.Valid(r.Body):
		v.BodyBase64 = r.Body
	default:
		text := string(r.Body)
		if isForm(r.Header) {
			text = redactForm(text)
		}
		v.Body, _ = json.Marshal(text)
	}
	return v
}

// isForm says whether the request's body is application/x-www-form-urlencoded.
func isForm(h map[string]string) bool {
	for k, v := range h {
		if strings.EqualFold(k, "Content-Type") {
			return strings.HasPrefix(strings.ToLower(strings.TrimSpace(v)), "application/x-www-form-urlencoded")
		}
	}
	return false
}

// redactForm masks secret-named fields of a form body; a body that does
// not parse, or has none, is returned as it is.
func redactForm(body string) string {
	q, err := url.ParseQuery(body)
	if err != nil {
		return body
	}
	changed := false
	for k := range q {
		if secretParam(k) {
			q.Set(k, masked)
			changed = true
		}
	}
	if !changed {
		return body
	}
	return q.Encode()
}
