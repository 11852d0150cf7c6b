package bridge

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/smscbridge/smscbridge/smsc"
	"github.com/smscbridge/smscbridge/smsc/coding"
	"github.com/smscbridge/smscbridge/smsc/dlr"
	"github.com/smscbridge/smscbridge/smsc/pdu"
	"github.com/smscbridge/smscbridge/store"
)

// mtRecord is what the bridge commits for an accepted MT. The last four
// fields are the progress of a multi-part MT whose later parts are still to
// be sent: a retry resends only those, under the same reference.
type mtRecord struct {
	ID         string        `json:"id,omitempty"` // set when the item moved lanes; else the item's own id
	Channel    string        `json:"channel"`
	To         string        `json:"to"`
	From       string        `json:"from,omitempty"`
	Text       string        `json:"text"`
	ExternalID string        `json:"ext,omitempty"`
	SMSC       []string      `json:"smsc"`
	Dedup      string        `json:"dd,omitempty"` // the store dedup key it was accepted under
	Submit     *SubmitParams `json:"sp,omitempty"` // the platform's submit_sm settings, if any
	TraceRef   string        `json:"tr,omitempty"` // MT.TraceRef, when set
	On         string        `json:"on,omitempty"` // SMSC the parts in Sent went to
	Ref        uint16        `json:"ref,omitempty"`
	Parts      int           `json:"parts,omitempty"` // how many parts the text takes on On
	Sent       []string      `json:"sent,omitempty"`  // message ids of the accepted parts, in order
}

// Accept validates an MT, picks its SMSC and commits it. It returns the
// bridge id once the MT is on disk (see Accepter).
func (b *Bridge) Accept(ctx context.Context, mt MT) (string, error) {
	t := b.t()
	cs := t.channels[mt.Channel]
	if cs == nil {
		return "", invalidf("", "unknown channel %q", mt.Channel)
	}
	to := strings.TrimSpace(mt.To)
	if !IsPhoneNumber(to) && !(allDigits(to) && len(to) <= 15) {
		return "", invalidf("to", "%q is not a phone number (E.164 with +, or digits)", mt.To)
	}
	if strings.TrimSpace(mt.Text) == "" && !mt.AllowEmpty {
		return "", invalidf("text", "empty")
	}
	list := t.smscFor(cs, to)
	if len(list) == 0 {
		return "", fmt.Errorf("%w: %s", ErrNoRoute, to)
	}
	if i := slices.Index(list, mt.SMSC); i > 0 { // the platform's preferred SMSC first
		list = append([]string{mt.SMSC}, slices.Delete(slices.Clone(list), i, i+1)...)
	}
	s := t.pickSMSC(list)
	c := s.Alphabet.Pick(mt.Text, s.Coding)
	if n := coding.Parts(mt.Text, c, udhLen(s.Long)); n > s.MaxParts {
		return "", invalidf("text", "needs %d SMS parts; smsc %q allows at most %d (max_parts)", n, s.ID, s.MaxParts)
	}
	from := mt.From
	if from == "" && len(cs.Numbers) > 0 {
		from = cs.Numbers[0]
	}
	rec := mtRecord{Channel: cs.ID, To: to, From: from, Text: mt.Text, ExternalID: mt.ExternalID, SMSC: list}
	rec.TraceRef = mt.TraceRef
	if !mt.Submit.IsZero() {
		if err := checkSubmit(mt.Submit); err != nil {
			return "", err
		}
		sp := mt.Submit
		if clientData(&sp) {
			n, err := clientParts(mt.Text, &sp, s.Alphabet, s.Coding)
			if err != nil {
				return "", err
			}
			if n > s.MaxParts {
				return "", invalidf("text", "needs %d SMS parts; smsc %q allows at most %d (max_parts)", n, s.ID, s.MaxParts)
			}
		}
		rec.Submit = &sp
	}
	if mt.DedupKey != "" {
		rec.Dedup = cs.ID + "\x00" + mt.DedupKey
	}
	data := rec.encode()
	it := store.NewItem{Lane: laneMT(s.ID), Key: contactKey(cs.ID, to), Payload: data}
	if rec.Dedup != "" {
		it.DedupKey, it.DedupTTL = rec.Dedup, mt.DedupWindow
	}
	id, dup, err := b.addDup(ctx, it)
	if err != nil {
		b.log.Error("commit MT failed", "channel", cs.ID, "err", err)
		return "", fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if dup {
		b.observe(Event{Kind: "mt", Channel: cs.ID, ID: id, Text: "duplicate send ignored, first id returned"})
		b.trace(store.TraceEvent{ID: id, Ref: cmp.Or(mt.TraceRef, mt.ExternalID), Number: to, Hop: "http_in", Channel: cs.ID, Detail: "repeated send: nothing queued, first id returned"})
		return id, nil
	}
	b.meter().Message("mt", cs.ID)
	b.trace(store.TraceEvent{ID: id, Ref: cmp.Or(mt.TraceRef, mt.ExternalID), Number: to, Hop: "http_in", SMSC: s.ID, Channel: cs.ID,
		Detail: fmt.Sprintf("accepted from %s (%d characters) and committed, queued for %s", cs.ID, len([]rune(mt.Text)), s.ID)})
	b.observe(Event{Kind: "mt", SMSC: s.ID, Channel: cs.ID, ID: id,
		Text: fmt.Sprintf("MT to %s %q accepted and committed, queued for %s", to, abbreviate(mt.Text), s.ID)})
	return id, nil
}

// udhLen is the header room each part of a long text loses in mode l, as
// smsc.BuildSubmits splits: 8-bit reference UDH for udh (and to estimate
// the parts of a message_payload), 16-bit reference room otherwise.
func udhLen(l smsc.LongMode) int {
	if l == smsc.LongUDH || l == smsc.LongPayload {
		return coding.UDHConcat8Len
	}
	return coding.UDHConcat16Len
}

// smscFor returns the SMSCs an MT to number goes through: the longest
// matching [[route]] prefix, else the channel's list.
func (t *table) smscFor(cs *channelState, number string) []string {
	best := -1
	var list []string
	for _, r := range t.routes {
		if strings.HasPrefix(number, r.Prefix) && len(r.Prefix) > best {
			best, list = len(r.Prefix), r.SMSC
		}
	}
	if best >= 0 {
		return list
	}
	return cs.SMSC
}

// pickSMSC returns the first SMSC of list with a live bind, else the first:
// its MT lane holds the message until the bind comes back.
func (t *table) pickSMSC(list []string) *smscState {
	for _, id := range list {
		if s := t.smscs[id]; s.usable() {
			return s
		}
	}
	return t.smscs[list[0]]
}

// mtJob is one leased MT being worked on by the lane of SMSC s.
type mtJob struct {
	it   store.Item
	s    *smscState
	cs   *channelState
	mtid string
	rec  mtRecord
}

// processMT sends one MT as submit_sm (one per segment, in order, on the
// lane's SMSC), then commits the receipt mappings, the "sent" callbacks and
// the item's completion in one store call. A multi-part MT that stops
// part-way keeps its progress (the accepted parts' ids and receipt
// mappings, its concatenation reference) in the same call that schedules
// the retry, so the retry sends only the rest. Every way an MT can end is
// reported to its platform: a retry that runs out of attempts or age queues
// "failed" in the call that dead-letters it.
func (b *Bridge) processMT(ctx context.Context, it store.Item) {
	t := b.t()
	s := t.smscs[strings.TrimPrefix(it.Lane, "mt:")]
	var rec mtRecord
	if err := rec.decode(it.Payload); err != nil || s == nil {
		b.complete(ctx, it, store.Completion{DeadReason: fmt.Sprintf("undecodable MT record: %v", err)})
		return
	}
	cs := t.channels[rec.Channel]
	if cs == nil {
		b.complete(ctx, it, store.Completion{DeadReason: "unknown channel " + rec.Channel})
		return
	}
	j := &mtJob{it: it, s: s, cs: cs, mtid: cmp.Or(rec.ID, it.ID), rec: rec}
	if s.suspended.Load() { // suspended after it was leased: back to the queue, no attempt spent
		b.retryMT(ctx, j, nil, store.RetrySpec{Cause: "smsc " + s.ID + ": MT suspended", Delay: suspendPoll, Wait: true})
		return
	}
	if !s.sub.Bound() {
		b.waitForBind(ctx, j)
		return
	}
	src, dst := Outbound(rec.From, s.SourceTON), Outbound(rec.To, s.DestTON)
	build := func(ref uint16) ([]*pdu.ShortMessage, error) {
		sms, err := smsc.BuildSubmits(smsc.Address{Addr: src.Addr, TON: src.TON, NPI: src.NPI},
			smsc.Address{Addr: dst.Addr, TON: dst.TON, NPI: dst.NPI}, rec.Text,
			smsc.SubmitOptions{Coding: s.Coding, Alphabet: s.Alphabet, Long: s.Long, MaxParts: s.MaxParts, Ref: ref, RegisteredDelivery: s.RegisteredDelivery})
		if clientData(rec.Submit) {
			sms, err = buildClient(smsc.Address{Addr: src.Addr, TON: src.TON, NPI: src.NPI},
				smsc.Address{Addr: dst.Addr, TON: dst.TON, NPI: dst.NPI}, rec.Text, rec.Submit,
				smsc.SubmitOptions{Coding: s.Coding, Alphabet: s.Alphabet, MaxParts: s.MaxParts, Ref: ref, RegisteredDelivery: s.RegisteredDelivery})
		}
		applySubmit(sms, rec.Submit)
		return sms, err
	}
	ref, done := rec.Ref, rec.Sent // done: message ids of the parts accepted so far
	if rec.On != s.ID || ref == 0 || len(done) == 0 {
		ref, done = uint16(s.ref.Add(1)), nil // a fresh start
	}
	sms, err := build(ref)
	if err == nil && len(done) > 0 && len(sms) != rec.Parts {
		// The SMSC's settings changed since: start over.
		ref, done = uint16(s.ref.Add(1)), nil
		sms, err = build(ref)
	}
	if err != nil {
		b.failMT(ctx, j, nil, 0, "encode", err)
		return
	}
	j.rec.On, j.rec.Ref, j.rec.Parts, j.rec.Sent = s.ID, ref, len(sms), done
	from := len(done)
	ids := append([]string(nil), done...)
	for i := from; i < len(sms); i++ {
		sm := sms[i]
		id, err := submitPart(ctx, s.sub, sm)
		b.traceSubmit(j, i, len(sms), sm.DestAddr, id, err)
		if err == nil {
			ids = append(ids, id)
			b.observe(Event{Kind: "submit", SMSC: s.ID, Channel: cs.ID, ID: j.mtid,
				Text: fmt.Sprintf("submit_sm %d/%d to %s (data_coding 0x%02X, %d octets) → submit_sm_resp OK message_id %s", i+1, len(sms), sm.DestAddr, sm.DataCoding, len(sm.Message), id)})
			continue
		}
		j.rec.Sent = ids
		rcpts := b.receipts(s.ID, cs.ID, j.mtid, j.rec, ids, from)
		var st pdu.Status
		switch {
		case errors.Is(err, smsc.ErrUnknownOutcome):
			// Sent but never answered: resending could duplicate the SMS,
			// so it is not resent silently; an operator decides, unless the
			// response turns up late (LateResponse). The dead letter keeps
			// the progress, so a requeue resends from this part on.
			// One ERROR line (complete's "dead letter") says it.
			stored := b.complete(ctx, it, store.Completion{DeadReason: fmt.Sprintf("unknown_outcome: part %d/%d got no submit_sm_resp", i+1, len(sms)),
				Payload: j.payload(), Receipts: rcpts})
			var uo *smsc.UnknownOutcomeError
			if stored && errors.As(err, &uo) && uo.Ref != 0 {
				// Registered once the dead letter is on disk, so settling
				// never races it; a response arriving before this is
				// ignored and the dead letter stays.
				b.late.put(lateKey(s.ID, uo.Ref), &lateSubmit{itemID: it.ID, key: it.Key, smscID: s.ID, cs: cs, mtid: j.mtid, rec: j.rec,
					ids: append([]string(nil), ids...), parts: len(sms), at: b.o.Now()})
			}
		case errors.As(err, &st) && !st.Temporary():
			b.failMT(ctx, j, rcpts, from, "submit_sm", err)
		case errors.Is(err, smsc.ErrNotBound):
			// The bind went away: a wait, not a failed attempt.
			b.retryMT(ctx, j, rcpts, store.RetrySpec{Cause: "submit_sm: " + err.Error(), Delay: time.Second, Wait: true})
		case errors.As(err, &st) && st.Throttle():
			b.retryMT(ctx, j, rcpts, store.RetrySpec{Cause: "submit_sm: " + err.Error(), Delay: time.Second})
		default:
			b.retryMT(ctx, j, rcpts, store.RetrySpec{Cause: "submit_sm: " + err.Error()})
		}
		return
	}
	j.rec.Sent = ids
	if b.complete(ctx, it, store.Completion{Receipts: b.receipts(s.ID, cs.ID, j.mtid, j.rec, ids, from),
		Enqueue: b.mtStatus(j.cs, s.ID, j.mtid, j.rec, StateSent, ids[0], nil)}) {
		b.log.Debug("MT submitted", "lane", it.Lane, "id", it.ID, "attempt", it.Attempts+1, "msg_id", j.mtid, "parts", len(ids), "smsc_msg_id", ids[0])
	}
}

// traceSubmit records the submit_sm of part i (0-based) of n and its
// response.
func (b *Bridge) traceSubmit(j *mtJob, i, n int, to, id string, err error) {
	if b.o.Trace == nil {
		return
	}
	d := fmt.Sprintf("part %d/%d to %s → submit_sm_resp OK message_id %s", i+1, n, to, id)
	if err != nil {
		d = fmt.Sprintf("part %d/%d to %s → %v", i+1, n, to, err)
	}
	b.trace(store.TraceEvent{ID: j.mtid, Ref: cmp.Or(j.rec.TraceRef, j.rec.ExternalID), Hop: "submit_sm", SMSC: j.s.ID, Channel: j.cs.ID, Attempt: j.it.Attempts + 1, Detail: d})
}

// payload is the MT record with its progress, as stored for the next try.
func (j *mtJob) payload() []byte {
	r := j.rec
	if r.ID == "" {
		r.ID = j.mtid
	}
	return r.encode()
}

// retryMT schedules the MT again with its progress and the receipt
// mappings of the parts accepted in this try, in one store call; if the
// retry policy dead-letters it instead, its platform hears "failed" from
// that same call.
func (b *Bridge) retryMT(ctx context.Context, j *mtJob, rcpts []store.Receipt, spec store.RetrySpec) {
	cause := errors.New(spec.Cause)
	c := store.Completion{Lane: j.it.Lane, ID: j.it.ID, Token: j.it.Token, Retry: &spec, Payload: j.payload(), Receipts: rcpts,
		OnDead: b.mtStatus(j.cs, j.s.ID, j.mtid, j.rec, StateFailed, "", fmt.Errorf("retries exhausted: %w", cause))}
	var res store.CompleteResult
	err := whileNoSpace(ctx, func() (err error) {
		res, err = b.q.Complete(context.WithoutCancel(ctx), c)
		return err
	})
	switch {
	case errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrStaleLease):
		b.log.Warn("item vanished before completion", "lane", j.it.Lane, "id", j.it.ID)
	case err != nil:
		b.log.Error("store retry failed; item is due again when its lease ends", "lane", j.it.Lane, "id", j.it.ID, "err", err)
	case res.Dead:
		b.log.Error("dead letter after retries; platform told failed", "lane", j.it.Lane, "id", j.it.ID, "attempt", j.it.Attempts+1, "msg_id", j.mtid, "err", spec.Cause)
		b.observe(Event{Kind: "dead", SMSC: j.s.ID, Channel: j.cs.ID, ID: j.mtid, Text: "gave up: " + spec.Cause + "; failed callback queued"})
		b.meter().Dead(j.it.Lane, "retries_exhausted")
		b.trace(store.TraceEvent{ID: j.mtid, Hop: "dead", SMSC: j.s.ID, Attempt: j.it.Attempts + 1, Detail: "retries exhausted (" + spec.Cause + "): dead letter, failed callback queued"})
	case spec.Wait:
		// No bind: a wait, not a failed attempt (it is not counted).
		b.log.Debug("waiting for a bind", "lane", j.it.Lane, "id", j.it.ID, "err", spec.Cause)
	default:
		b.logRetry(j.it, res, spec.Cause)
		b.meter().Retry(j.it.Lane)
		b.trace(store.TraceEvent{ID: j.mtid, Hop: "retry", SMSC: j.s.ID, Attempt: j.it.Attempts + 1, Detail: spec.Cause})
	}
}

// waitForBind handles an MT leased while its SMSC has no bind. Once the
// SMSC has had none for its FailoverAfter, the MT moves to the next SMSC of
// its list that has one (same MT id, same ordering key, progress reset);
// otherwise it waits: no attempt is counted, but max_age applies, and
// "failed" is reported if it expires.
func (b *Bridge) waitForBind(ctx context.Context, j *mtJob) {
	s := j.s
	down := s.downFor(b.o.Now())
	if down >= s.FailoverAfter {
		if next := b.t().nextSMSC(j.rec.SMSC, s.ID); next != nil {
			r := j.rec
			r.ID, r.On, r.Ref, r.Parts, r.Sent = j.mtid, "", 0, 0, nil
			data := r.encode()
			if b.complete(ctx, j.it, store.Completion{Enqueue: []store.NewItem{{Lane: laneMT(next.ID), Key: j.it.Key, Payload: data}}}) {
				b.log.Warn("MT failed over to the next SMSC", "smsc_id", s.ID, "to_smsc", next.ID, "msg_id", j.mtid, "down_for", down.Round(time.Millisecond))
				b.trace(store.TraceEvent{ID: j.mtid, Hop: "failover", SMSC: next.ID, Channel: j.cs.ID,
					Detail: fmt.Sprintf("%s has had no bind for %s: moved to %s", s.ID, down.Round(time.Millisecond), next.ID)})
				b.observe(Event{Kind: "mt", SMSC: next.ID, Channel: j.cs.ID, ID: j.mtid,
					Text: fmt.Sprintf("%s has had no bind for %s: MT moved to %s", s.ID, down.Round(time.Millisecond), next.ID)})
			}
			return
		}
	}
	b.retryMT(ctx, j, nil, store.RetrySpec{Cause: "smsc " + s.ID + ": no bind", Delay: s.bindWait(), Wait: true})
}

// bindWaitMax is the longest an MT waiting for a bind sleeps between
// looks (max_age and failover are checked at each).
const bindWaitMax = 5 * time.Second

// nextSMSC returns the first SMSC after cur in list (wrapping around; from
// the start when cur is not in it) that has a live bind, or nil.
func (t *table) nextSMSC(list []string, cur string) *smscState {
	at := slices.Index(list, cur) // -1: start at list[0]
	for k := 1; k <= len(list); k++ {
		s := t.smscs[list[(at+k)%len(list)]]
		if s != nil && s.ID != cur && s.usable() {
			return s
		}
	}
	return nil
}

// mtStatus builds the queue items that report an MT's new state to its
// platform; for a failure, cause gives the description and, when it is an
// SMPP status, the error code. The state covers every part of the MT.
func (b *Bridge) mtStatus(cs *channelState, smscID, mtid string, rec mtRecord, state State, smscMsgID string, cause error) []store.NewItem {
	st := Status{MTID: mtid, ExternalID: rec.ExternalID, To: rec.To, Channel: cs.ID, State: state, SMSC: smscID, SMSCMsgID: smscMsgID, At: b.o.Now()}
	if cause != nil {
		var ps pdu.Status
		if errors.As(cause, &ps) {
			st.ErrorCode = fmt.Sprintf("0x%02X", uint32(ps))
		}
		st.Description = cause.Error()
	}
	return b.statusItems(cs, st, statusOf{Dedup: rec.Dedup, Parts: max(rec.Parts, 1)})
}

// statusItems builds the callbacks of one status with what the callback
// lane needs to merge it with the other parts and chunks of its message.
func (b *Bridge) statusItems(cs *channelState, st Status, of statusOf) []store.NewItem {
	reqs, err := cs.adapter.Status(st)
	if err != nil {
		b.log.Error("build status callback", "channel", cs.ID, "status", st.State.String(), "err", err)
	}
	of.MTID, of.State, of.Group = st.MTID, st.State, groupKey(cs.ID, st)
	return callbackItems(cs.ID, st.To, of, cs.logOnly(st, reqs))
}

// failMT dead-letters an MT that failed for good and queues its "failed"
// callbacks, in one store call.
func (b *Bridge) failMT(ctx context.Context, j *mtJob, rcpts []store.Receipt, from int, step string, cause error) {
	b.observe(Event{Kind: "status", SMSC: j.s.ID, Channel: j.cs.ID, ID: j.mtid, Text: "MT failed: " + cause.Error()})
	b.trace(store.TraceEvent{ID: j.mtid, Hop: "failed", SMSC: j.s.ID, Channel: j.cs.ID, Attempt: j.it.Attempts + 1, Detail: step + ": " + cause.Error() + ": dead letter, failed callback queued"})
	b.complete(ctx, j.it, store.Completion{DeadReason: step + ": " + cause.Error(), Payload: j.payload(),
		Receipts: rcpts, Enqueue: b.mtStatus(j.cs, j.s.ID, j.mtid, j.rec, StateFailed, "", cause)})
}

// receipts are the receipt mappings of parts from+1.. of an MT (ids holds
// the message ids of all accepted parts, in order).
func (b *Bridge) receipts(smscID, channel, mtid string, rec mtRecord, ids []string, from int) []store.Receipt {
	var idType dlr.IDType // an SMSC removed by a reload meanwhile: the default
	if s := b.t().smscs[smscID]; s != nil {
		idType = s.IDType
	}
	parts := max(rec.Parts, len(ids))
	data := (&receiptData{MTID: mtid, ExternalID: rec.ExternalID, To: rec.To, Dedup: rec.Dedup, TraceRef: rec.TraceRef}).encode()
	out := make([]store.Receipt, 0, len(ids)-from)
	for i := from; i < len(ids); i++ {
		out = append(out, store.Receipt{SMSC: smscID, MsgID: idType.SubmitKey(ids[i]), ItemID: mtid, Channel: channel,
			Part: i + 1, Parts: parts, Data: data})
	}
	return out
}

// submitPart sends one segment. Throttling (ESME_RTHROTTLED /
// ESME_RMSGQFUL) is handled by the smsc.Client: it pauses the bind and sends
// the segment again itself, so the segments of a long message stay together
// under one concatenation reference; a throttled answer reaches here only
// when it persisted for the SMSC's throttle_timeout.
func submitPart(ctx context.Context, sub Submitter, sm *pdu.ShortMessage) (string, error) {
	return sub.Submit(ctx, sm)
}

// checkSubmit refuses submit_sm settings SMPP cannot carry.
func checkSubmit(p SubmitParams) error {
	switch {
	case p.Priority > 3:
		return invalidf("priority", "%d: must be 0..3", p.Priority)
	case p.Validity < 0 || p.Validity > maxRelative:
		return invalidf("validity", "%v: must be 0..%v", p.Validity, maxRelative)
	case p.Deferred < 0 || p.Deferred > maxRelative:
		return invalidf("deferred", "%v: must be 0..%v", p.Deferred, maxRelative)
	case len(p.ServiceType) > 5:
		return invalidf("service_type", "%q: at most 5 characters", p.ServiceType)
	case p.MWI > 8:
		return invalidf("mwi", "%d: must be 0 (none) or 1..8 (Kannel's mwi 0..7)", p.MWI)
	case p.Class > 4:
		return invalidf("class", "%d: must be 0 (none) or 1..4 (class 0..3)", p.Class)
	case len(p.UDH) > 0 && int(p.UDH[0])+1 != len(p.UDH):
		return invalidf("udh", "UDH length octet %d, but %d octets follow", p.UDH[0], len(p.UDH)-1)
	case len(p.Data) > 0 && !p.Binary:
		return invalidf("data", "data without binary")
	}
	return nil
}

// maxRelative is the longest relative time the bridge writes (99 days in
// the DD field; longer would need months, whose length SMSCs disagree on).
const maxRelative = 99 * 24 * time.Hour

// applySubmit sets the platform's submit_sm settings on every segment.
func applySubmit(sms []*pdu.ShortMessage, p *SubmitParams) {
	if p == nil {
		return
	}
	for _, sm := range sms {
		sm.PriorityFlag = p.Priority
		sm.ValidityPeriod = relativeTime(p.Validity)
		sm.ScheduleDeliveryTime = relativeTime(p.Deferred)
		if p.ServiceType != "" {
			sm.ServiceType = p.ServiceType
		}
		sm.DataCoding = classDCS(sm.DataCoding, p)
		sm.ProtocolID = p.PID
		if p.RPI {
			sm.ESMClass |= pdu.ESMClassReplyPath
		}
	}
}

// relativeTime is d in SMPP's relative time format YYMMDDhhmmss000R (smpp.md
// §4.4.1, SMPP 3.4 §7.1.1.2), "" for 0.
func relativeTime(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	s := int64(d.Round(time.Second) / time.Second)
	return fmt.Sprintf("0000%02d%02d%02d%02d000R", s/86400, s%86400/3600, s%3600/60, s%60)
}
