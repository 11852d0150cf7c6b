package smsc_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/smscbridge/smscbridge/smsc"
	"github.com/smscbridge/smscbridge/smsc/pdu"
	"github.com/smscbridge/smscbridge/smsc/smsctest"
)

// rewriteBody returns a smsctest.WithWireRewrite function that replaces the
// body of every PDU with command id of the server's with f(body), fixing
// command_length: a way to send what the strict encoder refuses.
func rewriteBody(id pdu.CommandID, f func(body []byte) []byte) func([]byte) []byte {
	return func(b []byte) []byte {
		if len(b) < pdu.HeaderLength || pdu.CommandID(binary.BigEndian.Uint32(b[4:])) != id {
			return b
		}
		out := append(bytes.Clone(b[:pdu.HeaderLength]), f(bytes.Clone(b[pdu.HeaderLength:]))...)
		binary.BigEndian.PutUint32(out, uint32(len(out)))
		return out
	}
}

// toleratedLog counts the log lines about PDUs accepted leniently.
func toleratedLog(buf *syncBuffer) int {
	return strings.Count(buf.String(), "breaks SMPP 3.4 field limits")
}

func TestBindRespWithLongSystemIDBinds(t *testing.T) {
	const id16 = "SIXTEEN-CHARS-ID"
	srv := newServer(t, smsctest.WithSystemID("SMSC"),
		smsctest.WithWireRewrite(rewriteBody(pdu.BindTransceiverResp, func(body []byte) []byte {
			return bytes.Replace(body, []byte("SMSC\x00"), []byte(id16+"\x00"), 1)
		})))
	var buf syncBuffer
	c := MustStartClient(t, srv, func(o *smsc.Options) { o.Logger = slog.New(slog.NewTextHandler(&buf, nil)) })
	mustWaitBound(t, c)
	if _, err := c.Submit(testCtx(t), sm("bound")); err != nil {
		t.Fatalf("Submit after a bind_resp with a 16-character system_id: %v", err)
	}
	if n := toleratedLog(&buf); n != 1 || !strings.Contains(buf.String(), "system_id") {
		t.Errorf("%d log lines about the over-long system_id, want 1 naming it:\n%s", n, buf.String())
	}
}

func TestUndecodableBindRespIsNotAnUnknownSubmit(t *testing.T) {
	// Two stray octets where TLVs would start: malformed even leniently.
	srv := newServer(t, smsctest.WithWireRewrite(rewriteBody(pdu.BindTransceiverResp, func(body []byte) []byte {
		return append(body[:bytes.IndexByte(body, 0)+1], 0x02, 0x10)
	})))
	c := MustStartClient(t, srv, nil)
	if err := srv.WaitStats(testCtx(t), func(s smsctest.Stats) bool { return s.Binds >= 2 }); err != nil {
		t.Fatal(err)
	}
	le := c.Stats().Sessions[0].LastError
	if strings.Contains(le, "submit") || !strings.Contains(le, "undecodable bind_transceiver_resp") {
		t.Errorf("LastError = %q, want an undecodable bind_transceiver_resp, not a submit outcome", le)
	}
	if c.Bound() {
		t.Error("bound on a bind_resp that does not decode")
	}
}

func TestSubmitRespMessageIDLeniency(t *testing.T) {
	id70 := strings.Repeat("a1b2c3d4e5", 7)
	tests := []struct {
		name string
		body func(body []byte) []byte
		want []string // message ids of two submits
	}{
		{"70-character message_id", func([]byte) []byte { return []byte(id70 + "\x00") }, []string{id70, id70}},
		{"message_id without NUL", func(body []byte) []byte { return bytes.TrimRight(body, "\x00") }, []string{"1", "2"}},
		{"70 characters without NUL", func([]byte) []byte { return []byte(id70) }, []string{id70, id70}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, smsctest.WithWireRewrite(rewriteBody(pdu.SubmitSMResp, tc.body)))
			var buf syncBuffer
			c := MustStartClient(t, srv, func(o *smsc.Options) { o.Logger = slog.New(slog.NewTextHandler(&buf, nil)) })
			mustWaitBound(t, c)
			for _, want := range tc.want {
				id, err := c.Submit(testCtx(t), sm("hello"))
				if err != nil || id != want {
					t.Fatalf("Submit = %q, %v; want accepted with message_id %q", id, err, want)
				}
			}
			if n := toleratedLog(&buf); n != 1 {
				t.Errorf("%d log lines for two lenient submit_sm_resp on one bind, want 1:\n%s", n, buf.String())
			}
			if st := c.Stats().Sessions[0]; st.SubmitOK != 2 {
				t.Errorf("SubmitOK = %d, want 2", st.SubmitOK)
			}
		})
	}
}

func TestDeliverWithLongSourceAddrIsHandled(t *testing.T) {
	src21 := strings.Repeat("4", 21)
	got := make(chan string, 1)
	srv := newServer(t)
	c := MustStartClient(t, srv, func(o *smsc.Options) {
		o.Handler = smsc.HandlerFunc(func(_ context.Context, p *pdu.PDU) pdu.Status {
			got <- p.Body.(*pdu.ShortMessage).SourceAddr
			return pdu.StatusOK
		})
	})
	mustWaitBound(t, c)
	ss := mustBoundSession(t, srv)
	raw, err := (&pdu.PDU{Header: pdu.Header{ID: pdu.DeliverSM}, Body: &pdu.ShortMessage{
		SourceTON: 1, SourceNPI: 1, SourceAddr: "X", DestAddr: "4242", Message: []byte("hi")}}).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	raw = rewriteBody(pdu.DeliverSM, func(body []byte) []byte {
		return bytes.Replace(body, []byte("X\x00"), []byte(src21+"\x00"), 1)
	})(raw)
	resp, err := ss.RequestRaw(testCtx(t), raw)
	if err != nil || resp.Status != pdu.StatusOK {
		t.Fatalf("deliver_sm with a 21-digit source_addr answered %+v, %v; want ESME_ROK", resp, err)
	}
	if a := <-got; a != src21 {
		t.Errorf("handler got source_addr %q, want %q whole", a, src21)
	}
}

func TestOverLongFieldsAreNotSent(t *testing.T) {
	// Lenient on what the SMSC sends, strict on what we send.
	srv := newServer(t)
	c := MustStartClient(t, srv, nil)
	mustWaitBound(t, c)
	long := sm("x")
	long.DestAddr = strings.Repeat("1", 21)
	if _, err := c.Submit(testCtx(t), long); err == nil || errors.Is(err, smsc.ErrUnknownOutcome) {
		t.Errorf("Submit with a 21-digit destination_addr = %v, want an encode error (nothing sent)", err)
	}
	if _, err := c.Submit(testCtx(t), sm("next")); err != nil {
		t.Fatalf("Submit after the refused one: %v", err)
	}
	if subs := srv.Submits(); len(subs) != 1 || string(subs[0].SM.Message) != "next" {
		t.Errorf("the SMSC received %d submits, want only the valid one", len(subs))
	}
}
