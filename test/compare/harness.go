package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type harness struct {
	o    options
	sim  *simulator
	sink *sink
	runs int // phases run, for distinct tags
}

// Result is one daemon's figures.
type Result struct {
	MOAckPerSec      float64 `json:"mo_ack_per_s"`
	MOEndToEndPerSec float64 `json:"mo_end_to_end_per_s"`
	MOCPUMicros      float64 `json:"mo_cpu_us"`
	MOFailed         int     `json:"mo_not_acknowledged"`
	MOLost           int     `json:"mo_acknowledged_lost"`
	MODuplicates     int     `json:"mo_duplicates"`
	MT                       // the daemon's platform send calls
	// Sendsms: the same MT phase through the bridge's Kannel-compatible
	// sendsms (kannel channel), as the harness sends MT to Kannel.
	Sendsms *MT    `json:"mt_sendsms,omitempty"`
	Fixed   *Fixed `json:"fixed_rate,omitempty"`
}

// MT is one MT phase's figures.
type MT struct {
	MTAcceptedPerSec  float64 `json:"mt_accepted_per_s"`
	MTSubmitPerSec    float64 `json:"mt_submit_per_s"`
	MTDeliveredPerSec float64 `json:"mt_delivered_callback_per_s"`
	MTCPUMicros       float64 `json:"mt_cpu_us"`
	MTRefused         int     `json:"mt_refused"`
	MTNotSubmitted    int     `json:"mt_accepted_not_submitted"`
	MTNoDelivered     int     `json:"mt_accepted_no_delivered_callback"`
	MTDuplicates      int     `json:"mt_duplicate_submits"`
}

// lost: an accepted MT was not submitted or got no delivered callback.
func (m *MT) lost() bool { return m != nil && (m.MTNotSubmitted > 0 || m.MTNoDelivered > 0) }

func (m *MT) counts() string {
	return fmt.Sprintf("refused %d, accepted but not submitted %d, without delivered callback %d, duplicate submits %d",
		m.MTRefused, m.MTNotSubmitted, m.MTNoDelivered, m.MTDuplicates)
}

// Fixed is the fixed-rate run.
type Fixed struct {
	Seconds        float64    `json:"seconds"`
	MOSent         int        `json:"mo_sent"`
	MOBehind       int        `json:"mo_not_sent_in_time"`
	MOLat          [2]float64 `json:"mo_latency_ms_p50_p99"`
	MOLost         int        `json:"mo_acknowledged_lost"`
	MTSent         int        `json:"mt_sent"`
	MTBehind       int        `json:"mt_not_sent_in_time"`
	MTLat          [2]float64 `json:"mt_latency_ms_p50_p99"`
	MTLost         int        `json:"mt_accepted_not_submitted"`
	CPUSeconds     float64    `json:"cpu_seconds"`
	PeakRSSMB      float64    `json:"peak_rss_mb"`
	PeakAnonMB     float64    `json:"peak_rss_anon_mb"` // of it, the process's own memory (RssAnon), without mapped file pages
	DrainedSeconds float64    `json:"drain_seconds"`
}

func (r *Result) lossy() bool {
	return r.MOLost > 0 || r.MT.lost() || r.Sendsms.lost() || (r.Fixed != nil && (r.Fixed.MOLost > 0 || r.Fixed.MTLost > 0))
}

func cpuOf(t target) float64 {
	var sum float64
	for _, pid := range t.pids() {
		s, err := cpuSeconds(pid)
		if err == nil {
			sum += s
		}
	}
	return sum
}

// commitStats are a bridge's store counters (bridgeTarget.commitStats).
type commitStats struct{ commits, seconds, calls float64 }

// committer is a target that tells its store's commits (the bridge).
type committer interface{ commitStats() (commitStats, bool) }

// meter measures a phase from its start: the daemon's CPU, the harness's
// own (simulator, HTTP sink, load) and, for a committer, its store commits.
type meter struct {
	t           target
	start       time.Time
	cpu0, self0 float64
	cs0         commitStats
	csOK        bool
}

func startMeter(t target) *meter {
	m := &meter{t: t}
	if c, ok := t.(committer); ok {
		m.cs0, m.csOK = c.commitStats()
	}
	m.cpu0, m.self0, m.start = cpuOf(t), selfCPU(), time.Now()
	return m
}

// cpu is the daemon's CPU seconds since the start.
func (m *meter) cpu() float64 { return cpuOf(m.t) - m.cpu0 }

// note says how the phase's wall time so far was spent on CPU, in cores
// (the daemon's, given as cpu seconds, and the harness's, of
// runtime.NumCPU), and the store commits of a committer: rate, mean time,
// calls per commit and the share of the time its writer spent committing.
func (m *meter) note(cpu float64) string {
	wall := time.Since(m.start).Seconds()
	s := fmt.Sprintf("daemon %.2f cores, harness %.2f cores of %d", cpu/wall, (selfCPU()-m.self0)/wall, runtime.NumCPU())
	c, ok := m.t.(committer)
	if !ok || !m.csOK {
		return s
	}
	now, ok := c.commitStats()
	if !ok || now.commits <= m.cs0.commits {
		return s
	}
	n, sec, calls := now.commits-m.cs0.commits, now.seconds-m.cs0.seconds, now.calls-m.cs0.calls
	return s + fmt.Sprintf("; store: %.0f commits (%.0f/s), %.2f ms each, %.1f calls per commit, writer committing %.0f%% of the time",
		n, n/wall, sec/n*1000, calls/n, 100*sec/wall)
}

// selfCPU is the CPU seconds this harness has used so far.
func selfCPU() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// rssOf sums VmRSS and RssAnon over t's processes.
func rssOf(t target) (rss, anon int64) {
	for _, pid := range t.pids() {
		n, a, err := rssBytes(pid)
		if err == nil {
			rss, anon = rss+n, anon+a
		}
	}
	return rss, anon
}

// measure runs the throughput phases on one fresh daemon (MT through
// sendsms too when it serves it), then the fixed-rate run on another.
func (h *harness) measure(t target) (*Result, error) {
	fmt.Printf("compare: %s: starting\n", t.name())
	if err := t.start(); err != nil {
		return nil, err
	}
	r := &Result{}
	err := h.moPhase(t, r)
	if err == nil {
		err = h.mtPhase(t, "MT", t.sendMT, &r.MT)
	}
	if s, ok := t.(sendsmsTarget); ok && err == nil {
		r.Sendsms = &MT{}
		err = h.mtPhase(t, "MT sendsms", s.sendsms, r.Sendsms)
	}
	t.stop()
	if err != nil || h.o.duration <= 0 {
		return r, err
	}
	if err := t.start(); err != nil {
		return r, err
	}
	defer t.stop()
	r.Fixed, err = h.fixedRate(t)
	return r, err
}

const settle = 250 * time.Millisecond

// moPhase: o.mo deliver_sm, o.moWindow in flight, until every one is at
// the sink (or the phase times out).
func (h *harness) moPhase(t target, r *Result) error {
	h.runs++
	phase := "p" + strconv.Itoa(h.runs)
	h.sink.reset()
	ctx, cancel := context.WithTimeout(context.Background(), h.o.phaseTimeout)
	defer cancel()
	acked := make([]bool, h.o.mo)
	m := startMeter(t)
	start := m.start
	work := make(chan int, h.o.mo)
	for i := range h.o.mo {
		work <- i
	}
	close(work)
	var wg sync.WaitGroup
	var failed atomic.Int64
	for range h.o.moWindow {
		wg.Go(func() {
			for i := range work {
				sm, _ := moMessage(phase, i, h.o.contacts)
				st, err := h.sim.srv.Deliver(ctx, sm)
				if err != nil || st != 0 {
					failed.Add(1)
					continue
				}
				acked[i] = true
			}
		})
	}
	wg.Wait()
	ackDone := time.Since(start)
	n := h.o.mo - int(failed.Load())
	werr := waitUntil(t.name()+" MO at the platform", time.Until(deadline(ctx)), func() error {
		if got := int(h.sink.mo.n.Load()); got < n {
			return fmt.Errorf("%d of %d", got, n)
		}
		return nil
	})
	last := h.lastArrival(h.sink.mo)
	time.Sleep(settle)
	cpu := m.cpu()
	got := int(h.sink.mo.n.Load())
	r.MOFailed = int(failed.Load())
	for i, ok := range acked {
		if _, seen := h.sink.mo.get(fmt.Sprintf("mo %s %d", phase, i)); ok && !seen {
			r.MOLost++
		}
	}
	r.MODuplicates = h.sink.mo.duplicates()
	r.MOAckPerSec = rate(n, ackDone)
	r.MOEndToEndPerSec = rate(got, last.Sub(start))
	if got > 0 {
		r.MOCPUMicros = cpu / float64(got) * 1e6
	}
	fmt.Printf("compare: %s: MO %d acked in %.2fs, %d at the platform in %.2fs, CPU %.2fs (%s)\n", t.name(), n, ackDone.Seconds(), got, last.Sub(start).Seconds(), cpu,
		m.note(cpu))
	return werr
}

func deadline(ctx context.Context) time.Time {
	d, _ := ctx.Deadline()
	return d
}

func rate(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return math.Round(float64(n) / d.Seconds())
}

func (h *harness) lastArrival(s *stamps) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	var last time.Time
	for _, t := range s.first {
		if t.After(last) {
			last = t
		}
	}
	return last
}

// mtPhase: o.mt send calls by send, o.mtConc at once, until every accepted
// MT has its submit_sm at the simulator and its delivered callback at the
// sink; what names the phase in messages.
func (h *harness) mtPhase(t target, what string, send func(ctx context.Context, id int, to, text string) error, r *MT) error {
	h.runs++
	base := h.runs * 10_000_000
	h.sink.reset()
	h.sim.reset()
	ctx, cancel := context.WithTimeout(context.Background(), h.o.phaseTimeout)
	defer cancel()
	accepted := make([]bool, h.o.mt)
	m := startMeter(t)
	start := m.start
	work := make(chan int, h.o.mt)
	for i := range h.o.mt {
		work <- i
	}
	close(work)
	var wg sync.WaitGroup
	var refused atomic.Int64
	var once sync.Once
	for range h.o.mtConc {
		wg.Go(func() {
			for i := range work {
				id := base + i
				if err := send(ctx, id, mtTo(i, h.o.contacts), fmt.Sprintf("mt %d", id)); err != nil {
					refused.Add(1)
					once.Do(func() { fmt.Printf("compare: %s: %s refused: %v\n", t.name(), what, err) })
					continue
				}
				accepted[i] = true
			}
		})
	}
	wg.Wait()
	acceptDone := time.Since(start)
	n := h.o.mt - int(refused.Load())
	subs := h.sim.submits.Load()
	werr := waitUntil(t.name()+" "+what+" submitted and delivered", time.Until(deadline(ctx)), func() error {
		s, d := int(subs.n.Load()), int(h.sink.delivered.n.Load())
		if s < n || d < n {
			return fmt.Errorf("%d submitted, %d delivered callbacks of %d", s, d, n)
		}
		return nil
	})
	lastSub, lastDel := h.lastArrival(subs), h.lastArrival(h.sink.delivered)
	time.Sleep(settle)
	cpu := m.cpu()
	for i, ok := range accepted {
		if !ok {
			continue
		}
		id := base + i
		if _, seen := subs.get(fmt.Sprintf("mt %d", id)); !seen {
			r.MTNotSubmitted++
		}
		if _, seen := h.sink.delivered.get(strconv.Itoa(id)); !seen {
			r.MTNoDelivered++
		}
	}
	r.MTRefused = int(refused.Load())
	r.MTDuplicates = subs.duplicates()
	r.MTAcceptedPerSec = rate(n, acceptDone)
	r.MTSubmitPerSec = rate(int(subs.n.Load()), lastSub.Sub(start))
	r.MTDeliveredPerSec = rate(int(h.sink.delivered.n.Load()), lastDel.Sub(start))
	if d := int(h.sink.delivered.n.Load()); d > 0 {
		r.MTCPUMicros = cpu / float64(d) * 1e6
	}
	fmt.Printf("compare: %s: %s %d accepted in %.2fs, %d submitted by %.2fs, %d delivered callbacks by %.2fs, CPU %.2fs (%s)\n",
		t.name(), what, n, acceptDone.Seconds(), subs.n.Load(), lastSub.Sub(start).Seconds(), h.sink.delivered.n.Load(), lastDel.Sub(start).Seconds(), cpu,
		m.note(cpu))
	return werr
}

// fixedRate sends o.rate MO/s and o.rate MT/s together for o.duration,
// then waits (bounded) for everything to arrive.
func (h *harness) fixedRate(t target) (*Fixed, error) {
	h.runs++
	phase := "p" + strconv.Itoa(h.runs)
	base := h.runs * 10_000_000
	h.sink.reset()
	h.sim.reset()
	subs := h.sim.submits.Load()
	total := int(float64(h.o.rate) * h.o.duration.Seconds())
	moSent := make([]time.Time, total)
	mtSent := make([]time.Time, total)
	moOK := make([]bool, total)
	mtOK := make([]bool, total)
	f := &Fixed{Seconds: h.o.duration.Seconds()}
	ctx, cancel := context.WithTimeout(context.Background(), h.o.duration+h.o.phaseTimeout)
	defer cancel()

	var peak, peakAnon atomic.Int64
	stopRSS := make(chan struct{})
	var rssWG sync.WaitGroup
	rssWG.Go(func() {
		tk := time.NewTicker(100 * time.Millisecond)
		defer tk.Stop()
		for {
			v, a := rssOf(t)
			if v > peak.Load() {
				peak.Store(v)
			}
			if a > peakAnon.Load() {
				peakAnon.Store(a)
			}
			select {
			case <-stopRSS:
				return
			case <-tk.C:
			}
		}
	})
	m := startMeter(t)
	start := m.start
	var wg sync.WaitGroup
	moWork, mtWork := make(chan int, h.o.rate), make(chan int, h.o.rate)
	for range 200 {
		wg.Go(func() {
			for i := range moWork {
				sm, _ := moMessage(phase, i, h.o.contacts)
				moSent[i] = time.Now()
				if st, err := h.sim.srv.Deliver(ctx, sm); err == nil && st == 0 {
					moOK[i] = true
				}
			}
		})
		wg.Go(func() {
			for i := range mtWork {
				id := base + i
				mtSent[i] = time.Now()
				if t.sendMT(ctx, id, mtTo(i, h.o.contacts), fmt.Sprintf("mt %d", id)) == nil {
					mtOK[i] = true
				}
			}
		})
	}
	// Pace: every 10ms, queue what is due; what does not fit (the daemon
	// is not keeping up) is counted as behind and not sent.
	tk := time.NewTicker(10 * time.Millisecond)
	moNext, mtNext := 0, 0
	for moNext < total || mtNext < total {
		<-tk.C
		due := min(total, int(time.Since(start).Seconds()*float64(h.o.rate)))
		for ; moNext < due; moNext++ {
			select {
			case moWork <- moNext:
			default:
				f.MOBehind++
			}
		}
		for ; mtNext < due; mtNext++ {
			select {
			case mtWork <- mtNext:
			default:
				f.MTBehind++
			}
		}
	}
	tk.Stop()
	close(moWork)
	close(mtWork)
	wg.Wait()
	sentDone := time.Now()
	var moN, mtN int
	for i := range total {
		if moOK[i] {
			moN++
		}
		if mtOK[i] {
			mtN++
		}
	}
	f.MOSent, f.MTSent = moN, mtN
	werr := waitUntil(t.name()+" fixed-rate drain", time.Until(deadline(ctx)), func() error {
		if m, s := int(h.sink.mo.n.Load()), int(subs.n.Load()); m < moN || s < mtN {
			return fmt.Errorf("MO %d of %d at the platform, MT %d of %d submitted", m, moN, s, mtN)
		}
		return nil
	})
	f.DrainedSeconds = time.Since(sentDone).Seconds()
	time.Sleep(settle)
	f.CPUSeconds = math.Round(m.cpu()*100) / 100
	close(stopRSS)
	rssWG.Wait()
	f.PeakRSSMB = math.Round(float64(peak.Load())/(1<<20)*10) / 10
	f.PeakAnonMB = math.Round(float64(peakAnon.Load())/(1<<20)*10) / 10
	var moLat, mtLat []time.Duration
	for i := range total {
		if moOK[i] {
			if at, ok := h.sink.mo.get(fmt.Sprintf("mo %s %d", phase, i)); ok {
				moLat = append(moLat, at.Sub(moSent[i]))
			} else {
				f.MOLost++
			}
		}
		if mtOK[i] {
			if at, ok := subs.get(fmt.Sprintf("mt %d", base+i)); ok {
				mtLat = append(mtLat, at.Sub(mtSent[i]))
			} else {
				f.MTLost++
			}
		}
	}
	f.MOLat[0], f.MOLat[1] = percentiles(moLat)
	f.MTLat[0], f.MTLat[1] = percentiles(mtLat)
	fmt.Printf("compare: %s: fixed rate %d/s for %v: MO %d sent (%d behind) p50 %.1fms p99 %.1fms; MT %d sent (%d behind) p50 %.1fms p99 %.1fms; CPU %.2fs (%s), peak RSS %.1f MB (anonymous %.1f MB), drained in %.1fs\n",
		t.name(), h.o.rate, h.o.duration, moN, f.MOBehind, f.MOLat[0], f.MOLat[1], mtN, f.MTBehind, f.MTLat[0], f.MTLat[1], f.CPUSeconds,
		m.note(f.CPUSeconds), f.PeakRSSMB, f.PeakAnonMB, f.DrainedSeconds)
	return f, werr
}

// printTable prints the figures side by side; ratio > 1 means smscbridge
// is better (faster, or less CPU, latency or memory).
func printTable(w io.Writer, rep *Report) {
	k, b := rep.Kannel, rep.Bridge
	if k == nil {
		k = &Result{}
	}
	if b == nil {
		b = &Result{}
	}
	fmt.Fprintf(w, "\n%s, %s\n", rep.Date.Format("2006-01-02 15:04 UTC"), rep.Machine)
	fmt.Fprintf(w, "| figure | Kannel (file store) | smscbridge | ratio (>1: bridge better) |\n|---|---|---|---|\n")
	row := func(name, unit string, kv, bv float64, higherBetter bool) {
		ratio := "—"
		if kv > 0 && bv > 0 {
			x := bv / kv
			if !higherBetter {
				x = kv / bv
			}
			ratio = fmt.Sprintf("%.2f×", x)
		}
		cell := func(v float64) string {
			if v == 0 {
				return "—"
			}
			return fmt.Sprintf("%s %s", group(v), unit)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", name, cell(kv), cell(bv), ratio)
	}
	o := rep.Options.(map[string]any)
	row("MO deliver_sm → platform request, end to end", "/s", k.MOEndToEndPerSec, b.MOEndToEndPerSec, true)
	row(fmt.Sprintf("MO acknowledged on the SMPP side (window %v)", o["mo_window"]), "/s", k.MOAckPerSec, b.MOAckPerSec, true)
	row(fmt.Sprintf("MT send calls accepted (%v concurrent)", o["mt_concurrency"]), "/s", k.MTAcceptedPerSec, b.MTAcceptedPerSec, true)
	row("MT submit_sm", "/s", k.MTSubmitPerSec, b.MTSubmitPerSec, true)
	row("MT with receipts, delivered callback done", "/s", k.MTDeliveredPerSec, b.MTDeliveredPerSec, true)
	// The bridge's sendsms against Kannel's own (the harness's MT to Kannel is sendsms).
	bs := b.Sendsms
	if bs == nil {
		bs = &MT{}
	}
	row("MT sendsms accepted", "/s", k.MTAcceptedPerSec, bs.MTAcceptedPerSec, true)
	row("MT sendsms with receipts, delivered callback done", "/s", k.MTDeliveredPerSec, bs.MTDeliveredPerSec, true)
	row("daemon CPU per MO, end to end", "µs", k.MOCPUMicros, b.MOCPUMicros, false)
	row("daemon CPU per MT with its receipt and callbacks", "µs", k.MTCPUMicros, b.MTCPUMicros, false)
	kf, bf := k.Fixed, b.Fixed
	if kf == nil {
		kf = &Fixed{}
	}
	if bf == nil {
		bf = &Fixed{}
	}
	fr := fmt.Sprintf("%v/s for %v", o["rate"], o["duration"])
	row("fixed "+fr+": MO p50 deliver_sm → request", "ms", kf.MOLat[0], bf.MOLat[0], false)
	row("fixed "+fr+": MO p99 deliver_sm → request", "ms", kf.MOLat[1], bf.MOLat[1], false)
	row("fixed "+fr+": MT p50 send call → submit_sm", "ms", kf.MTLat[0], bf.MTLat[0], false)
	row("fixed "+fr+": MT p99 send call → submit_sm", "ms", kf.MTLat[1], bf.MTLat[1], false)
	row("fixed "+fr+": daemon CPU", "s", kf.CPUSeconds, bf.CPUSeconds, false)
	row("fixed "+fr+": peak RSS", "MB", kf.PeakRSSMB, bf.PeakRSSMB, false)
	row("fixed "+fr+": peak RSS without mapped file pages (RssAnon)", "MB", kf.PeakAnonMB, bf.PeakAnonMB, false)
	for _, x := range []struct {
		name string
		r    *Result
	}{{"Kannel", rep.Kannel}, {"smscbridge", rep.Bridge}} {
		if x.r == nil {
			continue
		}
		r := x.r
		fmt.Fprintf(w, "%s counts: MO not acknowledged %d, acknowledged but lost %d, duplicates %d; MT %s",
			x.name, r.MOFailed, r.MOLost, r.MODuplicates, r.MT.counts())
		if r.Sendsms != nil {
			fmt.Fprintf(w, "; MT sendsms %s", r.Sendsms.counts())
		}
		if f := r.Fixed; f != nil {
			fmt.Fprintf(w, "; fixed rate: MO sent %d (behind %d, lost %d), MT sent %d (behind %d, not submitted %d), drained in %.1fs", f.MOSent, f.MOBehind, f.MOLost, f.MTSent, f.MTBehind, f.MTLost, f.DrainedSeconds)
		}
		fmt.Fprintln(w)
	}
	if rep.KannelErr != "" {
		fmt.Fprintln(w, "Kannel:", rep.KannelErr)
	}
}

// group formats v with thousands separators (integers) or one decimal.
func group(v float64) string {
	if v < 100 && v != math.Trunc(v) {
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
