package rapidpro

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/smscbridge/smscbridge/bridge"
)

// dateLayout is RFC 3339 in UTC with milliseconds, as in courier's examples
// (2017-06-23T12:30:00.500Z).
const dateLayout = "2006-01-02T15:04:05.000Z07:00"

var _ bridge.Retryer = (*Adapter)(nil)

var formHeader = map[string]string{"Content-Type": "application/x-www-form-urlencoded"}

// MO builds the form POST to courier's receive URL (B.2): from, text and
// date (RFC 3339). courier has no external-id parameter; the core must not
// resend an MO that got a 200.
func (a *Adapter) MO(mo bridge.MO) ([]bridge.Request, error) {
	if mo.From == "" {
		return nil, fmt.Errorf("rapidpro: channel %q: MO %s has no sender", a.cfg.Channel, mo.ID)
	}
	at := mo.Received
	if at.IsZero() {
		at = a.cfg.Now()
	}
	body := "from=" + url.QueryEscape(mo.From) +
		"&text=" + url.QueryEscape(mo.Text) +
		"&date=" + url.QueryEscape(at.UTC().Format(dateLayout))
	return []bridge.Request{a.post(a.cfg.ReceiveURL, body)}, nil
}

// Status builds the callback for a state change (B.3, E): POST to the sent,
// delivered or failed URL with form field id = the id exactly as courier
// sent it, and uuid = the same value when it is a UUID. That satisfies both
// courier generations: older courier reads only an integer id, current
// courier reads uuid or id and requires a UUID.
func (a *Adapter) Status(st bridge.Status) ([]bridge.Request, error) {
	u, ok := a.status[st.State]
	if !ok {
		return nil, fmt.Errorf("rapidpro: channel %q: MT %s: no callback for state %v", a.cfg.Channel, st.MTID, st.State)
	}
	if st.ExternalID == "" {
		return nil, fmt.Errorf("rapidpro: channel %q: MT %s: no RapidPro id to report %v for", a.cfg.Channel, st.MTID, st.State)
	}
	body := "id=" + url.QueryEscape(st.ExternalID)
	if isUUID(st.ExternalID) {
		body += "&uuid=" + url.QueryEscape(st.ExternalID)
	}
	return []bridge.Request{a.post(u, body)}, nil
}

// courierRefusals are the texts courier answers 400 with when the request
// itself is wrong (platforms.md B.2, B.3): a missing or unparsable sender,
// a bad date, a missing or malformed id/uuid, a channel UUID courier does
// not know. Sending the same request again cannot help.
var courierRefusals = []string{
	"must have one of",      // must have one of 'sender' or 'from' set
	"not a possible number", // from: not a phone number
	"invalid date",          // invalid date format, must be RFC 3339
	"should not be empty",   // parameters id or uuid should not be empty
	"not valid uuid",        // parameters id or uuid are not valid UUIDs
	"channel not found",     // receive_url names no channel
}

// Retryable implements bridge.Retryer. courier answers 400 also when it
// fails inside (database, queue), so a 400 is retried unless its body is
// one of courier's refusals of the request (courierRefusals), which go to
// the dead letters; other statuses follow the common rule.
func (a *Adapter) Retryable(code int, body []byte) bool {
	if code != http.StatusBadRequest {
		return bridge.Retryable(code)
	}
	for _, e := range courierErrors(body) {
		e = strings.ToLower(e)
		for _, r := range courierRefusals {
			if strings.Contains(e, r) {
				return false
			}
		}
	}
	return true
}

// courierErrors returns the error texts of a courier error answer,
// {"message":"Error","data":[{"type":"error","error":"…"}]}, or the whole
// body when it is not one (e.g. cut short).
func courierErrors(body []byte) []string {
	var v struct {
		Data []struct {
			Error string `json:"error"`
		} `json:"data"`
	}
	if json.Unmarshal(body, &v) != nil || len(v.Data) == 0 {
		return []string{string(body)}
	}
	var out []string
	for _, d := range v.Data {
		out = append(out, d.Error)
	}
	return out
}

func (a *Adapter) post(u, body string) bridge.Request {
	h := make(map[string]string, len(formHeader))
	for k, v := range formHeader {
		h[k] = v
	}
	return bridge.Request{Method: http.MethodPost, URL: u, Header: h, Body: []byte(body)}
}

// resolveURLs checks ReceiveURL and fills the status URLs left empty with
// its siblings: …/c/ex/{uuid}/receive → …/c/ex/{uuid}/sent and so on.
func (c *Config) resolveURLs() error {
	recv, err := checkURL("receive_url", c.ReceiveURL)
	if err != nil {
		return err
	}
	for _, s := range []struct {
		name, action string
		val          *string
	}{
		{"sent_url", "sent", &c.SentURL},
		{"delivered_url", "delivered", &c.DeliveredURL},
		{"failed_url", "failed", &c.FailedURL},
	} {
		if *s.val != "" {
			if _, err := checkURL(s.name, *s.val); err != nil {
				return err
			}
			continue
		}
		v, err := sibling(recv, s.action)
		if err != nil {
			return fmt.Errorf("%s not set and %w", s.name, err)
		}
		*s.val = v
	}
	return nil
}

// CheckURL checks a courier URL (receive_url, sent_url, delivered_url,
// failed_url): an absolute http:// or https:// URL whose channel UUID, if
// it has one, is in lower case, the only form courier routes (any other
// gets 404 on every call, platforms.md B). check-config applies the same
// function, so a URL it passes the daemon takes.
func CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("must be an absolute http:// or https:// URL")
	}
	for _, seg := range strings.Split(u.Path, "/") {
		if isUUID(seg) && strings.ToLower(seg) != seg {
			return fmt.Errorf("must have the channel UUID in lower case (%s): courier only matches a lowercase channel UUID", strings.ToLower(seg))
		}
	}
	return nil
}

// checkURL applies CheckURL to the setting name.
func checkURL(name, raw string) (*url.URL, error) {
	if raw == "" {
		return nil, fmt.Errorf("%s is empty", name)
	}
	if err := CheckURL(raw); err != nil {
		if u, perr := url.Parse(raw); perr == nil {
			raw = u.Redacted()
		} else {
			raw = "(unparsable)"
		}
		return nil, fmt.Errorf("%s %q: %w", name, raw, err)
	}
	return url.Parse(raw)
}

var errNoReceive = errors.New(`receive_url does not end in "/receive": set the status URLs explicitly`)

// sibling replaces the last path segment of recv ("receive", a trailing
// slash kept) with action.
func sibling(recv *url.URL, action string) (string, error) {
	p := recv.Path
	slash := strings.HasSuffix(p, "/")
	p = strings.TrimSuffix(p, "/")
	dir, last := p[:strings.LastIndex(p, "/")+1], p[strings.LastIndex(p, "/")+1:]
	if last != "receive" {
		return "", errNoReceive
	}
	s := *recv
	s.Path = dir + action
	if slash {
		s.Path += "/"
	}
	s.RawPath = ""
	return s.String(), nil
}
