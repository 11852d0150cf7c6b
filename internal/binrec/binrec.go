// Package binrec writes and reads the compact binary records smscbridge
// keeps in its store: fields in a fixed order, strings and byte strings as
// a uvarint length and their bytes, numbers as (u)varints, lists as a
// uvarint count and their items. A Reader keeps the first problem it meets
// (a truncated or malformed record) in Bad and reads zero values after it,
// so a decoder reads every field and checks once, with Done.
package binrec

import "encoding/binary"

// AppendString appends s with its length.
func AppendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// AppendBytes appends p with its length.
func AppendBytes(b, p []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(p)))
	return append(b, p...)
}

// AppendStrings appends the count of ss, then each with its length.
func AppendStrings(b []byte, ss []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(ss)))
	for _, s := range ss {
		b = AppendString(b, s)
	}
	return b
}

// Reader reads a record the Append functions wrote, from B.
type Reader struct {
	B   []byte
	Bad bool // a field was truncated or malformed
}

// Byte reads one byte.
func (d *Reader) Byte() byte {
	if d.Bad || len(d.B) < 1 {
		d.Bad = true
		return 0
	}
	c := d.B[0]
	d.B = d.B[1:]
	return c
}

// Uvarint reads an unsigned varint.
func (d *Reader) Uvarint() uint64 {
	if d.Bad {
		return 0
	}
	v, n := binary.Uvarint(d.B)
	if n <= 0 {
		d.Bad = true
		return 0
	}
	d.B = d.B[n:]
	return v
}

// Varint reads a signed varint.
func (d *Reader) Varint() int64 {
	if d.Bad {
		return 0
	}
	v, n := binary.Varint(d.B)
	if n <= 0 {
		d.Bad = true
		return 0
	}
	d.B = d.B[n:]
	return v
}

// Raw reads a byte string; it shares the record's memory.
func (d *Reader) Raw() []byte {
	n := d.Uvarint()
	if d.Bad || n > uint64(len(d.B)) {
		d.Bad = true
		return nil
	}
	p := d.B[:n:n]
	d.B = d.B[n:]
	return p
}

// String reads a string.
func (d *Reader) String() string { return string(d.Raw()) }

// Bytes reads a byte string into a copy of its own, or nil when empty.
func (d *Reader) Bytes() []byte {
	p := d.Raw()
	if len(p) == 0 {
		return nil
	}
	return append([]byte(nil), p...)
}

// Fixed reads n bytes (zeros if the record is short); they share the
// record's memory.
func (d *Reader) Fixed(n int) []byte {
	if d.Bad || len(d.B) < n {
		d.Bad = true
		return make([]byte, n)
	}
	p := d.B[:n]
	d.B = d.B[n:]
	return p
}

// Count reads the count of a list whose items take at least one byte each
// (so a corrupt count cannot make the caller allocate more than the
// record holds).
func (d *Reader) Count() int {
	n := d.Uvarint()
	if n > uint64(len(d.B)) {
		d.Bad = true
		return 0
	}
	return int(n)
}

// Strings reads a list AppendStrings wrote (nil when empty).
func (d *Reader) Strings() []string {
	n := d.Count()
	if n == 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = d.String()
	}
	return out
}

// Done reports whether the whole record was read without a problem.
func (d *Reader) Done() bool { return !d.Bad && len(d.B) == 0 }
