package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/smscbridge/smscbridge/smsc"
	"github.com/smscbridge/smscbridge/smsc/coding"
	"github.com/smscbridge/smscbridge/smsc/pdu"
	"github.com/smscbridge/smscbridge/store"
)

// mtRecord is what the bridge commits for an accepted MT.
type mtRecord struct {
	ID         string   `json:"id,omitempty"` // set when the item moved lanes; else the item's own id
	Channel    string   `json:"channel"`
	To         string   `json:"to"`
	From       string   `json:"from,omitempty"`
	Text       string   `json:"text"`
	ExternalID string   `json:"ext,omitempty"`
	SMSC       []string `json:"smsc"`
}

// Accept validates an MT, picks its SMSC and commits it. It returns the
// bridge id once the MT is on disk (see Accepter).
func (b *Bridge) Accept(ctx context.Context, mt MT) (string, error) {
	cs := b.channels[mt.Channel]
	if cs == nil {
		return "", fmt.Errorf("%w: unknown channel %q", ErrInvalid, mt.Channel)
	}
	to := strings.TrimSpace(mt.To)
	if !IsPhoneNumber(to) && !(allDigits(to) && len(to) <= 15) {
		return "", fmt.Errorf("%w: to: %q is not a phone number (E.164 with +, or digits)", ErrInvalid, mt.To)
	}
	if strings.TrimSpace(mt.Text) == "" {
		return "", fmt.Errorf("%w: text: empty", ErrInvalid)
	}
	list := b.smscFor(cs, to)
	if len(list) == 0 {
		return "", fmt.Errorf("%w: %s", ErrNoRoute, to)
	}
	s := b.pickSMSC(list)
	c := coding.Pick(mt.Text, s.Coding)
	if n := coding.Parts(mt.Text, c, 6); n > s.MaxParts {
		return "", fmt.Errorf("%w: text: needs %d SMS parts, smsc %q allows at most %d", ErrInvalid, n, s.ID, s.MaxParts)
	}
	from := mt.From
	if from == "" && len(cs.Numbers) > 0 {
		from = cs.Numbers[0]
	}
	rec := mtRecord{Channel: cs.ID, To: to, From: from, Text: mt.Text, ExternalID: mt.ExternalID, SMSC: list}
	data, _ := json.Marshal(rec)
	it := store.NewItem{Lane: laneMT(s.ID), Key: contactKey(cs.ID, to), Payload: data}
	if mt.DedupKey != "" {
		it.DedupKey, it.DedupTTL = cs.ID+"\x00"+mt.DedupKey, mt.DedupWindow
	}
	id, dup, err := b.q.Enqueue(ctx, it)
	if err != nil {
		b.log.Error("commit MT failed", "channel", cs.ID, "err", err)
		return "", fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if dup {
		b.observe(Event{Kind: "mt", Channel: cs.ID, ID: id, Text: "duplicate send ignored, first id returned"})
		return id, nil
	}
	b.observe(Event{Kind: "mt", SMSC: s.ID, Channel: cs.ID, ID: id,
		Text: fmt.Sprintf("MT to %s %q accepted and committed, queued for %s", to, abbreviate(mt.Text), s.ID)})
	return id, nil
}

// smscFor returns the SMSCs an MT to number goes through: the longest
// matching [[route]] prefix, else the channel's list.
func (b *Bridge) smscFor(cs *channelState, number string) []string {
	best := -1
	var list []string
	for _, r := range b.routes {
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
func (b *Bridge) pickSMSC(list []string) *smscState {
	for _, id := range list {
		if s := b.smscs[id]; s.sub != nil && s.sub.Bound() {
			return s
		}
	}
	return b.smscs[list[0]]
}

// processMT sends one MT as submit_sm (one per segment, in order, on the
// lane's SMSC), then commits the receipt mappings, the "sent" callbacks and
// the item's completion in one store call.
func (b *Bridge) processMT(ctx context.Context, it store.Item) {
	s := b.smscs[strings.TrimPrefix(it.Lane, "mt:")]
	var rec mtRecord
	if err := json.Unmarshal(it.Payload, &rec); err != nil || s == nil {
		b.complete(ctx, it, store.Completion{DeadReason: fmt.Sprintf("undecodable MT record: %v", err)})
		return
	}
	mtid := rec.ID
	if mtid == "" {
		mtid = it.ID
	}
	cs := b.channels[rec.Channel]
	if cs == nil {
		b.complete(ctx, it, store.Completion{DeadReason: "unknown channel " + rec.Channel})
		return
	}
	src, dst := Outbound(rec.From, s.SourceTON), Outbound(rec.To, s.DestTON)
	sms, err := smsc.BuildSubmits(smsc.Address{Addr: src.Addr, TON: src.TON, NPI: src.NPI},
		smsc.Address{Addr: dst.Addr, TON: dst.TON, NPI: dst.NPI}, rec.Text,
		smsc.SubmitOptions{Coding: s.Coding, Long: s.Long, MaxParts: s.MaxParts, Ref: uint16(s.ref.Add(1)), RegisteredDelivery: s.RegisteredDelivery})
	if err != nil {
		b.failMT(ctx, it, cs, s, mtid, rec, nil, "encode", err)
		return
	}
	var ids []string
	for i, sm := range sms {
		id, err := submitPart(ctx, s.sub, sm)
		if err == nil {
			ids = append(ids, id)
			b.observe(Event{Kind: "submit", SMSC: s.ID, Channel: cs.ID, ID: mtid,
				Text: fmt.Sprintf("submit_sm %d/%d to %s (data_coding 0x%02X, %d octets) → submit_sm_resp OK message_id %s", i+1, len(sms), sm.DestAddr, sm.DataCoding, len(sm.Message), id)})
			continue
		}
		var st pdu.Status
		switch {
		case errors.Is(err, smsc.ErrUnknownOutcome):
			// Sent but never answered: resending could duplicate the SMS,
			// so it is not resent silently; an operator decides, unless the
			// response turns up late (LateResponse).
			b.log.Warn("submit outcome unknown", "smsc_id", s.ID, "msg_id", mtid, "err", err)
			done := b.complete(ctx, it, store.Completion{DeadReason: fmt.Sprintf("unknown_outcome: part %d/%d got no submit_sm_resp", i+1, len(sms)),
				Receipts: b.receipts(s, cs, mtid, rec, ids, len(sms))})
			var uo *smsc.UnknownOutcomeError
			if done && errors.As(err, &uo) && uo.Ref != 0 {
				// Registered once the dead letter is on disk, so settling
				// never races it; a response arriving before this is
				// ignored and the dead letter stays.
				b.late.put(lateKey(s.ID, uo.Ref), &lateSubmit{itemID: it.ID, s: s, cs: cs, mtid: mtid, rec: rec,
					ids: append([]string(nil), ids...), parts: len(sms), at: b.o.Now()})
			}
		case errors.As(err, &st) && !st.Temporary():
			b.failMT(ctx, it, cs, s, mtid, rec, ids, "submit_sm", err)
		case errors.As(err, &st) && st == pdu.StatusThrottled,
			errors.Is(err, smsc.ErrNotBound):
			b.retry(ctx, it, "submit_sm: "+err.Error(), time.Second)
		default:
			b.retry(ctx, it, "submit_sm: "+err.Error(), 0)
		}
		return
	}
	b.complete(ctx, it, store.Completion{Receipts: b.receipts(s, cs, mtid, rec, ids, len(sms)),
		Enqueue: b.mtStatus(cs, s, mtid, rec, StateSent, ids[0], nil)})
}

// mtStatus builds the queue items that report an MT's new state to its
// platform; for a failure, cause gives the description and, when it is an
// SMPP status, the error code.
func (b *Bridge) mtStatus(cs *channelState, s *smscState, mtid string, rec mtRecord, state State, smscMsgID string, cause error) []store.NewItem {
	st := Status{MTID: mtid, ExternalID: rec.ExternalID, To: rec.To, Channel: cs.ID, State: state, SMSC: s.ID, SMSCMsgID: smscMsgID, At: b.o.Now()}
	if cause != nil {
		var ps pdu.Status
		if errors.As(cause, &ps) {
			st.ErrorCode = fmt.Sprintf("0x%02X", uint32(ps))
		}
		st.Description = cause.Error()
	}
	reqs, err := cs.adapter.Status(st)
	if err != nil {
		b.log.Error("build status callback", "channel", cs.ID, "status", state.String(), "err", err)
	}
	return callbackItems(cs.ID, rec.To, mtid, state, reqs)
}

// failMT dead-letters an MT that failed for good and queues its "failed"
// callbacks, in one store call.
func (b *Bridge) failMT(ctx context.Context, it store.Item, cs *channelState, s *smscState, mtid string, rec mtRecord, ids []string, step string, cause error) {
	b.observe(Event{Kind: "status", SMSC: s.ID, Channel: cs.ID, ID: mtid, Text: "MT failed: " + cause.Error()})
	b.complete(ctx, it, store.Completion{DeadReason: step + ": " + cause.Error(),
		Receipts: b.receipts(s, cs, mtid, rec, ids, 0), Enqueue: b.mtStatus(cs, s, mtid, rec, StateFailed, "", cause)})
}

func (b *Bridge) receipts(s *smscState, cs *channelState, mtid string, rec mtRecord, ids []string, parts int) []store.Receipt {
	if parts == 0 {
		parts = len(ids)
	}
	data, _ := json.Marshal(receiptData{MTID: mtid, ExternalID: rec.ExternalID, To: rec.To})
	out := make([]store.Receipt, 0, len(ids))
	for i, id := range ids {
		out = append(out, store.Receipt{SMSC: s.ID, MsgID: s.IDType.SubmitKey(id), ItemID: mtid, Channel: cs.ID,
			Part: i + 1, Parts: parts, Data: data})
	}
	return out
}

// throttleRetries is how often one segment is re-submitted in place after
// ESME_RTHROTTLED / ESME_RMSGQFUL before the whole MT goes back to the queue.
// The client pauses the bind after each throttle (1 s, doubling), so these
// tries are spaced out; retrying in place keeps the segments of a long
// message together under one concatenation reference instead of resending
// the parts that were already accepted.
const throttleRetries = 5

func submitPart(ctx context.Context, sub Submitter, sm *pdu.ShortMessage) (string, error) {
	for try := 0; ; try++ {
		id, err := sub.Submit(ctx, sm)
		var st pdu.Status
		if err == nil || try == throttleRetries || !errors.As(err, &st) || !st.Throttle() || ctx.Err() != nil {
			return id, err
		}
	}
}
