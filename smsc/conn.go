package smsc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smscbridge/smscbridge/smsc/pdu"
)

// maxPDULen caps command_length of PDUs we read (smpp.md §1.2).
const maxPDULen = 64*1024 + 1024

// maxSeq is the highest sequence number; numbering wraps back to 1 (§1.3).
const maxSeq = 0x7FFFFFFF

// lateMemory is how long timed-out sequence numbers are remembered so a late
// response is logged with its message id instead of as noise.
const lateMemory = 10 * time.Minute

var (
	errPeerUnbind = errors.New("smsc: SMSC sent unbind")
	errStopping   = errors.New("smsc: stopping")
)

// outPDU is one PDU queued for the writer. req is set for requests so the
// writer can record whether they were written; closeAfter makes the writer
// end the link once the PDU is on the wire (unbind_resp to the SMSC's
// unbind).
type outPDU struct {
	p          *pdu.PDU
	req        *request
	closeAfter error
}

// Write states of a request (request.wstate).
const (
	wQueued  = iota // waiting for the writer
	wWriting        // in the buffer being written (conn.wmu is held)
	wWritten        // every octet of it was accepted by the socket
	wUnsent         // never written: abandoned first, unencodable or the write failed
)

// request is an outstanding request awaiting its response.
type request struct {
	cmd    pdu.CommandID
	seq    uint32
	ref    uint64        // Client-wide submit reference, for late responses
	resp   chan result   // buffered(1): the response or generic_nack
	wstate atomic.Uint32 // wQueued…wUnsent
}

// lateSubmit remembers a submit that timed out.
type lateSubmit struct {
	at  time.Time
	ref uint64
}

// result is what settles a request: a response PDU or an error.
type result struct {
	p   *pdu.PDU
	err error
}

// conn is one transport connection and its SMPP session: a reader, a writer
// and the table of outstanding requests.
type conn struct {
	o    *Options
	mode BindMode
	log  *slog.Logger
	nc   net.Conn
	h    Handler

	ctx    context.Context // ends when the link is lost or closed
	cancel context.CancelCauseFunc

	window   chan struct{} // one token per outstanding submit
	handlers chan struct{} // one token per running Handler call, MaxInbound at most
	idle     chan *pdu.PDU // to a handler goroutine waiting for its next call (unbuffered)
	hwg      sync.WaitGroup

	reqs  chan outPDU // new requests
	resps chan outPDU // responses, written first
	wmu   sync.Mutex  // held by the writer while requests are wWriting

	mu      sync.Mutex
	seq     uint32
	pending map[uint32]*request
	late    map[uint32]lateSubmit // timed-out submits, to settle late responses
	bound   bool
	closing bool // unbinding: no new submits
	th      throttle

	lastRecv atomic.Int64 // unix nanos of the last PDU read
	stats    *slotStats
}

func newConn(parent context.Context, nc net.Conn, mode BindMode, o *Options, log *slog.Logger, st *slotStats) *conn {
	ctx, cancel := context.WithCancelCause(parent)
	c := &conn{
		o: o, mode: mode, log: log, nc: nc, h: o.Handler, ctx: ctx, cancel: cancel,
		window:   make(chan struct{}, o.Window),
		handlers: make(chan struct{}, o.MaxInbound), idle: make(chan *pdu.PDU),
		reqs:    make(chan outPDU, o.Window+4),
		resps:   make(chan outPDU, o.Window+4),
		pending: make(map[uint32]*request),
		late:    make(map[uint32]lateSubmit),
		stats:   st,
	}
	c.th = throttle{pause: o.ThrottlePause, cwnd: o.Window, gate: make(chan struct{})}
	c.lastRecv.Store(time.Now().UnixNano())
	return c
}

// close ends the link with cause err (the first cause wins).
func (c *conn) close(err error) {
	c.cancel(err)
	c.nc.Close()
}

// nextSeq returns a sequence number neither outstanding nor remembered as
// timed out (its response may still come); c.mu must be held.
func (c *conn) nextSeq() uint32 {
	for {
		c.seq++
		if c.seq > maxSeq {
			c.seq = 1
		}
		_, used := c.pending[c.seq]
		_, late := c.late[c.seq]
		if !used && !late {
			return c.seq
		}
	}
}

// send registers p as a request, queues it for the writer and waits for its
// response, at most o.ResponseTimeout. A request that was written but not
// answered fails with ErrUnknownOutcome; one not written (whole) with
// ErrNotBound.
func (c *conn) send(ctx context.Context, p *pdu.PDU) (*pdu.PDU, error) {
	return c.sendTimeout(ctx, p, c.o.ResponseTimeout, 0)
}

// sendTimeout is send with its own response timeout and a submit reference.
func (c *conn) sendTimeout(ctx context.Context, p *pdu.PDU, timeout time.Duration, ref uint64) (*pdu.PDU, error) {
	r := &request{cmd: p.Header.ID, ref: ref, resp: make(chan result, 1)}
	c.mu.Lock()
	if c.closing && r.cmd == pdu.SubmitSM {
		c.mu.Unlock()
		return nil, fmt.Errorf("%w: unbinding", ErrNotBound)
	}
	r.seq = c.nextSeq()
	c.pending[r.seq] = r
	c.mu.Unlock()
	p.Header.Seq = r.seq
	p.Header.Status = pdu.StatusOK

	t := time.NewTimer(timeout)
	defer t.Stop()
	if c.o.Meter != nil && r.cmd == pdu.SubmitSM {
		defer c.observeSubmit(time.Now())
	}
	select {
	case c.reqs <- outPDU{p: p, req: r}:
	case <-c.ctx.Done():
		c.forget(r)
		return nil, fmt.Errorf("%w: %w", ErrNotBound, context.Cause(c.ctx))
	case <-ctx.Done():
		c.forget(r)
		return nil, ctx.Err()
	}
	select {
	case res := <-r.resp:
		return res.p, res.err
	case <-t.C:
		return c.abandoned(r, fmt.Errorf("no %s within %s", p.Header.ID.Response(), timeout))
	case <-c.ctx.Done():
		return c.abandoned(r, fmt.Errorf("link lost: %w", context.Cause(c.ctx)))
	case <-ctx.Done():
		return c.abandoned(r, ctx.Err())
	}
}

func (c *conn) observeSubmit(start time.Time) {
	c.o.Meter.SubmitLatency(c.o.ID, time.Since(start))
}

// abandoned settles a request whose wait ended without a response: once
// its write has finished, a written request is an unknown outcome (a submit
// is remembered for a late response), an unwritten one was not sent.
func (c *conn) abandoned(r *request, why error) (*pdu.PDU, error) {
	for !c.drop(r) { // the writer has it: wait until its write is done
		c.wmu.Lock()
		c.wmu.Unlock()
	}
	select {
	case res := <-r.resp: // it raced in
		return res.p, res.err
	default:
	}
	if r.wstate.Load() != wWritten {
		return nil, fmt.Errorf("%w: not sent: %w", ErrNotBound, why)
	}
	return nil, &UnknownOutcomeError{Ref: r.ref, Err: why}
}

// drop removes r from the pending table unless the writer is writing it
// (then it reports false). A written submit's sequence number is remembered
// for a while, in the same step, so a late response is recognised.
func (c *conn) drop(r *request) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !r.wstate.CompareAndSwap(wQueued, wUnsent) && r.wstate.Load() == wWriting {
		return false
	}
	mine := c.pending[r.seq] == r // else its response came in
	if mine {
		delete(c.pending, r.seq)
	}
	if mine && r.wstate.Load() == wWritten && r.cmd == pdu.SubmitSM {
		now := time.Now()
		for s, l := range c.late {
			if now.Sub(l.at) > lateMemory {
				delete(c.late, s)
			}
		}
		c.late[r.seq] = lateSubmit{at: now, ref: r.ref}
	}
	return true
}

// forget removes r, never handed to the writer, from the pending table.
func (c *conn) forget(r *request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending[r.seq] == r {
		delete(c.pending, r.seq)
	}
	r.wstate.Store(wUnsent)
}

// respond queues a response for the writer.
func (c *conn) respond(p *pdu.PDU) {
	select {
	case c.resps <- outPDU{p: p}:
	case <-c.ctx.Done():
	}
}

// inflight is the number of outstanding submits.
func (c *conn) inflight() int { return len(c.window) }

// usable reports whether the link is bound and may take new submits.
func (c *conn) usable() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bound && !c.closing && c.ctx.Err() == nil
}

// writeBatch is the size at which the writer stops adding queued PDUs to
// one write.
const writeBatch = 16 * 1024

// batched is a request in the buffer being written and the offset its
// octets end at.
type batched struct {
	req *request
	end int
}

// writeLoop is the only writer of the socket. It gives responses priority,
// gathers whatever is queued into one write (the write deadline is set
// before each), and ends the link on a write error. A request counts as
// written only once all its octets were accepted by the socket.
func (c *conn) writeLoop() {
	var buf []byte
	var reqs []batched
	for {
		var op outPDU
		select {
		case op = <-c.resps:
		default:
			select {
			case op = <-c.resps:
			case op = <-c.reqs:
			case <-c.ctx.Done():
				return
			}
		}
		c.wmu.Lock()
		buf, reqs = buf[:0], reqs[:0]
		var closeAfter error
		for n := 0; ; n++ {
			buf, reqs = c.appendOp(buf, reqs, op)
			if op.closeAfter != nil {
				closeAfter = op.closeAfter
				break
			}
			var more bool
			if len(buf) >= writeBatch {
				break
			}
			if op, more = c.nextQueued(n); !more {
				break
			}
		}
		err := c.write(buf, reqs)
		c.wmu.Unlock()
		if err != nil {
			c.close(fmt.Errorf("write: %w", err))
			return
		}
		if closeAfter != nil {
			c.close(closeAfter)
			return
		}
	}
}

// appendOp encodes op at the end of buf; a request is marked wWriting, or
// skipped when it was abandoned while queued.
func (c *conn) appendOp(buf []byte, reqs []batched, op outPDU) ([]byte, []batched) {
	if r := op.req; r != nil && !r.wstate.CompareAndSwap(wQueued, wWriting) {
		return buf, reqs // abandoned while queued
	}
	out, err := op.p.AppendBinary(buf)
	if err != nil {
		c.encodeFailed(op, err)
		return buf, reqs
	}
	if op.req != nil {
		reqs = append(reqs, batched{req: op.req, end: len(out)})
	}
	if c.o.Meter != nil {
		c.o.Meter.PDU(c.o.ID, false, op.p.Header.ID, op.p.Header.Status)
	}
	return out, reqs
}

// write writes buf with a fresh deadline and records which requests made it
// whole onto the socket.
func (c *conn) write(buf []byte, reqs []batched) error {
	var n int
	var err error
	if len(buf) > 0 {
		c.nc.SetWriteDeadline(time.Now().Add(c.o.ResponseTimeout))
		n, err = c.nc.Write(buf)
	}
	for _, b := range reqs {
		if b.end <= n {
			b.req.wstate.Store(wWritten)
		} else {
			b.req.wstate.Store(wUnsent)
		}
	}
	return err
}

// nextQueued returns another queued PDU without blocking, responses first,
// so one flush carries a burst.
func (c *conn) nextQueued(n int) (outPDU, bool) {
	if n >= 64 {
		return outPDU{}, false
	}
	select {
	case op := <-c.resps:
		return op, true
	default:
	}
	select {
	case op := <-c.reqs:
		return op, true
	default:
		return outPDU{}, false
	}
}

// encodeFailed fails a request we could not encode (a caller error such as
// an over-long field) without touching the link.
func (c *conn) encodeFailed(op outPDU, err error) {
	c.log.Error("cannot encode PDU", "command", op.p.Header.ID, "seq", op.p.Header.Seq, "err", err)
	if op.req == nil {
		return
	}
	op.req.wstate.Store(wUnsent)
	c.mu.Lock()
	mine := c.pending[op.req.seq] == op.req
	delete(c.pending, op.req.seq)
	c.mu.Unlock()
	if mine {
		op.req.resp <- result{err: fmt.Errorf("smsc: encode %s: %w", op.p.Header.ID, err)}
	}
}

// drain waits up to UnbindTimeout for outstanding submits to be answered
// and for running Handler calls to answer their deliver_sm (an MO committed
// but not answered before the unbind would be delivered again), and
// reports whether they all were.
func (c *conn) drain() bool {
	deadline := time.NewTimer(c.o.UnbindTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	busy := func() bool { return c.inflight() > 0 || len(c.handlers) > 0 }
	for busy() && c.ctx.Err() == nil {
		select {
		case <-deadline.C:
			return false
		case <-c.ctx.Done():
		case <-tick.C:
		}
	}
	return !busy()
}

// rebind ends a link whose SMSC lost our session (ESME_RINVBNDSTS or
// generic_nack to a submit): no new submits, outstanding ones get their
// answers (bounded), a best-effort unbind (bounded), then close; the
// session reconnects and binds again.
func (c *conn) rebind(cause error) {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return
	}
	c.closing = true
	c.wake() // submits waiting out a throttling pause give up now
	c.mu.Unlock()
	go func() {
		c.drain()
		if c.ctx.Err() == nil {
			c.sendTimeout(c.ctx, &pdu.PDU{Header: pdu.Header{ID: pdu.Unbind}}, c.o.UnbindTimeout, 0)
		}
		c.close(fmt.Errorf("rebind: %w", cause))
	}()
}
