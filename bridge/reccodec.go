package bridge

import (
	"encoding/binary"
	"encoding/json"
	"slices"
)

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
		b = appendString(b, s)
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
	r := recReader{p: p[1:]}
	*d = receiptData{MTID: r.str(), ExternalID: r.str(), To: r.str(), Dedup: r.str(), TraceRef: r.str()}
	return r.done()
}

func (m *statusMark) encode() []byte {
	b := make([]byte, 0, 64)
	b = append(b, cbBinary)
	b = binary.AppendUvarint(b, uint64(m.Reported))
	b = binary.AppendUvarint(b, uint64(max(m.Closed, 0)))
	ids := make([]string, 0, len(m.MT))
	for id := range m.MT {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	b = binary.AppendUvarint(b, uint64(len(ids)))
	for _, id := range ids {
		b = appendString(b, id)
		parts := m.MT[id]
		b = binary.AppendUvarint(b, uint64(len(parts)))
		for _, st := range parts {
			b = binary.AppendUvarint(b, uint64(st))
		}
	}
	return appendStrings(b, m.Dedup)
}

func (m *statusMark) decode(p []byte) error {
	if len(p) > 0 && p[0] == '{' {
		return json.Unmarshal(p, m)
	}
	if len(p) == 0 || p[0] != cbBinary {
		return errBadCallback
	}
	r := recReader{p: p[1:]}
	*m = statusMark{Reported: State(r.uvarint()), Closed: int64(r.uvarint())}
	if n := r.count(); n > 0 {
		m.MT = make(map[string][]State, n)
		for range n {
			id := r.str()
			parts := make([]State, r.count())
			for i := range parts {
				parts[i] = State(r.uvarint())
			}
			m.MT[id] = parts
		}
	}
	m.Dedup = r.strs()
	return r.done()
}

func (rec *mtRecord) encode() []byte {
	var sp []byte
	if rec.Submit != nil {
		sp, _ = json.Marshal(rec.Submit) // rare (the platform's own submit_sm settings): kept as JSON
	}
	b := make([]byte, 0, 32+len(rec.Text)+len(rec.ExternalID)+len(sp)+len(rec.ID)+len(rec.Channel)+len(rec.To)+len(rec.From)+len(rec.Dedup)+len(rec.TraceRef))
	b = append(b, cbBinary)
	for _, s := range []string{rec.ID, rec.Channel, rec.To, rec.From, rec.Text, rec.ExternalID} {
		b = appendString(b, s)
	}
	b = appendStrings(b, rec.SMSC)
	b = appendString(b, rec.Dedup)
	b = binary.AppendUvarint(b, uint64(len(sp)))
	b = append(b, sp...)
	b = appendString(b, rec.TraceRef)
	b = appendString(b, rec.On)
	b = binary.AppendUvarint(b, uint64(rec.Ref))
	b = binary.AppendUvarint(b, uint64(rec.Parts))
	return appendStrings(b, rec.Sent)
}

func (rec *mtRecord) decode(p []byte) error {
	if len(p) > 0 && p[0] == '{' {
		return json.Unmarshal(p, rec)
	}
	if len(p) == 0 || p[0] != cbBinary {
		return errBadCallback
	}
	r := recReader{p: p[1:]}
	*rec = mtRecord{ID: r.str(), Channel: r.str(), To: r.str(), From: r.str(), Text: r.str(), ExternalID: r.str(), SMSC: r.strs(), Dedup: r.str()}
	if sp := r.bytes(); len(sp) > 0 && r.err == nil {
		rec.Submit = new(SubmitParams)
		if err := json.Unmarshal(sp, rec.Submit); err != nil {
			return err
		}
	}
	rec.TraceRef, rec.On = r.str(), r.str()
	ref := r.uvarint()
	if ref > 0xFFFF {
		return errBadCallback
	}
	rec.Ref, rec.Parts = uint16(ref), int(r.uvarint())
	rec.Sent = r.strs()
	return r.done()
}
