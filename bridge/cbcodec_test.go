package bridge

import (
	"encoding/json"
	"reflect"
	"testing"
)

func sampleCallbacks() []callback {
	return []callback{
		{Request: Request{Method: "POST", URL: "https://rp.example.org/c/ex/uuid/receive",
			Header: map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Authorization": "Token s3cret"},
			Body:   []byte("from=%2B250788123123&text=hi")}, statusOf: statusOf{MO: "0191e180-7d60-7000-aded-7d8b151cbd5b", Contact: "+250788123123"}},
		{Request: Request{Method: "GET", URL: "http://k/dlr?type=1"}, statusOf: statusOf{MTID: "m1", State: StateDelivered,
			Group: "status\x00ch\x00ext\x0042", Parts: 3, Part: 2, Dedup: "ch\x00k", Contact: "250788"}},
		{statusOf: statusOf{MTID: "m2", State: StateFailed}, Log: &statusNote{To: "+1", SMSC: "a", SMSCMsgID: "99", ErrorCode: "0x45", Description: "UNDELIV"}},
		{},
	}
}

// The binary form round-trips every field, and callbacks queued as JSON
// by older versions still decode the same.
func TestCallbackCodec(t *testing.T) {
	for i, cb := range sampleCallbacks() {
		got, err := decodeCallback(encodeCallback(&cb))
		if err != nil || !reflect.DeepEqual(got, cb) {
			t.Errorf("%d: round trip = %+v, %v, want %+v", i, got, err, cb)
		}
		old, _ := json.Marshal(cb)
		got, err = decodeCallback(old)
		if err != nil || !reflect.DeepEqual(got, cb) {
			t.Errorf("%d: JSON (older versions) = %+v, %v, want %+v", i, got, err, cb)
		}
	}
	full := encodeCallback(&sampleCallbacks()[0])
	for n := range len(full) {
		if _, err := decodeCallback(full[:n]); err == nil {
			t.Errorf("a record cut to %d of %d bytes decoded", n, len(full))
		}
	}
	if _, err := decodeCallback(append(full, 0)); err == nil {
		t.Error("a record with trailing bytes decoded")
	}
	if _, err := decodeCallback([]byte{0x07, 1, 2}); err == nil {
		t.Error("an unknown record version decoded")
	}
	if _, ok := RedactPayload("http:rp", full); !ok {
		t.Error("RedactPayload does not read the binary form")
	}
}

func FuzzDecodeCallback(f *testing.F) {
	for _, cb := range sampleCallbacks() {
		f.Add(encodeCallback(&cb))
	}
	f.Add([]byte{cbBinary, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, p []byte) {
		cb, err := decodeCallback(p)
		if err != nil || len(p) == 0 || p[0] != cbBinary {
			return
		}
		again, err := decodeCallback(encodeCallback(&cb))
		if err != nil || !reflect.DeepEqual(again, cb) {
			t.Fatalf("re-encoded %+v decodes as %+v, %v", cb, again, err)
		}
	})
}
