package main

import (
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/smscbridge/smscbridge/smsc"
	"github.com/smscbridge/smscbridge/smsc/pdu"
)

// metrics are the daemon's Prometheus metrics, on a registry of their own
// (README "Metrics" lists them). Counters and histograms are updated on
// the hot path through the smsc, bridge and store hooks; gauges (binds,
// queue depths, ages) are read from the components when scraped.
type metrics struct {
	reg         *prometheus.Registry
	pdus        *prometheus.CounterVec
	submit      *prometheus.HistogramVec
	callback    *prometheus.HistogramVec
	messages    *prometheus.CounterVec
	retries     *prometheus.CounterVec
	dead        *prometheus.CounterVec
	commit      prometheus.Histogram
	commitBatch prometheus.Histogram
	// totals for the status page's throughput
	mo, mt, receipts atomic.Uint64
}

func newMetrics(d *daemon) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.pdus = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "smscbridge", Subsystem: "smsc", Name: "pdus_total",
		Help: "SMPP PDUs read from (direction=in) and written to (out) each SMSC, by command and command_status."},
		[]string{"smsc", "direction", "command", "status"})
	m.submit = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "smscbridge", Subsystem: "smsc", Name: "submit_duration_seconds",
		Help:    "Time from queueing a submit_sm on a bind to its response.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}}, []string{"smsc"})
	m.callback = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "smscbridge", Subsystem: "bridge", Name: "callback_duration_seconds",
		Help:    "Platform callbacks (MO posts and status callbacks) by channel and answer class (2xx, 4xx, 5xx, error), with their duration.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}}, []string{"channel", "code"})
	m.messages = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "smscbridge", Subsystem: "bridge", Name: "messages_total",
		Help: "Messages per channel: kind=mo routed to it, mt accepted from it, receipt matched to one of its MT."}, []string{"channel", "kind"})
	m.retries = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "smscbridge", Subsystem: "bridge", Name: "retries_total",
		Help: "Queue items scheduled for another attempt, by lane."}, []string{"lane"})
	m.dead = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "smscbridge", Subsystem: "bridge", Name: "dead_letters_total",
		Help: "Items dead-lettered by this process, by lane and reason class."}, []string{"lane", "reason"})
	m.commit = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "smscbridge", Subsystem: "store", Name: "commit_duration_seconds",
		Help: "Store write transactions, fsync included.", Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1}})
	m.commitBatch = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "smscbridge", Subsystem: "store", Name: "commit_batch_size",
		Help: "Calls carried by one store write transaction (group commit).", Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512}})
	m.reg.MustRegister(m.pdus, m.submit, m.callback, m.messages, m.retries, m.dead, m.commit, m.commitBatch,
		&gauges{d: d}, prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return m
}

// handler serves /metrics.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// PDU implements smsc.Meter.
func (m *metrics) PDU(id string, in bool, cmd pdu.CommandID, st pdu.Status) {
	dir := "out"
	if in {
		dir = "in"
	}
	m.pdus.WithLabelValues(id, dir, cmd.String(), st.String()).Inc()
}

// SubmitLatency implements smsc.Meter.
func (m *metrics) SubmitLatency(id string, d time.Duration) {
	m.submit.WithLabelValues(id).Observe(d.Seconds())
}

// Message implements bridge.Meter.
func (m *metrics) Message(kind, channel string) {
	m.messages.WithLabelValues(channel, kind).Inc()
	switch kind {
	case "mo":
		m.mo.Add(1)
	case "mt":
		m.mt.Add(1)
	case "receipt":
		m.receipts.Add(1)
	}
}

// Callback implements bridge.Meter.
func (m *metrics) Callback(channel string, code int, d time.Duration) {
	m.callback.WithLabelValues(channel, codeClass(code)).Observe(d.Seconds())
}

// Retry implements bridge.Meter.
func (m *metrics) Retry(lane string) { m.retries.WithLabelValues(lane).Inc() }

// Dead implements bridge.Meter.
func (m *metrics) Dead(lane, reason string) { m.dead.WithLabelValues(lane, reason).Inc() }

// onCommit is the store's Options.OnCommit.
func (m *metrics) onCommit(d time.Duration, calls int) {
	m.commit.Observe(d.Seconds())
	m.commitBatch.Observe(float64(calls))
}

func codeClass(code int) string {
	if code <= 0 {
		return "error"
	}
	return strconv.Itoa(code/100) + "xx"
}

// gauges reads the state of the daemon's components at each scrape.
type gauges struct{ d *daemon }

var (
	descSession = prometheus.NewDesc("smscbridge_smsc_session_state", "State of each bind (1 for its current state): idle, connecting, bound, unbinding, backoff, stopped, closed.",
		[]string{"smsc", "session", "bind", "state"}, nil)
	descSessionSince = prometheus.NewDesc("smscbridge_smsc_session_state_since_seconds", "Unix time when each bind entered its current state.",
		[]string{"smsc", "session", "bind"}, nil)
	descInflight = prometheus.NewDesc("smscbridge_smsc_session_inflight", "submit_sm awaiting their response on each bind.",
		[]string{"smsc", "session", "bind"}, nil)
	descThrottled = prometheus.NewDesc("smscbridge_smsc_throttled_total", "submit_sm answered ESME_RTHROTTLED or ESME_RMSGQFUL (held and sent again).",
		[]string{"smsc"}, nil)
	descStopped = prometheus.NewDesc("smscbridge_smsc_binds_stopped", "1 while an operator has stopped the SMSC's binds (POST /smsc/{id}/stop).",
		[]string{"smsc"}, nil)
	descSuspended = prometheus.NewDesc("smscbridge_smsc_mt_suspended", "1 while an operator has suspended the SMSC's MT (POST /smsc/{id}/suspend).",
		[]string{"smsc"}, nil)
	descQueued = prometheus.NewDesc("smscbridge_store_queue_depth", "Items queued per lane (leased ones included).", []string{"lane"}, nil)
	descLeased = prometheus.NewDesc("smscbridge_store_queue_leased", "Items being worked on per lane.", []string{"lane"}, nil)
	descDead   = prometheus.NewDesc("smscbridge_store_dead_letters", "Dead letters per lane.", []string{"lane"}, nil)
	descOldest = prometheus.NewDesc("smscbridge_store_queue_oldest_age_seconds", "Age of the oldest queued item per lane.", []string{"lane"}, nil)
	descReasm  = prometheus.NewDesc("smscbridge_store_reassembly_open", "Long MO waiting for more parts.", nil, nil)
	descTraceD = prometheus.NewDesc("smscbridge_store_trace_dropped_total", "Trace events dropped because the store could not keep up.", nil, nil)
	descInfo   = prometheus.NewDesc("smscbridge_build_info", "Always 1; the version label says which build runs.", []string{"version"}, nil)
	descStart  = prometheus.NewDesc("smscbridge_start_time_seconds", "Unix time the daemon started.", nil, nil)
)

func (g *gauges) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descSession, descSessionSince, descInflight, descThrottled, descStopped, descSuspended,
		descQueued, descLeased, descDead, descOldest, descReasm, descTraceD, descInfo, descStart} {
		ch <- d
	}
}

var sessionStates = []string{smsc.StateIdle, smsc.StateConnecting, smsc.StateBound, smsc.StateUnbinding, smsc.StateBackoff, smsc.StateStopped, smsc.StateClosed}

func (g *gauges) Collect(ch chan<- prometheus.Metric) {
	d := g.d
	gauge := func(desc *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v, labels...)
	}
	for id, c := range d.clients {
		st := c.Stats()
		var throttled uint64
		for i, s := range st.Sessions {
			n := strconv.Itoa(i)
			for _, state := range sessionStates {
				gauge(descSession, b2f(s.State == state), id, n, s.Mode, state)
			}
			if !s.Since.IsZero() {
				gauge(descSessionSince, float64(s.Since.UnixNano())/1e9, id, n, s.Mode)
			}
			gauge(descInflight, float64(s.Inflight), id, n, s.Mode)
			throttled += s.Throttled
		}
		ch <- prometheus.MustNewConstMetric(descThrottled, prometheus.CounterValue, float64(throttled), id)
		gauge(descStopped, b2f(c.Stopped()), id)
		gauge(descSuspended, b2f(d.bridge.MTSuspended(id)), id)
	}
	for lane, st := range d.store.Stats() {
		gauge(descQueued, float64(st.Queued), lane)
		gauge(descLeased, float64(st.Leased), lane)
		gauge(descDead, float64(st.Dead), lane)
	}
	if oldest, err := d.store.OldestQueued(); err == nil {
		now := time.Now()
		for lane, t := range oldest {
			gauge(descOldest, max(now.Sub(t).Seconds(), 0), lane)
		}
	}
	if n, err := d.store.ReassemblyOpen(); err == nil {
		gauge(descReasm, float64(n))
	}
	ch <- prometheus.MustNewConstMetric(descTraceD, prometheus.CounterValue, float64(d.store.TraceDropped()))
	gauge(descInfo, 1, version)
	gauge(descStart, float64(d.started.UnixNano())/1e9)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
