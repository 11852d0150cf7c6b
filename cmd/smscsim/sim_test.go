package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smscbridge/smscbridge/smsc"
	"github.com/smscbridge/smscbridge/smsc/pdu"
	"github.com/smscbridge/smscbridge/smsc/smsctest"
)

// syncBuffer is a bytes.Buffer safe for the sim goroutine and the test.
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

func TestSimEndToEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var out syncBuffer
	s, err := newSim([]string{
		"-listen", "127.0.0.1:0", "-system-id", "esme", "-password", "secret",
		"-mo-count", "5", "-mo-rate", "200", "-dlr", "-dlr-delay", "1ms", "-dlr-mix", "UNDELIV=1",
		"-id-format", "hex", "-receipt-id-format", "dec", "-json", "-seed", "7",
	}, &out, &out)
	if err != nil {
		t.Fatal(err)
	}
	simCtx, stopSim := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.run(simCtx) }()
	<-s.ready

	var mu sync.Mutex
	var mo, receipts []*pdu.ShortMessage
	got := make(chan struct{}, 100)
	c, err := smsc.New(smsc.Options{
		ID: "sim", Addr: s.srv.Addr(), SystemID: "esme", Password: "secret",
		Logger: slog.New(slog.DiscardHandler),
		Handler: smsc.HandlerFunc(func(_ context.Context, p *pdu.PDU) pdu.Status {
			m := p.Body.(*pdu.ShortMessage)
			mu.Lock()
			if pdu.IsReceipt(m.ESMClass) {
				receipts = append(receipts, m)
			} else {
				mo = append(mo, m)
			}
			mu.Unlock()
			got <- struct{}{}
			return pdu.StatusOK
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	clientCtx, stopClient := context.WithCancel(ctx)
	clientDone := make(chan error, 1)
	go func() { clientDone <- c.Run(clientCtx) }()
	if err := c.WaitBound(ctx); err != nil {
		t.Fatal(err)
	}
	id, err := c.Submit(ctx, &pdu.ShortMessage{SourceAddr: "12345", DestAddr: "15550002222",
		RegisteredDelivery: pdu.RegisteredDeliveryReceipt, Message: []byte("hi")})
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	if id != "00000001" {
		t.Errorf("message id = %q, want hex 00000001", id)
	}
	// 5 MO: texts 0,1,3 are single, 2 (270 GSM septets: 2 parts) and 4
	// (144 UTF-16 units: 3 parts) are multipart.
	const wantMOPDUs = 1 + 1 + 2 + 1 + 3
	for range wantMOPDUs + 1 {
		select {
		case <-got:
		case <-ctx.Done():
			mu.Lock()
			t.Fatalf("got %d MO and %d receipts before timeout", len(mo), len(receipts))
		}
	}
	stopClient()
	<-clientDone
	stopSim()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}

	mu.Lock()
	defer mu.Unlock()
	if len(receipts) != 1 {
		t.Fatalf("%d receipts, want 1", len(receipts))
	}
	if r := string(receipts[0].Message); !strings.HasPrefix(r, "id:1 ") || !strings.Contains(r, "stat:UNDELIV") {
		t.Errorf("receipt text %q, want decimal id 1 and stat UNDELIV", r)
	}
	var ucs2, udh int
	for _, m := range mo {
		if m.DataCoding == 8 {
			ucs2++
		}
		if m.ESMClass&pdu.ESMClassUDHI != 0 {
			udh++
		}
	}
	if len(mo) != wantMOPDUs || ucs2 != 4 || udh != 5 {
		t.Errorf("MO PDUs = %d (ucs2 %d, udh %d), want %d (ucs2 4, udh 5)", len(mo), ucs2, udh, wantMOPDUs)
	}

	text := out.String()
	var rep Report
	if err := json.Unmarshal([]byte(text[strings.Index(text, "{"):]), &rep); err != nil {
		t.Fatalf("JSON report: %v in %q", err, text)
	}
	if rep.Binds != 1 || rep.Submits != 1 || rep.MOSent != wantMOPDUs || rep.ReceiptsSent != 1 || rep.Unbinds != 1 {
		t.Errorf("report %+v, want 1 bind, 1 unbind, 1 submit, %d MO, 1 receipt", rep, wantMOPDUs)
	}
	if rep.Violations == nil || len(rep.Violations) != 0 {
		t.Errorf("report violations %+v, want [] (our ESME keeps to SMPP 3.4)", rep.Violations)
	}
}

func TestSimFaults(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var out syncBuffer
	s, err := newSim([]string{"-listen", "127.0.0.1:0", "-throttle-every", "2", "-duration", "1h"}, &out, &out)
	if err != nil {
		t.Fatal(err)
	}
	simCtx, stopSim := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.run(simCtx) }()
	<-s.ready
	c, err := smsc.New(smsc.Options{ID: "sim", Addr: s.srv.Addr(), SystemID: "any", Bind: smsc.Transmitter,
		// A throttling timeout of 1ns hands every throttled answer straight back.
		ThrottlePause: time.Millisecond, ThrottleTimeout: time.Nanosecond, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	clientCtx, stopClient := context.WithCancel(ctx)
	clientDone := make(chan error, 1)
	go func() { clientDone <- c.Run(clientCtx) }()
	if err := c.WaitBound(ctx); err != nil {
		t.Fatal(err)
	}
	var throttled int
	for range 4 {
		_, err := c.Submit(ctx, &pdu.ShortMessage{DestAddr: "1", Message: []byte("x")})
		if st, ok := err.(pdu.Status); ok && st == pdu.StatusThrottled {
			throttled++
		} else if err != nil {
			t.Fatalf("Submit: %v", err)
		}
	}
	if throttled != 2 {
		t.Errorf("%d of 4 submits throttled with -throttle-every 2, want 2", throttled)
	}
	stopClient()
	<-clientDone
	stopSim()
	<-done
	smsctest.NoViolations(t, s.srv)
	if !strings.Contains(out.String(), "submits=4 ok=2 throttled=2") {
		t.Errorf("stats line %q, want submits=4 ok=2 throttled=2", out.String())
	}
}

func TestParseFlagsErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"bad mix", []string{"-dlr-mix", "DELIVRD"}, "want STAT=weight"},
		{"bad rate", []string{"-fail-rate", "2"}, "-fail-rate must be 0..1"},
		{"bad id format", []string{"-id-format", "b64"}, `id format "b64"`},
		{"extra args", []string{"x"}, "unexpected arguments"},
		{"bad lenient", []string{"-lenient", "charset,udhi"}, `-lenient: unknown rule "udhi"`},
		{"bad dc0", []string{"-dc0", "utf8"}, `-dc0: data_coding 0 charset "utf8"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			_, err := parseFlags(tt.args, &stderr)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("parseFlags(%q) = %v, want error containing %q", tt.args, err, tt.want)
			}
		})
	}
}

// startSim runs the simulator with args until the test ends and returns
// it, bound to a transmitter client.
func startSim(t *testing.T, args ...string) (*sim, *smsc.Client, *syncBuffer, func()) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	out := &syncBuffer{}
	s, err := newSim(append([]string{"-listen", "127.0.0.1:0", "-duration", "1h"}, args...), out, out)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.run(ctx) }()
	<-s.ready
	c, err := smsc.New(smsc.Options{ID: "sim", Addr: s.srv.Addr(), SystemID: "esme", Bind: smsc.Transmitter,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	clientDone := make(chan error, 1)
	go func() { clientDone <- c.Run(ctx) }()
	if err := c.WaitBound(ctx); err != nil {
		t.Fatal(err)
	}
	stop := func() {
		cancel()
		<-clientDone
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}
	t.Cleanup(cancel)
	return s, c, out, stop
}

// TestSimStrict: smscsim refuses what a strict SMSC refuses, reports the
// violation in its stats, JSON and -record line, accepts it with -lenient,
// and reads data_coding 0 as -dc0 says.
func TestSimStrict(t *testing.T) {
	long := &pdu.ShortMessage{DestTON: 1, DestNPI: 1, DestAddr: "15550002222", Message: bytes.Repeat([]byte("a"), 161)}
	latin := &pdu.ShortMessage{DestTON: 1, DestNPI: 1, DestAddr: "15550002222", Message: []byte("caf\xe9")}
	tests := []struct {
		name string
		args []string
		sm   *pdu.ShortMessage
		want error
		rule string
	}{
		{"strict long", nil, long, pdu.StatusInvMsgLen, "message_length"},
		{"lenient long", []string{"-lenient", "message_length"}, long, nil, "message_length"},
		{"lenient all", []string{"-lenient", "all"}, long, nil, "message_length"},
		{"gsm7 dc0 latin1 octet", nil, latin, pdu.StatusSubmitFail, "charset"},
		{"latin1 dc0", []string{"-dc0", "latin1"}, latin, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "rec.jsonl")
			s, c, out, stop := startSim(t, append([]string{"-json", "-record", path}, tt.args...)...)
			_, err := c.Submit(t.Context(), tt.sm)
			if err != tt.want {
				t.Errorf("Submit = %v, want %v", err, tt.want)
			}
			stop()
			recs := mustReadRecords(t, path)
			var rep Report
			text := out.String()
			if err := json.Unmarshal([]byte(text[strings.Index(text, "{"):]), &rep); err != nil {
				t.Fatalf("JSON report: %v in %q", err, text)
			}
			if tt.rule == "" {
				if len(rep.Violations) != 0 || len(recs) != 1 || recs[0].Violation != "" {
					t.Errorf("violations %+v, records %+v; want none", rep.Violations, recs)
				}
				return
			}
			lenient := tt.want == nil
			if len(rep.Violations) != 1 || rep.Violations[0].Rule != tt.rule || rep.Violations[0].Lenient != lenient ||
				rep.Violations[0].Command != "submit_sm" || rep.Violations[0].Session != 1 {
				t.Errorf("report violations %+v, want one %s (lenient %v)", rep.Violations, tt.rule, lenient)
			}
			if len(recs) != 1 || !strings.HasPrefix(recs[0].Violation, tt.rule+": ") {
				t.Fatalf("records %+v, want one with violation %s", recs, tt.rule)
			}
			wantName := "ESME_ROK"
			if st, ok := tt.want.(pdu.Status); ok {
				wantName = st.String()
			}
			if recs[0].StatusName != wantName {
				t.Errorf("record status %s, want %s", recs[0].StatusName, wantName)
			}
			if got := len(s.srv.Violations()); got != 1 {
				t.Errorf("%d violations", got)
			}
		})
	}
	// Without -json: one line per violation before the stats line.
	_, c, out, stop := startSim(t)
	c.Submit(t.Context(), long)
	stop()
	if text := out.String(); !strings.Contains(text, "smscsim: violation: session 1 submit_sm seq 2: message_length: 161 septets") ||
		!strings.Contains(text, "violations=1 ") {
		t.Errorf("stats %q, want the violation line and violations=1", text)
	}
}
