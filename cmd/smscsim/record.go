package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/smscbridge/smscbridge/smsc/coding"
	"github.com/smscbridge/smscbridge/smsc/pdu"
	"github.com/smscbridge/smscbridge/smsc/smsctest"
)

// Record is one line of the -record file: a submit_sm as received, the
// simulator's reading of its text and what it answered.
type Record struct {
	Time               time.Time         `json:"time"`
	Session            int               `json:"session"`
	SystemID           string            `json:"system_id"`
	Seq                uint32            `json:"seq"`
	SourceAddr         string            `json:"source_addr"`
	SourceTON          uint8             `json:"source_ton"`
	SourceNPI          uint8             `json:"source_npi"`
	DestAddr           string            `json:"dest_addr"`
	DestTON            uint8             `json:"dest_ton"`
	DestNPI            uint8             `json:"dest_npi"`
	ESMClass           uint8             `json:"esm_class"`
	RegisteredDelivery uint8             `json:"registered_delivery"`
	DataCoding         uint8             `json:"data_coding"`
	ShortMessage       string            `json:"short_message"`  // hex, UDH included
	TLVs               map[string]string `json:"tlvs,omitempty"` // "0x0424" → hex value
	// Text is the user data decoded with coding.Decode: short_message, or
	// message_payload when short_message is empty, without the UDH.
	Text string `json:"text"`
	// TextError is the flag coding.Decode raised (binary or malformed
	// data), or why the UDH could not be parsed.
	TextError string `json:"text_error,omitempty"`
	// Concat is the segment information, from the UDH or the SAR TLVs.
	Concat *RecordConcat `json:"concat,omitempty"`
	// MessageID is the id answered ("" when the response had no body).
	MessageID string `json:"message_id,omitempty"`
	// Status is the command_status answered; nil when it was dropped.
	Status     *uint32 `json:"status,omitempty"`
	StatusName string  `json:"status_name,omitempty"` // "ESME_ROK"
	Dropped    bool    `json:"dropped,omitempty"`     // never answered (-drop-rate)
	// Violation lists the SMPP 3.4 rules this submit_sm broke, "; "
	// between them, e.g. "message_length: 161 septets in one SMS
	// (data_coding 0x00), max 160 (ESME_RINVMSGLEN)"; empty when none.
	Violation string `json:"violation,omitempty"`
}

// RecordConcat is one segment's place in a concatenated message.
type RecordConcat struct {
	Ref   uint16 `json:"ref"`
	Total int    `json:"total"`
	Seq   int    `json:"seq"`
}

// recorder appends Records to a file, one JSON line per submit_sm.
type recorder struct {
	mu   sync.Mutex
	f    *os.File
	enc  *json.Encoder
	errs int64 // lines that could not be written
	warn io.Writer
}

// openRecorder opens path for appending, creating it if needed.
func openRecorder(path string, warn io.Writer) (*recorder, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("-record: %w", err)
	}
	enc := json.NewEncoder(f)
	enc.SetEscapeHTML(false)
	return &recorder{f: f, enc: enc, warn: warn}, nil
}

// add writes the record of submit_sm p on ss answered with resp (nil:
// dropped) and the violations found in it. A submit_sm that did not decode
// (Body nil) gets a line with its header, answer and violation only. The
// file is unbuffered, so the line is in it when add returns, before the
// response goes out.
func (r *recorder) add(ss *smsctest.Session, p, resp *pdu.PDU, vs []smsctest.Violation) {
	var rec Record
	if sm, ok := p.Body.(*pdu.ShortMessage); ok {
		rec = newRecord(sm)
	}
	rec.Time, rec.Session, rec.SystemID, rec.Seq = time.Now().UTC(), ss.ID(), ss.SystemID(), p.Seq
	answered(&rec, resp)
	rec.Violation = violationText(vs)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.enc.Encode(rec); err != nil {
		r.errs++
		if r.errs == 1 {
			fmt.Fprintln(r.warn, "smscsim: -record:", err)
		}
	}
}

// violationText joins violations as "rule: detail (status)".
func violationText(vs []smsctest.Violation) string {
	var parts []string
	for _, v := range vs {
		s := string(v.Rule) + ": " + v.Detail
		if v.Lenient {
			s += " (accepted: lenient)"
		} else if v.Status != pdu.StatusOK {
			s += " (" + v.Status.String() + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

// failed returns the number of records that could not be written.
func (r *recorder) failed() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.errs
}

// Close closes the file.
func (r *recorder) Close() error { return r.f.Close() }

// newRecord fills the fields taken from the submit_sm body.
func newRecord(sm *pdu.ShortMessage) Record {
	rec := Record{
		SourceAddr: sm.SourceAddr, SourceTON: sm.SourceTON, SourceNPI: sm.SourceNPI,
		DestAddr: sm.DestAddr, DestTON: sm.DestTON, DestNPI: sm.DestNPI,
		ESMClass: sm.ESMClass, RegisteredDelivery: sm.RegisteredDelivery, DataCoding: sm.DataCoding,
		ShortMessage: hex.EncodeToString(sm.Message),
	}
	if len(sm.TLVs) > 0 {
		rec.TLVs = make(map[string]string, len(sm.TLVs))
		for _, t := range sm.TLVs {
			rec.TLVs[fmt.Sprintf("0x%04X", uint16(t.Tag))] = hex.EncodeToString(t.Value)
		}
	}
	text, concat, err := decodeText(sm)
	rec.Text = text
	if err != nil {
		rec.TextError = err.Error()
	}
	if concat != nil {
		rec.Concat = &RecordConcat{Ref: concat.Ref, Total: concat.Total, Seq: concat.Seq}
	}
	return rec
}

// answered fills the fields taken from the response.
func answered(rec *Record, resp *pdu.PDU) {
	if resp == nil {
		rec.Dropped = true
		return
	}
	st := uint32(resp.Status)
	rec.Status, rec.StatusName = &st, resp.Status.String()
	if mr, ok := resp.Body.(*pdu.MessageResp); ok {
		rec.MessageID = mr.MessageID
	}
}

// decodeText returns the text of a submit_sm as an SMSC would read it: the
// user data is short_message, or message_payload when short_message is
// empty; with esm_class UDHI its UDH is stripped and its concatenation
// element returned, else the SAR TLVs give the segment information. err is
// a UDH error (the whole user data is then decoded) or coding.Decode's flag.
func decodeText(sm *pdu.ShortMessage) (string, *coding.Concat, error) {
	ud := sm.Message
	if len(ud) == 0 {
		ud, _ = sm.TLVs.Get(pdu.TagMessagePayload)
	}
	var concat *coding.Concat
	var udhErr error
	if sm.ESMClass&pdu.ESMClassUDHI != 0 && len(ud) > 0 {
		c, rest, err := coding.ParseUDH(ud)
		if err == nil {
			concat, ud = c, rest
		}
		udhErr = err
	}
	if concat == nil {
		concat = sarConcat(sm.TLVs)
	}
	text, err := coding.Decode(sm.DataCoding, ud)
	if udhErr != nil {
		err = udhErr
	}
	return text, concat, err
}

// sarConcat returns the segment information of the three SAR TLVs, or nil
// when any is missing.
func sarConcat(t pdu.TLVs) *coding.Concat {
	ref, ok1 := t.Uint16(pdu.TagSARMsgRefNum)
	total, ok2 := t.Uint8(pdu.TagSARTotalSegments)
	seq, ok3 := t.Uint8(pdu.TagSARSegmentSeqnum)
	if !ok1 || !ok2 || !ok3 {
		return nil
	}
	return &coding.Concat{Ref: ref, Total: int(total), Seq: int(seq), Wide: true}
}
