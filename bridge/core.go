package bridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/smscbridge/smscbridge/smsc"
	"github.com/smscbridge/smscbridge/smsc/coding"
	"github.com/smscbridge/smscbridge/smsc/dlr"
	"github.com/smscbridge/smscbridge/smsc/pdu"
	"github.com/smscbridge/smscbridge/store"
)

// Queue is what the bridge needs of the durable store. *store.Store
// satisfies it; another backend only has to offer the same calls.
type Queue interface {
	Enqueue(ctx context.Context, it store.NewItem) (id string, dup bool, err error)
	// Add is Enqueue honouring NewItem.Claim (the bridge's lanes take
	// claimed items from their inbox, inbox.go).
	Add(ctx context.Context, it store.NewItem) (store.Added, error)
	LeaseWait(ctx context.Context, lane string, max int) ([]store.Item, error)
	// LeaseDue leases what is due without waiting (and without a write
	// transaction when nothing is).
	LeaseDue(ctx context.Context, lane string, max int) ([]store.Item, error)
	Ack(ctx context.Context, lane, id string, token uint64) error
	Retry(ctx context.Context, lane, id string, token uint64, cause string, delay time.Duration) (dead bool, err error)
	Complete(ctx context.Context, c store.Completion) (store.CompleteResult, error)
	MatchReceipt(ctx context.Context, smsc, msgID string) (store.Receipt, bool, error)
	AddPart(ctx context.Context, p store.Part) (complete bool, id string, err error)
	PutReceipt(ctx context.Context, rs ...store.Receipt) error
	// GetMark reads what the callback lane stored about a message's
	// statuses (store.Completion.Marks).
	GetMark(ctx context.Context, key string) (value []byte, ok bool, err error)
	// Dead-letter administration: an MT's dead letter is dropped together
	// with its "failed" callbacks (DropDead), settled by a late
	// submit_sm_resp (SettleDead) or requeued.
	Get(ctx context.Context, id string) (store.Item, error)
	ListDead(ctx context.Context, lane string, limit int) ([]store.Item, error)
	DropDead(ctx context.Context, id string, enqueue ...store.NewItem) error
	SettleDead(ctx context.Context, id string, enqueue []store.NewItem, receipts []store.Receipt) error
	Requeue(ctx context.Context, id string) error
}

// Submitter sends submit_sm on the binds of one SMSC. *smsc.Client satisfies it.
type Submitter interface {
	Submit(ctx context.Context, sm *pdu.ShortMessage) (messageID string, err error)
	Bound() bool
	// WaitBound blocks until Bound is true or ctx ends. The MT lane of an
	// SMSC waits here a while before it leases, so an outage holds
	// messages in the queue without spending their retry attempts (they
	// still expire at max_age, or fail over).
	WaitBound(ctx context.Context) error
}

// SMSC is the bridge's view of one configured SMSC.
type SMSC struct {
	ID                 string
	Coding             coding.Coding   // preferred coding when the text fits; UCS-2 otherwise
	Alphabet           coding.Alphabet // what data_coding 0 carries: decodes MO, encodes MT sent with it
	TextReceipts       bool            // receipt-shaped MO text without receipt esm_class bits is a receipt
	Long               smsc.LongMode   // how long texts are split
	MaxParts           int             // most SMS parts one MT may take (default 255)
	SourceTON, DestTON TONSetting
	RegisteredDelivery bool
	IDType             dlr.IDType // how receipt ids relate to submit_sm_resp ids
	Country            string     // ISO 3166 alpha-2 for national numbers, or ""
	DefaultChannel     string     // channel for MO no channel claims
	// Concurrency is how many MT of this SMSC are worked on at once (at
	// most one per recipient); default 40 (conf derives 4 × window ×
	// sessions).
	Concurrency int
	// FailoverAfter is how long the SMSC may have no bind before its MT
	// move to the next SMSC of their list (default 30 s).
	FailoverAfter time.Duration
}

// Channel is one configured platform channel.
type Channel struct {
	ID      string
	Kind    string   // rapidpro | custom | ...
	Numbers []string // normalised numbers this channel owns
	SMSC    []string // SMSCs for MT, in failover order
	// WebsiteID routes POST /website/{websiteId}/hsm/notifications to this
	// channel (kind "notify" only).
	WebsiteID string
	// RateLimit caps requests per second to the platform (0 = none); e.g.
	// respond.io documents 20 per second per custom channel.
	RateLimit float64
	// Concurrency is how many callbacks of this channel are in flight at
	// once (at most one per contact); default 16.
	Concurrency int
	// MaxRequests caps the platform's calls to this channel's endpoint on
	// the platform listener, per second (0 = none); over it the call gets
	// 503 with Retry-After (never 429: older courier fails the message on
	// a 429, platforms.md B.1.5).
	MaxRequests float64
	// HTTP sends this channel's callbacks; nil means Options.HTTP. Give it
	// a keep-alive pool of at least Concurrency connections per host
	// (NewHTTPClient does).
	HTTP *http.Client
}

// Route sends MT whose destination starts with Prefix through SMSC (in order).
type Route struct {
	Prefix string
	SMSC   []string
}

// Event is one step of a message's path, for people following the traffic
// (the demo prints them). Observers must not block.
type Event struct {
	Kind    string // mo, receipt, queued, http, mt, submit, status, dead
	SMSC    string
	Channel string
	ID      string
	Text    string
}

// Options configure a Bridge.
type Options struct {
	Queue    Queue
	SMSCs    []SMSC
	Channels []Channel
	Routes   []Route
	// HTTP sends the callbacks of channels without a client of their own
	// (Channel.HTTP); nil means a client with a 30 s timeout.
	HTTP *http.Client
	// ReceiptGrace is how long a receipt waits for its submit_sm_resp
	// mapping before it is dead-lettered (default 60 s).
	ReceiptGrace time.Duration
	// MaxBackoff caps the wait a platform's Retry-After asks for (the
	// [retry] max_backoff; default 10 min).
	MaxBackoff time.Duration
	// MaxBody limits platform request bodies (default 1 MiB).
	MaxBody int64
	// DrainTimeout bounds how long in-flight work may finish after Run's
	// context ends (default 10 s).
	DrainTimeout time.Duration
	Logger       *slog.Logger
	Observe      func(Event)
	// Trace records every hop of every message (smscbridge trace); nil
	// records nothing. *store.Store satisfies it.
	Trace TraceRecorder
	// Meter receives the bridge's measurements (Prometheus metrics); nil
	// measures nothing.
	Meter Meter
	Now   func() time.Time
}

// TraceRecorder keeps the hops of messages for `smscbridge trace`
// (store.Tracer is the whole contract). Record must not block.
type TraceRecorder interface {
	Record(ev store.TraceEvent)
}

// Meter receives the bridge's measurements. Its methods are called on the
// hot path: they must be cheap and never block.
type Meter interface {
	// Message counts a message that entered the bridge: kind mo (an MO
	// routed to channel), mt (accepted from channel's platform) or
	// receipt (matched to an MT of channel).
	Message(kind, channel string)
	// Callback observes one platform request of channel: its HTTP status
	// (0 when none came: a transport error) and how long it took.
	Callback(channel string, code int, d time.Duration)
	// Retry counts an item of lane scheduled for another attempt.
	Retry(lane string)
	// Dead counts an item of lane dead-lettered, by reason (DeadClass).
	Dead(lane, reason string)
}

// Bridge moves messages between SMSCs, the durable queue and platforms.
type Bridge struct {
	o      Options
	log    *slog.Logger
	q      Queue
	tab    atomic.Pointer[table] // the configured SMSCs, channels and routes (Reload swaps it)
	client *http.Client
	mu     sync.Mutex // guards submitters and adapters before Run
	late   lateSubmits
	run    running
	beats  sync.Map // lane name → *atomic.Int64: Unix ns since when all its slots are busy, 0 while one is free
	// inboxes hold the claimed items handed to running lanes (inbox.go).
	inboxes sync.Map // lane name → *inbox
}

type smscState struct {
	SMSC
	sub       Submitter
	ref       atomic.Uint32
	downSince atomic.Int64 // Unix ns since when it has had no bind; 0 while bound
	suspended atomic.Bool  // MT suspended by an operator (SuspendMT)
}

// downFor is how long the SMSC has had no bind (0 while it has one).
func (s *smscState) downFor(now time.Time) time.Duration {
	t := s.downSince.Load()
	if t == 0 {
		return 0
	}
	return now.Sub(time.Unix(0, t))
}

// watchBind keeps s.downSince up to date until ctx ends.
func (b *Bridge) watchBind(ctx context.Context, s *smscState) {
	for ctx.Err() == nil {
		if s.sub.Bound() {
			s.downSince.Store(0)
		} else if s.downSince.Load() == 0 {
			s.downSince.Store(b.o.Now().UnixNano())
		}
		sleep(ctx, bindPoll)
	}
}

// bindPoll is how often watchBind looks at the binds.
const bindPoll = 50 * time.Millisecond

// bindGate is the MT lane's gate. With a bind it opens at once. Without
// one it waits for a bind, but not longer than bindWait, so that MT
// waiting for an SMSC that stays down are still leased now and then (a few
// per wait: the lane's free slots) to expire at max_age; once the SMSC has
// been down for FailoverAfter and another SMSC has a bind, it opens at
// once, so that the backlog moves over quickly.
func (b *Bridge) bindGate(s *smscState) func(context.Context) error {
	return func(ctx context.Context) error {
		s.waitResumed(ctx)
		if !s.sub.Bound() && s.downFor(b.o.Now()) >= s.FailoverAfter && b.otherBound(s.ID) {
			return ctx.Err()
		}
		wctx, cancel := context.WithTimeout(ctx, s.bindWait())
		defer cancel()
		_ = s.sub.WaitBound(wctx)
		return ctx.Err()
	}
}

// bindWait is how long an MT lane without a bind waits before it looks at
// its MT again (and how long those MT wait before their next look).
func (s *smscState) bindWait() time.Duration {
	return min(max(s.FailoverAfter/2, 100*time.Millisecond), bindWaitMax)
}

// otherBound reports whether an SMSC other than id has a bind.
func (b *Bridge) otherBound(id string) bool {
	for _, o := range b.t().smscs {
		if o.ID != id && o.usable() {
			return true
		}
	}
	return false
}

type channelState struct {
	Channel
	adapter Adapter
	numbers map[string]bool
	limiter *rate.Limiter // callbacks to the platform; nil: no limit
	inbound *rate.Limiter // the platform's calls to us; nil: no limit
}

// New checks the options and builds a Bridge; it does no I/O. Attach a
// Submitter to every SMSC and an Adapter to every channel before Run.
func New(o Options) (*Bridge, error) {
	if o.Queue == nil {
		return nil, errors.New("bridge: no queue")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.ReceiptGrace <= 0 {
		o.ReceiptGrace = time.Minute
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 10 * time.Minute
	}
	if o.MaxBody <= 0 {
		o.MaxBody = 1 << 20
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = 10 * time.Second
	}
	b := &Bridge{o: o, log: o.Logger, q: o.Queue, client: o.HTTP}
	b.run.started = make(chan struct{})
	if b.client == nil {
		b.client = &http.Client{Timeout: 30 * time.Second}
	}
	t, err := b.build(Config{SMSCs: o.SMSCs, Channels: o.Channels, Routes: o.Routes, MaxBody: o.MaxBody}, nil, nil)
	if err != nil {
		return nil, err
	}
	b.tab.Store(t)
	return b, nil
}

// AttachSMSC gives the bridge the Submitter of an SMSC.
func (b *Bridge) AttachSMSC(id string, s Submitter) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	st := b.t().smscs[id]
	if st == nil {
		return fmt.Errorf("bridge: unknown smsc %q", id)
	}
	st.sub = s
	return nil
}

// Mount gives the bridge the Adapter of a channel.
func (b *Bridge) Mount(channel string, a Adapter) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	cs := b.t().channels[channel]
	if cs == nil {
		return fmt.Errorf("bridge: unknown channel %q", channel)
	}
	cs.adapter = a
	return nil
}

// Run works the queue lanes of every SMSC and channel until ctx ends, then
// lets in-flight work finish (bounded by DrainTimeout) and returns nil.
// While it runs, Reload may change the SMSCs, channels and routes.
func (b *Bridge) Run(ctx context.Context) error {
	b.mu.Lock()
	t := b.t()
	for id, s := range t.smscs {
		if s.sub == nil {
			b.mu.Unlock()
			return fmt.Errorf("bridge: smsc %q has no submitter", id)
		}
	}
	for id, c := range t.channels {
		if c.adapter == nil {
			b.mu.Unlock()
			return fmt.Errorf("bridge: channel %q has no adapter", id)
		}
	}
	b.mu.Unlock()
	b.run.mu.Lock()
	b.run.ctx, b.run.runners = ctx, map[string]*runner{}
	for _, s := range t.smscs {
		b.startSMSC(s)
	}
	for _, c := range t.channels {
		b.startChannel(c)
	}
	close(b.run.started)
	b.run.mu.Unlock()
	<-ctx.Done()
	b.run.mu.Lock()
	b.run.stopped = true // no Reload starts lanes from now on
	b.run.mu.Unlock()
	b.run.wg.Wait()
	return nil
}

// Started is closed once Run has started working the lanes: from then on
// Reload is accepted.
func (b *Bridge) Started() <-chan struct{} { return b.run.started }

// inboundConcurrency is how many items of an SMSC's in: and cat: lanes
// (MO, receipts, reassembled MO) are worked on at once. Their work is a
// store transaction each (no network), so this only has to be enough for
// the store to commit many of them together.
const inboundConcurrency = 32

// contactKey is the ordering key of one contact (a sender or recipient
// number) of one channel, or of one SMSC before an MO is routed: the items
// of one key are worked one at a time, in the order they were queued
// (design.md invariant 6). A leading "+" is ignored, so an MT to
// "250788123123" and an MO from "+250788123123" are one contact.
func contactKey(scope, contact string) string {
	return scope + "\x00" + strings.TrimPrefix(contact, "+")
}

func laneIn(smscID string) string    { return "in:" + smscID }
func laneCat(smscID string) string   { return "cat:" + smscID }
func laneMT(smscID string) string    { return "mt:" + smscID }
func laneHTTP(channel string) string { return "http:" + channel }

// lane says how one queue lane is worked.
type lane struct {
	name  string
	slots int                               // items in flight at once (at most one per ordering key: the store's leases see to that)
	fn    func(context.Context, store.Item) // handles one item, to its completion
	gate  func(context.Context) error       // when set, lease only once it returns nil (a bind is up)
}

// work keeps up to l.slots items of one lane in flight, each handled by
// l.fn in its own goroutine. It leases only as many items as it has free
// slots, and leases again as soon as one frees: there is no batch barrier,
// so a slow item holds only its own slot (and, through the store, the
// later items of its own key). When ctx ends it stops leasing; items
// already leased finish with a context that lasts at most DrainTimeout
// longer, and work returns once they have.
func (b *Bridge) work(ctx context.Context, l lane) {
	drain, cancel := drainContext(ctx, b.o.DrainTimeout)
	defer cancel()
	var inflight sync.WaitGroup
	defer inflight.Wait()
	ib := newInbox(l.slots)
	b.inboxes.Store(l.name, ib)
	defer func() {
		b.inboxes.CompareAndDelete(l.name, ib)
		for _, it := range ib.close() {
			b.unclaim(it)
		}
	}()
	idle := make(chan store.Item)        // to a slot goroutine waiting for its next item
	free := make(chan struct{}, l.slots) // one token per free slot
	for range l.slots {
		free <- struct{}{}
	}
	pause := 100 * time.Millisecond
	full := b.laneBeat(l.name)
	defer b.beats.Delete(l.name)
	storeTurn := false // when both the inbox and the store have work, they take turns
	for {
		if len(free) == 0 {
			full.CompareAndSwap(0, b.o.Now().UnixNano())
		}
		select { // wait for a free slot
		case <-free:
			full.Store(0)
		case <-ctx.Done():
			return
		}
		n := 1 + takeAll(free)
		if l.gate != nil && l.gate(ctx) != nil {
			return
		}
		items, err := b.lease(ctx, l.name, ib, n, storeTurn)
		storeTurn = !storeTurn
		for range n - len(items) {
			free <- struct{}{}
		}
		if err != nil {
			if ctx.Err() != nil { // stopping: work what the inbox handed over, with the drain context
				if len(items) == 0 {
					return
				}
			} else {
				b.log.Error("lease failed", "lane", l.name, "err", err)
			}
			if len(items) == 0 {
				sleep(ctx, pause)
				pause = min(pause*2, 10*time.Second)
				continue
			}
		} else {
			pause = 100 * time.Millisecond
		}
		for _, it := range items {
			select {
			case idle <- it: // a slot goroutine that finished its item takes it
			default:
				inflight.Go(func() { b.slot(ctx, drain, l, it, free, idle) })
			}
		}
	}
}

// slotIdle is how long a slot goroutine waits for its lane's next item
// before it ends. Reusing them spares each item a new goroutine's stack
// growth (a few percent of the CPU of a message).
const slotIdle = 5 * time.Second

// slot works it, frees its slot, and goes on with the items handed to it
// while it is idle, until none comes for slotIdle or the lane stops.
func (b *Bridge) slot(live, drain context.Context, l lane, it store.Item, free chan<- struct{}, idle <-chan store.Item) {
	var t *time.Timer
	for {
		b.runSlot(live, drain, l, it)
		free <- struct{}{}
		if t == nil {
			t = time.NewTimer(slotIdle)
			defer t.Stop()
		} else {
			t.Reset(slotIdle)
		}
		select {
		case it = <-idle:
		case <-t.C:
			return
		case <-live.Done():
			return
		}
	}
}

// lease returns up to n items of lane for free slots: from its inbox
// (claimed items) and from the store (due items), the store first on its
// turn or when the inbox is empty. With nothing in either it waits for the
// store's next due item or for the inbox's next item, whichever comes
// first. Items of a failed store lease are not returned (a failed lease
// leases nothing); the inbox's are, with the error.
func (b *Bridge) lease(ctx context.Context, lane string, ib *inbox, n int, storeTurn bool) ([]store.Item, error) {
	var items []store.Item
	if !storeTurn {
		items = ib.take(nil, n)
	}
	if len(items) == n {
		return items, nil
	}
	var more []store.Item
	var err error
	if len(items) > 0 || len(ib.ch) > 0 {
		more, err = b.q.LeaseDue(ctx, lane, n-len(items)) // the inbox has work: do not wait
	} else {
		wctx, stop := ib.waitContext(ctx)
		more, err = b.q.LeaseWait(wctx, lane, n)
		if woken := stop(); err != nil && ctx.Err() == nil && woken {
			err = nil // woken by the inbox
		}
	}
	if err != nil {
		more = nil
	}
	return ib.take(append(items, more...), n), err
}

// maxContinue bounds how many items of one key a slot works one after
// another (each leased by the completion of the one before, see next)
// before it goes back to the lane's oldest-first lease.
const maxContinue = 64

// next is where complete puts the key's next item, leased in the same
// transaction that finished the slot's item (store.Completion.LeaseNext).
type next struct {
	live context.Context // the lane's: once it ends, no next is leased
	lane string
	id   string      // the slot's item: only its completion leases a next
	item *store.Item // the next item, or nil
}

type nextKey struct{}

// runSlot works it and then, as long as its completion leased the key's next
// item, that one: one commit per item instead of a completion and a lease.
func (b *Bridge) runSlot(live, drain context.Context, l lane, it store.Item) {
	for range maxContinue {
		n := &next{live: live, lane: l.name, id: it.ID}
		l.fn(context.WithValue(drain, nextKey{}, n), it)
		if n.item == nil {
			return
		}
		it = *n.item
	}
	// The last one leased: work it without asking for another.
	l.fn(drain, it)
}

// leaseNext says whether the completion of it should lease its key's next
// item for the slot working it, and returns the slot's place for it.
func leaseNext(ctx context.Context, it store.Item) *next {
	n, _ := ctx.Value(nextKey{}).(*next)
	if n == nil || n.lane != it.Lane || n.id != it.ID || n.item != nil || n.live.Err() != nil {
		return nil
	}
	return n
}

// takeAll takes every token waiting in c without blocking and returns how
// many it took.
func takeAll(c chan struct{}) int {
	for n := 0; ; n++ {
		select {
		case <-c:
		default:
			return n
		}
	}
}

// drainContext returns a context that ends DrainTimeout after parent does.
func drainContext(parent context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(parent))
	stop := context.AfterFunc(parent, func() { time.AfterFunc(d, cancel) })
	return ctx, func() { stop(); cancel() }
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// trace records one hop of a message (Options.Trace).
func (b *Bridge) trace(ev store.TraceEvent) {
	if b.o.Trace != nil {
		ev.At = b.o.Now()
		b.o.Trace.Record(ev)
	}
}

// meter returns the Meter, or one that measures nothing.
func (b *Bridge) meter() Meter {
	if b.o.Meter == nil {
		return noMeter{}
	}
	return b.o.Meter
}

type noMeter struct{}

func (noMeter) Message(string, string)              {}
func (noMeter) Callback(string, int, time.Duration) {}
func (noMeter) Retry(string)                        {}
func (noMeter) Dead(string, string)                 {}

// DeadClass is the class of a dead-letter reason, for a metric label and
// the status page: the reason up to its first colon ("http 400",
// "submit_sm", "unknown_outcome", "no_route"), at most 32 characters.
func DeadClass(reason string) string {
	c, _, _ := strings.Cut(reason, ":")
	c = strings.TrimSpace(c)
	if len(c) > 32 {
		c = c[:32]
	}
	if c == "" {
		return "other"
	}
	return c
}

func (b *Bridge) observe(e Event) {
	if b.o.Observe != nil {
		b.o.Observe(e)
	}
}

// allow takes a token of the channel's inbound rate limit. Without one it
// sets Retry-After (whole seconds until a token is due, at least 1) and
// returns false: the caller answers 503.
func (cs *channelState) allow(w http.ResponseWriter) bool {
	if cs.inbound == nil {
		return true
	}
	r := cs.inbound.Reserve()
	d := r.Delay()
	if d == 0 {
		return true
	}
	r.Cancel()
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(d.Seconds())))))
	return false
}

// ServeHTTP serves the platform-facing API: /rapidpro/{channel}/send,
// GET and POST /cgi-bin/sendsms (kannel channels, told apart by username),
// POST /custom/{channel}/message (also .../{channel}//message, as platforms
// send it when their base URL ends in a slash) and POST
// /website/{websiteId}/hsm/notifications (serveNotify). Every error, the core's and
// the adapter's, has the shape of the platform the path names (WriteError).
func (b *Bridge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == SendsmsPath:
		b.serveSendsms(w, r) // Kannel's path: the username names the channel
		return
	case strings.HasPrefix(r.URL.Path, "/cgi-bin/"):
		KannelReply(w, http.StatusNotFound, "Unknown request.") // as Kannel's smsbox
		return
	}
	parts := strings.FieldsFunc(r.URL.Path, func(c rune) bool { return c == '/' })
	kind := ""
	if len(parts) > 0 {
		kind = parts[0]
	}
	if kind == "website" {
		b.serveNotify(w, r, parts)
		return
	}
	if len(parts) != 3 {
		WriteError(w, kind, http.StatusNotFound, "", "not found: "+r.URL.Path)
		return
	}
	chID, action := parts[1], parts[2]
	want := map[string]string{KindRapidPro: "send", KindCustom: "message"}[kind]
	if want == "" || action != want {
		WriteError(w, kind, http.StatusNotFound, "", "not found: "+r.URL.Path)
		return
	}
	t := b.t()
	cs := t.channels[chID]
	if cs == nil || cs.Kind != kind {
		WriteError(w, kind, http.StatusNotFound, "", fmt.Sprintf("unknown %s channel %q", kind, chID))
		return
	}
	// RapidPro may be set to GET, PUT or POST (platforms.md B.1.3): its
	// adapter checks the method; the custom channel only POSTs.
	if kind == KindCustom && r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		WriteError(w, kind, http.StatusMethodNotAllowed, "method", "must be POST")
		return
	}
	if !cs.allow(w) {
		WriteError(w, kind, http.StatusServiceUnavailable, "", fmt.Sprintf("too many requests: channel %q takes at most %g per second; retry later", chID, cs.MaxRequests))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, t.maxBody)
	cs.adapter.ServeHTTP(w, r)
}

// serveNotify routes POST /website/{websiteId}/hsm/notifications to the
// notify channel with that website id. Every answer has the shape of
// platforms.md D.3 (WriteNotify); an unknown website id is UNAUTHORIZED,
// as no apikey can be valid for it.
func (b *Bridge) serveNotify(w http.ResponseWriter, r *http.Request, parts []string) {
	if len(parts) != 4 || parts[2] != "hsm" || parts[3] != "notifications" {
		WriteNotify(w, http.StatusNotFound, "NOT_FOUND", "Not found: "+r.URL.Path, nil)
		return
	}
	t := b.t()
	cs := t.websites[parts[1]]
	if cs == nil {
		WriteNotify(w, http.StatusUnauthorized, "UNAUTHORIZED", "Invalid ApiKey", map[string]string{"websiteId": parts[1]})
		return
	}
	if !cs.allow(w) {
		WriteNotify(w, http.StatusServiceUnavailable, "SERVICE_UNAVAILABLE",
			fmt.Sprintf("Too many requests: at most %g per second; retry later", cs.MaxRequests), nil)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, t.maxBody)
	cs.adapter.ServeHTTP(w, r)
}
