package bridge

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"slices"
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
	b = appendString(b, r.Method)
	b = appendString(b, r.URL)
	keys := make([]string, 0, len(r.Header))
	for k := range r.Header {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = binary.AppendUvarint(b, uint64(len(keys)))
	for _, k := range keys {
		b = appendString(b, k)
		b = appendString(b, r.Header[k])
	}
	b = binary.AppendUvarint(b, uint64(len(r.Body)))
	b = append(b, r.Body...)
	b = appendString(b, cb.MTID)
	b = binary.AppendUvarint(b, uint64(cb.State))
	b = appendString(b, cb.Group)
	b = binary.AppendUvarint(b, uint64(cb.Parts))
	b = binary.AppendUvarint(b, uint64(cb.Part))
	b = appendString(b, cb.Dedup)
	b = appendString(b, cb.MO)
	b = appendString(b, cb.Contact)
	if cb.Log == nil {
		return append(b, 0)
	}
	b = append(b, 1)
	for _, s := range []string{cb.Log.To, cb.Log.SMSC, cb.Log.SMSCMsgID, cb.Log.ErrorCode, cb.Log.Description} {
		b = appendString(b, s)
	}
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
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
	d := recReader{p: p[1:]}
	r := &cb.Request
	r.Method, r.URL = d.str(), d.str()
	if nh := d.uvarint(); nh > 0 && d.err == nil {
		if nh > uint64(len(d.p)) {
			return cb, errBadCallback
		}
		r.Header = make(map[string]string, nh)
		for range nh {
			k := d.str()
			r.Header[k] = d.str()
		}
	}
	if body := d.bytes(); len(body) > 0 {
		r.Body = body
	}
	cb.MTID = d.str()
	cb.State = State(d.uvarint())
	cb.Group = d.str()
	cb.Parts, cb.Part = int(d.uvarint()), int(d.uvarint())
	cb.Dedup, cb.MO, cb.Contact = d.str(), d.str(), d.str()
	switch d.byte() {
	case 0:
	case 1:
		cb.Log = &statusNote{To: d.str(), SMSC: d.str(), SMSCMsgID: d.str(), ErrorCode: d.str(), Description: d.str()}
	default:
		d.err = errBadCallback
	}
	if d.err != nil || len(d.p) != 0 {
		return callback{}, errBadCallback
	}
	return cb, nil
}

// recReader reads the binary records of this package (callbacks, MT
// records, receipt data, status marks); the first problem sticks in err.
type recReader struct {
	p   []byte
	err error
}

func (d *recReader) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.p)
	if n <= 0 {
		d.err = errBadCallback
		return 0
	}
	d.p = d.p[n:]
	return v
}

// count reads a uvarint count of items that each take at least one byte.
func (d *recReader) count() int {
	n := d.uvarint()
	if n > uint64(len(d.p)) {
		d.err = errBadCallback
		return 0
	}
	return int(n)
}

func (d *recReader) strs() []string {
	n := d.count()
	if n == 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = d.str()
	}
	return out
}

// done reports an error unless the whole record was read.
func (d *recReader) done() error {
	if d.err != nil || len(d.p) != 0 {
		return errBadCallback
	}
	return nil
}

func appendStrings(b []byte, ss []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(ss)))
	for _, s := range ss {
		b = appendString(b, s)
	}
	return b
}

func (d *recReader) bytes() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.p)) {
		d.err = errBadCallback
		return nil
	}
	b := d.p[:n:n]
	d.p = d.p[n:]
	return b
}

func (d *recReader) str() string { return string(d.bytes()) }

func (d *recReader) byte() byte {
	if d.err != nil || len(d.p) == 0 {
		d.err = errBadCallback
		return 0
	}
	c := d.p[0]
	d.p = d.p[1:]
	return c
}
