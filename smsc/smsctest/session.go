package smsctest

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/smscbridge/smscbridge/smsc/pdu"
)

// Session is one ESME connection to the server.
type Session struct {
	srv  *Server
	nc   net.Conn
	id   int
	out  chan outItem
	done chan struct{}
	once sync.Once
	wg   sync.WaitGroup

	mu          sync.Mutex
	bind        pdu.CommandID
	systemID    string
	seq         uint32
	pending     map[uint32]pendingReq
	inflight    int
	maxInflight int
	raw         bool // WriteRaw was used: a generic_nack may answer octets of any sequence_number
}

// pendingReq is a request the server sent and awaits the answer to.
type pendingReq struct {
	ch chan *pdu.PDU
	id pdu.CommandID
}

type outItem struct {
	b          []byte
	closeAfter bool
}

func newSession(srv *Server, nc net.Conn, id int) *Session {
	return &Session{
		srv: srv, nc: nc, id: id,
		out:     make(chan outItem, 64),
		done:    make(chan struct{}),
		pending: make(map[uint32]pendingReq),
	}
}

// ID numbers sessions from 1 in connection order.
func (ss *Session) ID() int { return ss.id }

// RemoteAddr is the ESME's address as the server sees it.
func (ss *Session) RemoteAddr() net.Addr { return ss.nc.RemoteAddr() }

// SystemID is the account the session bound with ("" before the bind).
func (ss *Session) SystemID() string {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.systemID
}

// Bind is the bind command the session is bound with (0 before the bind).
func (ss *Session) Bind() pdu.CommandID {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.bind
}

// MaxInflight is the highest number of submits this session had received
// and not yet answered at one time.
func (ss *Session) MaxInflight() int {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.maxInflight
}

func (ss *Session) canReceive() bool {
	b := ss.Bind()
	return b == pdu.BindReceiver || b == pdu.BindTransceiver
}

// Close closes the connection without unbind.
func (ss *Session) Close() {
	ss.once.Do(func() {
		close(ss.done)
		ss.nc.Close()
	})
}

// Done is closed when the session has ended.
func (ss *Session) Done() <-chan struct{} { return ss.done }

// serve runs the session: a writer goroutine and this reader.
func (ss *Session) serve() {
	defer ss.srv.remove(ss)
	ss.wg.Go(ss.writeLoop)
	if d := ss.srv.initTimeout; d > 0 {
		t := time.AfterFunc(d, func() {
			if ss.Bind() == 0 {
				ss.srv.logf("session-init timeout", "session", ss.id)
				ss.Close()
			}
		})
		defer t.Stop()
	}
	br := bufio.NewReaderSize(ss.nc, 16*1024)
	for {
		p, err := pdu.Read(br, 0)
		if err != nil && !ss.undecodable(p, err) {
			break
		}
		if err == nil {
			ss.dispatch(p)
		}
	}
	ss.Close()
	ss.wg.Wait()
}

// undecodable answers a PDU that failed to decode and records the
// violation; false ends the session.
func (ss *Session) undecodable(p *pdu.PDU, err error) bool {
	var de *pdu.DecodeError
	if !errors.As(err, &de) {
		return false
	}
	ss.srv.logf("undecodable PDU", "session", ss.id, "err", err)
	h := de.Header
	c := ss.srv.newChecker(ss, h)
	switch {
	case !de.HeaderOK:
		c.fail(RuleMalformed, de.Status, "%v", de.Err)
		ss.Write(pdu.NewGenericNack(h.Seq, de.Status))
		return false
	case h.ID.IsResponse():
		c.fail(RuleMalformed, pdu.StatusOK, "%v", de.Err)
		if p != nil {
			ss.settle(p)
		}
	case !h.ID.Known():
		c.fail(RuleCommand, de.Status, "command_id 0x%08X is not an SMPP 3.4 command", uint32(h.ID))
		ss.answer(&pdu.PDU{Header: h}, pdu.NewGenericNack(h.Seq, de.Status), c)
	case h.ID.HasResponse():
		c.fail(RuleMalformed, de.Status, "%v", de.Err)
		if h.ID == pdu.SubmitSM {
			ss.srv.count(func(st *Stats) { st.SubmitErrors++ })
		}
		ss.answer(&pdu.PDU{Header: h}, pdu.NewResponse(&pdu.PDU{Header: h}, de.Status, nil), c)
	default: // outbind, alert_notification: nothing to answer
		c.fail(RuleMalformed, pdu.StatusOK, "%v", de.Err)
	}
	return true
}

// answer passes a request, its answer and its violations to the
// RequestHook, then writes the answer (resp nil: none).
func (ss *Session) answer(req, resp *pdu.PDU, c *checker) {
	ss.srv.callHook(ss, req, resp, c.vs)
	if resp != nil {
		ss.Write(resp)
	}
}

// respOrNack is req's response with st, or a generic_nack for a command
// that has no response.
func respOrNack(req *pdu.PDU, st pdu.Status) *pdu.PDU {
	if req.ID.HasResponse() {
		return pdu.NewResponse(req, st, nil)
	}
	return pdu.NewGenericNack(req.Seq, st)
}

// dispatch handles one decoded PDU.
func (ss *Session) dispatch(p *pdu.PDU) {
	ss.srv.logf("PDU in", "session", ss.id, "command", p.ID, "seq", p.Seq, "status", p.Status)
	if p.ID.IsResponse() {
		ss.settle(p)
		return
	}
	if ss.srv.silent() {
		return
	}
	c := ss.srv.newChecker(ss, p.Header)
	c.header()
	switch {
	case c.st != pdu.StatusOK:
		ss.answer(p, pdu.NewGenericNack(p.Seq, c.st), c)
	case p.ID == pdu.BindTransceiver || p.ID == pdu.BindTransmitter || p.ID == pdu.BindReceiver:
		ss.doBind(p, c)
	case p.ID == pdu.EnquireLink:
		ss.answer(p, pdu.NewResponse(p, pdu.StatusOK, nil), c)
	case p.ID == pdu.Unbind:
		ss.srv.count(func(s *Stats) { s.Unbinds++ })
		resp := pdu.NewResponse(p, pdu.StatusOK, nil)
		ss.srv.callHook(ss, p, resp, c.vs)
		ss.writeItem(resp, true)
	case ss.Bind() == 0:
		// Even a lenient SMSC cannot serve a request before the bind.
		c.fail(RuleBindState, pdu.StatusInvBndSts, "%s before the bind", p.ID)
		ss.answer(p, respOrNack(p, pdu.StatusInvBndSts), c)
	default:
		ss.request(p, c)
	}
}

// doBind checks a bind request and answers it.
func (ss *Session) doBind(p *pdu.PDU, c *checker) {
	b, _ := p.Body.(*pdu.Bind)
	if b != nil {
		c.bind(b)
	}
	st := ss.srv.checkBind(b)
	if c.st != pdu.StatusOK {
		st = c.st
	}
	if bound := ss.Bind(); bound != 0 {
		c.fail(RuleBindState, pdu.StatusAlyBnd, "%s on a session already bound (%s)", p.ID, bound)
		st = pdu.StatusAlyBnd
	}
	resp := pdu.NewResponse(p, st, &pdu.BindResp{SystemID: ss.srv.systemID})
	if st == pdu.StatusOK && b.InterfaceVersion >= pdu.InterfaceVersion34 {
		// An SMPP 3.3 ESME (below 0x34) gets no TLV.
		resp.Body.(*pdu.BindResp).TLVs.SetUint8(pdu.TagSCInterfaceVersion, pdu.InterfaceVersion34)
	}
	ss.srv.callHook(ss, p, resp, c.vs)
	if st != pdu.StatusOK {
		ss.srv.count(func(s *Stats) { s.BindsRefused++ }) // counted before the ESME can see it
		ss.Write(resp)
		return
	}
	// Bound and bind_resp queued in one step under ss.mu, where Request
	// queues too: no deliver_sm can overtake the bind_resp, and the
	// session is bound before the ESME can see the response.
	ss.srv.count(func(s *Stats) { s.Binds++ }) // not under ss.mu: lock order is srv.mu, then ss.mu
	ss.mu.Lock()
	ss.bind, ss.systemID = p.ID, b.SystemID
	ss.Write(resp)
	ss.mu.Unlock()
	ss.srv.count(func(*Stats) {}) // wake WaitBound now that the state is set
	if ss.srv.enquireEvery > 0 {
		ss.wg.Go(ss.enquireLoop)
	}
}

// smscOnly reports whether only an SMSC may send command id.
func smscOnly(id pdu.CommandID) bool {
	return id == pdu.DeliverSM || id == pdu.AlertNotification || id == pdu.Outbind
}

// refused answers a request that breaks a strict rule with c.st; a
// submit_sm is recorded with that status. It reports false when there is
// nothing to refuse.
func (ss *Session) refused(p *pdu.PDU, c *checker) bool {
	if c.st == pdu.StatusOK {
		return false
	}
	if sm, ok := p.Body.(*pdu.ShortMessage); ok && p.ID == pdu.SubmitSM {
		ss.srv.record(Submit{SM: sm, Seq: p.Seq, SystemID: ss.SystemID(), Session: ss.id, At: time.Now(), Status: c.st})
	}
	ss.answer(p, respOrNack(p, c.st), c)
	return true
}

// request checks a request on a bound session, then runs it through the
// Handler unless a strict rule refuses it.
func (ss *Session) request(p *pdu.PDU, c *checker) {
	submit := p.ID == pdu.SubmitSM
	if smscOnly(p.ID) {
		c.fail(RuleCommand, pdu.StatusInvBndSts, "%s is sent by an SMSC, not by an ESME", p.ID)
	}
	if submit && ss.Bind() == pdu.BindReceiver {
		// Even a lenient SMSC cannot take a submit on a receiver.
		c.fail(RuleBindState, pdu.StatusInvBndSts, "submit_sm on a session bound as receiver")
		ss.answer(p, pdu.NewResponse(p, pdu.StatusInvBndSts, nil), c)
		return
	}
	if sm, ok := p.Body.(*pdu.ShortMessage); ok && submit {
		c.submit(sm)
	}
	if ss.refused(p, c) {
		return
	}
	if submit {
		ss.mu.Lock()
		over := ss.srv.maxInflight > 0 && ss.inflight >= ss.srv.maxInflight
		if !over {
			ss.inflight++
			ss.maxInflight = max(ss.maxInflight, ss.inflight)
		}
		m := ss.maxInflight
		ss.mu.Unlock()
		if over {
			ss.srv.count(func(s *Stats) { s.OverWindow++ })
			ss.Write(pdu.NewResponse(p, ss.srv.overWindow, nil))
			return
		}
		ss.srv.count(func(s *Stats) { s.MaxInflight = max(s.MaxInflight, m) })
	}
	ss.srv.mu.Lock()
	h, delay := ss.srv.handler, ss.srv.faults.delay
	ss.srv.mu.Unlock()
	var resp *pdu.PDU
	if h != nil {
		resp = h.HandlePDU(ss, p)
	} else {
		resp = ss.srv.Default(ss, p)
	}
	ss.srv.callHook(ss, p, resp, c.vs)
	answer := func() {
		if submit { // before the write: the ESME may send the next one at once
			ss.mu.Lock()
			ss.inflight--
			ss.mu.Unlock()
		}
		if resp != nil {
			ss.Write(resp)
		}
	}
	if !submit || delay <= 0 || resp == nil {
		answer()
		return
	}
	ss.wg.Go(func() {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
			answer()
		case <-ss.done:
		}
	})
}

// Write queues p for the wire as it is (sequence number included).
func (ss *Session) Write(p *pdu.PDU) error { return ss.writeItem(p, false) }

func (ss *Session) writeItem(p *pdu.PDU, closeAfter bool) error {
	b, err := p.MarshalBinary()
	if err != nil {
		return err
	}
	ss.srv.logf("PDU out", "session", ss.id, "command", p.ID, "seq", p.Seq, "status", p.Status)
	if ss.srv.rewrite != nil {
		b = ss.srv.rewrite(b)
	}
	return ss.send(outItem{b: b, closeAfter: closeAfter})
}

// WriteRaw queues raw octets, e.g. a bad command_length.
func (ss *Session) WriteRaw(b []byte) error {
	ss.mu.Lock()
	ss.raw = true
	ss.mu.Unlock()
	return ss.send(outItem{b: append([]byte(nil), b...)})
}

func (ss *Session) send(it outItem) error {
	select {
	case ss.out <- it:
		return nil
	case <-ss.done:
		return ErrClosed
	}
}

// writeLoop is the only writer of the connection; it batches queued PDUs.
func (ss *Session) writeLoop() {
	bw := bufio.NewWriterSize(ss.nc, 16*1024)
	for {
		var it outItem
		select {
		case it = <-ss.out:
		case <-ss.done:
			return
		}
		for {
			if _, err := bw.Write(it.b); err != nil || it.closeAfter {
				bw.Flush()
				ss.Close()
				return
			}
			select {
			case it = <-ss.out:
				continue
			default:
			}
			break
		}
		if err := bw.Flush(); err != nil {
			ss.Close()
			return
		}
	}
}

// Request sends a request PDU with the session's next sequence number and
// waits for its response (or generic_nack).
func (ss *Session) Request(ctx context.Context, p *pdu.PDU) (*pdu.PDU, error) {
	ch := make(chan *pdu.PDU, 1)
	ss.mu.Lock()
	ss.seq = ss.seq%0x7FFFFFFF + 1
	seq := ss.seq
	ss.pending[seq] = pendingReq{ch, p.ID}
	q := *p
	q.Seq, q.Status = seq, pdu.StatusOK
	err := ss.Write(&q) // under ss.mu: ordered after a bind_resp (see doBind)
	ss.mu.Unlock()
	return ss.await(ctx, seq, ch, err)
}

// await waits for the response to seq.
func (ss *Session) await(ctx context.Context, seq uint32, ch chan *pdu.PDU, err error) (*pdu.PDU, error) {
	defer func() {
		ss.mu.Lock()
		delete(ss.pending, seq)
		ss.mu.Unlock()
	}()
	if err != nil {
		return nil, err
	}
	t := time.NewTimer(ss.srv.respTimeout)
	defer t.Stop()
	select {
	case r := <-ch:
		return r, nil
	case <-t.C:
		return nil, fmt.Errorf("smsctest: no response to seq %d within %s", seq, ss.srv.respTimeout)
	case <-ss.done:
		select {
		case r := <-ch: // answered just before the link closed
			return r, nil
		default:
			return nil, ErrClosed
		}
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// RequestRaw sends an encoded request (possibly malformed on purpose)
// after overwriting its sequence number with the session's next one, and
// waits for the response.
func (ss *Session) RequestRaw(ctx context.Context, b []byte) (*pdu.PDU, error) {
	if len(b) < pdu.HeaderLength {
		return nil, fmt.Errorf("smsctest: raw PDU of %d octets", len(b))
	}
	ch := make(chan *pdu.PDU, 1)
	ss.mu.Lock()
	ss.seq = ss.seq%0x7FFFFFFF + 1
	seq := ss.seq
	ss.pending[seq] = pendingReq{ch, pdu.CommandID(binary.BigEndian.Uint32(b[4:]))}
	b = append([]byte(nil), b...)
	binary.BigEndian.PutUint32(b[12:], seq)
	err := ss.send(outItem{b: b})
	ss.mu.Unlock()
	return ss.await(ctx, seq, ch, err)
}

func (ss *Session) settle(p *pdu.PDU) {
	ss.mu.Lock()
	pr, ok := ss.pending[p.Seq]
	delete(ss.pending, p.Seq)
	last, raw := ss.seq, ss.raw
	ss.mu.Unlock()
	if !ok {
		// A response to a request that timed out here is late, not wrong.
		if (p.Seq == 0 || p.Seq > last) && !(raw && p.ID == pdu.GenericNack) {
			ss.srv.newChecker(ss, p.Header).fail(RuleResponse, pdu.StatusOK,
				"%s seq %d answers no request (the server's last sequence_number is %d)", p.ID, p.Seq, last)
		}
		return
	}
	switch {
	case p.ID != pr.id.Response() && p.ID != pdu.GenericNack:
		ss.srv.newChecker(ss, p.Header).fail(RuleResponse, pdu.StatusOK, "%s seq %d answers a %s", p.ID, p.Seq, pr.id)
	case p.ID == pdu.DeliverSMResp:
		if mr, ok := p.Body.(*pdu.MessageResp); ok && mr.MessageID != "" {
			ss.srv.newChecker(ss, p.Header).fail(RuleResponse, pdu.StatusOK,
				"deliver_sm_resp carries message_id %q; SMPP 3.4 says NULL", mr.MessageID)
		}
	}
	pr.ch <- p
}

// Deliver sends sm as deliver_sm and returns the deliver_sm_resp status. It
// refuses sessions not bound as receiver or transceiver.
func (ss *Session) Deliver(ctx context.Context, sm *pdu.ShortMessage) (pdu.Status, error) {
	if !ss.canReceive() {
		return 0, fmt.Errorf("smsctest: session %d bound as %v: %w", ss.id, ss.Bind(), ErrNoReceiver)
	}
	resp, err := ss.Request(ctx, &pdu.PDU{Header: pdu.Header{ID: pdu.DeliverSM}, Body: sm})
	if err != nil {
		return 0, err
	}
	return resp.Status, nil
}

// EnquireLink sends enquire_link and waits for its response.
func (ss *Session) EnquireLink(ctx context.Context) error {
	_, err := ss.Request(ctx, &pdu.PDU{Header: pdu.Header{ID: pdu.EnquireLink}})
	return err
}

// Unbind sends unbind, waits for unbind_resp and closes the connection.
func (ss *Session) Unbind(ctx context.Context) error {
	defer ss.Close()
	_, err := ss.Request(ctx, &pdu.PDU{Header: pdu.Header{ID: pdu.Unbind}})
	return err
}

// enquireLoop sends enquire_link every interval and drops the link when it
// is not answered in time.
func (ss *Session) enquireLoop() {
	t := time.NewTicker(ss.srv.enquireEvery)
	defer t.Stop()
	for {
		select {
		case <-ss.done:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(ss.srv.ctx, ss.srv.enquireTimeout)
		err := ss.EnquireLink(ctx)
		cancel()
		if err != nil {
			ss.srv.logf("enquire_link unanswered, dropping link", "session", ss.id, "err", err)
			ss.Close()
			return
		}
	}
}
