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
	first := recs[0]
	t := b.t()
	s := t.smscs[first.SMSC]
	if s == nil {
		b.complete(ctx, it, store.Completion{DeadReason: "unknown smsc " + first.SMSC})
		return
	}
	var text strings.Builder
	for _, r := range recs {
		t, err := s.Alphabet.Decode(r.DataCoding, r.Payload, r.UDHLen)
		if err != nil {
			b.log.Warn("MO text decoded with fallback", "smsc_id", s.ID, "err", err)
		}
		text.WriteString(t)
	}
	mo := MO{ID: it.ID, SMSC: s.ID, From: NormalizeInbound(first.Src, s.Country),
		To: NormalizeInbound(first.Dst, s.Country), Text: text.String(), Received: it.FirstSeen,
		Parts: len(recs) + len(missing), Incomplete: len(missing) > 0}
	cs := t.routeMO(s, mo.To)
	if cs == nil {
		b.observe(Event{Kind: "dead", SMSC: s.ID, ID: it.ID, Text: "MO to " + mo.To + " has no channel: dead letter no_route"})
		b.trace(store.TraceEvent{ID: it.ID, Number: mo.From, Hop: "dead", SMSC: s.ID, Detail: "no channel owns " + mo.To + ": dead letter no_route"})
		b.complete(ctx, it, store.Completion{DeadReason: "no_route"})
		return
	}
	mo.Channel = cs.ID
	reqs, err := cs.adapter.MO(mo)
	if err != nil {
		b.complete(ctx, it, store.Completion{DeadReason: "build platform request: " + err.Error()})
		return
	}
	if b.complete(ctx, it, store.Completion{Enqueue: callbackItems(cs.ID, mo.From, statusOf{MO: it.ID}, reqs)}) {
		b.meter().Message("mo", cs.ID)
		b.trace(store.TraceEvent{ID: it.ID, Number: mo.From, Hop: "routed", SMSC: s.ID, Channel: cs.ID,
			Detail: fmt.Sprintf("MO to %s (%d part(s), %d characters) routed to channel %s, %d callback(s) queued", mo.To, mo.Parts, len([]rune(mo.Text)), cs.ID, len(reqs))})
		b.observe(Event{Kind: "queued", SMSC: s.ID, Channel: cs.ID, ID: it.ID,
			Text: fmt.Sprintf("MO %s → %s %q (%d part(s)) routed to channel %s, %d callback(s) queued", mo.From, mo.To, abbreviate(mo.Text), mo.Parts, cs.ID, len(reqs))})
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
	var st State
	switch {
	case r.State == dlr.Delivered:
		st = StateDelivered // of this part; the callback lane merges the parts
	case r.State == dlr.Failed:
		st = StateFailed
	case r.State == dlr.Intermediate && t.channels[m.Channel] != nil && reportsBuffered(t.channels[m.Channel].adapter):
		st = StateBuffered // the SMSC holds it: only for platforms that take such reports
	default:
		b.complete(ctx, it, store.Completion{})
		return
	}
	var d receiptData
	_ = json.Unmarshal(m.Data, &d)
	cs := t.channels[m.Channel]
	if cs == nil {
		b.complete(ctx, it, store.Completion{DeadReason: "receipt for unknown channel " + m.Channel})
		return
	}
	status := Status{MTID: d.MTID, ExternalID: d.ExternalID, To: d.To, Channel: cs.ID, State: st, SMSC: s.ID,
		SMSCMsgID: r.ID, At: b.o.Now(), Report: receiptText(r)}
	if st == StateFailed {
		status.ErrorCode, status.Description = r.Err, r.Stat
	}
	reqs, err := cs.adapter.Status(status)
	if err != nil {
		b.complete(ctx, it, store.Completion{DeadReason: "build status request: " + err.Error()})
		return
	}
	of := statusOf{MTID: d.MTID, State: st, Group: groupKey(cs.ID, status), Parts: m.Parts, Part: m.Part, Dedup: d.Dedup}
	if b.complete(ctx, it, store.Completion{Enqueue: callbackItems(cs.ID, d.To, of, cs.logOnly(status, reqs))}) {
		b.meter().Message("receipt", cs.ID)
		b.trace(store.TraceEvent{ID: d.MTID, Ref: cmp.Or(d.TraceRef, d.ExternalID), Number: d.To, Hop: "receipt", SMSC: s.ID, Channel: cs.ID,
			Detail: fmt.Sprintf("receipt for message_id %s stat %s (part %d): %s callback queued", r.ID, r.Stat, max(m.Part, 1), st)})
		b.observe(Event{Kind: "receipt", SMSC: s.ID, Channel: cs.ID, ID: d.MTID,
			Text: fmt.Sprintf("receipt %s (stat %s) matched MT %s: %s callback queued", r.ID, r.Stat, d.MTID, st)})
	}
}

// complete finishes a leased item with c (Lane and ID filled in). It
// reports whether the store took it; when it did not, the item is retried.
func (b *Bridge) complete(ctx context.Context, it store.Item, c store.Completion) bool {
	c.Lane, c.ID, c.Token = it.Lane, it.ID, it.Token
	n := leaseNext(ctx, it)
	c.LeaseNext = n != nil
	c.Enqueue = slices.Clone(c.Enqueue)
	places := b.claimFor(c.Enqueue)
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
