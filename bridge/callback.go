package bridge

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"log/slog"

	"github.com/smscbridge/smscbridge/store"
)

// callback is a platform request waiting in a channel's HTTP lane; for a
// status callback, statusOf says what it reports.
type callback struct {
	Request Request `json:"req"`
	statusOf
	// Log, instead of a request, is a status of a StatusLogger's channel:
	// the lane logs it rather than sending anything.
	Log *statusNote `json:"log,omitempty"`
}

// statusNote is what the log line of a StatusLogger's status says besides
// the message id and state.
type statusNote struct {
	To          string `json:"to,omitempty"`
	SMSC        string `json:"smsc,omitempty"`
	SMSCMsgID   string `json:"smsc_msg_id,omitempty"`
	ErrorCode   string `json:"err_code,omitempty"`
	Description string `json:"reason,omitempty"`
}

// logOnly returns reqs, or for a StatusLogger's status with no request a
// single request with no URL that stands for "log it" (callbackItems turns
// it into a callback with Log set).
func (cs *channelState) logOnly(st Status, reqs []Request) []Request {
	if _, ok := cs.adapter.(StatusLogger); !ok || len(reqs) > 0 {
		return reqs
	}
	note, _ := json.Marshal(statusNote{To: st.To, SMSC: st.SMSC, SMSCMsgID: st.SMSCMsgID, ErrorCode: st.ErrorCode, Description: st.Description})
	return []Request{{Method: logMethod, Body: note}}
}

// logMethod marks a request that is only logged (logOnly).
const logMethod = "LOG"

// callbackItems queues reqs in the channel's HTTP lane under the ordering
// key of the contact they are about (contactKey(channel, contact)), so
// they reach the platform in order with everything else about that contact
// (for status callbacks, of says what they report; zero for MO).
func callbackItems(channel, contact string, of statusOf, reqs []Request) []store.NewItem {
	out := make([]store.NewItem, 0, len(reqs))
	of.Contact = contact
	for _, r := range reqs {
		cb := callback{Request: r, statusOf: of}
		if r.Method == logMethod && r.URL == "" {
			cb.Request, cb.Log = Request{}, &statusNote{}
			_ = json.Unmarshal(r.Body, cb.Log)
		}
		out = append(out, store.NewItem{Lane: laneHTTP(channel), Key: contactKey(channel, contact), Payload: encodeCallback(&cb)})
	}
	return out
}

// NewHTTPClient returns a client for one channel's callbacks:
// go-retryablehttp with no retries of its own (durable retries belong to the
// queue) and no log lines of its own (the bridge logs each attempt's outcome
// once, at its level, with the URL's secrets redacted: retryablehttp would
// log every failed attempt as an ERROR, and its URLs unredacted; logger is
// unused and kept for the call sites), a per-request timeout, and a keep-alive pool
// that holds conns connections per host (give it the lane's concurrency),
// so a lane with that many requests in flight reuses its connections
// instead of opening and closing some for every burst.
func NewHTTPClient(timeout time.Duration, conns int, _ *slog.Logger) *http.Client {
	conns = max(conns, 1)
	rc := retryablehttp.NewClient()
	rc.RetryMax = 0
	rc.HTTPClient.Timeout = timeout
	if t, ok := rc.HTTPClient.Transport.(*http.Transport); ok {
		t.MaxIdleConnsPerHost = conns
		t.MaxConnsPerHost = conns
		t.MaxIdleConns = max(t.MaxIdleConns, conns)
	}
	rc.Logger = nil
	rc.ErrorHandler = retryablehttp.PassthroughErrorHandler
	return rc.StandardClient()
}

// processCallback sends one platform request. 2xx is done; transport
// errors and the answers the channel's adapter deems worth a retry
// (retryable) are retried from the queue, honouring Retry-After up to
// Options.MaxBackoff; other answers go to the dead letters at once.
func (b *Bridge) processCallback(ctx context.Context, it store.Item) {
	cb, err := decodeCallback(it.Payload)
	if err != nil {
		b.complete(ctx, it, store.Completion{DeadReason: "undecodable callback: " + err.Error()})
		return
	}
	var merge *statusMerge
	if cb.MTID != "" {
		var err error
		if merge, err = b.mergeStatus(ctx, &cb); err != nil {
			b.retry(ctx, it, "read status mark: "+err.Error(), 0)
			return
		}
		if !merge.send {
			// Merged with the other parts and chunks of its message, it
			// changes nothing the platform sees (or would move it
			// backwards): record the part's state only.
			b.log.Debug("status callback not sent: merged status unchanged", "msg_id", cb.MTID, "status", cb.State)
			b.traceCallback(it, &cb, fmt.Sprintf("%s not sent: the message's merged status is unchanged", cb.State))
			b.complete(ctx, it, merge.completion(false, b.o.Now()))
			return
		}
	}
	if cb.Log != nil {
		b.logStatus(ctx, it, &cb, merge)
		return
	}
	cs := b.t().channels[strings.TrimPrefix(it.Lane, "http:")]
	client := b.client
	if cs != nil {
		client = cs.HTTP
	}
	if cs != nil && cs.limiter != nil {
		if err := cs.limiter.Wait(ctx); err != nil {
			b.retry(ctx, it, "shutting down", 0)
			return
		}
	}
	req, err := http.NewRequestWithContext(ctx, cb.Request.Method, cb.Request.URL, bytes.NewReader(cb.Request.Body))
	if err != nil {
		b.complete(ctx, it, store.Completion{DeadReason: "bad request: " + redactErr(err)})
		return
	}
	for k, v := range cb.Request.Header {
		req.Header.Set(k, v)
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		b.meter().Callback(it.Lane[len("http:"):], 0, time.Since(start))
		b.traceCallback(it, &cb, fmt.Sprintf("%s %s → %s, will retry", cb.Request.Method, shownURL(cb.Request.URL), redactErr(err)))
		b.retry(ctx, it, "http: "+redactErr(err), 0)
		return
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	resp.Body.Close()
	code := resp.StatusCode
	channel := it.Lane[len("http:"):]
	b.meter().Callback(channel, code, time.Since(start))
	switch {
	case code >= 200 && code < 300:
		if b.complete(ctx, it, merge.completion(true, b.o.Now())) {
			b.log.Debug("callback delivered", "lane", it.Lane, "id", it.ID, "attempt", it.Attempts+1, "status", code)
			if b.o.Trace != nil || b.o.Observe != nil {
				what := fmt.Sprintf("%s %s → %d", cb.Request.Method, shownURL(cb.Request.URL), code)
				b.traceCallback(it, &cb, what)
				b.observe(Event{Kind: "http", Channel: channel, ID: it.ID, Text: what})
			}
		}
	case b.retryable(channel, code, body):
		b.observe(Event{Kind: "http", Channel: channel, ID: it.ID, Text: fmt.Sprintf("%s %s → %d, will retry", cb.Request.Method, shownURL(cb.Request.URL), code)})
		b.traceCallback(it, &cb, fmt.Sprintf("%s %s → %d, will retry", cb.Request.Method, shownURL(cb.Request.URL), code))
		delay := min(retryAfter(resp.Header.Get("Retry-After"), b.o.Now()), b.o.MaxBackoff)
		b.retry(ctx, it, fmt.Sprintf("http %d: %s", code, bytes.TrimSpace(body)), delay)
	default:
		reason := fmt.Sprintf("http %d: %s", code, bytes.TrimSpace(body))
		if code == 401 || code == 403 {
			reason = fmt.Sprintf("http %d: the platform refused our credentials: %s", code, bytes.TrimSpace(body))
		}
		b.traceCallback(it, &cb, fmt.Sprintf("%s %s → %d, not retried: dead letter", cb.Request.Method, shownURL(cb.Request.URL), code))
		b.complete(ctx, it, store.Completion{DeadReason: reason}) // one ERROR line: "dead letter"
	}
}

// traceCallback records an attempt of a callback in the trace of the
// message it is about (the MT of a status, the MO it posts).
func (b *Bridge) traceCallback(it store.Item, cb *callback, detail string) {
	if b.o.Trace == nil {
		return
	}
	id, what := cb.MO, "MO "
	if cb.MTID != "" {
		id, what = cb.MTID, cb.State.String()+" "
	}
	if id == "" {
		return // queued by an older version: nothing to file it under
	}
	b.trace(store.TraceEvent{ID: id, Number: cb.Contact, Hop: "callback", Channel: it.Lane[len("http:"):],
		Attempt: it.Attempts + 1, Detail: what + detail})
}

// retryable says whether a non-2xx answer from channel's platform is worth
// a retry: the adapter's rule when it has one (Retryer), else the common one.
func (b *Bridge) retryable(channel string, code int, body []byte) bool {
	if cs := b.t().channels[channel]; cs != nil {
		if r, ok := cs.adapter.(Retryer); ok {
			return r.Retryable(code, body)
		}
	}
	return Retryable(code)
}

// retryAfter parses a Retry-After header (seconds or an HTTP date); 0 when
// absent or unparsable.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// LoggedStatus is the last status of an MT of a StatusLogger's channel
// (a template notification), kept in the store under LoggedStatusKey for
// as long as receipt mappings (receipt_ttl) so operators can look it up
// (smscbridge queue show ID).
type LoggedStatus struct {
	Channel   string    `json:"channel"`
	Status    string    `json:"status"` // sent | delivered | failed
	At        time.Time `json:"at"`
	To        string    `json:"to,omitempty"`
	SMSC      string    `json:"smsc,omitempty"`
	SMSCMsgID string    `json:"smsc_msg_id,omitempty"`
	ErrorCode string    `json:"err_code,omitempty"`
	Reason    string    `json:"reason,omitempty"`
}

// LoggedStatusKey is the store mark key of an MT's LoggedStatus.
func LoggedStatusKey(mtID string) string { return "logged-status\x00" + mtID }

// logStatus reports a StatusLogger channel's status change in the log (at
// INFO; failed at WARN would read as a bridge problem) and records it in
// the message's status mark, as a sent callback would be, and as its
// LoggedStatus, in the same commit.
func (b *Bridge) logStatus(ctx context.Context, it store.Item, cb *callback, merge *statusMerge) {
	channel := strings.TrimPrefix(it.Lane, "http:")
	n := cb.Log
	c := merge.completion(true, b.o.Now())
	rec, _ := json.Marshal(LoggedStatus{Channel: channel, Status: cb.State.String(), At: b.o.Now().UTC(), To: n.To,
		SMSC: n.SMSC, SMSCMsgID: n.SMSCMsgID, ErrorCode: n.ErrorCode, Reason: n.Description})
	c.Marks = append(c.Marks, store.Mark{Key: LoggedStatusKey(cb.MTID), Value: rec})
	if !b.complete(ctx, it, c) {
		return
	}
	attrs := []any{"channel", channel, "msg_id", cb.MTID, "status", cb.State.String(), "to", n.To}
	if n.SMSC != "" {
		attrs = append(attrs, "smsc", n.SMSC)
	}
	if n.SMSCMsgID != "" {
		attrs = append(attrs, "smsc_msg_id", n.SMSCMsgID)
	}
	if n.ErrorCode != "" {
		attrs = append(attrs, "err_code", n.ErrorCode)
	}
	if n.Description != "" {
		attrs = append(attrs, "reason", n.Description)
	}
	b.log.Info("notification status", attrs...)
	b.observe(Event{Kind: "status", Channel: channel, ID: cb.MTID, Text: fmt.Sprintf("notification %s to %s: %s (logged; the API has no callback)", cb.MTID, n.To, cb.State)})
}
