package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smscbridge/smscbridge/smsc"
	"github.com/smscbridge/smscbridge/smsc/pdu"
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
