package smsc_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/smscbridge/smscbridge/smsc"
	"github.com/smscbridge/smscbridge/smsc/pdu"
	"github.com/smscbridge/smscbridge/smsc/smsctest"
)

// Stop unbinds gracefully (the SMSC sees an unbind), keeps the session
// down in state stopped (no reconnect), and Submit fails with ErrNotBound;
// Start binds again.
func TestClientStopStart(t *testing.T) {
	srv := newServer(t)
	c := MustStartClient(t, srv, nil)
	mustWaitBound(t, c)
	c.Stop()
	c.Stop() // idempotent
	if err := srv.WaitStats(testCtx(t), func(s smsctest.Stats) bool { return s.Unbinds == 1 }); err != nil {
		t.Fatalf("no unbind at the SMSC after Stop: %v", err)
	}
	waitState(t, c, smsc.StateStopped)
	if !c.Stopped() || c.Bound() {
		t.Fatalf("after Stop: Stopped = %v, Bound = %v; want true, false", c.Stopped(), c.Bound())
	}
	if _, err := c.Submit(testCtx(t), &pdu.ShortMessage{DestAddr: "1", Message: []byte("x")}); !errors.Is(err, smsc.ErrNotBound) {
		t.Errorf("Submit while stopped = %v, want ErrNotBound", err)
	}
	time.Sleep(100 * time.Millisecond) // several ReconnectDelays: a stopped client must not rebind
	if b := srv.Stats().Binds; b != 1 {
		t.Fatalf("binds while stopped = %d, want 1 (no reconnect)", b)
	}
	c.Start()
	mustWaitBound(t, c)
	if b := srv.Stats().Binds; b != 2 {
		t.Errorf("binds after Start = %d, want 2", b)
	}
}

func waitState(t *testing.T, c *smsc.Client, want string) {
	t.Helper()
	ctx := testCtx(t)
	for ctx.Err() == nil {
		if st := c.Stats(); st.Sessions[0].State == want {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("session state = %s, want %s", c.Stats().Sessions[0].State, want)
}

type countMeter struct {
	mu      sync.Mutex
	pdus    map[string]int
	submits int
}

func (m *countMeter) PDU(id string, in bool, cmd pdu.CommandID, st pdu.Status) {
	m.mu.Lock()
	defer m.mu.Unlock()
	dir := "out "
	if in {
		dir = "in "
	}
	m.pdus[dir+cmd.String()+" "+st.String()]++
}

func (m *countMeter) SubmitLatency(id string, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.submits++
}

// The Meter sees every PDU both ways and one latency per submit_sm.
func TestClientMeter(t *testing.T) {
	srv := newServer(t)
	m := &countMeter{pdus: map[string]int{}}
	c := MustStartClient(t, srv, func(o *smsc.Options) { o.Meter = m })
	mustWaitBound(t, c)
	for range 3 {
		if _, err := c.Submit(testCtx(t), &pdu.ShortMessage{DestAddr: "447700900000", DestTON: 1, DestNPI: 1, Message: []byte("hi")}); err != nil {
			t.Fatal(err)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.submits != 3 {
		t.Errorf("submit latencies = %d, want 3", m.submits)
	}
	for k, want := range map[string]int{"out submit_sm ESME_ROK": 3, "in submit_sm_resp ESME_ROK": 3, "out bind_transceiver ESME_ROK": 1, "in bind_transceiver_resp ESME_ROK": 1} {
		if m.pdus[k] != want {
			t.Errorf("PDUs %q = %d, want %d (all: %v)", k, m.pdus[k], want, m.pdus)
		}
	}
}
