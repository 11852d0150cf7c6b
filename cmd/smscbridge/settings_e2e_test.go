package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smscbridge/smscbridge/conf"
	"github.com/smscbridge/smscbridge/smsc/pdu"
	"github.com/smscbridge/smscbridge/smsc/smsctest"
)

// newHarnessWith is newHarness with the SMSC's settings edited first.
func newHarnessSMSC(t *testing.T, edit func(*conf.SMSC), opts ...smsctest.Option) *harness {
	t.Helper()
	// The simulator is told what data_coding 0 means on this SMSC, as the
	// bridge is, and stays strict and checked.
	var probe conf.SMSC
	edit(&probe)
	dc0 := smsctest.DC0GSM7
	switch {
	case probe.DC0Charset == "latin1":
		dc0 = smsctest.DC0Latin1
	case probe.DC0Charset == "ascii":
		dc0 = smsctest.DC0ASCII
	case probe.GSM7Packed:
		dc0 = smsctest.DC0GSM7Packed
	}
	opts = append([]smsctest.Option{smsctest.WithTB(t), smsctest.WithAccount("bridge", "secret"), smsctest.WithDC0(dc0)}, opts...)
	h := &harness{t: t, smsc: smsctest.NewServer(opts...), plat: newPlatform(t)}
	t.Cleanup(h.smsc.Close)
	h.cfg = testConfig(t, h.smsc.Addr(), h.plat.srv.URL, filepath.Join(t.TempDir(), "bridge.db"))
	edit(&h.cfg.SMSC[0])
	h.cfg.Complete()
	if err := h.cfg.Validate(); err != nil { // check-config would take these settings
		t.Fatalf("config: %v", err)
	}
	h.start()
	return h
}

// receiptsAs makes the SMSC answer every submit normally, then send a
// receipt r for it changed by edit, as odd SMSCs do.
func receiptsAs(h *harness, r smsctest.Receipt, edit func(*pdu.ShortMessage)) {
	h.smsc.SetHandler(smsctest.HandlerFunc(func(s *smsctest.Session, p *pdu.PDU) *pdu.PDU {
		resp := h.smsc.Default(s, p)
		sm, ok := p.Body.(*pdu.ShortMessage)
		if p.ID != pdu.SubmitSM || !ok || resp == nil || resp.Status != pdu.StatusOK {
			return resp
		}
		id := resp.Body.(*pdu.MessageResp).MessageID
		rcpt := smsctest.BuildReceipt(smsctest.Submit{SM: sm, MessageID: id, At: time.Now()}, r, id, time.Now())
		edit(rcpt)
		go func() {
			s.Write(resp)
			s.Deliver(context.Background(), rcpt) // the test fails on the missing callback
		}()
		return nil
	}))
}

// sendRapidPro sends an MT through the RapidPro channel and fails unless
// it is accepted.
func (h *harness) sendRapidPro(id, text string) {
	h.t.Helper()
	code, resp := h.post("/rapidpro/rp-main/send", "application/x-www-form-urlencoded", "",
		"id="+id+"&text="+text+"&to=%2B250788123123")
	if code != 200 {
		h.t.Fatalf("send = %d %s", code, resp)
	}
}

// TestReceiptWithUDHIFlagIsDelivered: receipts flagged esm_class 0x44 over a
// plain-text body, or carrying a malformed UDH, still tell the platform
// "delivered" (issue 11 item 4).
func TestReceiptWithUDHIFlagIsDelivered(t *testing.T) {
	tests := []struct {
		name string
		form smsctest.ReceiptForm
		edit func(*pdu.ShortMessage)
	}{
		{"0x44 with plain text", smsctest.ReceiptText, func(sm *pdu.ShortMessage) { sm.ESMClass = 0x44 }},
		{"malformed UDH, TLVs", smsctest.ReceiptTLV, func(sm *pdu.ShortMessage) {
			sm.ESMClass, sm.Message = 0x44, []byte{0x09, 0x00, 0x03, 0x01}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			receiptsAs(h, smsctest.Receipt{Form: tt.form}, tt.edit)
			h.waitBound()
			h.sendRapidPro("41", "hello")
			reqs := h.plat.wait(t, "delivered callback", func(r []platformReq) bool { return len(withPath(r, "/delivered")) == 1 })
			if f := withPath(reqs, "/delivered")[0].form(t); f.Get("id") != "41" {
				t.Errorf("delivered callback = %v, want id=41", f)
			}
			if dead, _ := h.d.store.ListDead(context.Background(), "", 10); len(dead) != 0 {
				t.Errorf("dead letters = %+v, want none", dead)
			}
		})
	}
}

// TestTextReceiptsSetting: receipt-shaped text without receipt esm_class
// bits is an MO unless the SMSC has text_receipts = true (item 9).
func TestTextReceiptsSetting(t *testing.T) {
	const text = "ID:12345 STAT: please call me"
	t.Run("off: an MO", func(t *testing.T) {
		h := newHarness(t)
		h.waitBound()
		h.deliverMO("+2349067554729", rpNumber, text)
		reqs := h.plat.wait(t, "receive POST", func(r []platformReq) bool { return len(withPath(r, "/receive")) == 1 })
		if f := withPath(reqs, "/receive")[0].form(t); f.Get("text") != text {
			t.Errorf("receive form = %v, want text %q", f, text)
		}
	})
	t.Run("on: a receipt", func(t *testing.T) {
		h := newHarnessSMSC(t, func(s *conf.SMSC) { s.TextReceipts = true })
		receiptsAs(h, smsctest.Receipt{Form: smsctest.ReceiptText}, func(sm *pdu.ShortMessage) { sm.ESMClass = 0 })
		h.waitBound()
		h.sendRapidPro("42", "hello")
		reqs := h.plat.wait(t, "delivered callback", func(r []platformReq) bool { return len(withPath(r, "/delivered")) == 1 })
		if n := len(withPath(reqs, "/receive")); n != 0 {
			t.Errorf("%d receipts posted as MO", n)
		}
	})
}

// TestDataCoding0Charset runs MO and MT through the daemon with each
// dc0_charset / gsm7_packed setting and checks the octets on the wire and
// the text the platform sees (item 8).
func TestDataCoding0Charset(t *testing.T) {
	tests := []struct {
		name    string
		charset string
		packed  bool
		moWire  []byte // short_message of an MO with data_coding 0
		moText  string
		mtText  string
		mtWire  []byte
	}{
		{"gsm7", "gsm7", false, []byte{'c', 'a', 'f', 0x05, ' ', 0x00}, "café @", "café @", []byte{'c', 'a', 'f', 0x05, ' ', 0x00}},
		{"latin1", "latin1", false, []byte{'c', 'a', 'f', 0xE9, ' ', '@'}, "café @", "café @", []byte{'c', 'a', 'f', 0xE9, ' ', '@'}},
		{"ascii", "ascii", false, []byte("[a@b]"), "[a@b]", "[a@b]", []byte("[a@b]")},
		{"gsm7 packed", "gsm7", true, []byte{0xE8, 0x32, 0x9B, 0xFD, 0x06}, "hello", "hello", []byte{0xE8, 0x32, 0x9B, 0xFD, 0x06}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarnessSMSC(t, func(s *conf.SMSC) { s.DC0Charset, s.GSM7Packed = tt.charset, tt.packed })
			h.waitBound()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			mo := &pdu.ShortMessage{SourceTON: 1, SourceNPI: 1, SourceAddr: "2349067554729",
				DestTON: 1, DestNPI: 1, DestAddr: strings.TrimPrefix(rpNumber, "+"), Message: tt.moWire}
			if st, err := h.smsc.Deliver(ctx, mo); err != nil || st != pdu.StatusOK {
				t.Fatalf("deliver_sm = %v, %v", st, err)
			}
			reqs := h.plat.wait(t, "receive POST", func(r []platformReq) bool { return len(withPath(r, "/receive")) == 1 })
			if f := withPath(reqs, "/receive")[0].form(t); f.Get("text") != tt.moText {
				t.Errorf("MO text = %q, want %q", f.Get("text"), tt.moText)
			}
			h.sendRapidPro("43", strings.ReplaceAll(strings.ReplaceAll(tt.mtText, "@", "%40"), " ", "+"))
			subs, err := h.smsc.WaitSubmits(ctx, 1)
			if err != nil {
				t.Fatal(err)
			}
			if sm := subs[0].SM; sm.DataCoding != 0 || !bytes.Equal(sm.Message, tt.mtWire) {
				t.Errorf("submit_sm data_coding %#x short_message % X, want 0x00 % X", sm.DataCoding, sm.Message, tt.mtWire)
			}
		})
	}
}

// TestDataCoding0Latin1SizedAsGSM: 160 Latin-1 characters sent with
// data_coding 0 are one SMS, not two (item 8).
func TestDataCoding0Latin1SizedAsGSM(t *testing.T) {
	h := newHarnessSMSC(t, func(s *conf.SMSC) { s.DC0Charset = "latin1" })
	h.waitBound()
	h.sendRapidPro("44", strings.Repeat("%C3%A9", 160)) // é
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	subs, err := h.smsc.WaitSubmits(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	h.plat.wait(t, "sent callback", func(r []platformReq) bool { return len(withPath(r, "/sent")) == 1 })
	subs = h.smsc.Submits()
	if len(subs) != 1 || !bytes.Equal(subs[0].SM.Message, bytes.Repeat([]byte{0xE9}, 160)) || subs[0].SM.ESMClass != 0 {
		t.Errorf("%d submits (first: esm %#x, %d octets), want one of 160 × E9", len(subs), subs[0].SM.ESMClass, len(subs[0].SM.Message))
	}
}

// TestMOFromOverLongSourceAddr: a deliver_sm whose source_addr breaks the
// SMPP 3.4 limit (21 digits) is committed and reaches the platform whole,
// not refused with ESME_RINVSRCADR and lost (item 2).
func TestMOFromOverLongSourceAddr(t *testing.T) {
	src := strings.Repeat("4", 21)
	h := newHarness(t)
	h.waitBound()
	raw, err := (&pdu.PDU{Header: pdu.Header{ID: pdu.DeliverSM}, Body: &pdu.ShortMessage{SourceTON: 1, SourceNPI: 1,
		SourceAddr: "X", DestTON: 1, DestNPI: 1, DestAddr: strings.TrimPrefix(rpNumber, "+"), Message: []byte("long sender")}}).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	raw = bytes.Replace(raw, []byte("X\x00"), []byte(src+"\x00"), 1)
	binary.BigEndian.PutUint32(raw, uint32(len(raw)))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := h.smsc.BoundSessions()[0].RequestRaw(ctx, raw)
	if err != nil || resp.Status != pdu.StatusOK {
		t.Fatalf("deliver_sm with a 21-digit source_addr answered %v, %v; want ESME_ROK", resp, err)
	}
	reqs := h.plat.wait(t, "receive POST", func(r []platformReq) bool { return len(withPath(r, "/receive")) == 1 })
	if f := withPath(reqs, "/receive")[0].form(t); f.Get("from") != "+"+src || f.Get("text") != "long sender" {
		t.Errorf("receive form = %v, want from=+%s", f, src)
	}
}
