package bridge

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smscbridge/smscbridge/smsc"
	"github.com/smscbridge/smscbridge/smsc/coding"
	"github.com/smscbridge/smscbridge/smsc/pdu"
	"github.com/smscbridge/smscbridge/store"
)

// failingQueue is a real store whose commits can be made to fail, as on a
// full disk.
type failingQueue struct {
	*store.Store
	fail bool
	// noSpace makes this many Complete and Retry calls fail as on a full
	// disk (store.ErrNoSpace), leaving the item leased.
	noSpace int
}

func (q *failingQueue) Complete(ctx context.Context, c store.Completion) (store.CompleteResult, error) {
	if q.noSpace > 0 {
		q.noSpace--
		return store.CompleteResult{}, fmt.Errorf("commit: %w", store.ErrNoSpace)
	}
	return q.Store.Complete(ctx, c)
}

func (q *failingQueue) Retry(ctx context.Context, lane, id string, token uint64, cause string, delay time.Duration) (bool, error) {
	if q.noSpace > 0 {
		q.noSpace--
		return false, fmt.Errorf("commit: %w", store.ErrNoSpace)
	}
	return q.Store.Retry(ctx, lane, id, token, cause, delay)
}

var errDiskFull = errors.New("no space left on device")

func (q *failingQueue) Enqueue(ctx context.Context, it store.NewItem) (string, bool, error) {
	if q.fail {
		return "", false, errDiskFull
	}
	return q.Store.Enqueue(ctx, it)
}

func (q *failingQueue) Add(ctx context.Context, it store.NewItem) (store.Added, error) {
	if q.fail {
		return store.Added{}, errDiskFull
	}
	return q.Store.Add(ctx, it)
}

func (q *failingQueue) AddUnlessBusy(ctx context.Context, busy store.LaneKey, items ...store.NewItem) ([]store.Added, bool, error) {
	if q.fail {
		return nil, false, errDiskFull
	}
	return q.Store.AddUnlessBusy(ctx, busy, items...)
}

func (q *failingQueue) AddPart(ctx context.Context, p store.Part) (bool, string, error) {
	if q.fail {
		return false, "", errDiskFull
	}
	return q.Store.AddPart(ctx, p)
}

type nopSubmitter struct{ bound bool }

func (s nopSubmitter) Submit(context.Context, *pdu.ShortMessage) (string, error) { return "1", nil }
func (s nopSubmitter) Bound() bool                                               { return s.bound }
func (s nopSubmitter) WaitBound(ctx context.Context) error                       { <-ctx.Done(); return ctx.Err() }

type nopAdapter struct{ http.Handler }

// MO posts every MO to a platform that is never called in these tests.
func (nopAdapter) MO(mo MO) ([]Request, error) {
	return []Request{{Method: http.MethodPost, URL: "http://platform.invalid/mo", Body: []byte(mo.Text)}}, nil
}
func (nopAdapter) Status(Status) ([]Request, error) { return nil, nil }

func MustBridge(t *testing.T) (*Bridge, *failingQueue) {
	t.Helper()
	st, err := store.Open(store.Options{Path: filepath.Join(t.TempDir(), "q.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	q := &failingQueue{Store: st}
	b, err := New(Options{Queue: q,
		SMSCs:    []SMSC{{ID: "a", Coding: coding.GSM7, MaxParts: 2}, {ID: "b", Coding: coding.GSM7, MaxParts: 2}},
		Channels: []Channel{{ID: "ch", Kind: "custom", Numbers: []string{"+60177872890"}, SMSC: []string{"a", "b"}}},
		Routes:   []Route{{Prefix: "+44", SMSC: []string{"b"}}}})
	if err != nil {
		t.Fatal(err)
	}
	b.AttachSMSC("a", nopSubmitter{})
	b.AttachSMSC("b", nopSubmitter{bound: true})
	b.Mount("ch", nopAdapter{http.NotFoundHandler()})
	return b, q
}

func TestDeliverAcknowledgedOnlyAfterCommit(t *testing.T) {
	b, q := MustBridge(t)
	mo := &pdu.PDU{Header: pdu.Header{ID: pdu.DeliverSM, Seq: 1}, Body: &pdu.ShortMessage{
		SourceTON: 1, SourceAddr: "60123456789", DestTON: 1, DestAddr: "60177872890", Message: []byte("hi")}}
	if st := b.handleDeliver(context.Background(), "a", mo); st != pdu.StatusOK {
		t.Fatalf("deliver with a working store = %v, want ESME_ROK", st)
	}
	q.fail = true
	if st := b.handleDeliver(context.Background(), "a", mo); st != pdu.StatusRxTAppn {
		t.Errorf("deliver with a failing store = %v, want ESME_RX_T_APPN (temporary: the SMSC retries)", st)
	}
	sms, _ := smsc.BuildSubmits(smsc.Address{Addr: "60123456789", TON: 1}, smsc.Address{Addr: "60177872890", TON: 1},
		strings.Repeat("long ", 50), smsc.SubmitOptions{Coding: coding.GSM7, Long: smsc.LongUDH, Ref: 9})
	part := &pdu.PDU{Header: pdu.Header{ID: pdu.DeliverSM, Seq: 2}, Body: sms[0]}
	if st := b.handleDeliver(context.Background(), "a", part); st != pdu.StatusRxTAppn {
		t.Errorf("MO part with a failing store = %v, want ESME_RX_T_APPN", st)
	}
	// The committed MO was routed as it arrived: its callback is queued,
	// nothing waits in the in: lane.
	if st := b.q.(*failingQueue).Stats(); st["in:a"].Queued+st["http:ch"].Queued != 1 {
		t.Errorf("queued inbound items = %+v, want 1 (only the committed one)", st)
	}
}

// TestCommitWaitsForSpace: a lane's commit refused for lack of disk space
// is tried again, within the item's lease, until space returns, instead of
// leaving the item (and its contact's later ones) leased until the lease
// runs out (store.Options.LeaseTTL, 5 minutes).
func TestCommitWaitsForSpace(t *testing.T) {
	b, q := MustBridge(t)
	ctx := context.Background()
	if _, _, err := q.Store.Enqueue(ctx, store.NewItem{Lane: "http:ch", Key: "ch:+1", Payload: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	items, err := q.Store.LeaseWait(ctx, "http:ch", 1)
	if err != nil || len(items) != 1 {
		t.Fatalf("lease: %v %v", items, err)
	}
	q.noSpace = 3
	if !b.complete(ctx, items[0], store.Completion{}) {
		t.Fatalf("complete on a disk that frees up again = false, want true")
	}
	if st := q.Store.Stats()["http:ch"]; st.Queued != 0 || st.Leased != 0 {
		t.Errorf("after the commit went through: %+v, want nothing left", st)
	}
}

func TestAccept(t *testing.T) {
	b, q := MustBridge(t)
	ctx := context.Background()
	cases := []struct {
		name string
		mt   MT
		want error
		msg  string
	}{
		{"ok", MT{Channel: "ch", To: "+60123456789", Text: "hi"}, nil, ""},
		{"unknown channel", MT{Channel: "nope", To: "+60123456789", Text: "hi"}, ErrInvalid, "unknown channel"},
		{"bad number", MT{Channel: "ch", To: "call me", Text: "hi"}, ErrInvalid, "to:"},
		{"empty text", MT{Channel: "ch", To: "+60123456789", Text: "  "}, ErrInvalid, "text: empty"},
		{"too many parts", MT{Channel: "ch", To: "+60123456789", Text: strings.Repeat("x", 400)}, ErrInvalid, "needs 3 SMS parts"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id, err := b.Accept(ctx, c.mt)
			if c.want == nil {
				if err != nil || id == "" {
					t.Fatalf("Accept = %q, %v", id, err)
				}
				return
			}
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.msg) {
				t.Errorf("Accept = %v, want %v mentioning %q", err, c.want, c.msg)
			}
		})
	}
	// Failover at accept time: "a" has no bind, so "b" takes it.
	st := q.Stats()
	if st["mt:b"].Queued != 1 || st["mt:a"].Queued != 0 {
		t.Errorf("MT lanes = %+v, want the MT on mt:b (first SMSC with a bind)", st)
	}
	// Dedup: the same key within the window returns the first id.
	mt := MT{Channel: "ch", To: "+60123456789", Text: "once", DedupKey: "k", DedupWindow: time.Minute}
	id1, _ := b.Accept(ctx, mt)
	id2, _ := b.Accept(ctx, mt)
	if id1 == "" || id1 != id2 {
		t.Errorf("dedup ids = %q, %q, want the same", id1, id2)
	}
	q.fail = true
	if _, err := b.Accept(ctx, MT{Channel: "ch", To: "+60123456789", Text: "hi"}); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Accept on a failing store = %v, want ErrUnavailable (503)", err)
	}
}

func TestRoutes(t *testing.T) {
	b, _ := MustBridge(t)
	cs := b.t().channels["ch"]
	if got := b.t().smscFor(cs, "+447700900123"); strings.Join(got, ",") != "b" {
		t.Errorf("route for +44 = %v, want [b]", got)
	}
	if got := b.t().smscFor(cs, "+60123456789"); strings.Join(got, ",") != "a,b" {
		t.Errorf("route for +60 = %v, want the channel's [a b]", got)
	}
	if got := b.t().routeMO(b.t().smscs["a"], "+60177872890"); got == nil || got.ID != "ch" {
		t.Errorf("MO route = %v, want ch", got)
	}
	if got := b.t().routeMO(b.t().smscs["a"], "+1555"); got != nil {
		t.Errorf("MO to an unclaimed number routed to %v, want none", got.ID)
	}
}

func TestNormalizeInbound(t *testing.T) {
	cases := []struct {
		a       Addr
		country string
		want    string
	}{
		{Addr{"60123456789", 1, 1}, "", "+60123456789"},
		{Addr{"+60123456789", 0, 0}, "", "+60123456789"},
		{Addr{"MyBrand", 5, 0}, "", "MyBrand"},
		{Addr{"0123456789", 2, 1}, "MY", "+60123456789"},
		{Addr{"0123456789", 0, 1}, "MY", "+60123456789"},
		{Addr{"0123456789", 0, 1}, "", "0123456789"},
		{Addr{"12345", 3, 0}, "MY", "12345"},
	}
	for _, c := range cases {
		if got := NormalizeInbound(c.a, c.country); got != c.want {
			t.Errorf("NormalizeInbound(%+v, %q) = %q, want %q", c.a, c.country, got, c.want)
		}
	}
}

func TestOutbound(t *testing.T) {
	cases := []struct {
		in   string
		set  TONSetting
		want Addr
	}{
		{"+60123456789", TONAuto, Addr{"60123456789", 1, 1}},
		{"12345", TONAuto, Addr{"12345", 3, 0}},
		{"MyBrand", TONAuto, Addr{"MyBrand", 5, 0}},
		{"0123456789", TONAuto, Addr{"0123456789", 0, 1}},
		{"12345", 0, Addr{"12345", 0, 1}},
	}
	for _, c := range cases {
		if got := Outbound(c.in, c.set); got != c.want {
			t.Errorf("Outbound(%q, %d) = %+v, want %+v", c.in, c.set, got, c.want)
		}
	}
}

// TestStatusMarkMerge: the status of a message is failed if any part
// failed, else the least advanced state of its parts; a part's final state
// stays (platforms.md B.1.4, E).
func TestStatusMarkMerge(t *testing.T) {
	m := statusMark{MT: map[string][]State{"a": {StateSent, StateSent}, "b": {StateSent}}}
	if got := m.merged(); got != StateSent {
		t.Errorf("all sent: merged = %v", got)
	}
	m.MT["a"] = []State{StateDelivered, StateDelivered}
	if got := m.merged(); got != StateSent {
		t.Errorf("one chunk still sent: merged = %v, want sent", got)
	}
	m.MT["b"] = []State{StateDelivered}
	if got := m.merged(); got != StateDelivered {
		t.Errorf("all delivered: merged = %v", got)
	}
	m.MT["c"] = []State{0}
	if got := m.merged(); got != 0 {
		t.Errorf("a part with no state yet: merged = %v, want none", got)
	}
	m.MT["c"] = []State{StateFailed}
	if got := m.merged(); got != StateFailed {
		t.Errorf("one part failed: merged = %v", got)
	}
	for _, c := range []struct{ old, st, want State }{
		{0, StateSent, StateSent}, {StateSent, StateDelivered, StateDelivered},
		{StateDelivered, StateSent, StateDelivered}, {StateDelivered, StateFailed, StateDelivered},
		{StateFailed, StateDelivered, StateFailed}, {StateSent, StateFailed, StateFailed},
	} {
		if got := advance(c.old, c.st); got != c.want {
			t.Errorf("advance(%v, %v) = %v, want %v", c.old, c.st, got, c.want)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if d := retryAfter("7", now); d != 7*time.Second {
		t.Errorf("retryAfter(7) = %v", d)
	}
	if d := retryAfter(now.Add(time.Minute).Format(http.TimeFormat), now); d != time.Minute {
		t.Errorf("retryAfter(date) = %v", d)
	}
	if d := retryAfter("soon", now); d != 0 {
		t.Errorf("retryAfter(soon) = %v", d)
	}
}

func TestRedactURL(t *testing.T) {
	got := redactURL("https://user:pw@example.org/x?password=hunter2&to=1")
	if strings.Contains(got, "hunter2") || strings.Contains(got, "pw@") || !strings.Contains(got, "to=1") {
		t.Errorf("redactURL = %q", got)
	}
}

func TestServeHTTPPaths(t *testing.T) {
	b, _ := MustBridge(t)
	for _, c := range []struct {
		method, path string
		code         int
	}{
		{"POST", "/custom/ch/message", 404},  // nopAdapter answers 404 itself: reached
		{"POST", "/custom/ch//message", 404}, // trailing-slash base URL: reached too
		{"GET", "/custom/ch/message", 405},
		{"POST", "/custom/nope/message", 404},
		{"POST", "/rapidpro/ch/send", 404}, // wrong kind
		{"POST", "/other", 404},
	} {
		rec := httptest.NewRecorder()
		b.ServeHTTP(rec, httptest.NewRequest(c.method, c.path, strings.NewReader("{}")))
		if rec.Code != c.code {
			t.Errorf("%s %s = %d, want %d", c.method, c.path, rec.Code, c.code)
		}
	}
}
