package smsctest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/smscbridge/smscbridge/smsc/coding"
	"github.com/smscbridge/smscbridge/smsc/pdu"
)

// ReceiptForm says where a receipt carries its data.
type ReceiptForm int

// Receipt forms.
const (
	ReceiptBoth ReceiptForm = iota // text in short_message and TLVs
	ReceiptText                    // only the "id:… stat:…" text
	ReceiptTLV                     // only receipted_message_id and message_state
)

// Receipt describes a delivery receipt to send for a recorded submit.
type Receipt struct {
	Stat string      // DELIVRD, UNDELIV, EXPIRED, ACCEPTD, ENROUTE, REJECTD, DELETED, UNKNOWN; default DELIVRD
	Err  string      // err: field; default "000"
	Form ReceiptForm // where the data goes; default ReceiptBoth
	ID   string      // id to quote; default: the submit's id through WithReceiptIDs
	// TextKey spells the text field key ("text", "Text"); default "text".
	TextKey string
	// Intermediate marks it esm_class 0x20 instead of 0x04.
	Intermediate bool
	// NoCounts leaves out the sub: and dlvrd: fields, as some SMSCs do.
	NoCounts bool
}

var messageStates = map[string]uint8{
	"ENROUTE": pdu.StateEnroute, "DELIVRD": pdu.StateDelivered, "EXPIRED": pdu.StateExpired,
	"DELETED": pdu.StateDeleted, "UNDELIV": pdu.StateUndeliverable, "ACCEPTD": pdu.StateAccepted,
	"UNKNOWN": pdu.StateUnknown, "REJECTD": pdu.StateRejected,
}

// BuildReceipt returns the deliver_sm body of a receipt for sub: source and
// destination swapped, esm_class 0x04, text "id:… sub:001 dlvrd:… submit
// date:… done date:… stat:… err:… text:…" and/or the receipted_message_id
// and message_state TLVs. id is the id to quote.
func BuildReceipt(sub Submit, r Receipt, id string, now time.Time) *pdu.ShortMessage {
	if r.Stat == "" {
		r.Stat = "DELIVRD"
	}
	if r.Err == "" {
		r.Err = "000"
	}
	if r.TextKey == "" {
		r.TextKey = "text"
	}
	o := sub.SM
	sm := &pdu.ShortMessage{
		SourceTON: o.DestTON, SourceNPI: o.DestNPI, SourceAddr: o.DestAddr,
		DestTON: o.SourceTON, DestNPI: o.SourceNPI, DestAddr: o.SourceAddr,
		ESMClass: pdu.ESMClassReceipt,
	}
	if r.Intermediate {
		sm.ESMClass = pdu.ESMClassIntermediate
	}
	if r.Form != ReceiptTLV {
		dlvrd := "000"
		if r.Stat == "DELIVRD" {
			dlvrd = "001"
		}
		counts := "sub:001 dlvrd:" + dlvrd + " "
		if r.NoCounts {
			counts = ""
		}
		txt := fmt.Sprintf("id:%s %ssubmit date:%s done date:%s stat:%s err:%s %s:%s",
			id, counts, sub.At.Format("0601021504"), now.Format("0601021504"), r.Stat, r.Err, r.TextKey, excerpt(o))
		sm.Message = []byte(txt)
	}
	if r.Form != ReceiptText {
		sm.TLVs.SetString(pdu.TagReceiptedMessageID, id)
		if st, ok := messageStates[r.Stat]; ok {
			sm.TLVs.SetUint8(pdu.TagMessageState, st)
		}
	}
	return sm
}

// excerpt returns the first 20 printable ASCII characters of the original
// text, decoded with coding.Decode per its data_coding: short_message, or
// message_payload when it is empty, without the UDH when esm_class has UDHI.
// Decoding first makes GSM 03.38 escapes come out right ("{" is 1B 28 on the
// wire). Characters outside printable ASCII are left out, because the
// receipt text goes out as plain ASCII in a data_coding 0 deliver_sm, which
// is how ESMEs parse it. Binary messages give "".
func excerpt(sm *pdu.ShortMessage) string {
	b := sm.Message
	if len(b) == 0 {
		b, _ = sm.TLVs.Get(pdu.TagMessagePayload)
	}
	if sm.ESMClass&pdu.ESMClassUDHI != 0 && len(b) > 0 && int(b[0])+1 <= len(b) {
		b = b[int(b[0])+1:]
	}
	text, err := coding.Decode(sm.DataCoding, b)
	if errors.Is(err, coding.ErrBinary) {
		return ""
	}
	var sb strings.Builder
	for _, r := range text {
		if sb.Len() == 20 {
			break
		}
		if r >= 0x20 && r < 0x7F {
			sb.WriteRune(r)
		}
	}
	return sb.String()
}

// SendReceipt sends a receipt for sub to a receiver or transceiver bound
// with the same account (else any) and returns the deliver_sm_resp status.
func (s *Server) SendReceipt(ctx context.Context, sub Submit, r Receipt) (pdu.Status, error) {
	id := r.ID
	if id == "" {
		id = sub.MessageID
		if sub.N != 0 {
			id = cut(s.receiptID(sub.N))
		}
	}
	ss := s.receiver(sub.SystemID)
	if ss == nil {
		return 0, ErrNoReceiver
	}
	st, err := ss.Deliver(ctx, BuildReceipt(sub, r, id, time.Now()))
	s.countDeliver(st, err, &s.stats.ReceiptsSent)
	return st, err
}
