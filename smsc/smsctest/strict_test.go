package smsctest_test

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/smscbridge/smscbridge/smsc/coding"
	"github.com/smscbridge/smscbridge/smsc/pdu"
	"github.com/smscbridge/smscbridge/smsc/smsctest"
)

// write sends p as it is (sequence number included) and reads the answer.
func (e *esme) write(p *pdu.PDU) *pdu.PDU {
	e.t.Helper()
	if err := pdu.Write(e.nc, p); err != nil {
		e.t.Fatalf("write %s: %v", p.ID, err)
	}
	return e.read()
}

// gsm returns n septets of GSM text ("a").
func gsm(n int) []byte { return bytes.Repeat([]byte("a"), n) }

// ucs2 returns n octets of UCS-2 text (U+0061 repeated, odd n cut short).
func ucs2(n int) []byte { return bytes.Repeat([]byte{0x00, 0x61}, (n+1)/2)[:n] }

// udh is part 1 of 2, ref 7.
var udh = []byte{0x05, 0x00, 0x03, 0x07, 0x02, 0x01}

func withUDH(b []byte) []byte { return append(append([]byte(nil), udh...), b...) }

// submitCase is one submit_sm the strict server refuses (or accepts).
type submitCase struct {
	name string
	edit func(sm *pdu.ShortMessage)
	want pdu.Status
	rule smsctest.Rule // "" when accepted
}

// strictSubmits are the submits of the list, and more; each
// refused one was answered ESME_ROK before the server was strict.
var strictSubmits = []submitCase{
	{"160 septets", func(sm *pdu.ShortMessage) { sm.Message = gsm(160) }, pdu.StatusOK, ""},
	{"200 septets in one SMS", func(sm *pdu.ShortMessage) { sm.Message = gsm(200) }, pdu.StatusInvMsgLen, smsctest.RuleMessageLength},
	{"161 septets in one SMS", func(sm *pdu.ShortMessage) { sm.Message = gsm(161) }, pdu.StatusInvMsgLen, smsctest.RuleMessageLength},
	{"UDH + 153 septets", func(sm *pdu.ShortMessage) { sm.ESMClass, sm.Message = pdu.ESMClassUDHI, withUDH(gsm(153)) }, pdu.StatusOK, ""},
	{"UDH + 154 septets", func(sm *pdu.ShortMessage) { sm.ESMClass, sm.Message = pdu.ESMClassUDHI, withUDH(gsm(154)) }, pdu.StatusInvMsgLen, smsctest.RuleMessageLength},
	{"UDH + 160 septets", func(sm *pdu.ShortMessage) { sm.ESMClass, sm.Message = pdu.ESMClassUDHI, withUDH(gsm(160)) }, pdu.StatusInvMsgLen, smsctest.RuleMessageLength},
	{"UDHI without UDH", func(sm *pdu.ShortMessage) { sm.ESMClass, sm.Message = pdu.ESMClassUDHI, []byte("hello there") }, pdu.StatusInvEsmClass, smsctest.RuleUDH},
	{"UDHI with empty message", func(sm *pdu.ShortMessage) { sm.ESMClass, sm.Message = pdu.ESMClassUDHI, nil }, pdu.StatusInvEsmClass, smsctest.RuleUDH},
	{"UDH element overruns UDHL", func(sm *pdu.ShortMessage) {
		sm.ESMClass, sm.Message = pdu.ESMClassUDHI, []byte{0x04, 0x00, 0x03, 0x07, 0x02, 'a'}
	}, pdu.StatusInvEsmClass, smsctest.RuleUDH},
	{"concat part 3 of 2", func(sm *pdu.ShortMessage) {
		sm.ESMClass, sm.Message = pdu.ESMClassUDHI, []byte{0x05, 0x00, 0x03, 0x07, 0x02, 0x03, 'a'}
	}, pdu.StatusInvEsmClass, smsctest.RuleUDH},
	{"concat part 0", func(sm *pdu.ShortMessage) {
		sm.ESMClass, sm.Message = pdu.ESMClassUDHI, []byte{0x05, 0x00, 0x03, 0x07, 0x02, 0x00, 'a'}
	}, pdu.StatusInvEsmClass, smsctest.RuleUDH},
	{"lone ESC at the end", func(sm *pdu.ShortMessage) {
		sm.ESMClass, sm.Message = pdu.ESMClassUDHI, withUDH(append(gsm(152), 0x1B))
	}, pdu.StatusSubmitFail, smsctest.RuleCharset},
	{"ESC pair at the end", func(sm *pdu.ShortMessage) { sm.Message = append(gsm(158), 0x1B, 0x28) }, pdu.StatusOK, ""},
	{"UCS-2 140 octets", func(sm *pdu.ShortMessage) { sm.DataCoding, sm.Message = 8, ucs2(140) }, pdu.StatusOK, ""},
	{"UCS-2 141 octets", func(sm *pdu.ShortMessage) { sm.DataCoding, sm.Message = 8, ucs2(141) }, pdu.StatusInvMsgLen, smsctest.RuleMessageLength},
	{"UCS-2 142 octets", func(sm *pdu.ShortMessage) { sm.DataCoding, sm.Message = 8, ucs2(142) }, pdu.StatusInvMsgLen, smsctest.RuleMessageLength},
	{"UCS-2 UDH + 134 octets", func(sm *pdu.ShortMessage) {
		sm.DataCoding, sm.ESMClass, sm.Message = 8, pdu.ESMClassUDHI, withUDH(ucs2(134))
	}, pdu.StatusOK, ""},
	{"UCS-2 UDH + 136 octets", func(sm *pdu.ShortMessage) {
		sm.DataCoding, sm.ESMClass, sm.Message = 8, pdu.ESMClassUDHI, withUDH(ucs2(136))
	}, pdu.StatusInvMsgLen, smsctest.RuleMessageLength},
	{"UCS-2 surrogate pair cut", func(sm *pdu.ShortMessage) { sm.DataCoding, sm.Message = 8, []byte{0x00, 0x61, 0xD8, 0x3D} }, pdu.StatusSubmitFail, smsctest.RuleCharset},
	{"UCS-2 surrogate pair whole", func(sm *pdu.ShortMessage) { sm.DataCoding, sm.Message = 8, []byte{0xD8, 0x3D, 0xDE, 0x00} }, pdu.StatusOK, ""},
	{"data_coding 0 with 0xE9", func(sm *pdu.ShortMessage) { sm.Message = []byte("caf\xe9") }, pdu.StatusSubmitFail, smsctest.RuleCharset},
	{"data_coding 1 with 0xE9", func(sm *pdu.ShortMessage) { sm.DataCoding, sm.Message = 1, []byte("caf\xe9") }, pdu.StatusSubmitFail, smsctest.RuleCharset},
	{"data_coding 3 with 0xE9", func(sm *pdu.ShortMessage) { sm.DataCoding, sm.Message = 3, []byte("caf\xe9") }, pdu.StatusOK, ""},
	{"Latin-1 161 characters", func(sm *pdu.ShortMessage) { sm.DataCoding, sm.Message = 3, gsm(161) }, pdu.StatusInvMsgLen, smsctest.RuleMessageLength},
	{"Latin-1 80 braces (160 septets)", func(sm *pdu.ShortMessage) { sm.DataCoding, sm.Message = 3, bytes.Repeat([]byte("{"), 80) }, pdu.StatusOK, ""},
	{"Latin-1 81 braces (162 septets)", func(sm *pdu.ShortMessage) { sm.DataCoding, sm.Message = 3, bytes.Repeat([]byte("{"), 81) }, pdu.StatusInvMsgLen, smsctest.RuleMessageLength},
	{"binary 141 octets", func(sm *pdu.ShortMessage) { sm.DataCoding, sm.Message = 4, gsm(141) }, pdu.StatusInvMsgLen, smsctest.RuleMessageLength},
	{"message_payload of 1000 septets", func(sm *pdu.ShortMessage) { sm.Message = nil; sm.TLVs.Set(pdu.TagMessagePayload, gsm(1000)) }, pdu.StatusOK, ""},
	{"short_message and message_payload", func(sm *pdu.ShortMessage) { sm.TLVs.Set(pdu.TagMessagePayload, gsm(3)) }, pdu.StatusInvOptParamVal, smsctest.RulePayloadConflict},
	{"SAR TLVs", func(sm *pdu.ShortMessage) { sar(sm, 9, 2, 1) }, pdu.StatusOK, ""},
	{"SAR seq above total", func(sm *pdu.ShortMessage) { sar(sm, 9, 2, 3) }, pdu.StatusInvOptParamVal, smsctest.RuleSAR},
	{"SAR incomplete", func(sm *pdu.ShortMessage) { sm.TLVs.SetUint16(pdu.TagSARMsgRefNum, 9) }, pdu.StatusMissingOptParam, smsctest.RuleSAR},
	{"SAR with UDH", func(sm *pdu.ShortMessage) {
		sar(sm, 9, 2, 1)
		sm.ESMClass, sm.Message = pdu.ESMClassUDHI, withUDH(gsm(10))
	}, pdu.StatusInvOptParamVal, smsctest.RuleSAR},
	{"esm_class receipt type", func(sm *pdu.ShortMessage) { sm.ESMClass = pdu.ESMClassReceipt }, pdu.StatusInvEsmClass, smsctest.RuleESMClass},
	{"esm_class store and forward (Kannel)", func(sm *pdu.ShortMessage) { sm.ESMClass = pdu.ESMClassStoreForward }, pdu.StatusOK, ""},
	{"destination with +", func(sm *pdu.ShortMessage) { sm.DestAddr = "+15550001111" }, pdu.StatusInvDstAdr, smsctest.RuleField},
	{"empty destination", func(sm *pdu.ShortMessage) { sm.DestAddr = "" }, pdu.StatusInvDstAdr, smsctest.RuleField},
	{"alphanumeric sender of 12", func(sm *pdu.ShortMessage) { sm.SourceTON, sm.SourceAddr = 5, "TwelveLetter" }, pdu.StatusInvSrcAdr, smsctest.RuleField},
	{"alphanumeric sender of 11", func(sm *pdu.ShortMessage) { sm.SourceTON, sm.SourceAddr = 5, "ElevenChars" }, pdu.StatusOK, ""},
	{"dest TON 7", func(sm *pdu.ShortMessage) { sm.DestTON = 7 }, pdu.StatusInvDstTON, smsctest.RuleField},
	{"source NPI 2", func(sm *pdu.ShortMessage) { sm.SourceNPI = 2 }, pdu.StatusInvSrcNPI, smsctest.RuleField},
	{"priority 4", func(sm *pdu.ShortMessage) { sm.PriorityFlag = 4 }, pdu.StatusInvPrtFlg, smsctest.RuleField},
	{"registered_delivery 3", func(sm *pdu.ShortMessage) { sm.RegisteredDelivery = 3 }, pdu.StatusInvRegDlvFlg, smsctest.RuleField},
	{"validity relative", func(sm *pdu.ShortMessage) { sm.ValidityPeriod = "000001000000000R" }, pdu.StatusOK, ""},
	{"validity of 12 digits", func(sm *pdu.ShortMessage) { sm.ValidityPeriod = "260321143000" }, pdu.StatusInvExpiry, smsctest.RuleField},
	{"schedule month 13", func(sm *pdu.ShortMessage) { sm.ScheduleDeliveryTime = "261321143000004+" }, pdu.StatusInvSched, smsctest.RuleField},
	{"replace_if_present 2", func(sm *pdu.ShortMessage) { sm.ReplaceIfPresent = 2 }, pdu.StatusInvRepFlag, smsctest.RuleField},
	{"sm_default_msg_id 1", func(sm *pdu.ShortMessage) { sm.SMDefaultMsgID = 1 }, pdu.StatusInvDftMsgID, smsctest.RuleField},
}

func sar(sm *pdu.ShortMessage, ref uint16, total, seq uint8) {
	sm.TLVs.SetUint16(pdu.TagSARMsgRefNum, ref)
	sm.TLVs.SetUint8(pdu.TagSARTotalSegments, total)
	sm.TLVs.SetUint8(pdu.TagSARSegmentSeqnum, seq)
}

// TestStrictSubmit sends each case to a strict server, which answers with
// the rule's status and records the violation, and to a lenient one, which
// answers ESME_ROK and records it as lenient.
func TestStrictSubmit(t *testing.T) {
	strict := newRuleServer(t)
	lenient := newServer(t, smsctest.WithLenient()) // lenient violations do not fail the test
	es, el := dialESME(t, strict), dialESME(t, lenient)
	es.bind(pdu.BindTransceiver, "esme", "secret")
	el.bind(pdu.BindTransceiver, "esme", "secret")
	for i, tc := range strictSubmits {
		t.Run(tc.name, func(t *testing.T) {
			sm := submit("x", 0)
			sm.DestAddr = fmt.Sprint(15550001000 + i) // a message of its own for the concatenation check
			tc.edit(sm)
			before := len(strict.Violations())
			if resp := es.call(pdu.SubmitSM, sm); resp.Status != tc.want {
				t.Errorf("strict: %v, want %v", resp.Status, tc.want)
			}
			vs := strict.Violations()[before:]
			if tc.rule == "" {
				if len(vs) > 0 {
					t.Errorf("violations %v, want none", vs)
				}
				return
			}
			if len(vs) == 0 || vs[0].Rule != tc.rule || vs[0].Status != tc.want || vs[0].Lenient || vs[0].Command != pdu.SubmitSM || vs[0].Seq != es.seq {
				t.Errorf("violations %+v, want first %s with %v", vs, tc.rule, tc.want)
			}
			if resp := el.call(pdu.SubmitSM, sm); resp.Status != pdu.StatusOK {
				t.Errorf("lenient: %v, want ESME_ROK", resp.Status)
			}
			if vl := lenient.Violations(); len(vl) == 0 || vl[len(vl)-1].Rule != tc.rule && vl[0].Rule != tc.rule || !vl[len(vl)-1].Lenient {
				t.Errorf("lenient violations %+v, want %s marked lenient", vl, tc.rule)
			}
		})
	}
	if subs := strict.Submits(); len(subs) != len(strictSubmits) {
		t.Errorf("strict server recorded %d submits, want all %d (refused ones with their status)", len(subs), len(strictSubmits))
	}
}

// TestDC0Charset: what data_coding 0 means is the SMSC's setting.
func TestDC0Charset(t *testing.T) {
	tests := []struct {
		dc0  smsctest.DC0
		msg  []byte
		want pdu.Status
	}{
		{smsctest.DC0GSM7, []byte("caf\xe9"), pdu.StatusSubmitFail},
		{smsctest.DC0Latin1, []byte("caf\xe9"), pdu.StatusOK},
		{smsctest.DC0Latin1, gsm(160), pdu.StatusOK},
		{smsctest.DC0Latin1, gsm(161), pdu.StatusInvMsgLen},
		{smsctest.DC0ASCII, []byte("caf\xe9"), pdu.StatusSubmitFail},
		{smsctest.DC0ASCII, []byte("cafe"), pdu.StatusOK},
		{smsctest.DC0GSM7Packed, coding.PackGSM7(gsm(160)), pdu.StatusOK}, // 140 octets, high bits set
		{smsctest.DC0GSM7Packed, gsm(141), pdu.StatusInvMsgLen},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %d octets", tt.dc0, len(tt.msg)), func(t *testing.T) {
			srv := newRuleServer(t, smsctest.WithDC0(tt.dc0))
			e := dialESME(t, srv)
			e.bind(pdu.BindTransmitter, "esme", "secret")
			sm := submit("", 0)
			sm.Message = tt.msg
			if resp := e.call(pdu.SubmitSM, sm); resp.Status != tt.want {
				t.Errorf("%v, want %v (violations %v)", resp.Status, tt.want, srv.Violations())
			}
		})
	}
	for _, name := range []string{"gsm7", "GSM7-packed", "latin1", "ascii"} {
		if d, err := smsctest.ParseDC0(name); err != nil || !strings.EqualFold(d.String(), name) {
			t.Errorf("ParseDC0(%q) = %v, %v", name, d, err)
		}
	}
	if _, err := smsctest.ParseDC0("utf8"); err == nil {
		t.Error("ParseDC0(utf8) did not fail")
	}
}

// TestStrictConcatParts: parts of one message must agree on the total; a
// finished message frees its reference.
func TestStrictConcatParts(t *testing.T) {
	srv := newRuleServer(t)
	e := dialESME(t, srv)
	e.bind(pdu.BindTransmitter, "esme", "secret")
	part := func(ref, total, seq byte) pdu.Status {
		sm := submit("", 0)
		sm.ESMClass, sm.Message = pdu.ESMClassUDHI, []byte{0x05, 0x00, 0x03, ref, total, seq, 'a'}
		return e.call(pdu.SubmitSM, sm).Status
	}
	steps := []struct {
		ref, total, seq byte
		want            pdu.Status
	}{
		{1, 3, 1, pdu.StatusOK},
		{1, 2, 2, pdu.StatusInvEsmClass}, // the first part said 3
		{1, 3, 2, pdu.StatusOK},
		{1, 3, 3, pdu.StatusOK}, // complete: ref 1 is free again
		{1, 2, 1, pdu.StatusOK}, // a new message with ref 1
		{2, 2, 1, pdu.StatusOK}, // another reference is another message
	}
	for i, s := range steps {
		if got := part(s.ref, s.total, s.seq); got != s.want {
			t.Errorf("step %d: part %d/%d ref %d = %v, want %v", i, s.seq, s.total, s.ref, got, s.want)
		}
	}
	if vs := srv.Violations(); len(vs) != 1 || vs[0].Rule != smsctest.RuleConcat {
		t.Errorf("violations %v, want one %s", vs, smsctest.RuleConcat)
	}
}

// TestStrictHeader: a request with sequence number 0, bit 31 set or a
// command_status gets generic_nack ESME_RINVCMDLEN, and the session goes on.
func TestStrictHeader(t *testing.T) {
	srv := newRuleServer(t)
	e := dialESME(t, srv)
	e.bind(pdu.BindTransceiver, "esme", "secret")
	for _, h := range []pdu.Header{
		{ID: pdu.SubmitSM, Seq: 0},
		{ID: pdu.SubmitSM, Seq: 0x80000001},
		{ID: pdu.EnquireLink, Seq: 0xFFFFFFFF},
		{ID: pdu.SubmitSM, Seq: 77, Status: pdu.StatusSysErr},
	} {
		var body pdu.Body
		if h.ID == pdu.SubmitSM {
			body = submit("x", 0)
		}
		resp := e.write(&pdu.PDU{Header: h, Body: body})
		if resp.ID != pdu.GenericNack || resp.Status != pdu.StatusInvCmdLen || resp.Seq != h.Seq {
			t.Errorf("%s: %s, want generic_nack ESME_RINVCMDLEN seq %d", h, resp.Header, h.Seq)
		}
	}
	want := []smsctest.Rule{smsctest.RuleSequence, smsctest.RuleSequence, smsctest.RuleSequence, smsctest.RuleCommandStatus}
	vs := srv.Violations()
	if len(vs) != len(want) {
		t.Fatalf("violations %v, want %v", vs, want)
	}
	for i, v := range vs {
		if v.Rule != want[i] || v.Session != 1 || v.SystemID != "esme" {
			t.Errorf("violation %d = %+v, want %s on session 1 of esme", i, v, want[i])
		}
	}
	if resp := e.call(pdu.SubmitSM, submit("x", 0)); resp.Status != pdu.StatusOK {
		t.Errorf("good submit afterwards = %v", resp.Status)
	}
	if len(srv.Submits()) != 1 {
		t.Errorf("%d submits recorded, want only the good one", len(srv.Submits()))
	}
}

// TestStrictBind: interface_version 0x50 still binds, told 0x34, and is
// recorded; over-long fields are refused with their status.
func TestStrictBind(t *testing.T) {
	srv := smsctest.NewServer()
	t.Cleanup(srv.Close)
	e := dialESME(t, srv)
	resp := e.call(pdu.BindTransceiver, &pdu.Bind{SystemID: "node", InterfaceVersion: 0x50})
	if v, _ := resp.Body.(*pdu.BindResp).TLVs.Uint8(pdu.TagSCInterfaceVersion); resp.Status != pdu.StatusOK || v != 0x34 {
		t.Errorf("bind 0x50 = %v sc_interface_version 0x%02X, want ESME_ROK and 0x34", resp.Status, v)
	}
	e33 := dialESME(t, srv)
	resp = e33.call(pdu.BindTransmitter, &pdu.Bind{SystemID: "old", InterfaceVersion: 0x33})
	if _, ok := resp.Body.(*pdu.BindResp).TLVs.Get(pdu.TagSCInterfaceVersion); resp.Status != pdu.StatusOK || ok {
		t.Errorf("bind 0x33 = %v with sc_interface_version %v, want ESME_ROK without TLV (SMPP 3.3)", resp.Status, ok)
	}
	vs := srv.Violations()
	if len(vs) != 2 || vs[0].Rule != smsctest.RuleInterfaceVersion || vs[0].Status != pdu.StatusOK || !strings.Contains(vs[0].Detail, "0x50") {
		t.Errorf("violations %v, want interface_version 0x50 and 0x33", vs)
	}
	tests := []struct {
		b    pdu.Bind
		want pdu.Status
	}{
		{pdu.Bind{SystemID: "x", InterfaceVersion: 0x34, AddrTON: 9}, pdu.StatusBindFail},
		{pdu.Bind{SystemID: "x", InterfaceVersion: 0x34, AddrNPI: 2}, pdu.StatusBindFail},
	}
	for _, tt := range tests {
		if resp := dialESME(t, srv).call(pdu.BindTransceiver, &tt.b); resp.Status != tt.want {
			t.Errorf("bind %+v = %v, want %v", tt.b, resp.Status, tt.want)
		}
	}
}

// TestStrictSessionRules: requests in the wrong state, SMSC-only commands
// and responses to nothing are recorded.
func TestStrictSessionRules(t *testing.T) {
	srv := newRuleServer(t)
	e := dialESME(t, srv)
	if resp := e.call(pdu.SubmitSM, submit("x", 0)); resp.Status != pdu.StatusInvBndSts {
		t.Errorf("submit before bind = %v", resp.Status)
	}
	e.bind(pdu.BindTransceiver, "esme", "secret")
	if resp := e.bind(pdu.BindTransceiver, "esme", "secret"); resp.Status != pdu.StatusAlyBnd {
		t.Errorf("second bind = %v", resp.Status)
	}
	if resp := e.call(pdu.DeliverSM, submit("x", 0)); resp.ID != pdu.DeliverSMResp || resp.Status != pdu.StatusInvBndSts {
		t.Errorf("deliver_sm from the ESME = %s", resp.Header)
	}
	// A response to nothing the server sent is not answered; the next
	// request still is.
	if err := pdu.Write(e.nc, &pdu.PDU{Header: pdu.Header{ID: pdu.DeliverSMResp, Seq: 99}, Body: &pdu.MessageResp{}}); err != nil {
		t.Fatal(err)
	}
	if resp := e.call(pdu.EnquireLink, nil); resp.ID != pdu.EnquireLinkResp {
		t.Errorf("enquire_link after a stray response = %s", resp.Header)
	}
	// deliver_sm_resp with a message_id, answering a real deliver_sm.
	done := make(chan pdu.Status, 1)
	go func() {
		st, _ := srv.Deliver(t.Context(), submit("mo", 0))
		done <- st
	}()
	mo := e.read()
	if err := pdu.Write(e.nc, pdu.NewResponse(mo, pdu.StatusOK, &pdu.MessageResp{MessageID: "abc"})); err != nil {
		t.Fatal(err)
	}
	<-done
	want := []smsctest.Rule{smsctest.RuleBindState, smsctest.RuleBindState, smsctest.RuleCommand, smsctest.RuleResponse, smsctest.RuleResponse}
	vs := srv.Violations()
	if len(vs) != len(want) {
		t.Fatalf("violations %v, want rules %v", vs, want)
	}
	for i, v := range vs {
		if v.Rule != want[i] {
			t.Errorf("violation %d = %v, want %s", i, v, want[i])
		}
	}
}

// TestStrictMalformed: a submit_sm that does not decode is a violation too.
func TestStrictMalformed(t *testing.T) {
	srv := newRuleServer(t)
	e := dialESME(t, srv)
	e.bind(pdu.BindTransmitter, "esme", "secret")
	good, err := (&pdu.PDU{Header: pdu.Header{ID: pdu.SubmitSM, Seq: 5}, Body: submit("abc", 0)}).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	good[len(good)-4] = 200 // sm_length past the end of the body
	if _, err := e.nc.Write(good); err != nil {
		t.Fatal(err)
	}
	if resp := e.read(); resp.Status != pdu.StatusInvMsgLen {
		t.Errorf("bad sm_length = %v", resp.Status)
	}
	if vs := srv.Violations(); len(vs) != 1 || vs[0].Rule != smsctest.RuleMalformed || vs[0].Status != pdu.StatusInvMsgLen {
		t.Errorf("violations %v, want one malformed (ESME_RINVMSGLEN)", vs)
	}
}

// fakeTB records what WithTB and NoViolations report.
type fakeTB struct {
	mu       sync.Mutex
	errs     []string
	cleanups []func()
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
}
func (f *fakeTB) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }
func (f *fakeTB) end() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
}

// TestWithTBReports: WithTB fails the test for each strict violation when
// it ends, and not for violations accepted by WithLenient.
func TestWithTBReports(t *testing.T) {
	for _, lenient := range []bool{false, true} {
		t.Run(fmt.Sprint("lenient=", lenient), func(t *testing.T) {
			ft := &fakeTB{}
			opts := []smsctest.Option{smsctest.WithTB(ft)}
			if lenient {
				opts = append(opts, smsctest.WithLenient(smsctest.RuleMessageLength))
			}
			srv := smsctest.NewServer(opts...)
			e := dialESME(t, srv)
			e.bind(pdu.BindTransmitter, "esme", "secret")
			sm := submit("", 0)
			sm.Message = gsm(161)
			e.call(pdu.SubmitSM, sm)
			ft.end()
			if lenient && len(ft.errs) != 0 {
				t.Errorf("lenient server reported %q", ft.errs)
			}
			if !lenient && (len(ft.errs) != 1 || !strings.Contains(ft.errs[0], "message_length: 161 septets in one SMS")) {
				t.Errorf("reported %q, want one message_length error", ft.errs)
			}
			if got := len(srv.Violations()); got != 1 {
				t.Errorf("%d violations recorded, want 1 either way", got)
			}
		})
	}
}
