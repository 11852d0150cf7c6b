package smsc_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
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

// mustBoundSession waits until the server has a bound session and returns it.
func mustBoundSession(t *testing.T, srv *smsctest.Server) *smsctest.Session {
	t.Helper()
	if err := srv.WaitBound(testCtx(t), 1); err != nil {
		t.Fatalf("server WaitBound: %v", err)
	}
	return srv.BoundSessions()[0]
}

func newServer(t *testing.T, opts ...smsctest.Option) *smsctest.Server {
	t.Helper()
	srv := smsctest.NewServer(append([]smsctest.Option{smsctest.WithTB(t), smsctest.WithAccount("esme", "secret")}, opts...)...)
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
	srv := smsctest.NewServer(smsctest.WithTB(t), smsctest.WithAccount("esme", "other"))
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

func TestSubmitErrorStatuses(t *testing.T) {
	srv := newServer(t)
	c := MustStartClient(t, srv, func(o *smsc.Options) { o.ThrottlePause = time.Millisecond })
	mustWaitBound(t, c)
	ctx := testCtx(t)

	srv.Throttle(1)
	if _, err := c.Submit(ctx, sm("a")); err != nil {
		t.Fatalf("Submit after Throttle(1) = %v, want held, sent again after the pause and accepted", err)
	}
	var st pdu.Status
	for _, withBody := range []bool{false, true} {
		srv.SetStatus(pdu.StatusInvDstAdr, withBody)
		if _, err := c.Submit(ctx, sm("b")); !errors.As(err, &st) || st != pdu.StatusInvDstAdr {
			t.Errorf("Submit with status 0x0B (body %v) = %v, want ESME_RINVDSTADR", withBody, err)
		}
	}
	srv.SetStatus(pdu.StatusOK, false)
	if _, err := c.Submit(ctx, sm("c")); err != nil {
		t.Errorf("Submit after faults cleared = %v", err)
	}
	ss := c.Stats().Sessions[0]
	if ss.Submitted != 5 || ss.SubmitOK != 2 || ss.SubmitFailed != 2 || ss.Throttled != 1 {
		t.Errorf("stats = %+v, want 5 submitted, 2 ok, 2 failed, 1 throttled", ss)
	}
}

func TestWindowLimit(t *testing.T) {
	const window, submitters, perSubmitter = 4, 16, 5
	srv := newServer(t)
	srv.SetDelay(5 * time.Millisecond) // keeps requests outstanding so the window fills
	c := MustStartClient(t, srv, func(o *smsc.Options) { o.Window = window })
	mustWaitBound(t, c)
	ctx := testCtx(t)
	var wg sync.WaitGroup
	var failed atomic.Int32
	for range submitters {
		wg.Go(func() {
			for range perSubmitter {
				if _, err := c.Submit(ctx, sm("w")); err != nil {
					t.Errorf("Submit: %v", err)
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if got := srv.MaxInflight(); got != window {
		t.Errorf("server saw max %d outstanding submits, want exactly the window %d", got, window)
	}
	if n := len(srv.Submits()); n != submitters*perSubmitter {
		t.Errorf("server recorded %d submits, want %d", n, submitters*perSubmitter)
	}
}

func TestDeliverAckedWithHandlerStatus(t *testing.T) {
	srv := newServer(t)
	got := make(chan string, 2)
	c := MustStartClient(t, srv, func(o *smsc.Options) {
		o.Handler = smsc.HandlerFunc(func(_ context.Context, p *pdu.PDU) pdu.Status {
			m := p.Body.(*pdu.ShortMessage)
			got <- string(m.Message)
			if string(m.Message) == "busy" {
				return pdu.StatusRxTAppn
			}
			return pdu.StatusOK
		})
	})
	mustWaitBound(t, c)
	ctx := testCtx(t)
	for _, tc := range []struct {
		text string
		want pdu.Status
	}{{"hello", pdu.StatusOK}, {"busy", pdu.StatusRxTAppn}} {
		st, err := srv.Deliver(ctx, sm(tc.text))
		if err != nil || st != tc.want {
			t.Errorf("Deliver(%q) = %v, %v; want %v", tc.text, st, err, tc.want)
		}
		select {
		case g := <-got:
			if g != tc.text {
				t.Errorf("handler got %q, want %q", g, tc.text)
			}
		case <-ctx.Done():
			t.Fatalf("handler not called for %q", tc.text)
		}
	}
	if d := c.Stats().Sessions[0].Delivered; d != 1 {
		t.Errorf("Delivered = %d, want 1 (only the ESME_ROK one)", d)
	}
}

func TestTransmitterRefusesDeliver(t *testing.T) {
	srv := newServer(t)
	c := MustStartClient(t, srv, func(o *smsc.Options) { o.Bind = smsc.Transmitter })
	mustWaitBound(t, c)
	ctx := testCtx(t)
	// smsctest itself never delivers to a transmitter; write one by hand.
	ss := mustBoundSession(t, srv)
	if _, err := srv.Deliver(ctx, sm("x")); !errors.Is(err, smsctest.ErrNoReceiver) {
		t.Errorf("server Deliver to a transmitter = %v, want ErrNoReceiver", err)
	}
	resp, err := ss.Request(ctx, &pdu.PDU{Header: pdu.Header{ID: pdu.DeliverSM}, Body: sm("x")})
	if err != nil || resp.ID != pdu.DeliverSMResp || resp.Status != pdu.StatusInvBndSts {
		t.Errorf("deliver_sm to a transmitter answered %+v, %v; want deliver_sm_resp ESME_RINVBNDSTS", resp, err)
	}
}

func TestServerRequests(t *testing.T) {
	srv := newServer(t)
	c := MustStartClient(t, srv, nil)
	mustWaitBound(t, c)
	ctx := testCtx(t)
	ss := mustBoundSession(t, srv)

	if err := ss.EnquireLink(ctx); err != nil {
		t.Errorf("server enquire_link: %v", err)
	}
	resp, err := ss.Request(ctx, &pdu.PDU{Header: pdu.Header{ID: pdu.CommandID(0x123)}})
	if err != nil || resp.ID != pdu.GenericNack || resp.Status != pdu.StatusInvCmdID {
		t.Errorf("unknown command answered %+v, %v; want generic_nack ESME_RINVCMDID", resp, err)
	}
	resp, err = ss.Request(ctx, &pdu.PDU{Header: pdu.Header{ID: pdu.QuerySM}, Body: &pdu.QuerySMBody{MessageID: "1"}})
	if err != nil || resp.ID != pdu.GenericNack || resp.Status != pdu.StatusInvCmdID {
		t.Errorf("query_sm to the ESME answered %+v, %v; want generic_nack ESME_RINVCMDID", resp, err)
	}
	if _, err := c.Submit(ctx, sm("still up")); err != nil {
		t.Errorf("Submit after unknown command: %v", err)
	}
	// A submit_sm_resp for a sequence number nobody waits for is dropped.
	if err := ss.Write(&pdu.PDU{Header: pdu.Header{ID: pdu.SubmitSMResp, Seq: 999}, Body: &pdu.MessageResp{MessageID: "x"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Submit(ctx, sm("after stray resp")); err != nil {
		t.Errorf("Submit after a stray response: %v", err)
	}
}

func TestServerUnbindReconnects(t *testing.T) {
	srv := newServer(t)
	c := MustStartClient(t, srv, nil)
	mustWaitBound(t, c)
	ctx := testCtx(t)
	if err := mustBoundSession(t, srv).Unbind(ctx); err != nil {
		t.Fatalf("server unbind: %v (want an unbind_resp)", err)
	}
	if err := srv.WaitStats(ctx, func(s smsctest.Stats) bool { return s.Binds >= 2 }); err != nil {
		t.Fatalf("no rebind after the SMSC's unbind: %v", err)
	}
	mustWaitBound(t, c)
	if _, err := c.Submit(ctx, sm("again")); err != nil {
		t.Errorf("Submit after rebind: %v", err)
	}
}

func TestDroppedConnectionReconnects(t *testing.T) {
	srv := newServer(t)
	c := MustStartClient(t, srv, nil)
	mustWaitBound(t, c)
	ctx := testCtx(t)
	if _, err := c.Submit(ctx, sm("one")); err != nil {
		t.Fatal(err)
	}
	srv.DropConnections()
	if err := srv.WaitStats(ctx, func(s smsctest.Stats) bool { return s.Binds >= 2 }); err != nil {
		t.Fatalf("no rebind after the connection dropped: %v", err)
	}
	mustWaitBound(t, c)
	if _, err := c.Submit(ctx, sm("two")); err != nil {
		t.Errorf("Submit after reconnect: %v", err)
	}
	if st := c.Stats().Sessions[0]; st.LastError == "" {
		t.Errorf("LastError empty after a dropped link: %+v", st)
	}
}

func TestGracefulUnbindOnCancel(t *testing.T) {
	srv := newServer(t)
	c, err := smsc.New(smsc.Options{ID: "t", Addr: srv.Addr(), SystemID: "esme", Password: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(testCtx(t))
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	mustWaitBound(t, c)
	srv.SetDelay(20 * time.Millisecond)
	res := make(chan error, 1)
	go func() { _, err := c.Submit(testCtx(t), sm("in flight")); res <- err }()
	if _, err := srv.WaitSubmits(testCtx(t), 1); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	if err := <-res; err != nil {
		t.Errorf("submit in flight during shutdown = %v, want its response (drained before unbind)", err)
	}
	if n := srv.Stats().Unbinds; n != 1 {
		t.Errorf("server saw %d unbinds, want 1", n)
	}
	if _, err := c.Submit(testCtx(t), sm("late")); !errors.Is(err, smsc.ErrClosed) {
		t.Errorf("Submit after Run = %v, want ErrClosed", err)
	}
	if st := c.Stats().Sessions[0].State; st != smsc.StateClosed {
		t.Errorf("state after Run = %q, want %q", st, smsc.StateClosed)
	}
}

func TestDataSMHandled(t *testing.T) {
	srv := newServer(t)
	got := make(chan pdu.CommandID, 1)
	c := MustStartClient(t, srv, func(o *smsc.Options) {
		o.Handler = smsc.HandlerFunc(func(_ context.Context, p *pdu.PDU) pdu.Status {
			got <- p.ID
			return pdu.StatusOK
		})
	})
	mustWaitBound(t, c)
	ctx := testCtx(t)
	body := &pdu.DataSMBody{SourceAddr: "15550001111", DestAddr: "12345"}
	body.TLVs.Set(pdu.TagMessagePayload, []byte("via data_sm"))
	resp, err := mustBoundSession(t, srv).Request(ctx, &pdu.PDU{Header: pdu.Header{ID: pdu.DataSM}, Body: body})
	if err != nil || resp.ID != pdu.DataSMResp || resp.Status != pdu.StatusOK {
		t.Fatalf("data_sm answered %+v, %v; want data_sm_resp ESME_ROK", resp, err)
	}
	if id := <-got; id != pdu.DataSM {
		t.Errorf("handler got %s, want data_sm", id)
	}
}

func TestSubmitUnencodableKeepsLink(t *testing.T) {
	srv := newServer(t)
	c := MustStartClient(t, srv, nil)
	mustWaitBound(t, c)
	ctx := testCtx(t)
	bad := sm("x")
	bad.SourceAddr = strings.Repeat("1", 30) // source_addr allows 20 characters
	_, err := c.Submit(ctx, bad)
	if err == nil || errors.Is(err, smsc.ErrUnknownOutcome) || errors.Is(err, smsc.ErrNotBound) || !strings.Contains(err.Error(), "encode") {
		t.Fatalf("Submit(30-char source_addr) = %v, want an encode error (not sent)", err)
	}
	if _, err := c.Submit(ctx, sm("fine")); err != nil {
		t.Errorf("Submit after an encode error: %v", err)
	}
	if n := len(srv.Submits()); n != 1 {
		t.Errorf("server got %d submits, want 1", n)
	}
}

// Every session dials from local_addr: the SMSC sees that source address
// (and port, when one is given).
func TestLocalAddr(t *testing.T) {
	port := freePort(t)
	for _, tc := range []struct{ la, want string }{
		{"127.0.0.2", "127.0.0.2"},                 // any port
		{"127.0.0.3:" + port, "127.0.0.3:" + port}, // that port
	} {
		t.Run(tc.la, func(t *testing.T) {
			srv := newServer(t)
			c := MustStartClient(t, srv, func(o *smsc.Options) { o.LocalAddr = tc.la })
			mustWaitBound(t, c)
			got := mustBoundSession(t, srv).RemoteAddr().String()
			if host, _, _ := net.SplitHostPort(got); got != tc.want && host != tc.want {
				t.Errorf("SMSC sees the ESME at %s, want %s", got, tc.want)
			}
		})
	}
}

// freePort returns a TCP port free on 127.0.0.3 at the time of the call.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.3:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

func TestLocalAddrNotOnHost(t *testing.T) {
	srv := newServer(t)
	c := MustStartClient(t, srv, func(o *smsc.Options) { o.LocalAddr = "192.0.2.1" }) // TEST-NET-1
	ctx := testCtx(t)
	for ctx.Err() == nil && c.Stats().Sessions[0].LastError == "" {
		time.Sleep(5 * time.Millisecond)
	}
	if le := c.Stats().Sessions[0].LastError; !strings.Contains(le, "local_addr 192.0.2.1: not an address of this host") {
		t.Errorf("LastError = %q, want it to say local_addr is not an address of this host", le)
	}
}

func TestLocalAddrChecked(t *testing.T) {
	for _, tc := range []struct {
		la       string
		sessions int
		bind     smsc.BindMode
		want     string
	}{
		{"vpn.example.org", 1, smsc.Transceiver, "want an IP address"},
		{"10.8.0.2:0", 1, smsc.Transceiver, "port must be 1..65535"},
		{"10.8.0.2:70000", 1, smsc.Transceiver, "port must be 1..65535"},
		{"10.8.0.2:40000", 2, smsc.Transceiver, "fixed port"},
		{"10.8.0.2:40000", 1, smsc.Pair, "fixed port"},
		{"10.8.0.2", 4, smsc.Pair, ""},
		{"[fd00::2]:40000", 1, smsc.Transmitter, ""},
	} {
		_, err := smsc.New(smsc.Options{ID: "x", Addr: "h:1", LocalAddr: tc.la, Sessions: tc.sessions, Bind: tc.bind,
			Handler: smsc.HandlerFunc(func(context.Context, *pdu.PDU) pdu.Status { return 0 })})
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("New(local_addr %q, sessions %d, %s) = %v, want %q", tc.la, tc.sessions, tc.bind, err, tc.want)
		}
	}
}
