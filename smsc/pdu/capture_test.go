package pdu

import (
	"bytes"
	"path/filepath"
	"testing"
)

// captureFiles lists testdata/captures/*.hex (real-peer captures).
func captureFiles(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob("testdata/captures/*.hex")
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestCaptures(t *testing.T) {
	for _, path := range captureFiles(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			raw := MustReadHex(t, path)
			p, err := Decode(raw)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			enc, err := p.MarshalBinary()
			if err != nil {
				t.Fatalf("MarshalBinary(%s): %v", describe(p), err)
			}
			if !bytes.Equal(enc, raw) && !lenient(p, raw, enc) {
				t.Errorf("re-encoding differs:\n in  % x\n out % x", raw, enc)
			}
		})
	}
}

// TestNodeSMPPCaptures checks the fields of PDUs encoded by the npm smpp
// library, an independent implementation.
func TestNodeSMPPCaptures(t *testing.T) {
	decode := func(name string) *PDU {
		t.Helper()
		p, err := Decode(MustReadHex(t, "testdata/captures/nodesmpp_"+name+".hex"))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return p
	}
	if b := decode("bind_transceiver").Body.(*Bind); b.SystemID != "esme" || b.Password != "secret" || b.InterfaceVersion != InterfaceVersion34 {
		t.Errorf("bind_transceiver = %+v", b)
	}
	if v, ok := decode("bind_transceiver_resp").Body.(*BindResp).TLVs.Uint8(TagSCInterfaceVersion); !ok || v != 0x34 {
		t.Errorf("sc_interface_version = %#x, %v", v, ok)
	}
	if p := decode("bind_transmitter_resp_error"); p.Status != StatusInvPaswd || p.Body != nil {
		t.Errorf("bind_transmitter_resp = %s", describe(p))
	}
	sm := decode("submit_sm_udh").Body.(*ShortMessage)
	if sm.ESMClass&ESMClassUDHI == 0 || sm.DataCoding != 8 || !bytes.HasPrefix(sm.Message, []byte{5, 0, 3, 0xA7, 2, 1}) || sm.SourceTON != 5 {
		t.Errorf("submit_sm_udh = %+v", sm)
	}
	if p := decode("submit_sm_resp_throttled"); p.Status != StatusThrottled || !p.Status.Temporary() || p.Body != nil {
		t.Errorf("submit_sm_resp_throttled = %s", describe(p))
	}
	dlr := decode("deliver_sm_receipt").Body.(*ShortMessage)
	id, _ := dlr.TLVs.String(TagReceiptedMessageID)
	st, _ := dlr.TLVs.Uint8(TagMessageState)
	nec, _ := dlr.TLVs.Get(TagNetworkErrorCode)
	if !IsReceipt(dlr.ESMClass) || id != "4097" || st != StateDelivered || !bytes.Equal(nec, []byte{3, 0, 0}) {
		t.Errorf("deliver_sm receipt = %+v (id %q state %d nec % x)", dlr, id, st, nec)
	}
	if pl, _ := decode("data_sm").Body.(*DataSMBody).TLVs.String(TagMessagePayload); pl != "hello via data_sm" {
		t.Errorf("data_sm message_payload = %q", pl)
	}
	if q := decode("query_sm_resp").Body.(*QuerySMRespBody); q.MessageID != "00001001" || q.MessageState != StateDelivered {
		t.Errorf("query_sm_resp = %+v", q)
	}
}

// TestKannelCaptures checks the fields of PDUs Kannel 1.4.5 sent as an ESME.
func TestKannelCaptures(t *testing.T) {
	decode := func(name string) *PDU {
		t.Helper()
		p, err := Decode(MustReadHex(t, "testdata/captures/kannel_"+name+".hex"))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return p
	}
	if p := decode("bind_transceiver"); p.ID != BindTransceiver || p.Body.(*Bind).SystemID != "kannel" ||
		p.Body.(*Bind).InterfaceVersion != InterfaceVersion34 {
		t.Errorf("bind_transceiver = %s", describe(p))
	}
	gsm := decode("submit_sm_gsm_dlr").Body.(*ShortMessage)
	if gsm.DestTON != 1 || gsm.DestAddr != "15550003333" || gsm.ESMClass != 0x03 ||
		gsm.RegisteredDelivery != 0x11 || !bytes.Equal(gsm.Message, []byte("Hi \x00 \x1b(x\x1b)")) {
		t.Errorf("submit_sm GSM = %+v", gsm)
	}
	ucs := decode("submit_sm_ucs2").Body.(*ShortMessage)
	if ucs.SourceTON != 5 || ucs.SourceAddr != "Acme" || ucs.DataCoding != 8 || !bytes.Equal(ucs.Message, ucs2Privet) {
		t.Errorf("submit_sm UCS2 = %+v", ucs)
	}
	if n := len(decode("submit_sm_160").Body.(*ShortMessage).Message); n != 160 {
		t.Errorf("submit_sm_160 message length %d", n)
	}
	if p := decode("deliver_sm_resp"); p.ID != DeliverSMResp || p.Body.(*MessageResp).MessageID != "" {
		t.Errorf("deliver_sm_resp = %s", describe(p))
	}
	if p := decode("unbind"); p.ID != Unbind || p.Body != nil {
		t.Errorf("unbind = %s", describe(p))
	}
}
