package rapidpro

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// send is one validated courier send call (one chunk of a message).
type send struct {
	id   string // uuid if present, else id, exactly as received
	to   string
	from string // empty: the channel's default sender
	text string // the chunk's text, quick replies appended
}

// Keys read from a send call (B.1.1). "channel" and "session_status" are
// opaque to the bridge and ignored, like any key not listed here.
const (
	keyUUID       = "uuid"
	keyID         = "id"
	keyText       = "text"
	keyTo         = "to"
	keyToNoPlus   = "to_no_plus"
	keyFrom       = "from"
	keyFromNoPlus = "from_no_plus"
	keyQuickReply = "quick_reply"   // form and query: one per reply, repeated
	keyReplies    = "quick_replies" // JSON: array of strings
)

var scalarKeys = []string{keyUUID, keyID, keyText, keyTo, keyToNoPlus, keyFrom, keyFromNoPlus}

// fields are the values of one send call before validation; a key absent
// from the map was absent from the request (JSON null counts as absent).
type fields struct {
	vals    map[string]string
	replies []string
}

// parseSend reads a send call (B.1.3). The body is JSON or
// form-urlencoded, chosen by contentType (sniffed when there is none); every
// key the body lacks is taken from the query string, so GET calls and send
// URLs carrying {{variables}} work too. The error is a *requestError naming
// the field at fault.
func parseSend(contentType, rawQuery string, body []byte) (send, error) {
	f, err := parseBody(contentType, body)
	if err != nil {
		return send{}, err
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return send{}, badRequest("query", "query string: %v", err)
	}
	qf, err := formFields(q, "query string")
	if err != nil {
		return send{}, err
	}
	for k, v := range qf.vals {
		if _, ok := f.vals[k]; !ok {
			f.vals[k] = v
		}
	}
	if f.replies == nil {
		f.replies = qf.replies
	}
	return f.validate()
}

// parseBody dispatches on the media type. An empty body is no body at all:
// courier sends its Content-Type even on GET.
func parseBody(contentType string, body []byte) (fields, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return fields{vals: map[string]string{}}, nil
	}
	mt := ""
	if contentType != "" {
		var err error
		mt, _, err = mime.ParseMediaType(contentType)
		if err != nil {
			return fields{}, &requestError{code: http.StatusUnsupportedMediaType, field: "Content-Type",
				msg: fmt.Sprintf("Content-Type %q: %v", contentType, err)}
		}
	} else if bytes.TrimSpace(body)[0] == '{' {
		mt = "application/json"
	} else {
		mt = "application/x-www-form-urlencoded"
	}
	switch {
	case mt == "application/json" || mt == "text/json" || strings.HasSuffix(mt, "+json"):
		return jsonFields(body)
	case mt == "application/x-www-form-urlencoded":
		if bytes.TrimSpace(body)[0] == '{' {
			return fields{}, badRequest("body", "body: looks like JSON but Content-Type is %s: choose content type json in RapidPro", mt)
		}
		v, err := url.ParseQuery(string(body))
		if err != nil {
			return fields{}, badRequest("body", "form body: %v", err)
		}
		return formFields(v, "form body")
	}
	return fields{}, &requestError{code: http.StatusUnsupportedMediaType, field: "Content-Type",
		msg: fmt.Sprintf("Content-Type %q not supported: use content type json or urlencoded in RapidPro", mt)}
}

// formFields takes the first value of each known key and every non-empty
// quick_reply. where names the part of the request for error messages.
func formFields(v url.Values, where string) (fields, error) {
	f := fields{vals: map[string]string{}}
	for _, k := range scalarKeys {
		vs, ok := v[k]
		if !ok || len(vs) == 0 {
			continue
		}
		if !utf8.ValidString(vs[0]) {
			return fields{}, badRequest(k, "field %q (%s): not valid UTF-8", k, where)
		}
		f.vals[k] = vs[0]
	}
	for _, r := range v[keyQuickReply] {
		if !utf8.ValidString(r) {
			return fields{}, badRequest(keyQuickReply, "field %q (%s): not valid UTF-8", keyQuickReply, where)
		}
		if r != "" {
			f.replies = append(f.replies, r)
		}
	}
	return f, nil
}

// jsonFields reads a JSON object. courier writes every variable as a JSON
// string; an integer id (older courier, hand-made templates, seed 002) and
// a numeric channel are accepted too.
func jsonFields(body []byte) (fields, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		if _, ok := err.(*json.UnmarshalTypeError); ok {
			return fields{}, badRequest("body", "body: must be a JSON object")
		}
		return fields{}, badRequest("body", "body: invalid JSON: %v", err)
	}
	if m == nil {
		return fields{}, badRequest("body", "body: must be a JSON object")
	}
	f := fields{vals: map[string]string{}}
	for _, k := range scalarKeys {
		raw, ok := m[k]
		if !ok || isNull(raw) {
			continue
		}
		var s string
		if err := json.Unmarshal(raw, &s); err == nil {
			f.vals[k] = s
		} else if k == keyID && isDigits(string(raw)) {
			f.vals[k] = string(raw) // the integer exactly as written
		} else if k == keyID {
			return fields{}, badRequest(k, "field %q: must be a string or an integer", k)
		} else {
			return fields{}, badRequest(k, "field %q: must be a string", k)
		}
	}
	if raw, ok := m[keyReplies]; ok && !isNull(raw) {
		var rs []string
		if err := json.Unmarshal(raw, &rs); err != nil {
			return fields{}, badRequest(keyReplies, "field %q: must be an array of strings", keyReplies)
		}
		for _, r := range rs {
			if r != "" {
				f.replies = append(f.replies, r)
			}
		}
	}
	return f, nil
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// validate applies B.1.3: text, to and one of id/uuid are required.
func (f fields) validate() (send, error) {
	id, err := f.messageID()
	if err != nil {
		return send{}, err
	}
	to, err := f.address(keyTo, keyToNoPlus, true)
	if err != nil {
		return send{}, err
	}
	from, err := f.address(keyFrom, keyFromNoPlus, false)
	if err != nil {
		return send{}, err
	}
	text, ok := f.vals[keyText]
	if !ok {
		return send{}, badRequest(keyText, "missing field %q", keyText)
	}
	text = appendReplies(text, f.replies)
	if text == "" {
		return send{}, badRequest(keyText, "field %q: empty", keyText)
	}
	return send{id: id, to: to, from: from, text: text}, nil
}

// messageID returns uuid if present, else id. courier's status endpoints
// take an integer id (older courier) or a UUID (current), so anything else
// is refused now rather than dead-lettered later (B.3). Empty values count
// as absent.
func (f fields) messageID() (string, error) {
	uuid, id := f.vals[keyUUID], f.vals[keyID]
	if uuid != "" && !isUUID(uuid) {
		return "", badRequest(keyUUID, "field %q: not a UUID: %q", keyUUID, clip(uuid))
	}
	if id != "" && !isUUID(id) && !isDigits(id) {
		return "", badRequest(keyID, "field %q: not an integer or a UUID: %q", keyID, clip(id))
	}
	switch {
	case uuid == "" && id == "":
		return "", badRequest(keyUUID, "missing field %q or %q", keyUUID, keyID)
	case uuid == "":
		return id, nil
	case id != "" && !strings.EqualFold(id, uuid):
		return "", badRequest(keyID, "fields %q and %q differ: %q, %q", keyID, keyUUID, clip(id), clip(uuid))
	}
	return uuid, nil
}

// address returns the value of key, else of noPlus, as given: numbers are
// normalised by the core. required marks the recipient, which must be
// present and may hold no white space at all.
func (f fields) address(key, noPlus string, required bool) (string, error) {
	name, v := key, f.vals[key]
	if v == "" {
		name, v = noPlus, f.vals[noPlus]
	}
	if v == "" {
		if required {
			return "", badRequest(key, "missing field %q", key)
		}
		return "", nil
	}
	if strings.IndexFunc(v, unicode.IsControl) >= 0 {
		return "", badRequest(name, "field %q: contains control characters: %q", name, clip(v))
	}
	// A "+" substituted unescaped into a form body decodes as a space.
	// Inner spaces are allowed only in a sender (alphanumeric sender ids).
	if strings.TrimSpace(v) != v || (required && strings.IndexFunc(v, unicode.IsSpace) >= 0) {
		return "", badRequest(name, "field %q: contains white space: %q (an unescaped \"+\"?)", name, clip(v))
	}
	return v, nil
}

// appendReplies renders quick replies as SMS text: one per line after the
// text, unnumbered, so that what the person types back is the reply itself.
func appendReplies(text string, replies []string) string {
	if len(replies) == 0 {
		return text
	}
	all := strings.Join(replies, "\n")
	if text == "" {
		return all
	}
	return text + "\n" + all
}

func isDigits(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isUUID reports whether s is a UUID in its 8-4-4-4-12 hex form (any case).
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// clip shortens a value quoted in an error message.
func clip(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	for i := max; i > 0; i-- {
		if utf8.RuneStart(s[i]) {
			return s[:i] + "…"
		}
	}
	return ""
}

func badRequest(field, format string, args ...any) error {
	return &requestError{code: http.StatusBadRequest, field: field, msg: fmt.Sprintf(format, args...)}
}
