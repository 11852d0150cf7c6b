package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smscbridge/smscbridge/smsc"
	"github.com/smscbridge/smscbridge/smsc/coding"
	"github.com/smscbridge/smscbridge/smsc/pdu"
	"github.com/smscbridge/smscbridge/smsc/smsctest"
)

// mustReadRecords parses every line of a -record file.
func mustReadRecords(t *testing.T, path string) []Record {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var recs []Record
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("record line %q: %v", sc.Text(), err)
		}
		recs = append(recs, r)
	}
	return recs
}

// mustSubmitAll submits every PDU and returns the ids (or the status) answered.
func mustSubmitAll(t *testing.T, ctx context.Context, c *smsc.Client, sms []*pdu.ShortMessage) []string {
	t.Helper()
	var ids []string
	for _, sm := range sms {
		id, err := c.Submit(ctx, sm)
		if st, ok := err.(pdu.Status); ok {
			id = st.String()
		} else if err != nil {
			t.Fatalf("Submit: %v", err)
		}
		ids = append(ids, id)
	}
	return ids
}

// TestSimRecord runs the simulator with -record, sends a GSM 03.38 text,
// a UCS-2 text, a two-part UDH text, a message_payload text and a throttled
// submit, and reads the file while the simulator still runs: each submit
// must already be in it when its response arrives.
func TestSimRecord(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	path := filepath.Join(t.TempDir(), "submits.jsonl")
	if err := os.WriteFile(path, []byte(`{"seq":99}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	s, err := newSim([]string{"-listen", "127.0.0.1:0", "-system-id", "esme", "-password", "secret",
		"-throttle-every", "6", "-id-format", "hex", "-record", path}, &out, &out)
	if err != nil {
		t.Fatal(err)
	}
	simCtx, stopSim := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.run(simCtx) }()
	<-s.ready
	c, err := smsc.New(smsc.Options{ID: "sim", Addr: s.srv.Addr(), SystemID: "esme", Password: "secret",
		Bind: smsc.Transmitter, Logger: slog.New(slog.DiscardHandler),
		ThrottleTimeout: time.Nanosecond}) // hand the throttled answer back instead of resending

	if err != nil {
		t.Fatal(err)
	}
	clientCtx, stopClient := context.WithCancel(ctx)
	clientDone := make(chan error, 1)
	go func() { clientDone <- c.Run(clientCtx) }()
	if err := c.WaitBound(ctx); err != nil {
		t.Fatal(err)
	}

	const gsmText, ucsText = "Hello {}[]~€ @£", "Привет 😀 ✓"
	longText := strings.Repeat("Long GSM text in two parts. ", 7)
	src, dst := smsc.Address{Addr: "12345", TON: 3}, smsc.Address{Addr: "15550002222", TON: 1, NPI: 1}
	mustBuild := func(text string, o smsc.SubmitOptions) []*pdu.ShortMessage {
		sms, err := smsc.BuildSubmits(src, dst, text, o)
		if err != nil {
			t.Fatal(err)
		}
		return sms
	}
	var sms []*pdu.ShortMessage
	sms = append(sms, mustBuild(gsmText, smsc.SubmitOptions{Coding: coding.GSM7, RegisteredDelivery: true})...)
	sms = append(sms, mustBuild(ucsText, smsc.SubmitOptions{Coding: coding.GSM7})...)
	sms = append(sms, mustBuild(longText, smsc.SubmitOptions{Coding: coding.GSM7, Ref: 0x42})...)
	sms = append(sms, mustBuild(longText, smsc.SubmitOptions{Coding: coding.GSM7, Long: smsc.LongPayload})...)
	sms = append(sms, mustBuild("throttled", smsc.SubmitOptions{Coding: coding.GSM7})...)
	if len(sms) != 6 {
		t.Fatalf("built %d submit_sm, want 6", len(sms))
	}
	ids := mustSubmitAll(t, ctx, c, sms)
	recs := mustReadRecords(t, path) // the simulator is still running

	if len(recs) != 7 || recs[0].Seq != 99 {
		t.Fatalf("%d records (first %+v), want the old line and 6 new ones", len(recs), recs[0])
	}
	recs = recs[1:]
	want := []struct {
		text   string
		dc     uint8
		esm    uint8
		concat *RecordConcat
	}{
		{gsmText, 0x00, 0, nil},
		{ucsText, 0x08, 0, nil},
		{longText[:153], 0x00, 0x40, &RecordConcat{Ref: 0x42, Total: 2, Seq: 1}},
		{longText[153:], 0x00, 0x40, &RecordConcat{Ref: 0x42, Total: 2, Seq: 2}},
		{longText, 0x00, 0, nil},
		{"throttled", 0x00, 0, nil},
	}
	for i, r := range recs {
		w := want[i]
		if r.Text != w.text || r.DataCoding != w.dc || r.ESMClass != w.esm || r.TextError != "" {
			t.Errorf("record %d: text %q dc 0x%02x esm 0x%02x (%s), want %q 0x%02x 0x%02x", i, r.Text, r.DataCoding, r.ESMClass, r.TextError, w.text, w.dc, w.esm)
		}
		if (r.Concat == nil) != (w.concat == nil) || (r.Concat != nil && *r.Concat != *w.concat) {
			t.Errorf("record %d: concat %+v, want %+v", i, r.Concat, w.concat)
		}
		if sm, _ := hex.DecodeString(r.ShortMessage); !bytes.Equal(sm, sms[i].Message) {
			t.Errorf("record %d: short_message %s, want %x", i, r.ShortMessage, sms[i].Message)
		}
		if r.Session != 1 || r.SystemID != "esme" || r.Seq == 0 || r.Time.IsZero() || r.Dropped ||
			r.SourceAddr != "12345" || r.SourceTON != 3 || r.DestAddr != "15550002222" || r.DestTON != 1 || r.DestNPI != 1 {
			t.Errorf("record %d: %+v, want session 1 esme, a seq and time, the addresses", i, r)
		}
		if i < 5 && (r.Status == nil || *r.Status != 0 || r.StatusName != "ESME_ROK" || r.MessageID != ids[i]) {
			t.Errorf("record %d: status %v %q, message_id %q; want ESME_ROK and %q", i, r.Status, r.StatusName, r.MessageID, ids[i])
		}
	}
	if recs[0].RegisteredDelivery != 1 || recs[1].RegisteredDelivery != 0 {
		t.Errorf("registered_delivery %d, %d; want 1, 0", recs[0].RegisteredDelivery, recs[1].RegisteredDelivery)
	}
	if p := recs[4].TLVs["0x0424"]; p != hex.EncodeToString(sms[4].TLVs[0].Value) || recs[4].ShortMessage != "" {
		t.Errorf("payload record: tlvs %v, short_message %q; want message_payload 0x0424 in hex only", recs[4].TLVs, recs[4].ShortMessage)
	}
	if th := recs[5]; th.Status == nil || pdu.Status(*th.Status) != pdu.StatusThrottled || th.StatusName != "ESME_RTHROTTLED" || th.MessageID != "" {
		t.Errorf("throttled record: status %v %q id %q, want ESME_RTHROTTLED and no id", th.Status, th.StatusName, th.MessageID)
	}
	stopClient()
	<-clientDone
	stopSim()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	smsctest.NoViolations(t, s.srv)
	for i, r := range recs {
		if r.Violation != "" {
			t.Errorf("record %d: violation %q", i, r.Violation)
		}
	}
}

// TestRecordFields covers what the end-to-end test cannot produce: SAR
// segments, a broken UDH, binary data, a dropped submit.
func TestRecordFields(t *testing.T) {
	sar := &pdu.ShortMessage{DataCoding: 0x08, Message: []byte{0, 'h', 0, 'i'}}
	sar.TLVs.SetUint16(pdu.TagSARMsgRefNum, 0x1234)
	sar.TLVs.SetUint8(pdu.TagSARTotalSegments, 3)
	sar.TLVs.SetUint8(pdu.TagSARSegmentSeqnum, 2)
	tests := []struct {
		name       string
		sm         *pdu.ShortMessage
		resp       *pdu.PDU
		wantText   string
		wantErr    string
		wantConcat *RecordConcat
	}{
		{"sar", sar, &pdu.PDU{Body: &pdu.MessageResp{MessageID: "7"}}, "hi", "", &RecordConcat{Ref: 0x1234, Total: 3, Seq: 2}},
		{"udh overruns", &pdu.ShortMessage{ESMClass: 0x40, DataCoding: 0x03, Message: []byte{9, 0, 3, 1, 'x'}}, nil, "\t\x00\x03\x01x", "coding: ", nil},
		{"binary", &pdu.ShortMessage{DataCoding: 0x04, Message: []byte{0xde, 0xad}}, nil, "\u00de\u00ad", "data_coding 0x04", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecord(tt.sm)
			answered(&rec, tt.resp)
			if rec.Text != tt.wantText || !strings.Contains(rec.TextError, tt.wantErr) || (tt.wantErr == "") != (rec.TextError == "") {
				t.Errorf("text %q, error %q; want %q, error containing %q", rec.Text, rec.TextError, tt.wantText, tt.wantErr)
			}
			if (rec.Concat == nil) != (tt.wantConcat == nil) || (rec.Concat != nil && *rec.Concat != *tt.wantConcat) {
				t.Errorf("concat %+v, want %+v", rec.Concat, tt.wantConcat)
			}
			if tt.resp == nil && (!rec.Dropped || rec.Status != nil) {
				t.Errorf("dropped %v status %v, want dropped and no status", rec.Dropped, rec.Status)
			}
			if tt.resp != nil && (rec.Dropped || rec.Status == nil || *rec.Status != 0 || rec.MessageID != "7") {
				t.Errorf("dropped %v status %v id %q, want status 0 and id 7", rec.Dropped, rec.Status, rec.MessageID)
			}
		})
	}
	if got := newRecord(sar).TLVs; got["0x020C"] != "1234" || got["0x020E"] != "03" || got["0x020F"] != "02" {
		t.Errorf("tlvs %v, want the SAR TLVs by tag in hex", got)
	}
}

func TestRecordOpenError(t *testing.T) {
	var out syncBuffer
	s, err := newSim([]string{"-listen", "127.0.0.1:0", "-record", filepath.Join(t.TempDir(), "no", "such", "dir")}, &out, &out)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.run(t.Context()); err == nil || !strings.Contains(err.Error(), "-record") {
		t.Errorf("run with an unwritable -record = %v, want a -record error", err)
	}
}

// TestRecordUndecodable: a submit_sm that does not decode still gets a
// -record line with its sequence number, the status answered and the
// violation.
func TestRecordUndecodable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rec.jsonl")
	s, _, _, stop := startSim(t, "-record", path)
	nc, err := net.Dial("tcp", s.srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	br := bufio.NewReader(nc)
	if err := pdu.Write(nc, &pdu.PDU{Header: pdu.Header{ID: pdu.BindTransmitter, Seq: 1}, Body: &pdu.Bind{SystemID: "raw", InterfaceVersion: 0x34}}); err != nil {
		t.Fatal(err)
	}
	if resp, err := pdu.Read(br, 0); err != nil || resp.Status != pdu.StatusOK {
		t.Fatalf("bind: %v %v", resp, err)
	}
	b, err := (&pdu.PDU{Header: pdu.Header{ID: pdu.SubmitSM, Seq: 9}, Body: &pdu.ShortMessage{DestAddr: "1", Message: []byte("abc")}}).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-4] = 200 // sm_length past the end of the body
	if _, err := nc.Write(b); err != nil {
		t.Fatal(err)
	}
	if resp, err := pdu.Read(br, 0); err != nil || resp.Status != pdu.StatusInvMsgLen || resp.Seq != 9 {
		t.Fatalf("bad submit answered %v %v, want ESME_RINVMSGLEN seq 9", resp, err)
	}
	stop()
	recs := mustReadRecords(t, path)
	if len(recs) != 1 || recs[0].Seq != 9 || recs[0].StatusName != "ESME_RINVMSGLEN" || !strings.HasPrefix(recs[0].Violation, "malformed: sm_length 200") {
		t.Errorf("records %+v, want one for seq 9 with ESME_RINVMSGLEN and the malformed violation", recs)
	}
}
