package bridge

import (
	"bytes"
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

// The MT record, receipt data and status mark round-trip through their
// binary forms, JSON written by older versions still decodes, and cut or
// padded records are refused.
func TestRecordCodecs(t *testing.T) {
	mts := []mtRecord{
		{Channel: "rp", To: "+250788123123", Text: "héllo €", SMSC: []string{"a", "b"}},
		{ID: "x", Channel: "kn", To: "1", From: "2", Text: "t", ExternalID: "\x01ext", SMSC: []string{"a"}, Dedup: "d",
			Submit: &SubmitParams{Priority: 2, ServiceType: "CMT"}, TraceRef: "tr", On: "a", Ref: 65535, Parts: 3, Sent: []string{"1", "2"}},
	}
	for i, rec := range mts {
		var got mtRecord
		if err := got.decode(rec.encode()); err != nil || !reflect.DeepEqual(got, rec) {
			t.Errorf("mt %d: round trip = %+v, %v", i, got, err)
		}
		old, _ := json.Marshal(rec)
		got = mtRecord{}
		if err := got.decode(old); err != nil || !reflect.DeepEqual(got, rec) {
			t.Errorf("mt %d: JSON = %+v, %v", i, got, err)
		}
		enc := rec.encode()
		for n := range len(enc) {
			if (&mtRecord{}).decode(enc[:n]) == nil {
				t.Errorf("mt %d cut to %d of %d bytes decoded", i, n, len(enc))
			}
		}
	}
	rd := receiptData{MTID: "m", ExternalID: "e", To: "+1", Dedup: "d", TraceRef: "r"}
	var gd receiptData
	if err := gd.decode(rd.encode()); err != nil || gd != rd {
		t.Errorf("receipt data = %+v, %v", gd, err)
	}
	oldRD, _ := json.Marshal(rd)
	if gd = (receiptData{}); gd.decode(oldRD) != nil || gd != rd {
		t.Errorf("receipt data from JSON = %+v", gd)
	}
	mark := statusMark{Reported: StateSent, MT: map[string][]State{"a": {StateSent, StateDelivered}, "b": {0}}, Dedup: []string{"k"}, Closed: 1700000000000}
	var gm statusMark
	if err := gm.decode(mark.encode()); err != nil || !reflect.DeepEqual(gm, mark) {
		t.Errorf("mark = %+v, %v", gm, err)
	}
	oldMark, _ := json.Marshal(mark)
	if gm = (statusMark{}); gm.decode(oldMark) != nil || !reflect.DeepEqual(gm, mark) {
		t.Errorf("mark from JSON = %+v", gm)
	}
	if (&statusMark{}).decode(append(mark.encode(), 0)) == nil {
		t.Error("a mark with trailing bytes decoded")
	}
	if view, ok := RedactPayload("mt:a", mts[1].encode()); !ok || !bytes.Contains(view, []byte(`"to":"1"`)) {
		t.Errorf("RedactPayload(mt) = %s, %v", view, ok)
	}
}

func FuzzDecodeRecords(f *testing.F) {
	f.Add((&mtRecord{Channel: "c", SMSC: []string{"a"}, Sent: []string{"1"}}).encode())
	f.Add((&statusMark{MT: map[string][]State{"a": {1}}}).encode())
	f.Add((&receiptData{MTID: "m"}).encode())
	f.Fuzz(func(t *testing.T, p []byte) {
		if len(p) == 0 || p[0] != cbBinary {
			return
		}
		var rec mtRecord
		if rec.decode(p) == nil {
			var again mtRecord
			if err := again.decode(rec.encode()); err != nil || !reflect.DeepEqual(again, rec) {
				t.Fatalf("mt %+v re-decodes as %+v, %v", rec, again, err)
			}
		}
		var m statusMark
		if m.decode(p) == nil {
			var again statusMark
			if err := again.decode(m.encode()); err != nil || !reflect.DeepEqual(again, m) {
				t.Fatalf("mark %+v re-decodes as %+v, %v", m, again, err)
			}
		}
		var d receiptData
		_ = d.decode(p)
	})
}
