package smsctest_test

import (
	"io"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/smscbridge/smscbridge/smsc/coding"
	"github.com/smscbridge/smscbridge/smsc/pdu"
	"github.com/smscbridge/smscbridge/smsc/smsctest"
)

func TestBuildReceipt(t *testing.T) {
	at := time.Date(2026, 11, 22, 3, 4, 0, 0, time.UTC)
	sub := smsctest.Submit{SM: submit("Hello receipt world, more than twenty", 1), MessageID: "00001001", N: 4097, At: at}
	tests := []struct {
		name     string
		r        smsctest.Receipt
		wantText string
		wantTLV  bool
		wantESM  uint8
	}{
		{"both", smsctest.Receipt{}, "id:4097 sub:001 dlvrd:001 submit date:2611220304 done date:2611220310 stat:DELIVRD err:000 text:Hello receipt world,", true, 0x04},
		{"text only failed", smsctest.Receipt{Stat: "UNDELIV", Err: "012", Form: smsctest.ReceiptText, TextKey: "Text"},
			"id:4097 sub:001 dlvrd:000 submit date:2611220304 done date:2611220310 stat:UNDELIV err:012 Text:Hello receipt world,", false, 0x04},
		{"tlv only intermediate", smsctest.Receipt{Stat: "ENROUTE", Form: smsctest.ReceiptTLV, Intermediate: true}, "", true, 0x20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sm := smsctest.BuildReceipt(sub, tt.r, "4097", at.Add(6*time.Minute))
			if string(sm.Message) != tt.wantText {
				t.Errorf("text = %q\nwant   %q", sm.Message, tt.wantText)
			}
			if sm.SourceAddr != "15550001111" || sm.DestAddr != "12345" || sm.SourceTON != 1 || sm.ESMClass != tt.wantESM {
				t.Errorf("addresses/esm_class = %s(%d) -> %s, 0x%02X; want swapped and 0x%02X", sm.SourceAddr, sm.SourceTON, sm.DestAddr, sm.ESMClass, tt.wantESM)
			}
			id, hasID := sm.TLVs.String(pdu.TagReceiptedMessageID)
			if hasID != tt.wantTLV || (hasID && id != "4097") {
				t.Errorf("receipted_message_id = %q, %v; want TLV %v", id, hasID, tt.wantTLV)
			}
			if tt.wantTLV {
				if _, err := (&pdu.PDU{Header: pdu.Header{ID: pdu.DeliverSM}, Body: sm}).MarshalBinary(); err != nil {
					t.Errorf("receipt does not encode: %v", err)
				}
			}
		})
	}
}

func TestAutoReceipts(t *testing.T) {
	srv := newServer(t,
		smsctest.WithMessageIDs(smsctest.HexIDs), smsctest.WithReceiptIDs(smsctest.DecimalIDs),
		smsctest.WithReceipts(0, func(s smsctest.Submit) smsctest.Receipt {
			if string(s.SM.Message) == "fail" {
				return smsctest.Receipt{Stat: "UNDELIV"}
			}
			return smsctest.Receipt{Stat: "DELIVRD"}
		}))
	e := dialESME(t, srv)
	e.bind(pdu.BindTransceiver, "esme", "secret")
	// No receipt: none asked, and "failure only" for a delivered message.
	e.call(pdu.SubmitSM, submit("none", pdu.RegisteredDeliveryNone))
	e.call(pdu.SubmitSM, submit("ok-but-failure-only", pdu.RegisteredDeliveryFailure))
	e.send(pdu.SubmitSM, submit("fail", pdu.RegisteredDeliveryFailure))
	var receipt *pdu.PDU
	for receipt == nil { // the resp and the receipt may come in either order
		if p := e.read(); p.ID == pdu.DeliverSM {
			receipt = p
		}
	}
	sm := receipt.Body.(*pdu.ShortMessage)
	if !strings.HasPrefix(string(sm.Message), "id:3 ") || !strings.Contains(string(sm.Message), "stat:UNDELIV") {
		t.Errorf("receipt %q, want the third submit (decimal id 3) UNDELIV", sm.Message)
	}
	if st, _ := sm.TLVs.Uint8(pdu.TagMessageState); st != pdu.StateUndeliverable {
		t.Errorf("message_state = %d, want %d", st, pdu.StateUndeliverable)
	}
	if err := pdu.Write(e.nc, pdu.NewResponse(receipt, pdu.StatusOK, nil)); err != nil {
		t.Fatal(err)
	}
	if err := srv.WaitStats(t.Context(), func(s smsctest.Stats) bool { return s.ReceiptsSent == 1 }); err != nil {
		t.Fatal(err)
	}
}

func TestDeliverReturnsESMEStatus(t *testing.T) {
	srv := newServer(t)
	e := dialESME(t, srv)
	e.bind(pdu.BindReceiver, "esme", "secret")
	res := make(chan pdu.Status, 1)
	go func() {
		st, err := srv.Deliver(t.Context(), submit("mo", 0))
		if err != nil {
			t.Error(err)
		}
		res <- st
	}()
	p := e.read()
	if p.ID != pdu.DeliverSM || string(p.Body.(*pdu.ShortMessage).Message) != "mo" {
		t.Fatalf("got %s %+v, want the deliver_sm", p.ID, p.Body)
	}
	if err := pdu.Write(e.nc, pdu.NewResponse(p, pdu.StatusRxTAppn, nil)); err != nil {
		t.Fatal(err)
	}
	if st := <-res; st != pdu.StatusRxTAppn {
		t.Errorf("Deliver = %v, want the ESME's ESME_RX_T_APPN", st)
	}
}

func TestFaultInjection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := smsctest.NewUnstartedServer(smsctest.WithTB(t))
		defer srv.Close()
		e := pipeESME(t, srv)
		e.bind(pdu.BindTransmitter, "any", "any")

		srv.Throttle(1)
		if r := e.call(pdu.SubmitSM, submit("a", 0)); r.Status != pdu.StatusThrottled || r.Body != nil {
			t.Errorf("throttled submit = %v body %v, want ESME_RTHROTTLED without body", r.Status, r.Body)
		}
		srv.SetStatus(pdu.StatusSubmitFail, true)
		if r := e.call(pdu.SubmitSM, submit("b", 0)); r.Status != pdu.StatusSubmitFail || r.Body == nil {
			t.Errorf("failed submit = %v body %v, want ESME_RSUBMITFAIL with body", r.Status, r.Body)
		}
		srv.SetStatus(pdu.StatusOK, false)

		srv.DropResponses(1)
		e.send(pdu.SubmitSM, submit("dropped", 0))
		seq := e.send(pdu.SubmitSM, submit("answered", 0))
		if r := e.read(); r.Seq != seq {
			t.Errorf("first response has seq %d, want %d (the dropped one never answered)", r.Seq, seq)
		}

		srv.SetDelay(3 * time.Second)
		start := time.Now()
		e.call(pdu.SubmitSM, submit("late", 0))
		if d := time.Since(start); d != 3*time.Second {
			t.Errorf("delayed response after %s, want 3s", d)
		}
		srv.SetDelay(0)

		srv.SetSilent(true)
		e.send(pdu.EnquireLink, nil)
		synctest.Wait() // the server has read and ignored it
		srv.SetSilent(false)
		seq = e.send(pdu.EnquireLink, nil)
		if r := e.read(); r.Seq != seq {
			t.Errorf("silent mode answered seq %d", r.Seq)
		}
		if st := srv.Stats(); st.Submits != 5 || st.SubmitErrors != 2 {
			t.Errorf("stats %+v, want 5 submits, 2 errors", st)
		}
	})
}

func TestSessionInitTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := smsctest.NewUnstartedServer(smsctest.WithTB(t), smsctest.WithSessionInitTimeout(time.Minute))
		defer srv.Close()
		e := pipeESME(t, srv)
		start := time.Now()
		if _, err := pdu.Read(e.br, 0); err != io.EOF {
			t.Errorf("read on a never-bound connection = %v, want EOF", err)
		}
		if d := time.Since(start); d != time.Minute {
			t.Errorf("closed after %s, want 1m", d)
		}
	})
}

func TestServerEnquireLink(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := smsctest.NewUnstartedServer(smsctest.WithTB(t), smsctest.WithEnquireLink(30*time.Second, 10*time.Second))
		defer srv.Close()
		e := pipeESME(t, srv)
		e.bind(pdu.BindTransceiver, "any", "any")
		start := time.Now()
		p := e.read()
		if p.ID != pdu.EnquireLink || time.Since(start) != 30*time.Second {
			t.Fatalf("got %s after %s, want enquire_link after 30s", p.ID, time.Since(start))
		}
		if err := pdu.Write(e.nc, pdu.NewResponse(p, pdu.StatusOK, nil)); err != nil {
			t.Fatal(err)
		}
		e.read() // the next enquire_link, left unanswered
		start = time.Now()
		if _, err := pdu.Read(e.br, 0); err != io.EOF {
			t.Errorf("after an unanswered enquire_link: read = %v, want EOF", err)
		}
		if d := time.Since(start); d != 10*time.Second {
			t.Errorf("link dropped %s after the enquire_link, want 10s", d)
		}
	})
}

func TestBuildMO(t *testing.T) {
	long := strings.Repeat("abcdefghij", 20) // 200 GSM septets: 2 parts
	parts, err := smsctest.BuildMO("+15550001111", "12345", long, 7)
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != 2 {
		t.Fatalf("%d parts, want 2", len(parts))
	}
	for i, p := range parts {
		udh := []byte{5, 0, 3, 7, 2, byte(i + 1)}
		if string(p.Message[:6]) != string(udh) || p.ESMClass != pdu.ESMClassUDHI || p.DataCoding != 0 {
			t.Errorf("part %d: UDH % X esm 0x%02X dc %d; want % X, 0x40, 0", i+1, p.Message[:6], p.ESMClass, p.DataCoding, udh)
		}
		if p.SourceAddr != "15550001111" || p.SourceTON != 1 || p.DestTON != 1 {
			t.Errorf("part %d addresses %q ton %d/%d", i+1, p.SourceAddr, p.SourceTON, p.DestTON)
		}
	}
	one, err := smsctest.BuildMO("Brand", "12345", "Olá 👋", 0)
	if err != nil || len(one) != 1 || one[0].DataCoding != 8 || one[0].SourceTON != 5 || one[0].ESMClass != 0 {
		t.Fatalf("BuildMO(UCS2) = %+v, %v; want one UCS2 PDU from an alphanumeric sender", one, err)
	}
	if got := len(one[0].Message); got != 2*6 { // O l á space + surrogate pair
		t.Errorf("UCS2 octets = %d, want 12", got)
	}
}

func TestMaxInflight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := smsctest.NewUnstartedServer(smsctest.WithTB(t), smsctest.WithMaxInflight(1, 0))
		defer srv.Close()
		srv.SetDelay(time.Second)
		e := pipeESME(t, srv)
		e.bind(pdu.BindTransmitter, "any", "any")
		first := e.send(pdu.SubmitSM, submit("a", 0))
		second := e.send(pdu.SubmitSM, submit("b", 0))
		if r := e.read(); r.Seq != second || r.Status != pdu.StatusMsgQFul {
			t.Errorf("over the window: seq %d %v, want seq %d ESME_RMSGQFUL at once", r.Seq, r.Status, second)
		}
		if r := e.read(); r.Seq != first || r.Status != pdu.StatusOK {
			t.Errorf("in the window: seq %d %v, want seq %d ESME_ROK", r.Seq, r.Status, first)
		}
		if st := srv.Stats(); st.OverWindow != 1 || st.Submits != 1 || st.MaxInflight != 1 {
			t.Errorf("stats %+v, want 1 over window, 1 submit, max in-flight 1", st)
		}
	})
}

func TestReceiptWithoutCounts(t *testing.T) {
	sub := smsctest.Submit{SM: submit("x", 1), MessageID: "7", At: time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)}
	sm := smsctest.BuildReceipt(sub, smsctest.Receipt{NoCounts: true, Form: smsctest.ReceiptText}, "7", sub.At)
	want := "id:7 submit date:2601020304 done date:2601020304 stat:DELIVRD err:000 text:x"
	if string(sm.Message) != want {
		t.Errorf("text = %q, want %q", sm.Message, want)
	}
}

// TestReceiptExcerpt checks the text: field of receipts: the original is
// decoded per data_coding (GSM 03.38 escapes included, UDH skipped) and
// only its first 20 printable ASCII characters are quoted.
func TestReceiptExcerpt(t *testing.T) {
	mustEncode := func(c coding.Coding, s string) []byte {
		t.Helper()
		b, err := coding.Encode(c, s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	udh := coding.Concat{Ref: 7, Total: 2, Seq: 1}.UDH()
	payload := &pdu.ShortMessage{}
	payload.TLVs.Set(pdu.TagMessagePayload, mustEncode(coding.GSM7, "In the payload {x}"))
	tests := []struct {
		name string
		sm   *pdu.ShortMessage
		want string
	}{
		{"gsm escapes", &pdu.ShortMessage{Message: mustEncode(coding.GSM7, "Hello {}[]~€ @ and more text")}, "Hello {}[]~ @ and mo"},
		{"gsm with udh", &pdu.ShortMessage{ESMClass: pdu.ESMClassUDHI, Message: append(udh, mustEncode(coding.GSM7, "[part] one")...)}, "[part] one"},
		{"ucs2", &pdu.ShortMessage{DataCoding: 0x08, Message: mustEncode(coding.UCS2, "Hi {Привет} 😀 ok")}, "Hi {}  ok"},
		{"latin1", &pdu.ShortMessage{DataCoding: 0x03, Message: []byte("caf\xe9 {x}")}, "caf {x}"},
		{"message_payload", payload, "In the payload {x}"},
		{"binary", &pdu.ShortMessage{DataCoding: 0x04, Message: []byte("looks like text")}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sm := smsctest.BuildReceipt(smsctest.Submit{SM: tt.sm}, smsctest.Receipt{Form: smsctest.ReceiptText}, "1", time.Now())
			_, got, ok := strings.Cut(string(sm.Message), " text:")
			if !ok || got != tt.want {
				t.Errorf("receipt %q: text %q, want %q", sm.Message, got, tt.want)
			}
		})
	}
}
