package main

import (
	"cmp"
	"context"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smscbridge/smscbridge/bridge"
	"github.com/smscbridge/smscbridge/store"
)

// statusDoc is GET /status: one document for the JSON answer and the
// HTML page. Every JSON key is snake_case.
type statusDoc struct {
	Version       string               `json:"version"`
	StartedAt     time.Time            `json:"started_at"`
	Uptime        string               `json:"uptime"`
	UptimeSeconds int64                `json:"uptime_seconds"`
	Config        configStatus         `json:"config"`
	SMSC          []smscStatus         `json:"smsc"`
	Queues        []laneStatus         `json:"queues"`
	Throughput    throughput           `json:"throughput"`
	DeadLetters   []deadClass          `json:"dead_letters"`
	Orphaned      map[string]laneCount `json:"orphaned_lanes"`
	Trace         []store.TraceEvent   `json:"trace,omitempty"` // ?trace=ID|NUMBER
	TraceQuery    string               `json:"trace_query,omitempty"`
	DeadList      []deadItem           `json:"dead_list,omitempty"` // ?dead=REASON
	DeadQuery     string               `json:"dead_query,omitempty"`
	// Node and Leases, with a store shared by several nodes (PostgreSQL):
	// this node's name and what every node holds leased, per lane.
	Node   string                    `json:"node,omitempty"`
	Leases map[string]map[string]int `json:"leases,omitempty"`
}

type configStatus struct {
	File     string    `json:"file"`
	LoadedAt time.Time `json:"loaded_at"`
}

type smscStatus struct {
	ID           string          `json:"id"`
	BindsStopped bool            `json:"binds_stopped"`
	MTSuspended  bool            `json:"mt_suspended"`
	Sessions     []sessionStatus `json:"sessions"`
}

type sessionStatus struct {
	Bind         string    `json:"bind"`
	State        string    `json:"state"`
	Since        time.Time `json:"since"`
	LastError    string    `json:"last_error,omitempty"`
	Submitted    uint64    `json:"submitted"`
	SubmitOK     uint64    `json:"submit_ok"`
	SubmitFailed uint64    `json:"submit_failed"`
	Throttled    uint64    `json:"throttled"`
	Delivered    uint64    `json:"delivered"`
	Inflight     int       `json:"inflight"`
}

type laneCount struct {
	Queued int `json:"queued"`
	Leased int `json:"leased"`
	Dead   int `json:"dead"`
}

type laneStatus struct {
	Lane string `json:"lane"`
	laneCount
	OldestAgeSeconds float64 `json:"oldest_age_seconds"`
}

type throughput struct {
	WindowSeconds float64 `json:"window_seconds"`
	MO            float64 `json:"mo_per_second"`
	MT            float64 `json:"mt_per_second"`
	Receipts      float64 `json:"receipts_per_second"`
	SubmitSM      float64 `json:"submit_sm_per_second"`
}

type deadClass struct {
	Reason string `json:"reason"`
	Lane   string `json:"lane"`
	Count  int    `json:"count"`
}

type deadItem struct {
	ID       string    `json:"id"`
	Lane     string    `json:"lane"`
	Reason   string    `json:"reason"`
	DeadAt   time.Time `json:"dead_at"`
	Attempts int       `json:"attempts"`
}

// deadScan bounds the dead letters the status page reads.
const deadScan = 5000

// status builds the status document.
func (d *daemon) status(ctx context.Context) statusDoc {
	now := time.Now()
	up := now.Sub(d.started)
	doc := statusDoc{Version: version, StartedAt: d.started, Uptime: up.Round(time.Second).String(), UptimeSeconds: int64(up.Seconds()),
		Config: configStatus{File: d.cfg.Load().File, LoadedAt: time.Unix(0, d.loaded.Load())}, Throughput: d.rates.perSecond(d.counts(), now),
		Orphaned: map[string]laneCount{}}
	doc.Node, doc.Leases = sharedNodes(ctx, d.store)
	clients := d.clientSnapshot()
	for _, id := range slices.Sorted(maps.Keys(clients)) {
		c := clients[id]
		ss := smscStatus{ID: id, BindsStopped: c.Stopped(), MTSuspended: d.bridge.MTSuspended(id)}
		for _, s := range c.Stats().Sessions {
			ss.Sessions = append(ss.Sessions, sessionStatus{Bind: s.Mode, State: s.State, Since: s.Since, LastError: s.LastError,
				Submitted: s.Submitted, SubmitOK: s.SubmitOK, SubmitFailed: s.SubmitFailed, Throttled: s.Throttled,
				Delivered: s.Delivered, Inflight: s.Inflight})
		}
		doc.SMSC = append(doc.SMSC, ss)
	}
	oldest, _ := d.store.OldestQueued()
	for lane, st := range d.store.Stats() {
		ls := laneStatus{Lane: lane, laneCount: laneCount{st.Queued, st.Leased, st.Dead}}
		if t, ok := oldest[lane]; ok {
			ls.OldestAgeSeconds = max(now.Sub(t).Seconds(), 0)
		}
		doc.Queues = append(doc.Queues, ls)
	}
	slices.SortFunc(doc.Queues, func(a, b laneStatus) int { return strings.Compare(a.Lane, b.Lane) })
	for lane, st := range d.orphanedLanes() {
		doc.Orphaned[lane] = laneCount{st.Queued, st.Leased, st.Dead}
	}
	doc.DeadLetters = d.deadClasses(ctx)
	return doc
}

// deadClasses counts the dead letters by lane and reason class.
func (d *daemon) deadClasses(ctx context.Context) []deadClass {
	items, err := d.store.ListDead(ctx, "", deadScan)
	if err != nil {
		return nil
	}
	n := map[[2]string]int{}
	for _, it := range items {
		n[[2]string{bridge.DeadClass(it.DeadReason), it.Lane}]++
	}
	out := make([]deadClass, 0, len(n))
	for k, c := range n {
		out = append(out, deadClass{Reason: k[0], Lane: k[1], Count: c})
	}
	slices.SortFunc(out, func(a, b deadClass) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Reason, b.Reason), strings.Compare(a.Lane, b.Lane))
	})
	return out
}

// deadList lists the dead letters of one reason class (the status page's
// links), without their payloads.
func (d *daemon) deadList(ctx context.Context, class string) []deadItem {
	items, err := d.store.ListDead(ctx, "", deadScan)
	if err != nil {
		return nil
	}
	var out []deadItem
	for _, it := range items {
		if bridge.DeadClass(it.DeadReason) == class && len(out) < 500 {
			out = append(out, deadItem{ID: it.ID, Lane: it.Lane, Reason: it.DeadReason, DeadAt: it.DeadAt, Attempts: it.Attempts})
		}
	}
	return out
}

// serveStatus answers GET /status: JSON for Accept: application/json,
// else the HTML page. ?trace=ID|NUMBER adds that message's trace, ?dead=
// REASON the dead letters of that reason class.
func (d *daemon) serveStatus(w http.ResponseWriter, r *http.Request) {
	doc := d.status(r.Context())
	if q := strings.TrimSpace(r.URL.Query().Get("trace")); q != "" {
		doc.TraceQuery = q
		doc.Trace, _ = d.store.Trace(r.Context(), q, 500)
	}
	if q := r.URL.Query().Get("dead"); q != "" {
		doc.DeadQuery = q
		doc.DeadList = d.deadList(r.Context(), q)
	}
	if wantsJSON(r) {
		respondJSON(w, http.StatusOK, doc)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := statusPage.Execute(w, doc); err != nil {
		d.log.Warn("render status page", "err", err)
	}
}

func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json") || r.URL.Query().Get("format") == "json"
}

// serveTrace answers GET /trace?q=ID|NUMBER with the events, oldest first.
func (d *daemon) serveTrace(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if q == "" {
		respondJSON(w, http.StatusBadRequest, map[string]string{"error": "q: give a message id, platform id or phone number"})
		return
	}
	evs, err := d.store.Trace(r.Context(), q, 1000)
	if err != nil {
		respondJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	if evs == nil {
		evs = []store.TraceEvent{}
	}
	respondJSON(w, http.StatusOK, map[string]any{"query": q, "events": evs})
}

// counts are the totals the throughput is computed from.
type counts struct{ mo, mt, receipts, submits uint64 }

func (d *daemon) counts() counts {
	c := counts{mo: d.metrics.mo.Load(), mt: d.metrics.mt.Load(), receipts: d.metrics.receipts.Load()}
	for _, cl := range d.clientSnapshot() {
		for _, s := range cl.Stats().Sessions {
			c.submits += s.Submitted
		}
	}
	return c
}

// rates keeps a sample of the counts every rateStep for the last minute.
type rates struct {
	mu      sync.Mutex
	samples []rateSample
	started atomic.Bool
}

type rateSample struct {
	at time.Time
	c  counts
}

const (
	rateStep   = 5 * time.Second
	rateWindow = time.Minute
)

// run samples until ctx ends.
func (r *rates) run(ctx context.Context, now func() counts) {
	t := time.NewTicker(rateStep)
	defer t.Stop()
	r.add(time.Now(), now())
	for {
		select {
		case <-ctx.Done():
			return
		case at := <-t.C:
			r.add(at, now())
		}
	}
}

func (r *rates) add(at time.Time, c counts) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.samples = append(r.samples, rateSample{at, c})
	for len(r.samples) > 1 && at.Sub(r.samples[1].at) >= rateWindow {
		r.samples = r.samples[1:]
	}
}

// perSecond is the rate from the oldest sample of the last minute to cur.
func (r *rates) perSecond(cur counts, now time.Time) throughput {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.samples) == 0 {
		return throughput{}
	}
	s := r.samples[0]
	secs := now.Sub(s.at).Seconds()
	if secs < 1 {
		return throughput{WindowSeconds: secs}
	}
	f := func(a, b uint64) float64 { return float64(a-min(a, b)) / secs }
	return throughput{WindowSeconds: secs, MO: f(cur.mo, s.c.mo), MT: f(cur.mt, s.c.mt),
		Receipts: f(cur.receipts, s.c.receipts), SubmitSM: f(cur.submits, s.c.submits)}
}

// smscControl answers POST /smsc/{id}/stop|start|suspend|resume (admin
// token): stop/start the SMSC's binds; suspend/resume its MT (the queue
// holds them meanwhile). It answers the SMSC's status after the change.
func (d *daemon) smscControl(w http.ResponseWriter, r *http.Request) {
	id, action := r.PathValue("id"), r.PathValue("action")
	c := d.client(id)
	if c == nil {
		respondJSON(w, http.StatusNotFound, map[string]string{"error": "unknown smsc " + id})
		return
	}
	switch action {
	case "stop":
		c.Stop()
	case "start":
		c.Start()
	case "suspend", "resume":
		_ = d.bridge.SuspendMT(id, action == "suspend") // id is known
	default:
		respondJSON(w, http.StatusNotFound, map[string]string{"error": "unknown action " + action + ": stop, start, suspend or resume"})
		return
	}
	d.log.Info("operator action", "smsc_id", id, "action", action)
	respondJSON(w, http.StatusOK, map[string]any{"id": id, "binds_stopped": c.Stopped(), "mt_suspended": d.bridge.MTSuspended(id)})
}
