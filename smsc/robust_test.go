package smsc_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/smscbridge/smscbridge/smsc"
	"github.com/smscbridge/smscbridge/smsc/pdu"
	"github.com/smscbridge/smscbridge/smsc/smsctest"
)

func TestTLS(t *testing.T) {
	srv := smsctest.NewUnstartedServer(smsctest.WithTB(t), smsctest.WithAccount("esme", "secret"))
	srv.StartTLS()
	t.Cleanup(srv.Close)
	c := MustStartClient(t, srv, func(o *smsc.Options) { o.TLS = srv.ClientTLSConfig() })
	mustWaitBound(t, c)
	if _, err := c.Submit(testCtx(t), sm("over tls")); err != nil {
		t.Fatalf("Submit over TLS: %v", err)
	}
}

func TestTLSUntrustedCertFails(t *testing.T) {
	srv := smsctest.NewUnstartedServer(smsctest.WithTB(t))
	srv.StartTLS()
	t.Cleanup(srv.Close)
	dials := make(chan struct{}, 10)
	c := MustStartClient(t, srv, func(o *smsc.Options) {
		o.TLS = &tls.Config{} // system roots: the self-signed certificate is not trusted
		o.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials <- struct{}{}
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		}
	})
	ctx := testCtx(t)
	for range 2 { // the second dial comes after the first attempt failed
		select {
		case <-dials:
		case <-ctx.Done():
			t.Fatal("no redial after a failed TLS handshake")
		}
	}
	if le := c.Stats().Sessions[0].LastError; !strings.Contains(le, "tls") {
		t.Errorf("LastError = %q, want a TLS handshake error", le)
	}
	if srv.Stats().Binds != 0 || c.Bound() {
		t.Error("bound over an untrusted TLS link")
	}
}

func TestMalformedPDUs(t *testing.T) {
	srv := newServer(t)
	var handled sync.WaitGroup
	c := MustStartClient(t, srv, func(o *smsc.Options) {
		o.Handler = smsc.HandlerFunc(func(context.Context, *pdu.PDU) pdu.Status { handled.Done(); return pdu.StatusOK })
	})
	mustWaitBound(t, c)
	ctx := testCtx(t)
	ss := mustBoundSession(t, srv)

	// deliver_sm whose sm_length runs past the body: its own resp with the
	// decoder's status, and the session stays up.
	good, err := (&pdu.PDU{Header: pdu.Header{ID: pdu.DeliverSM}, Body: &pdu.ShortMessage{SourceAddr: "1", DestAddr: "2", Message: []byte("abc")}}).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Clone(good)
	bad[len(bad)-4] = 200 // sm_length
	resp, err := ss.RequestRaw(ctx, bad)
	if err != nil || resp.ID != pdu.DeliverSMResp || resp.Status != pdu.StatusInvMsgLen {
		t.Fatalf("bad sm_length answered %+v, %v; want deliver_sm_resp ESME_RINVMSGLEN", resp, err)
	}
	handled.Add(1)
	if resp, err := ss.RequestRaw(ctx, good); err != nil || resp.Status != pdu.StatusOK {
		t.Fatalf("good deliver_sm after a bad one answered %+v, %v; want ESME_ROK on the same link", resp, err)
	}
	handled.Wait()

	// A command_length of "HTTP": generic_nack, close, reconnect.
	if err := ss.WriteRaw([]byte("HTTP/1.1 400 Bad Request\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	if err := srv.WaitStats(ctx, func(s smsctest.Stats) bool { return s.Binds >= 2 }); err != nil {
		t.Fatalf("no reconnect after a framing error: %v", err)
	}
	mustWaitBound(t, c)
	if _, err := c.Submit(ctx, sm("after garbage")); err != nil {
		t.Errorf("Submit after reconnect: %v", err)
	}
	if le := c.Stats().Sessions[0].LastError; !strings.Contains(le, "command_length") {
		t.Errorf("LastError = %q, want the command_length error", le)
	}
}

func TestGenericNackFailsSubmit(t *testing.T) {
	srv := newServer(t)
	srv.SetHandler(smsctest.HandlerFunc(func(ss *smsctest.Session, p *pdu.PDU) *pdu.PDU {
		return pdu.NewGenericNack(p.Seq, pdu.StatusSysErr)
	}))
	c := MustStartClient(t, srv, nil)
	mustWaitBound(t, c)
	var st pdu.Status
	if _, err := c.Submit(testCtx(t), sm("x")); !errors.As(err, &st) || st != pdu.StatusSysErr {
		t.Errorf("Submit answered by generic_nack = %v, want ESME_RSYSERR", err)
	}
}

func TestPasswordNeverLogged(t *testing.T) {
	const pw = "Zq9pw7xk"
	var buf syncBuffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := smsctest.NewServer(smsctest.WithTB(t), smsctest.WithAccount("esme", "other"), smsctest.WithLogger(slog.New(slog.DiscardHandler)))
	t.Cleanup(srv.Close)
	c := MustStartClient(t, srv, func(o *smsc.Options) { o.Password, o.Logger = pw, log })
	ctx := testCtx(t)
	if err := srv.WaitStats(ctx, func(s smsctest.Stats) bool { return s.BindsRefused >= 2 }); err != nil { // the first refusal is logged before the redial
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), pw) || strings.Contains(c.String(), pw) {
		t.Errorf("password found in logs: %s", buf.String())
	}
	if !strings.Contains(buf.String(), `"smsc_id":"test"`) {
		t.Errorf("logs lack smsc_id: %s", buf.String())
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
