package custom

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits of platforms.md A.3.2, A.4.2 (in characters, i.e. Unicode code
// points).
const (
	maxID        = 50   // contactId, mId
	maxText      = 7000 // message.text
	maxURL       = 2000 // attachment.url
	maxShort     = 256  // fileName, description, address, title, each reply
	maxReplies   = 10   // quick_reply replies
	maxStatusMsg = 256  // status.message (A.3.4, proposed)
)

// fieldError is a validation failure of one field of a /message body. Its
// text names the field with its JSON path ("message.text: ...") and is sent
// to the platform as is.
type fieldError struct {
	field string
	msg   string
}

func (e *fieldError) Error() string { return e.field + ": " + e.msg }

func fieldErr(field, format string, args ...any) *fieldError {
	return &fieldError{field: field, msg: fmt.Sprintf(format, args...)}
}

// sendBody is the /message request of A.4.1.
type sendBody struct {
	ChannelID string       `json:"channelId"`
	ContactID string       `json:"contactId"`
	Message   *wireMessage `json:"message"`
}

// wireMessage holds the fields of every message type of A.4.2; which ones
// matter depends on Type.
type wireMessage struct {
	Type       string          `json:"type"`
	Text       string          `json:"text"`
	Attachment *wireAttachment `json:"attachment"`
	Latitude   *float64        `json:"latitude"`
	Longitude  *float64        `json:"longitude"`
	Address    string          `json:"address"`
	Title      string          `json:"title"`
	Replies    []string        `json:"replies"`
}

type wireAttachment struct {
	Type        string `json:"type"`
	URL         string `json:"url"`
	MimeType    string `json:"mimeType"`
	FileName    string `json:"fileName"`
	Description string `json:"description"`
}

// send is a validated /message request, rendered as SMS.
type send struct {
	contactID string // recipient as the platform gave it
	text      string // SMS text (A.4.4)
}

// parseSend decodes and validates a /message body for a channel with the
// given Channel ID and ID type, and renders its message as SMS text. Every
// error it returns is a *fieldError.
func parseSend(body []byte, channelID, idType string) (send, error) {
	var b sendBody
	if err := decodeJSON(body, &b); err != nil {
		return send{}, err
	}
	if err := checkEnvelope(&b, channelID, idType); err != nil {
		return send{}, err
	}
	text, err := render(b.Message)
	if err != nil {
		return send{}, err
	}
	return send{contactID: b.ContactID, text: text}, nil
}

// decodeJSON decodes exactly one JSON object. Unknown fields are ignored:
// the platform may add some.
func decodeJSON(body []byte, v any) error {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		return fieldErr("body", "required (a JSON object)")
	}
	if trimmed[0] != '{' {
		return fieldErr("body", "must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fieldErr("body", "unexpected data after the JSON object")
	}
	return nil
}

// jsonError turns an encoding/json error into a fieldError naming the field
// or the byte offset.
func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fieldErr("body", "invalid JSON at byte %d: %s", syn.Offset, strings.TrimPrefix(syn.Error(), "json: "))
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		if strings.HasPrefix(typ.Value, "number ") && typ.Type.Kind() == reflect.Float64 {
			return fieldErr(field, "number out of range")
		}
		if field == "message.replies" && typ.Type.Kind() == reflect.String {
			return fieldErr(field, "items must be strings, got %s", jsonKind(typ.Value))
		}
		return fieldErr(field, "must be %s, got %s", kindName(typ.Type), jsonKind(typ.Value))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fieldErr("body", "invalid JSON: unexpected end of input")
	}
	return fieldErr("body", "invalid JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
}

// jsonKind names the JSON value kind encoding/json reports ("number",
// "bool", "number 1e400", …) with an article.
func jsonKind(v string) string {
	switch kind, _, _ := strings.Cut(v, " "); kind {
	case "bool":
		return "a boolean"
	case "array", "object":
		return "an " + kind
	case "":
		return "something else"
	default:
		return "a " + kind
	}
}

// kindName names the JSON kind a Go field expects, with an article.
func kindName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Float64:
		return "a number"
	case reflect.Slice:
		return "an array"
	case reflect.Struct:
		return "an object"
	}
	return t.Kind().String()
}

// checkEnvelope checks channelId, contactId and the presence of message.
func checkEnvelope(b *sendBody, channelID, idType string) error {
	switch {
	case b.ChannelID == "":
		return fieldErr("channelId", "required")
	case b.ChannelID != channelID:
		return fieldErr("channelId", "does not match this channel's Channel ID")
	}
	if err := checkContactID(b.ContactID, idType); err != nil {
		return err
	}
	if b.Message == nil {
		return fieldErr("message", "required")
	}
	return nil
}

// checkContactID applies the ID type rules of A.1.
func checkContactID(id, idType string) error {
	switch {
	case id == "":
		return fieldErr("contactId", "required")
	case utf8.RuneCountInString(id) > maxID:
		return fieldErr("contactId", "longer than %d characters", maxID)
	case idType == IDTypePhone && !isE164(id):
		return fieldErr("contactId", "must be an E.164 phone number with \"+\" (e.g. +60177872890), got %q", id)
	case idType == IDTypeCustom && !isCustomID(id):
		return fieldErr("contactId", "may only contain A-Z, a-z, 0-9, _, =, +, / and @")
	}
	return nil
}

// isE164 reports whether s is "+" followed by 2 to 15 digits, the first not 0.
func isE164(s string) bool {
	digits, ok := strings.CutPrefix(s, "+")
	if !ok || len(digits) < 2 || len(digits) > 15 || digits[0] == '0' {
		return false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return false
		}
	}
	return true
}

// isCustomID reports whether s uses only the Custom ID characters of A.1.
func isCustomID(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
			strings.IndexByte("_=+/@", c) >= 0
		if !ok {
			return false
		}
	}
	return true
}

// render validates m against its type's limits (A.4.2) and renders it as
// SMS text (A.4.4).
func render(m *wireMessage) (string, error) {
	switch m.Type {
	case "text":
		return renderText(m)
	case "attachment":
		return renderAttachment(m.Attachment)
	case "location":
		return renderLocation(m)
	case "quick_reply":
		return renderQuickReply(m)
	case "":
		return "", fieldErr("message.type", "required")
	}
	return "", fieldErr("message.type", "unsupported %q (want text, attachment, location or quick_reply)", m.Type)
}

func renderText(m *wireMessage) (string, error) {
	if strings.TrimSpace(m.Text) == "" {
		return "", fieldErr("message.text", "required")
	}
	if err := maxLen("message.text", m.Text, maxText); err != nil {
		return "", err
	}
	return m.Text, nil
}

func renderAttachment(a *wireAttachment) (string, error) {
	if a == nil {
		return "", fieldErr("message.attachment", "required")
	}
	switch a.Type {
	case "image", "video", "audio", "file":
	case "":
		return "", fieldErr("message.attachment.type", "required")
	default:
		return "", fieldErr("message.attachment.type", "unsupported %q (want image, video, audio or file)", a.Type)
	}
	if err := checkMediaURL(a.URL); err != nil {
		return "", err
	}
	if err := maxLen("message.attachment.fileName", a.FileName, maxShort); err != nil {
		return "", err
	}
	if err := maxLen("message.attachment.description", a.Description, maxShort); err != nil {
		return "", err
	}
	return joinLines(a.Description, a.URL), nil
}

func checkMediaURL(s string) error {
	const field = "message.attachment.url"
	if s == "" {
		return fieldErr(field, "required")
	}
	if err := maxLen(field, s, maxURL); err != nil {
		return err
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fieldErr(field, "must be an absolute http or https URL")
	}
	return nil
}

func renderLocation(m *wireMessage) (string, error) {
	switch {
	case m.Latitude == nil:
		return "", fieldErr("message.latitude", "required")
	case *m.Latitude < -90 || *m.Latitude > 90:
		return "", fieldErr("message.latitude", "must be between -90 and 90")
	case m.Longitude == nil:
		return "", fieldErr("message.longitude", "required")
	case *m.Longitude < -180 || *m.Longitude > 180:
		return "", fieldErr("message.longitude", "must be between -180 and 180")
	}
	if err := maxLen("message.address", m.Address, maxShort); err != nil {
		return "", err
	}
	link := "https://maps.google.com/?q=" + formatCoord(*m.Latitude) + "," + formatCoord(*m.Longitude)
	return joinLines(m.Address, link), nil
}

// formatCoord writes a coordinate in its shortest exact decimal form.
func formatCoord(f float64) string {
	if f == 0 {
		f = 0 // no "-0"
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

func renderQuickReply(m *wireMessage) (string, error) {
	if strings.TrimSpace(m.Title) == "" {
		return "", fieldErr("message.title", "required")
	}
	if err := maxLen("message.title", m.Title, maxShort); err != nil {
		return "", err
	}
	switch {
	case len(m.Replies) == 0:
		return "", fieldErr("message.replies", "required (1 to %d replies)", maxReplies)
	case len(m.Replies) > maxReplies:
		return "", fieldErr("message.replies", "more than %d replies", maxReplies)
	}
	var sb strings.Builder
	sb.WriteString(m.Title)
	for i, r := range m.Replies {
		field := fmt.Sprintf("message.replies[%d]", i)
		if strings.TrimSpace(r) == "" {
			return "", fieldErr(field, "required (empty reply)")
		}
		if err := maxLen(field, r, maxShort); err != nil {
			return "", err
		}
		fmt.Fprintf(&sb, "\n%d) %s", i+1, r)
	}
	return sb.String(), nil
}

func maxLen(field, s string, max int) error {
	if utf8.RuneCountInString(s) > max {
		return fieldErr(field, "longer than %d characters", max)
	}
	return nil
}

// joinLines returns first + "\n" + second, or only second when first is
// empty (A.4.4 "if any").
func joinLines(first, second string) string {
	if strings.TrimSpace(first) == "" {
		return second
	}
	return first + "\n" + second
}
