package pdu

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"runtime"
	"testing"
)

func TestReadStream(t *testing.T) {
	names := []string{"bind_transceiver", "bind_transceiver_resp", "submit_sm", "deliver_sm_receipt", "enquire_link_resp"}
	var stream []byte
	for _, n := range names {
		stream = append(stream, MustReadHex(t, "testdata/"+n+".hex")...)
	}
	r := bytes.NewReader(stream)
	for _, n := range names {
		raw := MustReadHex(t, "testdata/"+n+".hex")
		got, err := Read(r, 0)
		if err != nil {
			t.Fatalf("Read(%s): %v", n, err)
		}
		want, _ := Decode(raw)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Read = %s, want %s", describe(got), describe(want))
		}
	}
	if _, err := Read(r, 0); err != io.EOF {
		t.Errorf("Read at end = %v, want io.EOF", err)
	}
}

func TestReadTruncated(t *testing.T) {
	raw := MustReadHex(t, "testdata/submit_sm.hex")
	for _, n := range []int{3, 15, 16, 30, len(raw) - 1} {
		_, err := Read(bytes.NewReader(raw[:n]), 0)
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("Read of %d/%d octets = %v, want io.ErrUnexpectedEOF", n, len(raw), err)
		}
	}
}

// countingReader serves a header then endless octets and counts what was
// read.
type countingReader struct {
	hdr []byte
	n   int
}

func (r *countingReader) Read(b []byte) (int, error) {
	for i := range b {
		if r.n < len(r.hdr) {
			b[i] = r.hdr[r.n]
		} else {
			b[i] = 'x'
		}
		r.n++
	}
	return len(b), nil
}

func TestReadRejectsLength(t *testing.T) {
	tests := []struct {
		name   string
		length uint32
		max    uint32
	}{
		{"below 16", 9, 0},
		{"zero", 0, 0},
		{"HTTP", 0x48545450, 0}, // "HTTP" (smpp.md §1.2)
		{"above default", DefaultMaxLength + 1, 0},
		{"above given max", 1000, 999},
		{"max uint32", 0xFFFFFFFF, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &countingReader{hdr: frame(t, SubmitSM, 0, 42, "")}
			r.hdr[0], r.hdr[1], r.hdr[2], r.hdr[3] = byte(tc.length>>24), byte(tc.length>>16), byte(tc.length>>8), byte(tc.length)
			p, err := Read(r, tc.max)
			var de *DecodeError
			if !errors.As(err, &de) || de.Status != StatusInvCmdLen || de.HeaderOK || !errors.Is(err, ErrCommandLength) {
				t.Fatalf("Read = %v, want DecodeError ESME_RINVCMDLEN, HeaderOK false", err)
			}
			if p != nil {
				t.Errorf("Read PDU = %+v, want nil", p)
			}
			if de.Header.Length != tc.length || de.Header.Seq != 42 {
				t.Errorf("DecodeError.Header = %+v, want length %d seq 42", de.Header, tc.length)
			}
			if r.n != HeaderLength {
				t.Errorf("Read consumed %d octets, want only the %d-octet header", r.n, HeaderLength)
			}
		})
	}
}

// TestReadBoundedAllocation checks a huge command_length does not allocate
// its body.
func TestReadBoundedAllocation(t *testing.T) {
	hdr := frame(t, SubmitSM, 0, 1, "")
	hdr[0] = 0x7F
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 100 {
		if _, err := Read(bytes.NewReader(hdr), 0); err == nil {
			t.Fatal("Read accepted command_length 0x7F000010")
		}
	}
	runtime.ReadMemStats(&after)
	if d := after.TotalAlloc - before.TotalAlloc; d > 100*4096 {
		t.Errorf("100 rejected Reads allocated %d bytes", d)
	}
}

func TestReadUnknownCommandKeepsSync(t *testing.T) {
	stream := append(frame(t, 0x123, 0, 4, "01 02 03"), MustReadHex(t, "testdata/enquire_link_resp.hex")...)
	r := bytes.NewReader(stream)
	p, err := Read(r, 0)
	var de *DecodeError
	if !errors.As(err, &de) || de.Status != StatusInvCmdID || !de.HeaderOK || p == nil || p.Seq != 4 {
		t.Fatalf("Read = %+v, %v; want header-only PDU seq 4 and ESME_RINVCMDID", p, err)
	}
	p, err = Read(r, 0)
	if err != nil || p.ID != EnquireLinkResp {
		t.Errorf("next Read = %+v, %v; want enquire_link_resp", p, err)
	}
}
