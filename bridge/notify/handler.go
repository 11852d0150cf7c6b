package notify

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/smscbridge/smscbridge/bridge"
	"github.com/smscbridge/smscbridge/conf"
)

// IDHeader carries the bridge id of an accepted notification in the
// SUCCESS answer (the body is Cliengo's, unchanged): the id the bridge logs
// the notification's statuses with.
const IDHeader = "X-Smscbridge-Id"

// destinationPattern is what destination must match: digits only, country
// code included, no "+" (platforms.md D.1); at most 15 digits (E.164).
var destinationPattern = regexp.MustCompile(`^[0-9]{6,15}$`)

// request is a body that passed the schema checks.
type request struct {
	templateID  string
	destination string
	params      map[string]json.RawMessage
	link        string // media.link; "" when no media was sent
}

// ServeHTTP handles POST /website/{websiteId}/hsm/notifications (platforms.md
// D): body schema, apikey, template, params, media link (D.2), then the SMS
// is committed and only then SUCCESS is answered. The core has found the
// channel by websiteId and limited the body size.
func (a *Adapter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		bridge.WriteNotify(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "Method not allowed", map[string]string{"method": r.Method})
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			bridge.WriteNotify(w, http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE", "Request body too large",
				map[string]int64{"maxBody": tooBig.Limit})
			return
		}
		a.log.Info("notify: reading the body", "err", err)
		invalidBody(w, []joiItem{{Message: `"value" could not be read`, Path: []string{}, Type: "any.invalid", Context: joiContext{Label: "value"}}})
		return
	}
	req, items := parseRequest(body)
	if len(items) > 0 {
		invalidBody(w, items)
		return
	}
	if !a.authorized(r.Header.Get("apikey")) {
		a.log.Info("notify: rejected a notification with a missing or wrong apikey")
		bridge.WriteNotify(w, http.StatusUnauthorized, "UNAUTHORIZED", "Invalid ApiKey", map[string]string{"websiteId": a.cfg.WebsiteID})
		return
	}
	t, ok := a.templates[req.templateID]
	if !ok {
		bridge.WriteNotify(w, http.StatusNotFound, "NOT_FOUND",
			fmt.Sprintf("Cant find requested template %s for website %s", req.templateID, a.cfg.WebsiteID),
			struct {
				TemplateID string `json:"templateId"`
				WebsiteID  string `json:"websiteId"`
			}{req.templateID, a.cfg.WebsiteID})
		return
	}
	text, items := render(t, req.params)
	if len(items) > 0 {
		invalidBody(w, items)
		return
	}
	if rule, media := mediaRules[t.Type]; media {
		link := req.link
		if link == "" {
			link = t.URL // the media stored with the template (D.1)
		} else if !a.checkMedia(w, r, rule, link) {
			return
		}
		if link == "" {
			invalidBody(w, []joiItem{required("media")})
			return
		}
		text += "\n" + link
	}
	mt := bridge.MT{Channel: a.cfg.Channel, To: "+" + req.destination, From: a.cfg.From, Text: text}
	if a.cfg.DedupWindow > 0 {
		sum := sha256.Sum256(body)
		mt.DedupKey, mt.DedupWindow = hex.EncodeToString(sum[:]), a.cfg.DedupWindow
	}
	id, err := a.acc.Accept(r.Context(), mt)
	if err != nil {
		a.acceptError(w, err, req)
		return
	}
	a.log.Info("notification queued", "msg_id", id, "template", t.ID, "to", mt.To)
	w.Header().Set(IDHeader, id)
	bridge.WriteNotify(w, http.StatusOK, "SUCCESS", "Resource successfully created",
		"HSM notification sent to "+req.destination+".")
}

// authorized compares the apikey header with the channel's key in
// constant time (hashes first, so its length does not leak either).
func (a *Adapter) authorized(key string) bool {
	if key == "" {
		return false
	}
	sum := sha256.Sum256([]byte(key))
	return subtle.ConstantTimeCompare(sum[:], a.keySum[:]) == 1
}

// checkMedia runs D.2's checks on a request's media link in D.2's order
// and answers the first failure; it reports whether the link passed.
func (a *Adapter) checkMedia(w http.ResponseWriter, r *http.Request, rule mediaRule, link string) bool {
	h, err := a.head(r.Context(), link)
	if err != nil {
		a.log.Info("notify: media link refused: HEAD failed", "link", redactLink(link), "err", err)
		bridge.WriteNotify(w, http.StatusBadRequest, "HEAD_METHOD_NOT_ALLOWED", "The link does not support method HEAD.",
			map[string]string{"link": link})
		return false
	}
	if h.contentLength == nil {
		bridge.WriteNotify(w, http.StatusBadRequest, "INVALID_CONTENT_LENGTH", "Cant get content-lenght header",
			sizeResult{link, nil, h.contentType, rule.wire, rule.max})
		return false
	}
	if h.contentType == nil || !slices.Contains(rule.allowed, mimeType(*h.contentType)) {
		bridge.WriteNotify(w, http.StatusBadRequest, "INVALID_CONTENT_TYPE", "content-type does not match valid values.",
			typeResult{link, h.contentLength, h.contentType, rule.wire, rule.allowed})
		return false
	}
	if *h.contentLength >= rule.max {
		bridge.WriteNotify(w, http.StatusConflict, "FILE_SIZE_EXCEEDED", "File size exeeded for template type",
			sizeResult{link, h.contentLength, h.contentType, rule.wire, rule.max})
		return false
	}
	return true
}

// sizeResult is the result of INVALID_CONTENT_LENGTH and FILE_SIZE_EXCEEDED.
type sizeResult struct {
	Link          string  `json:"link"`
	ContentLength *int64  `json:"contentLength"`
	ContentType   *string `json:"contentType"`
	TemplateType  string  `json:"templateType"`
	MaxFileSize   int64   `json:"maxFileSize"`
}

// typeResult is the result of INVALID_CONTENT_TYPE.
type typeResult struct {
	Link             string   `json:"link"`
	ContentLength    *int64   `json:"contentLength"`
	ContentType      *string  `json:"contentType"`
	TemplateType     string   `json:"templateType"`
	AllowedMimeTypes []string `json:"allowedMimeTypes"`
}

// acceptError maps an Accepter error to the answer: the core's refusals
// name the body field at fault (INVALID_BODY); anything else means the SMS
// was not committed and the client should retry (503).
func (a *Adapter) acceptError(w http.ResponseWriter, err error, req request) {
	switch {
	case errors.Is(err, bridge.ErrNoRoute):
		invalidBody(w, []joiItem{{Message: `"destination" has no route`, Path: []string{"destination"}, Type: "any.invalid",
			Context: joiContext{Value: req.destination, Label: "destination", Key: "destination"}}})
	case errors.Is(err, bridge.ErrInvalid):
		field, msg := bridge.Invalid(err)
		key := "destination"
		if field != "to" {
			key = "templateId" // the rendered text: too long for the SMSC
		}
		invalidBody(w, []joiItem{{Message: fmt.Sprintf("%q %s", key, msg), Path: []string{key}, Type: "any.invalid",
			Context: joiContext{Label: key, Key: key}}})
	default:
		a.log.Warn("notify: could not commit the SMS", "err", err)
		bridge.WriteNotify(w, http.StatusServiceUnavailable, "SERVICE_UNAVAILABLE", "Temporarily unavailable, retry later", nil)
	}
}

// joiItem is one INVALID_BODY validation item, in the Joi shape of
// platforms.md D.3.
type joiItem struct {
	Message string     `json:"message"`
	Path    []string   `json:"path"`
	Type    string     `json:"type"`
	Context joiContext `json:"context"`
}

type joiContext struct {
	Regex string `json:"regex,omitempty"`
	Value any    `json:"value,omitempty"`
	Label string `json:"label"`
	Key   string `json:"key,omitempty"`
}

func invalidBody(w http.ResponseWriter, items []joiItem) {
	bridge.WriteNotify(w, http.StatusBadRequest, "INVALID_BODY", "Invalid body, query or params", items)
}

// label is Joi's label of a path: its elements joined by ".".
func label(path []string) string { return strings.Join(path, ".") }

func required(path ...string) joiItem {
	l := label(path)
	return joiItem{Message: strconv.Quote(l) + " is required", Path: path, Type: "any.required",
		Context: joiContext{Label: l, Key: path[len(path)-1]}}
}

func mustBe(what, typ string, raw json.RawMessage, path ...string) joiItem {
	l := label(path)
	return joiItem{Message: strconv.Quote(l) + " must be " + what, Path: path, Type: typ,
		Context: joiContext{Value: rawValue(raw), Label: l, Key: path[len(path)-1]}}
}

func empty(path ...string) joiItem {
	l := label(path)
	return joiItem{Message: strconv.Quote(l) + " is not allowed to be empty", Path: path, Type: "string.empty",
		Context: joiContext{Value: "", Label: l, Key: path[len(path)-1]}}
}

// rawValue is a JSON value to echo in a validation context.
func rawValue(raw json.RawMessage) any {
	var v any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if d.Decode(&v) != nil {
		return nil
	}
	return v
}

// parseRequest checks the body's schema (D.1) and reports every problem,
// in the schema's field order.
func parseRequest(body []byte) (request, []joiItem) {
	var req request
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil || fields == nil {
		return req, []joiItem{{Message: `"value" must be of type object`, Path: []string{}, Type: "object.base",
			Context: joiContext{Label: "value"}}}
	}
	var items []joiItem
	switch raw, ok := fields["templateId"]; {
	case !ok || isNull(raw):
		items = append(items, required("templateId"))
	default:
		var s string
		var n json.Number
		switch {
		case json.Unmarshal(raw, &s) == nil:
			if strings.TrimSpace(s) == "" {
				items = append(items, empty("templateId"))
			}
			req.templateID = strings.TrimSpace(s)
		case raw[0] != '"' && json.Unmarshal(raw, &n) == nil:
			req.templateID = n.String()
		default:
			items = append(items, mustBe("one of [string, number]", "alternatives.types", raw, "templateId"))
		}
	}
	switch raw, ok := fields["destination"]; {
	case !ok || isNull(raw):
		items = append(items, required("destination"))
	default:
		var s string
		switch {
		case json.Unmarshal(raw, &s) != nil:
			items = append(items, mustBe("a string", "string.base", raw, "destination"))
		case s == "":
			items = append(items, empty("destination"))
		case !destinationPattern.MatchString(s):
			re := "/" + destinationPattern.String() + "/"
			items = append(items, joiItem{
				Message: fmt.Sprintf(`"destination" with value %q fails to match the required pattern: %s`, s, re),
				Path:    []string{"destination"}, Type: "string.pattern.base",
				Context: joiContext{Regex: re, Value: s, Label: "destination", Key: "destination"}})
		default:
			req.destination = s
		}
	}
	switch raw, ok := fields["params"]; {
	case !ok || isNull(raw):
		items = append(items, required("params"))
	case json.Unmarshal(raw, &req.params) != nil || req.params == nil:
		items = append(items, mustBe("of type object", "object.base", raw, "params"))
	}
	if raw, ok := fields["media"]; ok && !isNull(raw) {
		items = append(items, parseMedia(raw, &req)...)
	}
	return req, items
}

func parseMedia(raw json.RawMessage, req *request) []joiItem {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil || m == nil {
		return []joiItem{mustBe("of type object", "object.base", raw, "media")}
	}
	var items []joiItem
	switch l, ok := m["link"]; {
	case !ok || isNull(l):
		items = append(items, required("media", "link"))
	default:
		var s string
		switch {
		case json.Unmarshal(l, &s) != nil:
			items = append(items, mustBe("a string", "string.base", l, "media", "link"))
		case s == "":
			items = append(items, empty("media", "link"))
		case !validLink(s):
			items = append(items, mustBe("a valid uri", "string.uri", l, "media", "link"))
		default:
			req.link = s
		}
	}
	if f, ok := m["filename"]; ok && !isNull(f) {
		var s string
		if json.Unmarshal(f, &s) != nil {
			items = append(items, mustBe("a string", "string.base", f, "media", "filename"))
		}
	}
	return items
}

// validLink reports whether s is an absolute http or https URL with a host.
func validLink(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.User == nil
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// render fills the template's placeholders from params (strings, numbers
// and booleans; extra params are ignored). Every placeholder missing from
// params is an item "params.<name>" is required (platforms.md D.4).
func render(t conf.Template, params map[string]json.RawMessage) (string, []joiItem) {
	names, _ := t.Placeholders()
	values := map[string]string{}
	var items []joiItem
	for _, name := range names {
		raw, ok := params[name]
		if !ok || isNull(raw) {
			items = append(items, required("params", name))
			continue
		}
		var s string
		var n json.Number
		var b bool
		switch {
		case json.Unmarshal(raw, &s) == nil:
			values[name] = s
		case json.Unmarshal(raw, &n) == nil:
			values[name] = n.String()
		case json.Unmarshal(raw, &b) == nil:
			values[name] = strconv.FormatBool(b)
		default:
			items = append(items, mustBe("a string", "string.base", raw, "params", name))
		}
	}
	if len(items) > 0 {
		return "", items
	}
	text, _ := t.Render(values)
	return text, nil
}

// redactLink drops a link's query and user info for the logs (they may
// carry tokens).
func redactLink(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable)"
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return u.String()
}
