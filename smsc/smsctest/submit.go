package smsctest

import (
	"context"
	"time"

	"github.com/smscbridge/smscbridge/smsc/pdu"
)

// maxMessageID is the longest message_id SMPP 3.4 allows (65 with NUL).
const maxMessageID = 64

// Default is the built-in request handling: submit_sm is recorded and
// answered (applying the injected faults), data_sm is answered with a
// message id, anything else gets generic_nack ESME_RINVCMDID.
func (s *Server) Default(ss *Session, p *pdu.PDU) *pdu.PDU {
	switch p.ID {
	case pdu.SubmitSM:
		return s.submit(ss, p)
	case pdu.DataSM:
		return pdu.NewResponse(p, pdu.StatusOK, &pdu.MessageResp{MessageID: s.newID(nil)})
	}
	return pdu.NewGenericNack(p.Seq, pdu.StatusInvCmdID)
}

// checkBind returns the status for a bind request.
func (s *Server) checkBind(b *pdu.Bind) pdu.Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case b == nil:
		return pdu.StatusBindFail
	case s.faults.refuse != pdu.StatusOK:
		return s.faults.refuse
	case len(s.accounts) == 0:
		return pdu.StatusOK
	}
	pw, ok := s.accounts[b.SystemID]
	switch {
	case !ok:
		return pdu.StatusBindFail
	case pw != b.Password:
		return pdu.StatusInvPaswd
	}
	return pdu.StatusOK
}

// count updates the counters under the lock.
func (s *Server) count(f func(*Stats)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.stats)
	s.notify()
}

// newID returns the next message id and its number.
func (s *Server) newID(n *uint64) string {
	s.mu.Lock()
	s.nextID++
	id := s.nextID
	s.mu.Unlock()
	if n != nil {
		*n = id
	}
	return cut(s.msgID(id))
}

func cut(id string) string {
	if len(id) > maxMessageID {
		return id[:maxMessageID]
	}
	return id
}

// submit records a submit_sm and builds its response.
func (s *Server) submit(ss *Session, p *pdu.PDU) *pdu.PDU {
	sm, _ := p.Body.(*pdu.ShortMessage)
	if ss.Bind() == pdu.BindReceiver || sm == nil {
		return pdu.NewResponse(p, pdu.StatusInvBndSts, nil)
	}
	sub := Submit{SM: sm, Seq: p.Seq, SystemID: ss.SystemID(), Session: ss.id, At: time.Now()}
	st, body, drop := s.decide(sm)
	if st == pdu.StatusOK || body {
		sub.MessageID = s.newID(&sub.N)
	}
	sub.Status = st
	s.record(sub)
	if st == pdu.StatusOK && s.autoReceipts {
		s.scheduleReceipt(sub)
	}
	if drop {
		return nil
	}
	if st != pdu.StatusOK && !body {
		return pdu.NewResponse(p, st, nil)
	}
	return pdu.NewResponse(p, st, &pdu.MessageResp{MessageID: sub.MessageID})
}

// record adds sub to the recorded submits.
func (s *Server) record(sub Submit) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.submits = append(s.submits, sub)
	s.stats.Submits++
	if sub.Status != pdu.StatusOK {
		s.stats.SubmitErrors++
	}
	if sub.Status == pdu.StatusThrottled {
		s.stats.Throttled++
	}
	s.notify()
}

// callHook calls the RequestHook, if any.
func (s *Server) callHook(ss *Session, req, resp *pdu.PDU, vs []Violation) {
	if s.hook != nil {
		s.hook(ss, req, resp, vs)
	}
}

// decide applies the injected faults to one submit.
func (s *Server) decide(sm *pdu.ShortMessage) (st pdu.Status, body, drop bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := &s.faults
	switch {
	case f.drop != 0:
		if f.drop > 0 {
			f.drop--
		}
		return pdu.StatusOK, false, true
	case f.throttle != 0:
		if f.throttle > 0 {
			f.throttle--
		}
		return pdu.StatusThrottled, false, false
	case f.status != pdu.StatusOK:
		return f.status, f.statusBody, false
	case !s.rateAllows():
		return pdu.StatusThrottled, false, false
	}
	return pdu.StatusOK, false, false
}

// scheduleReceipt sends the automatic receipt for sub after the delay.
func (s *Server) scheduleReceipt(sub Submit) {
	rd := sub.SM.RegisteredDelivery & pdu.RegisteredDeliveryMask
	if rd == pdu.RegisteredDeliveryNone {
		return
	}
	r := Receipt{Stat: "DELIVRD"}
	if s.pickReceipt != nil {
		r = s.pickReceipt(sub)
	}
	if rd == pdu.RegisteredDeliveryFailure && r.Stat == "DELIVRD" {
		return
	}
	s.wg.Go(func() {
		t := time.NewTimer(s.receiptDelay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-s.ctx.Done():
			return
		}
		ctx, cancel := context.WithTimeout(s.ctx, s.respTimeout)
		defer cancel()
		s.SendReceipt(ctx, sub, r)
	})
}

// rateAllows reports whether WithSubmitRate lets one more submit through
// now and counts it; s.mu must be held.
func (s *Server) rateAllows() bool {
	if s.submitRate <= 0 {
		return true
	}
	now := time.Now()
	i := 0
	for i < len(s.accepted) && now.Sub(s.accepted[i]) >= time.Second {
		i++
	}
	s.accepted = append(s.accepted[:0], s.accepted[i:]...)
	if len(s.accepted) >= s.submitRate {
		return false
	}
	s.accepted = append(s.accepted, now)
	return true
}
