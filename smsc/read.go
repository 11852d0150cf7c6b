package smsc

import (
	"bufio"
	"errors"
	"fmt"
	"time"

	"github.com/smscbridge/smscbridge/smsc/pdu"
)

// readLoop is the only reader of the socket. It never waits on the window,
// the rate limiter or Handler calls (beyond MaxInbound running calls the
// SMSC is answered ESME_RTHROTTLED). It ends the link when reading fails.
func (c *conn) readLoop() {
	br := bufio.NewReaderSize(c.nc, 16*1024)
	dec := c.decoder()
	for {
		p, err := dec.Read(br, maxPDULen)
		if err != nil {
			if !c.undecodable(err) {
				return
			}
			continue
		}
		c.lastRecv.Store(time.Now().UnixNano())
		if c.o.Meter != nil {
			c.o.Meter.PDU(c.o.ID, true, p.Header.ID, p.Header.Status)
		}
		c.dispatch(p)
	}
}

// undecodable answers a PDU that could not be decoded and reports whether
// the stream is still in sync (§7.4): a bad body keeps the session, a bad
// frame or an I/O error ends it.
func (c *conn) undecodable(err error) bool {
	var de *pdu.DecodeError
	if !errors.As(err, &de) {
		c.close(fmt.Errorf("read: %w", err))
		return false
	}
	h := de.Header
	c.lastRecv.Store(time.Now().UnixNano())
	c.log.Warn("undecodable PDU", "command", h.ID, "seq", h.Seq, "status", de.Status, "err", de.Err)
	if !de.HeaderOK {
		// The stream is out of sync: answer, then the writer closes.
		nack := outPDU{p: pdu.NewGenericNack(h.Seq, de.Status), closeAfter: fmt.Errorf("read: %w", err)}
		select {
		case c.resps <- nack:
		case <-c.ctx.Done():
		}
		return false
	}
	switch {
	case h.ID == pdu.SubmitSMResp:
		c.settle(&pdu.PDU{Header: h}, fmt.Errorf("%w: undecodable %s: %w", ErrUnknownOutcome, h.ID, err))
	case h.ID.IsResponse():
		c.settle(&pdu.PDU{Header: h}, fmt.Errorf("smsc: undecodable %s: %w", h.ID, err))
	case h.ID.Known() && h.ID.HasResponse():
		c.respond(pdu.NewResponse(&pdu.PDU{Header: h}, de.Status, nil))
	case !h.ID.Known():
		c.respond(pdu.NewGenericNack(h.Seq, de.Status))
	}
	return true
}

// dispatch handles one decoded PDU.
func (c *conn) dispatch(p *pdu.PDU) {
	h := p.Header
	if h.ID.IsResponse() {
		c.settle(p, nil)
		return
	}
	switch h.ID {
	case pdu.EnquireLink:
		c.respond(pdu.NewResponse(p, pdu.StatusOK, nil))
	case pdu.Unbind:
		c.log.Info("SMSC unbinds", "seq", h.Seq)
		c.mu.Lock()
		c.closing = true
		c.wake() // submits waiting out a throttling pause give up now
		c.mu.Unlock()
		select {
		case c.resps <- outPDU{p: pdu.NewResponse(p, pdu.StatusOK, nil), closeAfter: errPeerUnbind}:
		case <-c.ctx.Done():
		}
	case pdu.DeliverSM, pdu.DataSM:
		c.inbound(p)
	case pdu.AlertNotification, pdu.Outbind:
		c.log.Info("ignored request", "command", h.ID, "seq", h.Seq)
	default:
		c.log.Warn("unsupported request", "command", h.ID, "seq", h.Seq)
		c.respond(pdu.NewGenericNack(h.Seq, pdu.StatusInvCmdID))
	}
}

// settle hands a response (or generic_nack) to the request waiting for it.
func (c *conn) settle(p *pdu.PDU, err error) {
	seq := p.Header.Seq
	c.mu.Lock()
	r := c.pending[seq]
	if r != nil && (p.Header.ID == pdu.GenericNack || r.cmd.Response() == p.Header.ID) {
		delete(c.pending, seq)
		if isBind(r.cmd) && p.Header.ID != pdu.GenericNack && p.Header.Status == pdu.StatusOK {
			// Bound from here on: a deliver_sm read right after the
			// bind_resp must find the session bound.
			c.bound = true
		}
	} else {
		r = nil
	}
	l, late := c.late[seq]
	late = late && r == nil && (p.Header.ID == pdu.SubmitSMResp || p.Header.ID == pdu.GenericNack)
	if late {
		delete(c.late, seq)
	}
	c.mu.Unlock()
	if r != nil {
		r.resp <- result{p: p, err: err}
		return
	}
	if late {
		c.log.Warn("late response to a submit that already timed out", "command", p.Header.ID,
			"seq", seq, "status", p.Header.Status, "msg_id", messageID(p))
		if c.o.LateResponse != nil {
			c.o.LateResponse(l.ref, messageID(p), p.Header.Status)
		}
		return
	}
	c.log.Warn("response to no outstanding request", "command", p.Header.ID, "seq", seq, "status", p.Header.Status)
}

// inbound hands deliver_sm/data_sm to the Handler in its own goroutine and
// answers with the status it returns, as soon as it returns. When
// MaxInbound calls are already running it answers ESME_RTHROTTLED at once
// instead of waiting, so the reader keeps reading responses and
// enquire_link (smpp.md §7.5).
func (c *conn) inbound(p *pdu.PDU) {
	c.mu.Lock()
	ok := c.bound && c.mode.canReceive()
	c.mu.Unlock()
	if !ok || c.h == nil {
		st := pdu.StatusInvBndSts
		if ok {
			st = pdu.StatusRxTAppn
		}
		c.log.Warn("inbound message refused", "command", p.Header.ID, "seq", p.Header.Seq, "status", st)
		c.respond(pdu.NewResponse(p, st, nil))
		return
	}
	select {
	case c.handlers <- struct{}{}:
	default:
		c.log.Warn("inbound message throttled: max_inbound handler calls running", "command", p.Header.ID,
			"seq", p.Header.Seq, "max_inbound", cap(c.handlers))
		c.respond(pdu.NewResponse(p, pdu.StatusThrottled, &pdu.MessageResp{}))
		return
	}
	select {
	case c.idle <- p: // a handler goroutine that finished a call takes it
	default:
		c.hwg.Go(func() { c.handler(p) })
	}
}

// handlerIdle is how long a handler goroutine waits for another inbound
// message before it ends. Reusing them spares each message a new
// goroutine's stack growth (a few percent of the CPU of an MO).
const handlerIdle = 5 * time.Second

// handler answers p, then the inbound messages handed to it while it is
// idle (c.idle), until none comes for handlerIdle or the link closes.
func (c *conn) handler(p *pdu.PDU) {
	var t *time.Timer
	for {
		st := c.handle(p)
		if st == pdu.StatusOK {
			c.stats.delivered.Add(1)
		}
		c.respond(pdu.NewResponse(p, st, &pdu.MessageResp{})) // message_id unused: one NUL (§1.5)
		<-c.handlers
		if t == nil {
			t = time.NewTimer(handlerIdle)
			defer t.Stop()
		} else {
			t.Reset(handlerIdle)
		}
		select {
		case p = <-c.idle:
		case <-t.C:
			return
		case <-c.ctx.Done():
			return
		}
	}
}

// handle calls the Handler, turning a panic into ESME_RX_T_APPN.
func (c *conn) handle(p *pdu.PDU) (st pdu.Status) {
	defer func() {
		if v := recover(); v != nil {
			c.log.Error("handler panic", "command", p.Header.ID, "seq", p.Header.Seq, "err", fmt.Sprint(v))
			st = pdu.StatusRxTAppn
		}
	}()
	return c.h.HandleDeliver(c.ctx, p)
}

// messageID returns the message_id of a submit/deliver/data_sm response.
func messageID(p *pdu.PDU) string {
	if b, ok := p.Body.(*pdu.MessageResp); ok && b != nil {
		return b.MessageID
	}
	return ""
}

// keepalive sends enquire_link when nothing was read for o.EnquireLink and
// ends the link when it is not answered in time (§7.3).
func (c *conn) keepalive() {
	t := time.NewTimer(c.o.EnquireLink)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
		}
		idle := time.Since(time.Unix(0, c.lastRecv.Load()))
		if idle < c.o.EnquireLink {
			t.Reset(c.o.EnquireLink - idle)
			continue
		}
		// Any answer, even generic_nack, proves the link is alive.
		_, err := c.send(c.ctx, &pdu.PDU{Header: pdu.Header{ID: pdu.EnquireLink}})
		if err != nil && c.ctx.Err() == nil {
			c.log.Warn("link dead: enquire_link unanswered", "err", err)
			c.close(fmt.Errorf("enquire_link: %w", err))
			return
		}
		t.Reset(c.o.EnquireLink)
	}
}

func isBind(id pdu.CommandID) bool {
	return id == pdu.BindTransceiver || id == pdu.BindTransmitter || id == pdu.BindReceiver
}
