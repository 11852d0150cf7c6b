package bridge

import (
	"encoding/json"
	"testing"
)

// TestClassDCS: data_coding with the message waiting indication, class
// and alt-dcs, as Kannel's SMPP driver writes it (make interop compares).
func TestClassDCS(t *testing.T) {
	for _, c := range []struct {
		dc   uint8
		p    SubmitParams
		want uint8
	}{
		{0x00, SubmitParams{}, 0x00},
		{0x00, SubmitParams{Class: 1}, 0xF0},
		{0x00, SubmitParams{Class: 4}, 0xF3},
		{0x04, SubmitParams{Class: 3}, 0xF6},
		{0x08, SubmitParams{Class: 2}, 0x19},
		{0x00, SubmitParams{AltDCS: true}, 0xF1},
		{0x04, SubmitParams{AltDCS: true}, 0xF5},
		{0x08, SubmitParams{AltDCS: true}, 0x08},
		{0x03, SubmitParams{Class: 1}, 0x03}, // Latin-1: no class form
		{0x00, SubmitParams{MWI: 2, Class: 1}, 0xD9},
		{0x08, SubmitParams{MWI: 3}, 0xEA},
		{0x00, SubmitParams{MWI: 6}, 0xC1},
		{0x04, SubmitParams{MWI: 1}, 0x04},
	} {
		if got := classDCS(c.dc, &c.p); got != c.want {
			t.Errorf("classDCS(0x%02X, %+v) = 0x%02X, want 0x%02X", c.dc, c.p, got, c.want)
		}
	}
}

// TestClientUDH: a split message's UDH is the platform's with an 8-bit
// concatenation element appended.
func TestClientUDH(t *testing.T) {
	wap := []byte{6, 5, 4, 0x0b, 0x84, 0x23, 0xf0}
	if got := string(clientUDH(wap, 0x1234, 1, 1)); got != string(wap) {
		t.Errorf("one part: %x", got)
	}
	if got, want := string(clientUDH(wap, 0x1234, 3, 2)), "\x0b\x05\x04\x0b\x84\x23\xf0\x00\x03\x34\x03\x02"; got != want {
		t.Errorf("part 2 of 3: %x, want %x", got, want)
	}
	if got, want := string(clientUDH(nil, 0x1234, 2, 1)), "\x05\x00\x03\x34\x02\x01"; got != want {
		t.Errorf("no UDH: %x, want %x", got, want)
	}
	if !hasConcat([]byte{5, 0, 3, 1, 2, 1}) || !hasConcat(append([]byte{12}, append(wap[1:], 8, 4, 0, 1, 2, 1)...)) || hasConcat(wap) {
		t.Error("hasConcat")
	}
}

// TestOctetsJSON: binary data and a UDH survive the MT record's JSON.
func TestOctetsJSON(t *testing.T) {
	in := SubmitParams{Binary: true, Data: "\xff\x00\x80\xc3", UDH: "\x02\x70\x00"}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out SubmitParams
	if err := json.Unmarshal(b, &out); err != nil || out != in {
		t.Errorf("%s → %+v (%v), want %+v", b, out, err, in)
	}
}
