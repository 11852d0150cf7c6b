package bridge

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"maps"
	"slices"

	"github.com/smscbridge/smscbridge/internal/binrec"
)

// A queued platform callback is stored in a compact binary form: decoding
// the JSON form (its body base64 inside JSON) cost as much CPU as sending
// the request. Callbacks queued by older versions are JSON (they start with
// '{') and still decode.
//
// Binary form, version 1: the byte cbBinary, then each field in this order,
// strings and bytes as uvarint length + bytes, numbers as uvarints:
// method, URL, header count and (name, value) pairs sorted by name, body,
// mt id, state, group, parts, part, dedup, mo id, contact, then a flag
// byte (1: a status note follows: to, smsc, smsc message id, error code,
// description).
const cbBinary = 0x01

// encodeCallback returns cb's stored form.
func encodeCallback(cb *callback) []byte {
	r := &cb.Request
	n := 16 + len(r.Method) + len(r.URL) + len(r.Body) + len(cb.MTID) + len(cb.Group) + len(cb.Dedup) + len(cb.MO) + len(cb.Contact)
	for k, v := range r.Header {
		n += len(k) + len(v) + 4
	}
	b := make([]byte, 0, n+32)
	b = append(b, cbBinary)
	b = binrec.AppendString(b, r.Method)
	b = binrec.AppendString(b, r.URL)
	keys := slices.Sorted(maps.Keys(r.Header))
	b = binary.AppendUvarint(b, uint64(len(keys)))
	for _, k := range keys {
		b = binrec.AppendString(b, k)
		b = binrec.AppendString(b, r.Header[k])
	}
	b = binary.AppendUvarint(b, uint64(len(r.Body)))
	b = append(b, r.Body...)
	b = binrec.AppendString(b, cb.MTID)
	b = binary.AppendUvarint(b, uint64(cb.State))
	b = binrec.AppendString(b, cb.Group)
	b = binary.AppendUvarint(b, uint64(cb.Parts))
	b = binary.AppendUvarint(b, uint64(cb.Part))
	b = binrec.AppendString(b, cb.Dedup)
	b = binrec.AppendString(b, cb.MO)
	b = binrec.AppendString(b, cb.Contact)
	if cb.Log == nil {
		return append(b, 0)
	}
	b = append(b, 1)
	for _, s := range []string{cb.Log.To, cb.Log.SMSC, cb.Log.SMSCMsgID, cb.Log.ErrorCode, cb.Log.Description} {
		b = binrec.AppendString(b, s)
	}
	return b
}

var errBadCallback = errors.New("truncated or malformed record")

// decodeCallback reads a stored callback, binary or (older) JSON.
func decodeCallback(p []byte) (cb callback, err error) {
	if len(p) > 0 && p[0] == '{' {
		err = json.Unmarshal(p, &cb)
		return cb, err
	}
	if len(p) == 0 || p[0] != cbBinary {
		return cb, errBadCallback
	}
	d := binrec.Reader{B: p[1:]}
	r := &cb.Request
	r.Method, r.URL = d.String(), d.String()
	if nh := d.Count(); nh > 0 {
		r.Header = make(map[string]string, nh)
		for range nh {
			k := d.String()
			r.Header[k] = d.String()
		}
	}
	if body := d.Raw(); len(body) > 0 {
		r.Body = body
	}
	cb.MTID = d.String()
	cb.State = State(d.Uvarint())
	cb.Group = d.String()
	cb.Parts, cb.Part = int(d.Uvarint()), int(d.Uvarint())
	cb.Dedup, cb.MO, cb.Contact = d.String(), d.String(), d.String()
	switch d.Byte() {
	case 0:
	case 1:
		cb.Log = &statusNote{To: d.String(), SMSC: d.String(), SMSCMsgID: d.String(), ErrorCode: d.String(), Description: d.String()}
	default:
		d.Bad = true
	}
	if !d.Done() {
		return callback{}, errBadCallback
	}
	return cb, nil
}
