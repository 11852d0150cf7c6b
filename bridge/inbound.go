package bridge

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/smscbridge/smscbridge/smsc"
	"github.com/smscbridge/smscbridge/smsc/dlr"
	"github.com/smscbridge/smscbridge/smsc/pdu"
	"github.com/smscbridge/smscbridge/store"
)

// inRecord is what the bridge commits for every inbound deliver_sm before it
// answers: an MO (or one part of one), a receipt, or a PDU it could not make
// sense of (kept so nothing disappears, then dead-lettered).
type inRecord struct {
	Kind       string       `json:"kind"` // mo | dlr | bad
	SMSC       string       `json:"smsc"`
	Src        Addr         `json:"src"`
	Dst        Addr         `json:"dst"`
	DataCoding uint8        `json:"dc"`
	Payload    []byte       `json:"payload,omitempty"`
	UDHLen     int          `json:"udhl,omitempty"` // UDH stripped from Payload, for packed GSM fill bits
	Receipt    *dlr.Receipt `json:"receipt,omitempty"`
	Error      string       `json:"error,omitempty"`
}

// Handler returns the smsc.Handler for inbound deliver_sm and data_sm of one
// SMSC. It answers ESME_ROK only after the message is committed, and
// ESME_RX_T_APPN (a temporary error: the SMSC retries) when the commit fails.
func (b *Bridge) Handler(smscID string) smsc.Handler {
	return smsc.HandlerFunc(func(ctx context.Context, p *pdu.PDU) pdu.Status {
		return b.handleDeliver(ctx, smscID, p)
	})
}

func (b *Bridge) handleDeliver(ctx context.Context, smscID string, p *pdu.PDU) pdu.Status {
	sm := shortMessage(p)
	if sm == nil {
		return pdu.StatusInvCmdID
	}
	rec := inRecord{SMSC: smscID, Src: Addr{sm.SourceAddr, sm.SourceTON, sm.SourceNPI},
		Dst: Addr{sm.DestAddr, sm.DestTON, sm.DestNPI}, DataCoding: sm.DataCoding}
	var o smsc.InboundOptions
	if s := b.t().smscs[smscID]; s != nil {
		o = smsc.InboundOptions{TextReceipts: s.TextReceipts, Alphabet: s.Alphabet}
	}
	in, err := smsc.ParseInbound(sm, o)
	var perr error
	switch {
	case err != nil:
		rec.Kind, rec.Error, rec.Payload = "bad", err.Error(), sm.Message
	case in.Receipt != nil:
		rec.Kind, rec.Receipt = "dlr", in.Receipt
	default:
		rec.Kind, rec.Payload, rec.DataCoding, rec.UDHLen = "mo", in.Payload, in.DataCoding, in.UDHLen
	}
	if st, done := b.deliverNow(ctx, smscID, &rec, &in, sm); done {
		return st
	}
	data, _ := json.Marshal(rec)
	// MO are ordered per sender (design.md invariant 6); before routing
	// only the SMSC is known. A long MO, once whole, joins the same lane and
	// key as the sender's single-part MO, so the two kinds keep their order.
	// Receipts and undecodable PDUs are ordered with nothing (key ""): a
	// receipt waiting for its submit_sm_resp mapping must not hold back the
	// sender's MO, and the status it reports never moves backwards anyway.
	key := ""
	if rec.Kind == "mo" {
		key = contactKey(smscID, sm.SourceAddr)
	}
	if rec.Kind == "mo" && in.Concat != nil {
		c := in.Concat
		var id string
		_, id, perr = b.q.AddPart(ctx, store.Part{SMSC: smscID, Source: sm.SourceAddr, Dest: sm.DestAddr,
			Ref: int(c.Ref), Total: c.Total, Seq: c.Seq, Wide: c.Wide, Data: data, Lane: laneIn(smscID), Key: key})
		b.observe(Event{Kind: "mo", SMSC: smscID, Text: fmt.Sprintf("deliver_sm part %d/%d from %s committed", c.Seq, c.Total, sm.SourceAddr)})
		if perr == nil {
			b.trace(store.TraceEvent{ID: id, Number: sm.SourceAddr, Hop: "deliver_sm", SMSC: smscID,
				Detail: fmt.Sprintf("part %d/%d (ref %d) to %s committed", c.Seq, c.Total, c.Ref, sm.DestAddr)})
		}
	} else {
		var id string
		id, perr = b.add(ctx, store.NewItem{Lane: laneIn(smscID), Key: key, Payload: data})
		if rec.Kind == "dlr" {
			b.observe(Event{Kind: "receipt", SMSC: smscID, Text: fmt.Sprintf("deliver_sm receipt id:%s stat:%s committed", rec.Receipt.ID, rec.Receipt.Stat)})
		} else {
			b.observe(Event{Kind: "mo", SMSC: smscID, Text: fmt.Sprintf("deliver_sm from %s committed", sm.SourceAddr)})
			if perr == nil {
				b.trace(store.TraceEvent{ID: id, Number: sm.SourceAddr, Hop: "deliver_sm", SMSC: smscID,
					Detail: fmt.Sprintf("to %s (data_coding 0x%02X, %d octets) committed, deliver_sm_resp OK", sm.DestAddr, sm.DataCoding, len(sm.Message))})
			}
		}
	}
	if perr != nil {
		b.log.Error("commit inbound failed; answering temporary error", "smsc_id", smscID, "seq", p.Seq, "err", perr)
		return pdu.StatusRxTAppn
	}
	return pdu.StatusOK
}

// unlessBusyAdder is the store call of the direct path (*store.Store has
// it; a backend without it takes every MO and receipt through the in: lane).
type unlessBusyAdder interface {
	AddUnlessBusy(ctx context.Context, busy store.LaneKey, items ...store.NewItem) ([]store.Added, bool, error)
}

// deliverNow handles a single-part MO or a receipt whose submit mapping is
// there straight away: it routes (or matches) it and commits its platform
// requests, claimed for their lane when it has room, in the commit that
// acknowledges the deliver_sm, so the message costs no in: lane item (two
// commits fewer and no lease). done is false when it did nothing and the
// message takes the in: lane: a long MO's part, anything that would be a
// dead letter (the in: lane keeps the record), a receipt not matched yet,
// an MO whose sender has an earlier MO still waiting in the in: lane (it
// must not overtake it), or a backend without AddUnlessBusy.
func (b *Bridge) deliverNow(ctx context.Context, smscID string, rec *inRecord, in *smsc.Inbound, sm *pdu.ShortMessage) (st pdu.Status, done bool) {
	q, ok := b.q.(unlessBusyAdder)
	if !ok {
		return 0, false
	}
	t := b.t()
	s := t.smscs[smscID]
	if s == nil {
		return 0, false
	}
	var (
		busy  store.LaneKey
		mw    moWork
		rw    receiptWork
		items []store.NewItem
	)
	switch {
	case rec.Kind == "mo" && in.Concat == nil:
		now := b.o.Now()
		mw = b.moWork(t, store.NewID(now), now, []*inRecord{rec}, nil)
		if mw.dead != "" {
			return 0, false
		}
		busy, items = store.LaneKey{Lane: laneIn(smscID), Key: contactKey(smscID, sm.SourceAddr)}, mw.items
	case rec.Kind == "dlr":
		m, ok, err := b.q.MatchReceipt(ctx, s.ID, s.IDType.ReceiptKey(rec.Receipt.ID))
		if err != nil || !ok {
			return 0, false
		}
		if rw = b.receiptWork(t, s, rec.Receipt, m); rw.dead != "" {
			return 0, false
		}
		if rw.skip {
			return pdu.StatusOK, true // nothing to report, nothing to keep
		}
		items = rw.items
	default:
		return 0, false
	}
	items, places := b.claimFor(items)
	added, ok, err := q.AddUnlessBusy(ctx, busy, items...)
	if places != nil {
		leased := make([]*store.Item, len(added))
		for i, a := range added {
			leased[i] = a.Leased
		}
		b.settle(places, leased)
	}
	switch {
	case err != nil:
		b.log.Error("commit inbound failed; answering temporary error", "smsc_id", smscID, "err", err)
		return pdu.StatusRxTAppn, true
	case !ok:
		return 0, false
	case rec.Kind == "dlr":
		if b.o.Observe != nil {
			b.observe(Event{Kind: "receipt", SMSC: smscID, Text: fmt.Sprintf("deliver_sm receipt id:%s stat:%s committed", rec.Receipt.ID, rec.Receipt.Stat)})
		}
		b.receiptQueued(s, rec.Receipt, &rw)
	default:
		if b.o.Observe != nil {
			b.observe(Event{Kind: "mo", SMSC: smscID, Text: fmt.Sprintf("deliver_sm from %s committed", sm.SourceAddr)})
		}
		mo := &mw.mo
		b.trace(store.TraceEvent{ID: mo.ID, Number: sm.SourceAddr, Hop: "deliver_sm", SMSC: smscID, Channel: mw.cs.ID,
			Detail: fmt.Sprintf("to %s (data_coding 0x%02X, %d octets, %d characters) committed, deliver_sm_resp OK; routed to channel %s, %d callback(s) queued",
				sm.DestAddr, sm.DataCoding, len(sm.Message), utf8.RuneCountInString(mo.Text), mw.cs.ID, len(mw.items))})
		b.moQueued(&mw, false)
	}
	return pdu.StatusOK, true
}

// shortMessage returns the deliver_sm body, or a data_sm seen as one.
func shortMessage(p *pdu.PDU) *pdu.ShortMessage {
	switch body := p.Body.(type) {
	case *pdu.ShortMessage:
		return body
	case *pdu.DataSMBody:
		return &pdu.ShortMessage{ServiceType: body.ServiceType, SourceTON: body.SourceTON, SourceNPI: body.SourceNPI,
			SourceAddr: body.SourceAddr, DestTON: body.DestTON, DestNPI: body.DestNPI, DestAddr: body.DestAddr,
			ESMClass: body.ESMClass, RegisteredDelivery: body.RegisteredDelivery, DataCoding: body.DataCoding, TLVs: body.TLVs}
	}
	return nil
}

// processInbound handles an item of an SMSC's in: lane: an inRecord (MO,
// receipt or bad PDU) or, since order per sender needs them in one lane,
// a reassembled long MO (store.Assembled, which starts with 'P').
func (b *Bridge) processInbound(ctx context.Context, it store.Item) {
	if len(it.Payload) > 0 && it.Payload[0] == 'P' {
		b.processAssembled(ctx, it)
		return
	}
	var rec inRecord
	if err := json.Unmarshal(it.Payload, &rec); err != nil {
		b.complete(ctx, it, store.Completion{DeadReason: "undecodable record: " + err.Error()})
		return
	}
	switch rec.Kind {
	case "mo":
		b.deliverMO(ctx, it, []*inRecord{&rec}, nil)
	case "dlr":
		b.processReceipt(ctx, it, &rec)
	default:
		b.complete(ctx, it, store.Completion{DeadReason: "malformed deliver_sm: " + rec.Error})
	}
}

// processAssembled delivers a reassembled long MO (queued in the in: lane;
// older databases have them in the cat: lane).
func (b *Bridge) processAssembled(ctx context.Context, it store.Item) {
	a, err := store.DecodeParts(it.Payload)
	if err != nil {
		b.complete(ctx, it, store.Completion{DeadReason: "undecodable parts: " + err.Error()})
		return
	}
	var recs []*inRecord
	for _, p := range a.Parts {
		if p == nil {
			continue
		}
		var rec inRecord
		if err := json.Unmarshal(p, &rec); err != nil {
			b.complete(ctx, it, store.Completion{DeadReason: "undecodable part: " + err.Error()})
			return
		}
		recs = append(recs, &rec)
	}
	if len(recs) == 0 {
		b.complete(ctx, it, store.Completion{DeadReason: "no parts"})
		return
	}
	b.deliverMO(ctx, it, recs, a.Missing)
}

// deliverMO decodes and routes an MO, then commits the platform requests
// for it and marks the inbound item done, in one store call.
func (b *Bridge) deliverMO(ctx context.Context, it store.Item, recs []*inRecord, missing []int) {
	w := b.moWork(b.t(), it.ID, it.FirstSeen, recs, missing)
	if w.dead != "" {
		if w.dead == "no_route" {
			b.moUnrouted(&w)
		}
		b.complete(ctx, it, store.Completion{DeadReason: w.dead})
		return
	}
	if b.complete(ctx, it, store.Completion{Enqueue: w.items}) {
		b.moQueued(&w, true)
	}
}

// moWork is what an MO asks for: its platform requests, or a dead letter.
type moWork struct {
	mo    MO
	cs    *channelState
	items []store.NewItem
	dead  string // dead-letter reason
}

// moWork decodes the MO made of recs (its parts, missing the numbered
// ones), routes it and builds its platform requests, queued under id.
func (b *Bridge) moWork(t *table, id string, received time.Time, recs []*inRecord, missing []int) (w moWork) {
	first := recs[0]
	s := t.smscs[first.SMSC]
	if s == nil {
		w.dead = "unknown smsc " + first.SMSC
		return w
	}
	var text strings.Builder
	for _, r := range recs {
		t, err := s.Alphabet.Decode(r.DataCoding, r.Payload, r.UDHLen)
		if err != nil {
			b.log.Warn("MO text decoded with fallback", "smsc_id", s.ID, "err", err)
		}
		text.WriteString(t)
	}
	w.mo = MO{ID: id, SMSC: s.ID, From: NormalizeInbound(first.Src, s.Country),
		To: NormalizeInbound(first.Dst, s.Country), Text: text.String(), Received: received,
		Parts: len(recs) + len(missing), Incomplete: len(missing) > 0}
	w.cs = t.routeMO(s, w.mo.To)
	if w.cs == nil {
		w.dead = "no_route"
		return w
	}
	w.mo.Channel = w.cs.ID
	reqs, err := w.cs.adapter.MO(w.mo)
	if err != nil {
		w.dead = "build platform request: " + err.Error()
		return w
	}
	w.items = callbackItems(w.cs.ID, w.mo.From, statusOf{MO: id}, reqs)
	return w
}

// moUnrouted shows and traces an MO no channel takes.
func (b *Bridge) moUnrouted(w *moWork) {
	mo := &w.mo
	b.observe(Event{Kind: "dead", SMSC: mo.SMSC, ID: mo.ID, Text: "MO to " + mo.To + " has no channel: dead letter no_route"})
	b.trace(store.TraceEvent{ID: mo.ID, Number: mo.From, Hop: "dead", SMSC: mo.SMSC, Detail: "no channel owns " + mo.To + ": dead letter no_route"})
}

// moQueued counts, traces (with trace: the deliver_sm's own trace event
// says it otherwise) and shows an MO whose platform requests are committed.
func (b *Bridge) moQueued(w *moWork, trace bool) {
	mo := &w.mo
	b.meter().Message("mo", w.cs.ID)
	if trace {
		b.trace(store.TraceEvent{ID: mo.ID, Number: mo.From, Hop: "routed", SMSC: mo.SMSC, Channel: w.cs.ID,
			Detail: fmt.Sprintf("MO to %s (%d part(s), %d characters) routed to channel %s, %d callback(s) queued", mo.To, mo.Parts, utf8.RuneCountInString(mo.Text), w.cs.ID, len(w.items))})
	}
	if b.o.Observe != nil {
		b.observe(Event{Kind: "queued", SMSC: mo.SMSC, Channel: w.cs.ID, ID: mo.ID,
			Text: fmt.Sprintf("MO %s → %s %q (%d part(s)) routed to channel %s, %d callback(s) queued", mo.From, mo.To, abbreviate(mo.Text), mo.Parts, w.cs.ID, len(w.items))})
	}
}

// routeMO picks the channel that owns number among those listing the SMSC,
// else the SMSC's default channel.
func (t *table) routeMO(s *smscState, number string) *channelState {
	for _, cs := range t.channels {
		if cs.numbers[number] && slices.Contains(cs.SMSC, s.ID) {
			return cs
		}
	}
	if s.DefaultChannel != "" {
		return t.channels[s.DefaultChannel]
	}
	return nil
}

// receiptData is kept with each receipt mapping.
type receiptData struct {
	MTID       string `json:"mt"`
	ExternalID string `json:"ext,omitempty"`
	To         string `json:"to,omitempty"`
	Dedup      string `json:"dd,omitempty"` // the MT's store dedup key
	TraceRef   string `json:"tr,omitempty"` // MT.TraceRef, when set
}

func (b *Bridge) processReceipt(ctx context.Context, it store.Item, rec *inRecord) {
	t := b.t()
	s := t.smscs[rec.SMSC]
	if s == nil {
		b.complete(ctx, it, store.Completion{DeadReason: "unknown smsc " + rec.SMSC})
		return
	}
	r := rec.Receipt
	m, ok, err := b.q.MatchReceipt(ctx, s.ID, s.IDType.ReceiptKey(r.ID))
	if err != nil {
		b.retry(ctx, it, "match receipt: "+err.Error(), 0)
		return
	}
	if !ok {
		if b.o.Now().Sub(it.FirstSeen) >= b.o.ReceiptGrace {
			b.complete(ctx, it, store.Completion{DeadReason: "unmatched_receipt: no submit_sm_resp with id " + r.ID})
			return
		}
		// Most often the submit's completion is a commit away: look again
		// soon, then less and less often (the wait doubles with the
		// receipt's age, up to a sixth of the grace). A wait, not a failed
		// attempt: only the grace and max_age bound it.
		wait := min(max(b.o.Now().Sub(it.FirstSeen), 20*time.Millisecond), max(b.o.ReceiptGrace/6, time.Second))
		b.retryWait(ctx, it, "no submit matches receipt id "+r.ID+" yet", wait)
		return
	}
	w := b.receiptWork(t, s, r, m)
	switch {
	case w.dead != "":
		b.complete(ctx, it, store.Completion{DeadReason: w.dead})
	case w.skip:
		b.complete(ctx, it, store.Completion{})
	default:
		if b.complete(ctx, it, store.Completion{Enqueue: w.items}) {
			b.receiptQueued(s, r, &w)
		}
	}
}

// receiptWork is what a matched receipt asks for: the status callbacks to
// queue, or a dead letter, or nothing (skip).
type receiptWork struct {
	cs    *channelState
	d     receiptData
	st    State
	part  int // which part of the MT (1 for a single part)
	items []store.NewItem
	dead  string // dead-letter reason
	skip  bool   // an intermediate state the platform takes no report of
}

// receiptWork builds the status callbacks for receipt r of SMSC s, matched
// to the submit mapping m.
func (b *Bridge) receiptWork(t *table, s *smscState, r *dlr.Receipt, m store.Receipt) (w receiptWork) {
	w.part = max(m.Part, 1)
	switch {
	case r.State == dlr.Delivered:
		w.st = StateDelivered // of this part; the callback lane merges the parts
	case r.State == dlr.Failed:
		w.st = StateFailed
	case r.State == dlr.Intermediate && t.channels[m.Channel] != nil && reportsBuffered(t.channels[m.Channel].adapter):
		w.st = StateBuffered // the SMSC holds it: only for platforms that take such reports
	default:
		w.skip = true
		return w
	}
	_ = w.d.decode(m.Data)
	w.cs = t.channels[m.Channel]
	if w.cs == nil {
		w.dead = "receipt for unknown channel " + m.Channel
		return w
	}
	status := Status{MTID: w.d.MTID, ExternalID: w.d.ExternalID, To: w.d.To, Channel: w.cs.ID, State: w.st, SMSC: s.ID,
		SMSCMsgID: r.ID, At: b.o.Now(), Report: receiptText(r)}
	if w.st == StateFailed {
		status.ErrorCode, status.Description = r.Err, r.Stat
	}
	reqs, err := w.cs.adapter.Status(status)
	if err != nil {
		w.dead = "build status request: " + err.Error()
		return w
	}
	of := statusOf{MTID: w.d.MTID, State: w.st, Group: groupKey(w.cs.ID, status), Parts: m.Parts, Part: m.Part, Dedup: w.d.Dedup}
	w.items = callbackItems(w.cs.ID, w.d.To, of, w.cs.logOnly(status, reqs))
	return w
}

// receiptQueued counts, traces and shows a receipt whose callbacks are
// committed.
func (b *Bridge) receiptQueued(s *smscState, r *dlr.Receipt, w *receiptWork) {
	b.meter().Message("receipt", w.cs.ID)
	b.trace(store.TraceEvent{ID: w.d.MTID, Ref: cmp.Or(w.d.TraceRef, w.d.ExternalID), Number: w.d.To, Hop: "receipt", SMSC: s.ID, Channel: w.cs.ID,
		Detail: fmt.Sprintf("receipt for message_id %s stat %s (part %d): %s callback queued", r.ID, r.Stat, w.part, w.st)})
	if b.o.Observe != nil {
		b.observe(Event{Kind: "receipt", SMSC: s.ID, Channel: w.cs.ID, ID: w.d.MTID,
			Text: fmt.Sprintf("receipt %s (stat %s) matched MT %s: %s callback queued", r.ID, r.Stat, w.d.MTID, w.st)})
	}
}

// complete finishes a leased item with c (Lane and ID filled in). It
// reports whether the store took it; when it did not, the item is retried.
func (b *Bridge) complete(ctx context.Context, it store.Item, c store.Completion) bool {
	c.Lane, c.ID, c.Token = it.Lane, it.ID, it.Token
	n := leaseNext(ctx, it)
	c.LeaseNext = n != nil
	var places []*inbox
	c.Enqueue, places = b.claimFor(c.Enqueue)
	var leased []*store.Item
	err := whileNoSpace(ctx, func() error {
		res, err := b.q.Complete(context.WithoutCancel(ctx), c)
		if err == nil {
			leased = res.Leased
			if n != nil {
				n.item = res.Next
			}
		}
		return err
	})
	b.settle(places, leased)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrStaleLease) {
			// Dropped by an operator, or finished elsewhere after its
			// lease ran out: nothing left to do.
			b.log.Warn("item vanished before completion", "lane", it.Lane, "id", it.ID)
			return false
		}
		b.log.Error("store commit failed", "lane", it.Lane, "id", it.ID, "err", err)
		b.retry(ctx, it, "commit: "+err.Error(), 0)
		return false
	}
	if c.DeadReason != "" {
		b.log.Error("dead letter", "lane", it.Lane, "id", it.ID, "attempt", it.Attempts+1, "reason", c.DeadReason)
		b.meter().Dead(it.Lane, DeadClass(c.DeadReason))
	}
	return true
}

// retryWait reschedules a leased item that waits for something (not a
// failed attempt: store.RetrySpec.Wait) after delay.
func (b *Bridge) retryWait(ctx context.Context, it store.Item, cause string, delay time.Duration) {
	err := whileNoSpace(ctx, func() error {
		_, err := b.q.Complete(context.WithoutCancel(ctx), store.Completion{Lane: it.Lane, ID: it.ID, Token: it.Token,
			Retry: &store.RetrySpec{Cause: cause, Delay: delay, Wait: true}})
		return err
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrStaleLease) {
		b.log.Error("store retry failed; item is due again when its lease ends", "lane", it.Lane, "id", it.ID, "err", err)
		return
	}
	b.log.Debug("waiting", "lane", it.Lane, "id", it.ID, "in", delay, "err", cause)
}

// retry reschedules a leased item after a failed attempt (delay 0: the
// retry policy's backoff), or dead-letters it when the policy says so. It
// logs one line: WARN with the attempt, when it is due next and why, or
// ERROR for the dead letter.
func (b *Bridge) retry(ctx context.Context, it store.Item, cause string, delay time.Duration) {
	var res store.CompleteResult
	err := whileNoSpace(ctx, func() (err error) {
		res, err = b.q.Complete(context.WithoutCancel(ctx), store.Completion{Lane: it.Lane, ID: it.ID, Token: it.Token,
			Retry: &store.RetrySpec{Cause: cause, Delay: delay}})
		return err
	})
	switch {
	case errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrStaleLease):
		b.log.Warn("item vanished before completion", "lane", it.Lane, "id", it.ID)
	case err != nil:
		b.log.Error("store retry failed; item is due again when its lease ends", "lane", it.Lane, "id", it.ID, "err", err)
	case res.Dead:
		b.log.Error("dead letter after retries", "lane", it.Lane, "id", it.ID, "attempt", it.Attempts+1, "err", cause)
		b.observe(Event{Kind: "dead", ID: it.ID, Text: "gave up: " + cause})
		b.meter().Dead(it.Lane, "retries_exhausted")
	default:
		b.logRetry(it, res, cause)
		b.meter().Retry(it.Lane)
	}
}

// logRetry is the WARN line of an attempt that will be retried: which
// attempt failed, when the next one is due (when the store says) and why.
func (b *Bridge) logRetry(it store.Item, res store.CompleteResult, cause string) {
	args := []any{"lane", it.Lane, "id", it.ID, "attempt", it.Attempts + 1}
	if !res.Due.IsZero() {
		args = append(args, "next", res.Due.UTC().Format(time.RFC3339), "in", res.Due.Sub(b.o.Now()).Round(time.Millisecond))
	}
	b.log.Warn("will retry", append(args, "err", cause)...)
}

// noSpaceWait bounds how long a lane worker keeps trying a commit that the
// store refused for lack of disk space. It is shorter than the store's
// lease (store.Options.LeaseTTL, 5 minutes), so the item's token is still
// good when space returns; past it, the item is due again when its lease
// ends.
const noSpaceWait = 4 * time.Minute

// whileNoSpace runs commit until it succeeds or fails for a reason other
// than a full disk (store.ErrNoSpace), pausing 50 ms doubling to 2 s
// between tries, for at most noSpaceWait or until ctx ends. The worker
// keeps its slot meanwhile: nothing else could commit either.
func whileNoSpace(ctx context.Context, commit func() error) error {
	deadline := time.Now().Add(noSpaceWait)
	pause := 50 * time.Millisecond
	for {
		err := commit()
		if !errors.Is(err, store.ErrNoSpace) || time.Now().Add(pause).After(deadline) {
			return err
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		pause = min(2*pause, 2*time.Second)
	}
}

func abbreviate(s string) string {
	r := []rune(s)
	if len(r) > 40 {
		return string(r[:37]) + "..."
	}
	return s
}

// receiptText is a receipt in the text form of SMPP 3.4 Appendix B, as the
// SMSC sends it (Kannel's %A of a delivery report).
func receiptText(r *dlr.Receipt) string {
	return fmt.Sprintf("id:%s sub:%s dlvrd:%s submit date:%s done date:%s stat:%s err:%s text:%s",
		r.ID, r.Sub, r.Dlvrd, r.SubmitDate, r.DoneDate, r.Stat, r.Err, r.Text)
}
