package smsctest_test

import (
	"bufio"
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/smscbridge/smscbridge/smsc/pdu"
	"github.com/smscbridge/smscbridge/smsc/smsctest"
)

// esme is a raw test client: it writes PDUs and reads them back one by one.
type esme struct {
	t   *testing.T
	nc  net.Conn
	br  *bufio.Reader
	seq uint32
}

func dialESME(t *testing.T, srv *smsctest.Server) *esme {
	t.Helper()
	nc, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &esme{t: t, nc: nc, br: bufio.NewReader(nc)}
}

func pipeESME(t *testing.T, srv *smsctest.Server) *esme {
	t.Helper()
	nc, _ := srv.DialPipe(context.Background(), "tcp", "")
	t.Cleanup(func() { nc.Close() })
	return &esme{t: t, nc: nc, br: bufio.NewReader(nc)}
}

// send writes a request with the next sequence number and returns it.
func (e *esme) send(id pdu.CommandID, body pdu.Body) uint32 {
	e.t.Helper()
	e.seq++
	if err := pdu.Write(e.nc, &pdu.PDU{Header: pdu.Header{ID: id, Seq: e.seq}, Body: body}); err != nil {
		e.t.Fatalf("write %s: %v", id, err)
	}
	return e.seq
}

func (e *esme) read() *pdu.PDU {
	e.t.Helper()
	p, err := pdu.Read(e.br, 0)
	if err != nil {
		e.t.Fatalf("read: %v", err)
	}
	return p
}

// call sends a request and reads the next PDU, which must answer it.
func (e *esme) call(id pdu.CommandID, body pdu.Body) *pdu.PDU {
	e.t.Helper()
	seq := e.send(id, body)
	p := e.read()
	if p.Seq != seq {
		e.t.Fatalf("%s seq %d answered by %s seq %d", id, seq, p.ID, p.Seq)
	}
	return p
}

func (e *esme) bind(id pdu.CommandID, user, pw string) *pdu.PDU {
	e.t.Helper()
	return e.call(id, &pdu.Bind{SystemID: user, Password: pw, InterfaceVersion: 0x34})
}

// newServer returns a started server with account esme/secret that fails
// the test on any SMPP 3.4 violation (WithTB).
func newServer(t *testing.T, opts ...smsctest.Option) *smsctest.Server {
	t.Helper()
	return newRuleServer(t, append([]smsctest.Option{smsctest.WithTB(t)}, opts...)...)
}

// newRuleServer is newServer for tests that break rules on purpose: they
// assert the violations themselves (wantViolations).
func newRuleServer(t *testing.T, opts ...smsctest.Option) *smsctest.Server {
	t.Helper()
	srv := smsctest.NewServer(append([]smsctest.Option{smsctest.WithAccount("esme", "secret")}, opts...)...)
	t.Cleanup(srv.Close)
	return srv
}

// wantViolations checks that srv recorded exactly these rules, in order.
func wantViolations(t *testing.T, srv *smsctest.Server, rules ...smsctest.Rule) {
	t.Helper()
	vs := srv.Violations()
	ok := len(vs) == len(rules)
	for i := 0; ok && i < len(vs); i++ {
		ok = vs[i].Rule == rules[i]
	}
	if !ok {
		t.Errorf("violations %v, want rules %v", vs, rules)
	}
}

func submit(text string, rd uint8) *pdu.ShortMessage {
	return &pdu.ShortMessage{SourceAddr: "12345", DestTON: 1, DestNPI: 1, DestAddr: "15550001111",
		RegisteredDelivery: rd, Message: []byte(text)}
}

func TestBindChecks(t *testing.T) {
	srv := newRuleServer(t)
	tests := []struct {
		name, user, pw string
		want           pdu.Status
	}{
		{"wrong password", "esme", "nope", pdu.StatusInvPaswd},
		{"unknown account", "who", "secret", pdu.StatusBindFail},
		{"good", "esme", "secret", pdu.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := dialESME(t, srv)
			resp := e.bind(pdu.BindTransceiver, tt.user, tt.pw)
			if resp.ID != pdu.BindTransceiverResp || resp.Status != tt.want {
				t.Fatalf("bind = %s %v, want bind_transceiver_resp %v", resp.ID, resp.Status, tt.want)
			}
			if tt.want != pdu.StatusOK {
				return
			}
			br := resp.Body.(*pdu.BindResp)
			if v, _ := br.TLVs.Uint8(pdu.TagSCInterfaceVersion); br.SystemID != "SMSCTEST" || v != 0x34 {
				t.Errorf("bind_resp body %+v, want system_id SMSCTEST and sc_interface_version 0x34", br)
			}
			if again := e.bind(pdu.BindTransceiver, "esme", "secret"); again.Status != pdu.StatusAlyBnd {
				t.Errorf("second bind = %v, want ESME_RALYBND", again.Status)
			}
		})
	}
	if st := srv.Stats(); st.Binds != 1 || st.BindsRefused != 3 {
		t.Errorf("stats %+v, want 1 bind and 3 refused", st)
	}
	srv.RefuseBinds(pdu.StatusBindFail)
	if resp := dialESME(t, srv).bind(pdu.BindTransmitter, "esme", "secret"); resp.Status != pdu.StatusBindFail {
		t.Errorf("bind while refusing = %v, want ESME_RBINDFAIL", resp.Status)
	}
	wantViolations(t, srv, smsctest.RuleBindState) // the second bind
}

func TestRequestsBeforeBind(t *testing.T) {
	srv := newRuleServer(t)
	e := dialESME(t, srv)
	if resp := e.call(pdu.SubmitSM, submit("x", 0)); resp.ID != pdu.SubmitSMResp || resp.Status != pdu.StatusInvBndSts {
		t.Errorf("submit before bind = %s %v, want submit_sm_resp ESME_RINVBNDSTS", resp.ID, resp.Status)
	}
	if resp := e.call(pdu.EnquireLink, nil); resp.ID != pdu.EnquireLinkResp || resp.Status != pdu.StatusOK {
		t.Errorf("enquire_link before bind = %s %v, want enquire_link_resp ESME_ROK", resp.ID, resp.Status)
	}
	if len(srv.Submits()) != 0 {
		t.Error("a submit before bind was recorded")
	}
	wantViolations(t, srv, smsctest.RuleBindState)
}

func TestSubmitRecordsAndAnswers(t *testing.T) {
	srv := newRuleServer(t, smsctest.WithMessageIDs(smsctest.HexIDs))
	e := dialESME(t, srv)
	e.bind(pdu.BindTransmitter, "esme", "secret")
	resp := e.call(pdu.SubmitSM, submit("hello", 0))
	if resp.Status != pdu.StatusOK || resp.Body.(*pdu.MessageResp).MessageID != "00000001" {
		t.Fatalf("submit_sm_resp %v %+v, want ESME_ROK id 00000001", resp.Status, resp.Body)
	}
	subs, err := srv.WaitSubmits(t.Context(), 1)
	if err != nil {
		t.Fatal(err)
	}
	s := subs[0]
	if string(s.SM.Message) != "hello" || s.MessageID != "00000001" || s.N != 1 || s.SystemID != "esme" || s.Status != pdu.StatusOK {
		t.Errorf("recorded %+v", s)
	}
	if resp := e.call(pdu.CommandID(0x123), nil); resp.ID != pdu.GenericNack || resp.Status != pdu.StatusInvCmdID {
		t.Errorf("unknown command = %s %v, want generic_nack ESME_RINVCMDID", resp.ID, resp.Status)
	}
	if resp := e.call(pdu.QuerySM, &pdu.QuerySMBody{MessageID: "1"}); resp.ID != pdu.GenericNack {
		t.Errorf("query_sm = %s, want generic_nack", resp.ID)
	}
	wantViolations(t, srv, smsctest.RuleCommand) // 0x123; query_sm is SMPP 3.4, only not supported
}

func TestSubmitChecks(t *testing.T) {
	srv := newRuleServer(t, smsctest.WithMessageIDs(func(n uint64) string { return strings.Repeat("9", 100) }))
	e := dialESME(t, srv)
	e.bind(pdu.BindTransceiver, "esme", "secret")

	good, err := (&pdu.PDU{Header: pdu.Header{ID: pdu.SubmitSM, Seq: 50}, Body: submit("abc", 0)}).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	bad := append([]byte(nil), good...)
	bad[len(bad)-4] = 200 // sm_length past the end of the body
	if _, err := e.nc.Write(bad); err != nil {
		t.Fatal(err)
	}
	if resp := e.read(); resp.ID != pdu.SubmitSMResp || resp.Seq != 50 || resp.Status != pdu.StatusInvMsgLen {
		t.Errorf("bad sm_length = %s seq %d %v, want submit_sm_resp seq 50 ESME_RINVMSGLEN", resp.ID, resp.Seq, resp.Status)
	}

	both := submit("text", 0)
	both.TLVs.Set(pdu.TagMessagePayload, []byte("payload"))
	if resp := e.call(pdu.SubmitSM, both); resp.Status != pdu.StatusInvOptParamVal {
		t.Errorf("short_message + message_payload = %v, want ESME_RINVOPTPARAMVAL", resp.Status)
	}
	resp := e.call(pdu.SubmitSM, submit("ok", 0)) // the session survived both
	if id := resp.Body.(*pdu.MessageResp).MessageID; resp.Status != pdu.StatusOK || len(id) != 64 {
		t.Errorf("submit = %v id of %d chars, want ESME_ROK and an id cut to 64", resp.Status, len(id))
	}
	wantViolations(t, srv, smsctest.RuleMalformed, smsctest.RulePayloadConflict)
}

func TestReceiverAndTransmitterRules(t *testing.T) {
	srv := newRuleServer(t)
	rx := dialESME(t, srv)
	rx.bind(pdu.BindReceiver, "esme", "secret")
	if resp := rx.call(pdu.SubmitSM, submit("x", 0)); resp.Status != pdu.StatusInvBndSts {
		t.Errorf("submit on a receiver = %v, want ESME_RINVBNDSTS", resp.Status)
	}
	srv2 := newServer(t)
	tx := dialESME(t, srv2)
	tx.bind(pdu.BindTransmitter, "esme", "secret")
	if _, err := srv2.Deliver(t.Context(), submit("mo", 0)); !errors.Is(err, smsctest.ErrNoReceiver) {
		t.Errorf("Deliver with only a transmitter bound = %v, want ErrNoReceiver", err)
	}
	wantViolations(t, srv, smsctest.RuleBindState)
}
