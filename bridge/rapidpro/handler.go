package rapidpro

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/smscbridge/smscbridge/bridge"
)

// DedupWindow is how long a send with the same id and text is answered
// with the first id instead of queueing a second SMS (platforms.md §0.1).
const DedupWindow = 24 * time.Hour

// Config is one RapidPro External channel as the bridge sees it.
type Config struct {
	// Channel is our channel id (the {channel} of /rapidpro/{channel}/send).
	Channel string
	// ReceiveURL is courier's MO endpoint, …/c/ex/{channel-uuid}/receive.
	ReceiveURL string
	// SentURL, DeliveredURL and FailedURL are courier's status endpoints.
	// Empty ones are derived from ReceiveURL by replacing its last path
	// segment "receive" with "sent", "delivered" and "failed" (B.3).
	SentURL, DeliveredURL, FailedURL string
	// SendAuthorization, when set, is the exact Authorization header value
	// courier sends (its send_authorization setting). Requests without it
	// get 401. Compared in constant time.
	SendAuthorization string
	// Now is the clock used for MO dates when an MO carries none; nil means
	// time.Now.
	Now func() time.Time
}

// String formats c with SendAuthorization masked, so printing a Config
// never shows the secret.
func (c Config) String() string {
	return fmt.Sprintf("{Channel:%s ReceiveURL:%s SentURL:%s DeliveredURL:%s FailedURL:%s SendAuthorization:%s}",
		c.Channel, c.ReceiveURL, c.SentURL, c.DeliveredURL, c.FailedURL, mask(c.SendAuthorization))
}

// LogValue logs c with SendAuthorization masked.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(slog.String("channel", c.Channel), slog.String("receive_url", c.ReceiveURL),
		slog.String("sent_url", c.SentURL), slog.String("delivered_url", c.DeliveredURL),
		slog.String("failed_url", c.FailedURL), slog.String("send_authorization", mask(c.SendAuthorization)))
}

func mask(secret string) string {
	if secret == "" {
		return ""
	}
	return "xxxxx"
}

// Adapter is the RapidPro External (courier EX) dialect for one channel. It
// implements bridge.Adapter.
type Adapter struct {
	cfg    Config
	acc    bridge.Accepter
	log    *slog.Logger
	auth   [sha256.Size]byte // sha256 of cfg.SendAuthorization, when set
	status map[bridge.State]string
}

var _ bridge.Adapter = (*Adapter)(nil)

// New checks cfg, derives the status URLs that are not set and returns the
// adapter. It does no I/O. A nil logger discards logs.
func New(cfg Config, acc bridge.Accepter, logger *slog.Logger) (*Adapter, error) {
	if cfg.Channel == "" {
		return nil, errors.New("rapidpro: channel id is empty")
	}
	if acc == nil {
		return nil, fmt.Errorf("rapidpro: channel %q: nil Accepter", cfg.Channel)
	}
	if err := cfg.resolveURLs(); err != nil {
		return nil, fmt.Errorf("rapidpro: channel %q: %w", cfg.Channel, err)
	}
	if err := CheckSendAuthorization(cfg.SendAuthorization); err != nil {
		return nil, fmt.Errorf("rapidpro: channel %q: send_authorization %w", cfg.Channel, err)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	a := &Adapter{
		cfg: cfg,
		acc: acc,
		log: logger.With("channel", cfg.Channel),
		status: map[bridge.State]string{
			bridge.StateSent:      cfg.SentURL,
			bridge.StateDelivered: cfg.DeliveredURL,
			bridge.StateFailed:    cfg.FailedURL,
		},
	}
	if cfg.SendAuthorization != "" {
		a.auth = sha256.Sum256([]byte(cfg.SendAuthorization))
	}
	return a, nil
}

// CheckSendAuthorization rejects send_authorization values an HTTP header
// cannot carry unchanged: Go's server trims surrounding white space, so
// such a secret could never match. check-config applies it too.
func CheckSendAuthorization(v string) error {
	if strings.TrimSpace(v) != v {
		return errors.New("has leading or trailing white space, which HTTP drops: no request could match it")
	}
	if strings.ContainsAny(v, "\r\n\x00") {
		return errors.New("contains a line break or NUL, which an HTTP header cannot carry")
	}
	return nil
}

// ServeHTTP is courier's send call (B.1): it authenticates, parses the body
// (B.1.3), commits the MT through the Accepter and only then answers 200
// {"status":"accepted","id":"<bridge id>"} (B.1.5). Failures answer a JSON
// error naming the field; a failed commit answers 503, never 429.
func (a *Adapter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := a.serve(w, r); err != nil {
		a.reject(w, err)
	}
}

func (a *Adapter) serve(w http.ResponseWriter, r *http.Request) error {
	switch r.Method {
	case http.MethodPost, http.MethodPut, http.MethodGet:
	default:
		w.Header().Set("Allow", "GET, POST, PUT")
		return &requestError{code: http.StatusMethodNotAllowed, msg: "method " + r.Method + " not allowed"}
	}
	if !a.authorized(r) {
		return &requestError{code: http.StatusUnauthorized, field: "Authorization", msg: "missing or wrong Authorization header"}
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	s, err := parseSend(r.Header.Get("Content-Type"), r.URL.RawQuery, body)
	if err != nil {
		return err
	}
	id, err := a.acc.Accept(r.Context(), a.mt(s))
	if err != nil {
		return acceptError(err)
	}
	a.log.Debug("mt accepted", "msg_id", id)
	writeJSON(w, http.StatusOK, acceptedBody{Status: "accepted", ID: id})
	return nil
}

// authorized reports whether r carries the configured Authorization value.
// Both sides are hashed first so the comparison takes the same time whatever
// the length of the value sent.
func (a *Adapter) authorized(r *http.Request) bool {
	if a.cfg.SendAuthorization == "" {
		return true
	}
	got := sha256.Sum256([]byte(r.Header.Get("Authorization")))
	return subtle.ConstantTimeCompare(got[:], a.auth[:]) == 1
}

// readBody reads the whole body; the core has bounded it with
// http.MaxBytesReader, whose error becomes 413.
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	body, err := io.ReadAll(r.Body)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, &requestError{code: http.StatusRequestEntityTooLarge, field: "body",
			msg: fmt.Sprintf("body larger than %d bytes", tooBig.Limit)}
	case err != nil:
		return nil, &requestError{code: http.StatusBadRequest, field: "body", msg: "reading body: " + err.Error()}
	}
	return body, nil
}

// mt maps a parsed send to the MT the bridge queues. Every chunk of a split
// message carries the same id (B.1.4), so the dedup key adds a hash of the
// chunk's text to the id; the channel keeps integer ids of two RapidPro
// installations apart.
func (a *Adapter) mt(s send) bridge.MT {
	sum := sha256.Sum256([]byte(s.text))
	return bridge.MT{
		Channel:     a.cfg.Channel,
		To:          s.to,
		From:        s.from,
		Text:        s.text,
		ExternalID:  s.id,
		DedupKey:    "rapidpro:" + a.cfg.Channel + ":" + s.id + ":" + hex.EncodeToString(sum[:]),
		DedupWindow: DedupWindow,
	}
}

// acceptError maps an Accepter error to the answer courier gets: 400 for
// what a retry cannot fix, 503 (retried by courier) for everything else.
func acceptError(err error) error {
	switch {
	case errors.Is(err, bridge.ErrNoRoute):
		return &requestError{code: http.StatusBadRequest, field: "to", msg: "no route to destination", err: err}
	case errors.Is(err, bridge.ErrInvalid):
		field, msg := bridge.Invalid(err)
		return &requestError{code: http.StatusBadRequest, field: field, msg: msg, err: err}
	}
	return &requestError{code: http.StatusServiceUnavailable, msg: "temporarily unavailable, retry later", err: err}
}

// reject logs err and writes its JSON answer.
func (a *Adapter) reject(w http.ResponseWriter, err error) {
	var re *requestError
	if !errors.As(err, &re) {
		re = &requestError{code: http.StatusServiceUnavailable, msg: "temporarily unavailable, retry later", err: err}
	}
	switch {
	case re.code >= 500:
		a.log.Error("send not accepted", "status", re.code, "err", re)
	case re.code == http.StatusUnauthorized:
		a.log.Warn("send rejected: wrong or missing Authorization", "status", re.code)
	default:
		a.log.Info("send rejected", "status", re.code, "err", re)
	}
	bridge.WriteError(w, bridge.KindRapidPro, re.code, re.field, re.msg)
}

// requestError is a send call that cannot be accepted: the HTTP status, the
// request field at fault (if any) and a message safe to show the caller.
type requestError struct {
	code  int
	field string
	msg   string
	err   error // cause, for the log only
}

func (e *requestError) Error() string {
	if e.err != nil && e.err.Error() != e.msg {
		return e.msg + ": " + e.err.Error()
	}
	return e.msg
}

func (e *requestError) Unwrap() error { return e.err }

type acceptedBody struct {
	Status string `json:"status"`
	ID     string `json:"id"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil { // cannot happen for acceptedBody
		b = []byte(`{"status":"error","error":"internal error"}`)
		code = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}
