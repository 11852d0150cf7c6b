package custom

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"

	"github.com/smscbridge/smscbridge/bridge"
)

// envelope is the webhook body of A.3.1. Field order is the wire order.
type envelope struct {
	ChannelID string   `json:"channelId"`
	ContactID string   `json:"contactId"`
	Events    []event  `json:"events"`
	Contact   *contact `json:"contact,omitempty"`
}

// event is one A.3.2 event; exactly one of Message and Status is set.
type event struct {
	Type      string       `json:"type"`
	MID       string       `json:"mId"`
	Timestamp int64        `json:"timestamp"` // Unix epoch milliseconds
	Message   *textMessage `json:"message,omitempty"`
	Status    *statusValue `json:"status,omitempty"`
}

type textMessage struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// statusValue is the unverified status layout of A.3.4 / F.1, kept in one
// place (statusFor) so its spelling can change without touching the rest.
type statusValue struct {
	Value   string `json:"value"`
	Message string `json:"message,omitempty"`
}

// contact is the subset of A.3.3 an SMS can fill.
type contact struct {
	Phone       string `json:"phone"`
	CountryCode string `json:"countryCode,omitempty"`
}

// MO builds the message event(s) for an inbound SMS (A.3): one request per
// event, contactId = the sender, mId = mo.ID. A text longer than 7,000
// characters is split into several events whose mIds get the suffixes -1,
// -2, … and whose timestamps step by 1 ms so that they sort in order.
func (a *Adapter) MO(mo bridge.MO) ([]bridge.Request, error) {
	if err := checkOutgoingIDs(mo.From, mo.ID); err != nil {
		return nil, fmt.Errorf("custom: MO %s: %w", mo.ID, err)
	}
	parts := splitText(mo.Text, maxText)
	ts := a.millis(mo.Received)
	reqs := make([]bridge.Request, 0, len(parts))
	for i, text := range parts {
		mid := mo.ID
		if len(parts) > 1 {
			mid = mo.ID + "-" + strconv.Itoa(i+1)
			if utf8.RuneCountInString(mid) > maxID {
				return nil, fmt.Errorf("custom: MO %s: mId %q longer than %d characters", mo.ID, mid, maxID)
			}
		}
		req, err := a.request(envelope{
			ChannelID: a.cfg.ChannelID,
			ContactID: mo.From,
			Events: []event{{
				Type:      "message",
				MID:       mid,
				Timestamp: ts + int64(i),
				Message:   &textMessage{Type: "text", Text: text},
			}},
			Contact: contactFor(mo.From),
		})
		if err != nil {
			return nil, fmt.Errorf("custom: MO %s: %w", mo.ID, err)
		}
		reqs = append(reqs, req)
	}
	return reqs, nil
}

// Status builds the message_status event for a state change of an MT
// (A.3.4, E): mId is the id /message returned (st.MTID), contactId the
// recipient (st.To).
func (a *Adapter) Status(st bridge.Status) ([]bridge.Request, error) {
	sv, err := statusFor(st)
	if err != nil {
		return nil, fmt.Errorf("custom: status of %s: %w", st.MTID, err)
	}
	if err := checkOutgoingIDs(st.To, st.MTID); err != nil {
		return nil, fmt.Errorf("custom: status of %s: %w", st.MTID, err)
	}
	req, err := a.request(envelope{
		ChannelID: a.cfg.ChannelID,
		ContactID: st.To,
		Events: []event{{
			Type:      "message_status",
			MID:       st.MTID,
			Timestamp: a.millis(st.At),
			Status:    sv,
		}},
	})
	if err != nil {
		return nil, fmt.Errorf("custom: status of %s: %w", st.MTID, err)
	}
	return []bridge.Request{req}, nil
}

// statusFor maps a bridge state to the status object (E): sent, delivered,
// failed with a reason of at most 256 characters.
func statusFor(st bridge.Status) (*statusValue, error) {
	switch st.State {
	case bridge.StateSent, bridge.StateDelivered:
		return &statusValue{Value: st.State.String()}, nil
	case bridge.StateFailed:
		return &statusValue{Value: "failed", Message: failReason(st)}, nil
	}
	return nil, fmt.Errorf("unknown state %d", int(st.State))
}

// failReason is the human-readable reason of a failed MT: the description,
// with the error code when the description does not already show it.
func failReason(st bridge.Status) string {
	msg := strings.TrimSpace(st.Description)
	if code := strings.TrimSpace(st.ErrorCode); code != "" && !strings.Contains(msg, code) {
		if msg == "" {
			msg = "SMSC error " + code
		} else {
			msg += " (error " + code + ")"
		}
	}
	if msg == "" {
		msg = "not delivered"
	}
	return truncate(msg, maxStatusMsg)
}

// checkOutgoingIDs checks the contactId and mId of an outgoing event
// against A.3.1/A.3.2.
func checkOutgoingIDs(contactID, mid string) error {
	switch {
	case contactID == "":
		return errors.New("no contact id")
	case utf8.RuneCountInString(contactID) > maxID:
		return fmt.Errorf("contact id %q longer than %d characters", contactID, maxID)
	case mid == "":
		return errors.New("no message id")
	case utf8.RuneCountInString(mid) > maxID:
		return fmt.Errorf("message id %q longer than %d characters", mid, maxID)
	}
	return nil
}

// contactFor fills the contact object for an E.164 sender: phone, and the
// country when the number's prefix is known (A.3.3). Other senders
// (alphanumeric, short codes) get none.
func contactFor(from string) *contact {
	if !isE164(from) || len(from) > 18 {
		return nil
	}
	c := &contact{Phone: from}
	if num, err := phonenumbers.Parse(from, ""); err == nil {
		if region := phonenumbers.GetRegionCodeForNumber(num); len(region) == 2 && region != "ZZ" {
			c.CountryCode = region
		}
	}
	return c
}

// request wraps one envelope in a POST to the webhook with the Bearer token.
func (a *Adapter) request(env envelope) (bridge.Request, error) {
	body, err := marshal(env)
	if err != nil {
		return bridge.Request{}, err
	}
	return bridge.Request{
		Method: http.MethodPost,
		URL:    a.cfg.WebhookURL,
		Header: map[string]string{
			"Authorization": "Bearer " + a.cfg.APIToken,
			"Content-Type":  "application/json",
		},
		Body: body,
	}, nil
}

// millis is t in Unix epoch milliseconds, or now when t is zero.
func (a *Adapter) millis(t time.Time) int64 {
	if t.IsZero() {
		t = a.cfg.Now()
	}
	return t.UnixMilli()
}

// splitText cuts s into pieces of at most max characters, at character
// boundaries. An empty s is one empty piece.
func splitText(s string, max int) []string {
	if utf8.RuneCountInString(s) <= max {
		return []string{s}
	}
	var parts []string
	for s != "" {
		cut, n := 0, 0
		for cut < len(s) && n < max {
			_, size := utf8.DecodeRuneInString(s[cut:])
			cut += size
			n++
		}
		parts = append(parts, s[:cut])
		s = s[cut:]
	}
	return parts
}

// truncate cuts s to at most max characters, ending with "…" when cut.
func truncate(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max-1]) + "…"
}
