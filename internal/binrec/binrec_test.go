package binrec

import (
	"encoding/binary"
	"slices"
	"testing"
)

func TestRoundTripAndTruncation(t *testing.T) {
	b := AppendString(nil, "héllo")
	b = AppendBytes(b, []byte{0, 1, 2})
	b = AppendStrings(b, []string{"a", "", "c"})
	b = binary.AppendVarint(b, -42)
	b = append(b, 7)
	read := func(p []byte) (Reader, string, []byte, []string, int64, byte) {
		d := Reader{B: p}
		return d, d.String(), d.Bytes(), d.Strings(), d.Varint(), d.Byte()
	}
	d, s, p, ss, v, c := read(b)
	if !d.Done() || s != "héllo" || !slices.Equal(p, []byte{0, 1, 2}) || !slices.Equal(ss, []string{"a", "", "c"}) || v != -42 || c != 7 {
		t.Fatalf("read back %q %v %q %d %d (done %v)", s, p, ss, v, c, d.Done())
	}
	for n := range len(b) {
		if d, _, _, _, _, _ := read(b[:n]); d.Done() {
			t.Errorf("a record cut to %d of %d bytes read as done", n, len(b))
		}
	}
	if d, _, _, _, _, _ := read(append(slices.Clone(b), 0)); d.Done() {
		t.Error("trailing bytes read as done")
	}
	// A count larger than the record cannot make the reader allocate it.
	huge := binary.AppendUvarint(nil, 1<<40)
	if d := (Reader{B: huge}); d.Strings() != nil || !d.Bad {
		t.Error("a huge count was not refused")
	}
}
