package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smscbridge/smscbridge/smsc/pdu"
	"github.com/smscbridge/smscbridge/smsc/smsctest"
)

// logBuf collects a daemon's log output for a test (safe for concurrent
// writes).
type logBuf struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// lines are the JSON log lines written so far, decoded.
func (b *logBuf) lines(t testing.TB) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(b.String()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line not JSON: %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

// newHarnessLogged is newHarness with the config edited before the
// daemon starts and every log line (DEBUG and up, JSON) kept in the
// returned buffer (and copied to stderr with -v).
func newHarnessLogged(t *testing.T, edit func(h *harness), opts ...smsctest.Option) (*harness, *logBuf) {
	t.Helper()
	opts = append([]smsctest.Option{smsctest.WithTB(t), smsctest.WithAccount("bridge", "secret")}, opts...)
	h := &harness{t: t, smsc: smsctest.NewServer(opts...), plat: newPlatform(t)}
	t.Cleanup(h.smsc.Close)
	h.cfg = testConfig(t, h.smsc.Addr(), h.plat.srv.URL, filepath.Join(t.TempDir(), "bridge.db"))
	if edit != nil {
		edit(h)
	}
	logs := &logBuf{}
	var w io.Writer = logs
	if testing.Verbose() {
		w = io.MultiWriter(logs, os.Stderr)
	}
	h.logger = slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h.start()
	return h, logs
}

// deadAddr is a loopback address nothing listens on.
func deadAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestRetryLogLines: a callback against an unreachable platform logs one
// WARN line per failed attempt that will be retried (attempt, when it is
// due next, the cause), one ERROR line when it becomes a dead letter, and
// nothing else at ERROR (retryablehttp's own per-request lines are off);
// a submit_sm answered with a temporary error is one WARN line the same
// way, and the MT then submitted a DEBUG line (issue 15 item 8).
func TestRetryLogLines(t *testing.T) {
	h, logs := newHarnessLogged(t, func(h *harness) {
		h.cfg.Retry.MaxAttempts = 3
		h.cfg.Channel[0].ReceiveURL = "http://" + deadAddr(t) + "/c/ex/" + rpUUID + "/receive"
	})
	h.waitBound()
	h.deliverMO("+2349067554729", rpNumber, "nobody home")
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), "dead letter after retries") {
		if time.Now().After(deadline) {
			t.Fatalf("no dead letter logged; logs:\n%s", logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	var refused atomic.Bool // the first submit_sm gets a temporary error
	h.smsc.SetHandler(smsctest.HandlerFunc(func(s *smsctest.Session, p *pdu.PDU) *pdu.PDU {
		if p.ID == pdu.SubmitSM && refused.CompareAndSwap(false, true) {
			return pdu.NewResponse(p, pdu.StatusSysErr, nil)
		}
		return h.smsc.Default(s, p)
	}))
	h.sendRapidPro("77", "hello")
	for !strings.Contains(logs.String(), "MT submitted") {
		if time.Now().After(deadline) {
			t.Fatalf("no MT submitted line; logs:\n%s", logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	var warns, errs, submitRetries []map[string]any
	for _, l := range logs.lines(t) {
		switch {
		case l["level"] == "WARN" && l["msg"] == "will retry" && l["lane"] == "mt:agg-a":
			submitRetries = append(submitRetries, l)
		case l["level"] == "WARN" && l["msg"] == "will retry" && strings.HasPrefix(l["lane"].(string), "http:rp-main"):
			warns = append(warns, l)
		case l["level"] == "ERROR":
			errs = append(errs, l)
		case l["msg"] == "MT submitted" && l["level"] != "DEBUG":
			t.Errorf("MT submitted at %v, want DEBUG", l["level"])
		}
	}
	var mo []map[string]any
	for _, w := range warns {
		if w["id"] == errs[0]["id"] {
			mo = append(mo, w)
		}
	}
	if len(mo) != 2 {
		t.Fatalf("WARN will-retry lines of the MO = %d, want 2 (attempts 1 and 2 of 3):\n%s", len(mo), logs)
	}
	for i, w := range mo {
		if w["attempt"] != float64(i+1) || w["next"] == nil || !strings.Contains(w["err"].(string), "connection refused") {
			t.Errorf("retry line %d = %v, want attempt %d, next due time and the cause", i, w, i+1)
		}
		if _, err := time.Parse(time.RFC3339, w["next"].(string)); err != nil {
			t.Errorf("next = %v: %v", w["next"], err)
		}
	}
	if len(submitRetries) != 1 || submitRetries[0]["attempt"] != float64(1) || submitRetries[0]["next"] == nil ||
		!strings.Contains(submitRetries[0]["err"].(string), "ESME_RSYSERR") {
		t.Errorf("submit retry lines = %v, want one WARN with attempt 1, next due time and ESME_RSYSERR", submitRetries)
	}
	if len(errs) != 1 || errs[0]["msg"] != "dead letter after retries" || errs[0]["attempt"] != float64(3) {
		t.Errorf("ERROR lines = %v, want only the dead letter after attempt 3", errs)
	}
}
