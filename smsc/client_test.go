package smsc_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/smscbridge/smscbridge/smsc"
	"github.com/smscbridge/smscbridge/smsc/pdu"
	"github.com/smscbridge/smscbridge/smsc/smsctest"
)

// testTimeout bounds every wait in the TCP tests; nothing sleeps.
const testTimeout = 10 * time.Second

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// MustStartClient creates a Client for srv with the account esme/secret,
// runs it until the test ends and waits for the first transmit bind when
// the mode has one.
func MustStartClient(t *testing.T, srv *smsctest.Server, edit func(*smsc.Options)) *smsc.Client {
	t.Helper()
	o := smsc.Options{
		ID: "test", Addr: srv.Addr(), SystemID: "esme", Password: "secret",
		ReconnectDelay: 10 * time.Millisecond, ReconnectMax: 50 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler),
	}
	if edit != nil {
		edit(&o)
	}
	c, err := smsc.New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	})
	return c
}

func mustWaitBound(t *testing.T, c *smsc.Client) {
	t.Helper()
	if err := c.WaitBound(testCtx(t)); err != nil {
		t.Fatalf("WaitBound: %v", err)
	}
}

func newServer(t *testing.T, opts ...smsctest.Option) *smsctest.Server {
	t.Helper()
	srv := smsctest.NewServer(append([]smsctest.Option{smsctest.WithAccount("esme", "secret")}, opts...)...)
	t.Cleanup(srv.Close)
	return srv
}

func sm(text string) *pdu.ShortMessage {
	return &pdu.ShortMessage{SourceAddr: "12345", DestTON: 1, DestNPI: 1, DestAddr: "15550001111", Message: []byte(text)}
}

func TestSubmitAllBindModes(t *testing.T) {
	tests := []struct {
		mode      smsc.BindMode
		sessions  int
		wantBinds map[pdu.CommandID]int
	}{
		{smsc.Transceiver, 1, map[pdu.CommandID]int{pdu.BindTransceiver: 1}},
		{smsc.Transmitter, 2, map[pdu.CommandID]int{pdu.BindTransmitter: 2}},
		{smsc.Pair, 1, map[pdu.CommandID]int{pdu.BindTransmitter: 1, pdu.BindReceiver: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.mode.String(), func(t *testing.T) {
			srv := newServer(t)
			c := MustStartClient(t, srv, func(o *smsc.Options) {
				o.Bind, o.Sessions = tt.mode, tt.sessions
				o.Handler = smsc.HandlerFunc(func(context.Context, *pdu.PDU) pdu.Status { return pdu.StatusOK })
			})
			ctx := testCtx(t)
			total := 0
			for _, n := range tt.wantBinds {
				total += n
			}
			if err := srv.WaitBound(ctx, total); err != nil {
				t.Fatalf("WaitBound(%d): %v", total, err)
			}
			got := map[pdu.CommandID]int{}
			for _, ss := range srv.BoundSessions() {
				got[ss.Bind()]++
			}
			for cmd, n := range tt.wantBinds {
				if got[cmd] != n {
					t.Errorf("%s sessions = %d, want %d (all: %v)", cmd, got[cmd], n, got)
				}
			}
			mustWaitBound(t, c)
			id, err := c.Submit(ctx, sm("hello"))
			if err != nil {
				t.Fatalf("Submit: %v", err)
			}
			subs := srv.Submits()
			if len(subs) != 1 || subs[0].MessageID != id || string(subs[0].SM.Message) != "hello" {
				t.Fatalf("server recorded %+v, client got id %q", subs, id)
			}
			if b := srv.Sessions(); len(b) > 0 && tt.mode == smsc.Pair {
				for _, ss := range srv.BoundSessions() {
					if ss.ID() == subs[0].Session && ss.Bind() != pdu.BindTransmitter {
						t.Errorf("submit went over %s, want the transmitter", ss.Bind())
					}
				}
			}
		})
	}
}

func TestReceiverOnlyIsNotBoundForSubmit(t *testing.T) {
	srv := newServer(t)
	c := MustStartClient(t, srv, func(o *smsc.Options) {
		o.Bind = smsc.Receiver
		o.Handler = smsc.HandlerFunc(func(context.Context, *pdu.PDU) pdu.Status { return pdu.StatusOK })
	})
	ctx := testCtx(t)
	if err := srv.WaitBound(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if got := srv.BoundSessions()[0].Bind(); got != pdu.BindReceiver {
		t.Fatalf("bind = %s, want bind_receiver", got)
	}
	if c.Bound() {
		t.Error("Bound() = true for a receiver-only client")
	}
	if _, err := c.Submit(ctx, sm("x")); !errors.Is(err, smsc.ErrNotBound) {
		t.Errorf("Submit = %v, want ErrNotBound", err)
	}
	st, err := srv.Deliver(ctx, sm("mo"))
	if err != nil || st != pdu.StatusOK {
		t.Errorf("Deliver = %v, %v; want ESME_ROK", st, err)
	}
}

func TestBindRefusedRetries(t *testing.T) {
	srv := smsctest.NewServer(smsctest.WithAccount("esme", "other"))
	t.Cleanup(srv.Close)
	c := MustStartClient(t, srv, nil)
	ctx := testCtx(t)
	// Wait for two refused binds: the client backs off and tries again.
	if err := srv.WaitStats(ctx, func(s smsctest.Stats) bool { return s.BindsRefused >= 2 }); err != nil {
		t.Fatalf("binds refused = %d, want >= 2: %v", srv.Stats().BindsRefused, err)
	}
	if c.Bound() {
		t.Error("Bound() = true with a wrong password")
	}
	st := c.Stats().Sessions[0]
	if st.LastError == "" || st.State == smsc.StateBound {
		t.Errorf("stats = %+v, want an error and not bound", st)
	}
}
