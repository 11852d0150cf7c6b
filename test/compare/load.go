package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smscbridge/smscbridge/smsc/coding"
	"github.com/smscbridge/smscbridge/smsc/pdu"
	"github.com/smscbridge/smscbridge/smsc/smsctest"
)

// Message texts carry a tag the harness reads back at both ends: "mo
// <phase> <n>" for MO (the sink sees it in the platform request) and "mt
// <id>" for MT (the simulator sees it in the submit_sm).

// stamps records the first time each tag was seen and how often.
type stamps struct {
	mu    sync.Mutex
	first map[string]time.Time
	count map[string]int
	dups  int
	n     atomic.Int64 // distinct tags seen
}

func newStamps() *stamps {
	return &stamps{first: map[string]time.Time{}, count: map[string]int{}}
}

func (s *stamps) add(tag string, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count[tag]++
	if s.count[tag] == 1 {
		s.first[tag] = at
		s.n.Add(1)
	} else {
		s.dups++
	}
}

func (s *stamps) get(tag string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.first[tag]
	return t, ok
}

func (s *stamps) duplicates() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dups
}

// sink is the stand-in platform: it answers 200 to everything and records
// per path kind (mo, sent, delivered, failed, other) and per id.
type sink struct {
	srv                       *http.Server
	addr                      string
	mo, sent, delivered, fail *stamps
	other                     atomic.Int64
}

func newSink() (*sink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &sink{addr: ln.Addr().String()}
	s.reset()
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// reset starts new counts (between phases; nothing is in flight then).
func (s *sink) reset() {
	s.mo, s.sent, s.delivered, s.fail = newStamps(), newStamps(), newStamps(), newStamps()
	s.other.Store(0)
}

func (s *sink) url() string { return "http://" + s.addr }

func (s *sink) serve(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	switch p := r.URL.Path; {
	case p == "/kannel/mo":
		// Kannel's get-url: the text is %b in "msg" (kannel.conf.tmpl).
		s.mo.add(r.Form.Get("msg"), now)
	case strings.HasSuffix(p, "/receive"):
		// RapidPro EX receive: form "text".
		s.mo.add(r.Form.Get("text"), now)
	case p == "/kannel/dlr":
		// Kannel dlr-url: id from our URL, type from Kannel's %d.
		switch r.Form.Get("type") {
		case "1":
			s.delivered.add(r.Form.Get("id"), now)
		case "8":
			s.sent.add(r.Form.Get("id"), now)
		case "2", "16":
			s.fail.add(r.Form.Get("id"), now)
		default:
			s.other.Add(1)
		}
	case strings.HasSuffix(p, "/sent"):
		s.sent.add(r.Form.Get("id"), now)
	case strings.HasSuffix(p, "/delivered"):
		s.delivered.add(r.Form.Get("id"), now)
	case strings.HasSuffix(p, "/failed"):
		s.fail.add(r.Form.Get("id"), now)
	default:
		s.other.Add(1)
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"message":"Accepted"}`)
}

func (s *sink) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.srv.Shutdown(ctx)
}

// simulator is the one SMSC both daemons bind to: smsctest, strict, with
// delivery receipts for submits that ask for them. It records when each
// MT tag's submit_sm arrived.
type simulator struct {
	srv     *smsctest.Server
	submits atomic.Pointer[stamps]
}

func newSimulator(receiptDelay time.Duration) (*simulator, error) {
	sim := &simulator{}
	sim.submits.Store(newStamps())
	sim.srv = smsctest.NewUnstartedServer(smsctest.WithAccount("bridge", "secret"),
		smsctest.WithReceipts(receiptDelay, nil),
		smsctest.WithHandler(smsctest.HandlerFunc(sim.answer)))
	if err := sim.srv.Listen("127.0.0.1:0"); err != nil {
		return nil, err
	}
	return sim, nil
}

func (sim *simulator) answer(ss *smsctest.Session, p *pdu.PDU) *pdu.PDU {
	if sm, ok := p.Body.(*pdu.ShortMessage); ok && p.ID == pdu.SubmitSM {
		if text, err := coding.Decode(sm.DataCoding, sm.Message); err == nil {
			sim.submits.Load().add(text, time.Now())
		}
	}
	return sim.srv.Default(ss, p)
}

func (sim *simulator) reset() { sim.submits.Store(newStamps()) }

func (sim *simulator) port() int {
	_, p, _ := net.SplitHostPort(sim.srv.Addr())
	n, _ := strconv.Atoi(p)
	return n
}

// waitBound waits until a session is bound (the daemon under test).
func (sim *simulator) waitBound(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return sim.srv.WaitBound(ctx, 1)
}

// moMessage is MO number n of a phase: from one of contacts senders to the
// platform's number, text "mo <phase> <n>".
func moMessage(phase string, n, contacts int) (*pdu.ShortMessage, string) {
	tag := fmt.Sprintf("mo %s %d", phase, n)
	return &pdu.ShortMessage{SourceTON: 1, SourceNPI: 1, SourceAddr: strconv.Itoa(2349067550000 + n%contacts),
		DestTON: 1, DestNPI: 1, DestAddr: platformNumber[1:], Message: []byte(tag)}, tag
}

// mtTo is the recipient of MT number n.
func mtTo(n, contacts int) string { return "+250788" + strconv.Itoa(100000+n%contacts) }

// percentiles returns p50 and p99 of ds in milliseconds.
func percentiles(ds []time.Duration) (p50, p99 float64) {
	if len(ds) == 0 {
		return 0, 0
	}
	slices.Sort(ds)
	at := func(q float64) float64 {
		i := int(q * float64(len(ds)-1))
		return float64(ds[i]) / float64(time.Millisecond)
	}
	return at(0.50), at(0.99)
}
