package smsc_test

import (
	"context"
	"strings"
	"testing"

	"github.com/smscbridge/smscbridge/smsc"
	"github.com/smscbridge/smscbridge/smsc/pdu"
)

func TestParseBindMode(t *testing.T) {
	for in, want := range map[string]smsc.BindMode{
		"transceiver": smsc.Transceiver, "TRX": smsc.Transceiver, "transmitter": smsc.Transmitter,
		"tx": smsc.Transmitter, "receiver": smsc.Receiver, "rx": smsc.Receiver, " pair ": smsc.Pair,
	} {
		got, err := smsc.ParseBindMode(in)
		if err != nil || got != want {
			t.Errorf("ParseBindMode(%q) = %v, %v; want %v", in, got, err, want)
		}
		if back, _ := smsc.ParseBindMode(got.String()); back != got {
			t.Errorf("ParseBindMode(%v.String()) = %v", got, back)
		}
	}
	if _, err := smsc.ParseBindMode("both"); err == nil || !strings.Contains(err.Error(), `"both"`) {
		t.Errorf("ParseBindMode(both) error = %v, want one naming the value", err)
	}
	var m smsc.BindMode
	if err := m.UnmarshalText([]byte("pair")); err != nil || m != smsc.Pair {
		t.Errorf("UnmarshalText(pair) = %v, %v", m, err)
	}
}

func TestNewChecksOptions(t *testing.T) {
	h := smsc.HandlerFunc(func(context.Context, *pdu.PDU) pdu.Status { return pdu.StatusOK })
	ok := smsc.Options{ID: "a", Addr: "10.0.0.1:2775", SystemID: "esme", Password: "secret"}
	if _, err := smsc.New(ok); err != nil {
		t.Fatalf("New(valid) = %v", err)
	}
	tests := []struct {
		name string
		edit func(*smsc.Options)
		want string
	}{
		{"no port", func(o *smsc.Options) { o.Addr = "10.0.0.1" }, "want host:port"},
		{"long system_id", func(o *smsc.Options) { o.SystemID = strings.Repeat("x", 16) }, "system_id"},
		{"long password", func(o *smsc.Options) { o.Password = "123456789" }, "password longer than 8"},
		{"window", func(o *smsc.Options) { o.Window = -1 }, "window must be 1..1000, got -1"},
		{"sessions", func(o *smsc.Options) { o.Sessions = 100 }, "sessions must be 1..64"},
		{"throughput", func(o *smsc.Options) { o.Throughput = -5 }, "throughput"},
		{"negative duration", func(o *smsc.Options) { o.EnquireLink = -1 }, "enquire_link must be positive"},
		{"receiver needs handler", func(o *smsc.Options) { o.Bind = smsc.Receiver }, "needs a Handler"},
		{"pair needs handler", func(o *smsc.Options) { o.Bind = smsc.Pair }, "needs a Handler"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := ok
			tt.edit(&o)
			_, err := smsc.New(o)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), `smsc "a"`) {
				t.Errorf("New = %v, want an error naming the SMSC and containing %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "secret") {
				t.Errorf("error reveals the password: %v", err)
			}
		})
	}
	o := ok
	o.Bind, o.Handler = smsc.Pair, h
	c, err := smsc.New(o)
	if err != nil {
		t.Fatal(err)
	}
	st := c.Stats()
	if len(st.Sessions) != 2 || st.Sessions[0].Mode != "transmitter" || st.Sessions[1].Mode != "receiver" || st.Sessions[0].State != smsc.StateIdle {
		t.Errorf("pair Stats = %+v, want an idle transmitter and receiver", st)
	}
	if c.Bound() {
		t.Error("Bound() before Run")
	}
	if _, err := c.Submit(context.Background(), &pdu.ShortMessage{}); err != smsc.ErrNotBound {
		t.Errorf("Submit before Run = %v, want ErrNotBound", err)
	}
}

func TestErrorsAreTemporary(t *testing.T) {
	for _, err := range []error{smsc.ErrNotBound, smsc.ErrUnknownOutcome} {
		if tmp, ok := err.(interface{ Temporary() bool }); !ok || !tmp.Temporary() {
			t.Errorf("%v: Temporary() not true", err)
		}
	}
}
