package bridge

import (
	"encoding/binary"
	"encoding/json"
	"maps"
	"slices"

	"github.com/smscbridge/smscbridge/internal/binrec"
)

// doneErr is errBadCallback unless r read its whole record.
func doneErr(r *binrec.Reader) error {
	if !r.Done() {
		return errBadCallback
	}
	return nil
}

// Binary forms of the records the bridge keeps in the store besides
// callbacks (cbcodec.go): an MT (mtRecord), the data of a receipt mapping
// (receiptData) and a status mark (statusMark). Each starts with the byte
// cbBinary, which JSON never starts with, so that records written as JSON
// by older versions still decode. Strings are uvarint length + bytes,
// numbers uvarints, lists a uvarint count then their items.

func (d *receiptData) encode() []byte {
	b := make([]byte, 0, 8+len(d.MTID)+len(d.ExternalID)+len(d.To)+len(d.Dedup)+len(d.TraceRef))
	b = append(b, cbBinary)
	for _, s := range []string{d.MTID, d.ExternalID, d.To, d.Dedup, d.TraceRef} {
		b = binrec.AppendString(b, s)
	}
	return b
}

func (d *receiptData) decode(p []byte) error {
	if len(p) > 0 && p[0] == '{' {
		return json.Unmarshal(p, d)
	}
	if len(p) == 0 || p[0] != cbBinary {
		return errBadCallback
	}
	r := binrec.Reader{B: p[1:]}
	*d = receiptData{MTID: r.String(), ExternalID: r.String(), To: r.String(), Dedup: r.String(), TraceRef: r.String()}
	return doneErr(&r)
}

func (m *statusMark) encode() []byte {
	b := make([]byte, 0, 64)
	b = append(b, cbBinary)
	b = binary.AppendUvarint(b, uint64(m.Reported))
	b = binary.AppendUvarint(b, uint64(max(m.Closed, 0)))
	ids := slices.Sorted(maps.Keys(m.MT))
	b = binary.AppendUvarint(b, uint64(len(ids)))
	for _, id := range ids {
		b = binrec.AppendString(b, id)
		parts := m.MT[id]
		b = binary.AppendUvarint(b, uint64(len(parts)))
		for _, st := range parts {
			b = binary.AppendUvarint(b, uint64(st))
		}
	}
	return binrec.AppendStrings(b, m.Dedup)
}

func (m *statusMark) decode(p []byte) error {
	if len(p) > 0 && p[0] == '{' {
		return json.Unmarshal(p, m)
	}
	if len(p) == 0 || p[0] != cbBinary {
		return errBadCallback
	}
	r := binrec.Reader{B: p[1:]}
	*m = statusMark{Reported: State(r.Uvarint()), Closed: int64(r.Uvarint())}
	if n := r.Count(); n > 0 {
		m.MT = make(map[string][]State, n)
		for range n {
			id := r.String()
			parts := make([]State, r.Count())
			for i := range parts {
				parts[i] = State(r.Uvarint())
			}
			m.MT[id] = parts
		}
	}
	m.Dedup = r.Strings()
	return doneErr(&r)
}

func (rec *mtRecord) encode() []byte {
	var sp []byte
	if rec.Submit != nil {
		sp, _ = json.Marshal(rec.Submit) // rare (the platform's own submit_sm settings): kept as JSON
	}
	b := make([]byte, 0, 32+len(rec.Text)+len(rec.ExternalID)+len(sp)+len(rec.ID)+len(rec.Channel)+len(rec.To)+len(rec.From)+len(rec.Dedup)+len(rec.TraceRef))
	b = append(b, cbBinary)
	for _, s := range []string{rec.ID, rec.Channel, rec.To, rec.From, rec.Text, rec.ExternalID} {
		b = binrec.AppendString(b, s)
	}
	b = binrec.AppendStrings(b, rec.SMSC)
	b = binrec.AppendString(b, rec.Dedup)
	b = binary.AppendUvarint(b, uint64(len(sp)))
	b = append(b, sp...)
	b = binrec.AppendString(b, rec.TraceRef)
	b = binrec.AppendString(b, rec.On)
	b = binary.AppendUvarint(b, uint64(rec.Ref))
	b = binary.AppendUvarint(b, uint64(rec.Parts))
	return binrec.AppendStrings(b, rec.Sent)
}

func (rec *mtRecord) decode(p []byte) error {
	if len(p) > 0 && p[0] == '{' {
		return json.Unmarshal(p, rec)
	}
	if len(p) == 0 || p[0] != cbBinary {
		return errBadCallback
	}
	r := binrec.Reader{B: p[1:]}
	*rec = mtRecord{ID: r.String(), Channel: r.String(), To: r.String(), From: r.String(), Text: r.String(), ExternalID: r.String(), SMSC: r.Strings(), Dedup: r.String()}
	if sp := r.Raw(); len(sp) > 0 && !r.Bad {
		rec.Submit = new(SubmitParams)
		if err := json.Unmarshal(sp, rec.Submit); err != nil {
			return err
		}
	}
	rec.TraceRef, rec.On = r.String(), r.String()
	ref := r.Uvarint()
	if ref > 0xFFFF {
		return errBadCallback
	}
	rec.Ref, rec.Parts = uint16(ref), int(r.Uvarint())
	rec.Sent = r.Strings()
	return doneErr(&r)
}
