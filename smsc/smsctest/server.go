package smsctest

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/smscbridge/smscbridge/smsc/pdu"
)

// ErrNoReceiver is returned by Deliver and SendReceipt when no session
// bound as receiver or transceiver is up.
var ErrNoReceiver = errors.New("smsctest: no receiver or transceiver bound")

// ErrClosed is returned by requests on a closed session or server.
var ErrClosed = errors.New("smsctest: closed")

// Handler handles a request PDU received on a bound session (submit_sm,
// data_sm, query_sm, unknown commands…; binds, unbind and enquire_link are
// handled by the session itself). It returns the response to write, or nil
// to write none. Server.Default is the built-in behaviour, for handlers
// that only change some cases.
type Handler interface {
	HandlePDU(s *Session, p *pdu.PDU) *pdu.PDU
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(s *Session, p *pdu.PDU) *pdu.PDU

// HandlePDU calls f(s, p).
func (f HandlerFunc) HandlePDU(s *Session, p *pdu.PDU) *pdu.PDU { return f(s, p) }

// Submit is one recorded submit_sm.
type Submit struct {
	SM        *pdu.ShortMessage
	Seq       uint32
	N         uint64     // numeric id the message id was made from (0 when refused)
	MessageID string     // id returned ("" when refused)
	Status    pdu.Status // status answered
	SystemID  string     // account of the session
	Session   int        // Session.ID
	At        time.Time
}

// Stats counts what the server did.
type Stats struct {
	Binds        int `json:"binds"`
	OverWindow   int `json:"over_window"` // submits refused by WithMaxInflight
	Unbinds      int `json:"unbinds"`     // unbind requests received
	BindsRefused int `json:"binds_refused"`
	Submits      int `json:"submits"`
	SubmitErrors int `json:"submit_errors"`
	Throttled    int `json:"throttled"` // submits answered ESME_RTHROTTLED (Throttle or WithSubmitRate)
	MOSent       int `json:"mo_sent"`
	ReceiptsSent int `json:"receipts_sent"`
	DeliverFails int `json:"deliver_errors"`
	MaxInflight  int `json:"max_inflight"`
	Violations   int `json:"violations"` // SMPP 3.4 violations by ESMEs, lenient ones included
}

// Server is an in-process SMSC.
type Server struct {
	// configuration, fixed once started
	accounts       map[string]string
	systemID       string
	msgID          func(uint64) string
	receiptID      func(uint64) string
	autoReceipts   bool
	receiptDelay   time.Duration
	pickReceipt    func(Submit) Receipt
	log            *slog.Logger
	initTimeout    time.Duration
	enquireEvery   time.Duration
	enquireTimeout time.Duration
	respTimeout    time.Duration
	conflict       pdu.Status
	maxInflight    int
	overWindow     pdu.Status
	dc0            DC0
	lenient        map[Rule]bool
	lenientAll     bool
	hook           RequestHook
	rewrite        func([]byte) []byte
	submitRate     int // WithSubmitRate; 0 = unlimited

	ln     net.Listener
	cert   tls.Certificate // set by StartTLS
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	handler  Handler
	sessions map[*Session]struct{}
	nextSess int
	nextID   uint64
	submits  []Submit
	changed  chan struct{} // closed and replaced on every change
	stats    Stats
	faults   faults
	accepted []time.Time // times of the submits accepted in the last second (WithSubmitRate)
	rr       int
	closed   bool

	violations []Violation
	parts      map[concatKey]*partial // concatenated messages being received
}

type faults struct {
	throttle   int // next N submits throttled; <0 all
	status     pdu.Status
	statusBody bool
	delay      time.Duration
	drop       int // next N submits unanswered; <0 all
	refuse     pdu.Status
	silent     bool
}

// NewUnstartedServer returns a configured server that does not listen yet;
// call Start, or use ServeConn/DialPipe only.
func NewUnstartedServer(opts ...Option) *Server {
	s := &Server{
		accounts:    make(map[string]string),
		systemID:    "SMSCTEST",
		msgID:       DecimalIDs,
		log:         slog.New(slog.DiscardHandler),
		initTimeout: 60 * time.Second,
		respTimeout: 10 * time.Second,
		conflict:    pdu.StatusInvOptParamVal,
		sessions:    make(map[*Session]struct{}),
		changed:     make(chan struct{}),
		lenient:     make(map[Rule]bool),
		parts:       make(map[concatKey]*partial),
	}
	for _, o := range opts {
		o(s)
	}
	if s.receiptID == nil {
		s.receiptID = s.msgID
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s
}

// NewServer returns a started server listening on 127.0.0.1:0. It panics if
// it cannot listen, as httptest does.
func NewServer(opts ...Option) *Server {
	s := NewUnstartedServer(opts...)
	s.Start()
	return s
}

// Start listens on 127.0.0.1:0 and accepts connections.
func (s *Server) Start() {
	if err := s.Listen("127.0.0.1:0"); err != nil {
		panic("smsctest: " + err.Error())
	}
}

// Listen listens on addr (for cmd/smscsim) and accepts connections.
func (s *Server) Listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	s.serve(ln)
	return nil
}

// serve accepts connections from ln until Close.
func (s *Server) serve(ln net.Listener) {
	s.ln = ln
	s.wg.Go(func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			s.ServeConn(nc)
		}
	})
}

// Addr is the host:port the server listens on ("" before Start).
func (s *Server) Addr() string {
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// ServeConn serves one already open connection in new goroutines.
func (s *Server) ServeConn(nc net.Conn) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		nc.Close()
		return
	}
	s.nextSess++
	ss := newSession(s, nc, s.nextSess)
	s.sessions[ss] = struct{}{}
	s.mu.Unlock()
	s.wg.Go(ss.serve)
}

// DialPipe connects to the server over net.Pipe; its signature matches
// smsc.Options.Dial so clients can run inside testing/synctest.
func (s *Server) DialPipe(ctx context.Context, network, addr string) (net.Conn, error) {
	a, b := net.Pipe()
	s.ServeConn(b)
	return a, nil
}

// Close stops listening, closes every session and waits for all goroutines.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	all := s.sessionList()
	s.mu.Unlock()
	if s.ln != nil {
		s.ln.Close()
	}
	s.cancel()
	for _, ss := range all {
		ss.Close()
	}
	s.wg.Wait()
}

// sessionList returns the sessions; s.mu must be held.
func (s *Server) sessionList() []*Session {
	out := make([]*Session, 0, len(s.sessions))
	for ss := range s.sessions {
		out = append(out, ss)
	}
	return out
}

// Sessions returns the open sessions, bound or not.
func (s *Server) Sessions() []*Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessionList()
}

// BoundSessions returns the sessions that are bound.
func (s *Server) BoundSessions() []*Session {
	var out []*Session
	for _, ss := range s.Sessions() {
		if ss.Bind() != 0 {
			out = append(out, ss)
		}
	}
	return out
}

// notify wakes every waiter; s.mu must be held.
func (s *Server) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// wait blocks until cond (called with s.mu held) is true or ctx ends.
func (s *Server) wait(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		ok, ch := cond(), s.changed
		s.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// WaitBound waits until at least n sessions are bound.
func (s *Server) WaitBound(ctx context.Context, n int) error {
	return s.wait(ctx, func() bool {
		k := 0
		for ss := range s.sessions {
			if ss.Bind() != 0 {
				k++
			}
		}
		return k >= n
	})
}

// WaitStats waits until cond holds for the counters.
func (s *Server) WaitStats(ctx context.Context, cond func(Stats) bool) error {
	return s.wait(ctx, func() bool { return cond(s.stats) })
}

// Submits returns every submit_sm recorded so far, in arrival order.
func (s *Server) Submits() []Submit {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Submit(nil), s.submits...)
}

// WaitSubmits waits until at least n submits are recorded and returns them.
func (s *Server) WaitSubmits(ctx context.Context, n int) ([]Submit, error) {
	if err := s.wait(ctx, func() bool { return len(s.submits) >= n }); err != nil {
		return nil, err
	}
	return s.Submits(), nil
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// MaxInflight is the highest number of submits any session had received
// and not yet answered at one time.
func (s *Server) MaxInflight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats.MaxInflight
}

// SetHandler swaps the Handler (nil restores the default) at any time.
func (s *Server) SetHandler(h Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handler = h
}

// Throttle answers the next n submits with ESME_RTHROTTLED (n < 0: all
// until Throttle(0)).
func (s *Server) Throttle(n int) { s.setFault(func(f *faults) { f.throttle = n }) }

// SetStatus answers every submit with st (StatusOK restores normal
// answers); withBody makes error responses carry a message_id body too.
func (s *Server) SetStatus(st pdu.Status, withBody bool) {
	s.setFault(func(f *faults) { f.status, f.statusBody = st, withBody })
}

// SetDelay delays every submit_sm_resp by d (the reader keeps reading).
func (s *Server) SetDelay(d time.Duration) { s.setFault(func(f *faults) { f.delay = d }) }

// DropResponses never answers the next n submits (n < 0: all until
// DropResponses(0)).
func (s *Server) DropResponses(n int) { s.setFault(func(f *faults) { f.drop = n }) }

// RefuseBinds answers binds with st (StatusOK accepts again).
func (s *Server) RefuseBinds(st pdu.Status) { s.setFault(func(f *faults) { f.refuse = st }) }

func (s *Server) setFault(f func(*faults)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.faults)
}

// SetSilent makes every session read and ignore all requests, answering
// nothing (not even enquire_link): a black-holed link.
func (s *Server) SetSilent(on bool) { s.setFault(func(f *faults) { f.silent = on }) }

func (s *Server) silent() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults.silent
}

// DropConnections closes every connection at once, without unbind.
func (s *Server) DropConnections() {
	for _, ss := range s.Sessions() {
		ss.Close()
	}
}

// Deliver sends sm as a deliver_sm to a bound receiver or transceiver
// (round-robin) and returns the status of its deliver_sm_resp.
func (s *Server) Deliver(ctx context.Context, sm *pdu.ShortMessage) (pdu.Status, error) {
	ss := s.receiver("")
	if ss == nil {
		return 0, ErrNoReceiver
	}
	st, err := ss.Deliver(ctx, sm)
	s.countDeliver(st, err, &s.stats.MOSent)
	return st, err
}

func (s *Server) countDeliver(st pdu.Status, err error, n *int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil || st != pdu.StatusOK {
		s.stats.DeliverFails++
	}
	if err == nil {
		*n++
	}
	s.notify()
}

// receiver picks a bound RX-capable session, preferring account systemID.
func (s *Server) receiver(systemID string) *Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	var any, same []*Session
	for ss := range s.sessions {
		if ss.canReceive() {
			any = append(any, ss)
			if ss.SystemID() == systemID {
				same = append(same, ss)
			}
		}
	}
	if len(same) > 0 {
		any = same
	}
	if len(any) == 0 {
		return nil
	}
	s.rr++
	return any[s.rr%len(any)]
}

func (s *Server) remove(ss *Session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, ss)
	s.notify()
}

func (s *Server) logf(msg string, args ...any) { s.log.Debug(msg, args...) }
