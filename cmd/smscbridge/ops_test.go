package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/smscbridge/smscbridge/smsc/pdu"
	"github.com/smscbridge/smscbridge/smsc/smsctest"
	"github.com/smscbridge/smscbridge/store"
)

// adminGet GETs path on the admin listener without a token.
func (h *harness) adminGet(path, accept string) (int, []byte) {
	h.t.Helper()
	req, _ := http.NewRequest("GET", "http://"+h.d.AdminAddr()+path, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

var snake = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// checkKeys reports every object key of v that is not snake_case; the
// keys of maps keyed by data (lane names) are not checked, their values
// are.
func checkKeys(t *testing.T, path string, v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if path != ".orphaned_lanes" && !snake.MatchString(k) {
				t.Errorf("/status key %s.%s is not snake_case", path, k)
			}
			checkKeys(t, path+"."+k, x)
		}
	case []any:
		for _, x := range v {
			checkKeys(t, path+"[]", x)
		}
	}
}

// TestStatusJSON: /status with Accept: application/json uses snake_case
// keys only and shows binds (state, since), queue depths with the oldest
// age, uptime, version and the config file.
func TestStatusJSON(t *testing.T) {
	h := newHarness(t)
	h.waitBound()                                  // the page must show a bound session: wait for the bind
	h.cfg.File = "/etc/smscbridge/smscbridge.toml" // the config in force (h.d.cfg)
	if code, body := h.adminCall("POST", "/smsc/agg-a/suspend"); code != 200 {
		t.Fatalf("suspend = %d %s", code, body) // the MT below stays queued
	}
	_ = h.sendRP("4101", "hello", "+250788123123")
	code, body := h.adminGet("/status", "application/json")
	if code != 200 {
		t.Fatalf("GET /status = %d %s", code, body)
	}
	var raw map[string]any
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatal(err)
	}
	checkKeys(t, "", raw)
	var st statusDoc
	if err := json.Unmarshal(body, &st); err != nil {
		t.Fatal(err)
	}
	if len(st.SMSC) != 1 || st.SMSC[0].ID != "agg-a" || len(st.SMSC[0].Sessions) != 1 ||
		st.SMSC[0].Sessions[0].State != "bound" || st.SMSC[0].Sessions[0].Since.IsZero() {
		t.Errorf("smsc = %+v, want agg-a with one bound session and its since", st.SMSC)
	}
	if st.Version == "" || st.Uptime == "" || st.Config.File != "/etc/smscbridge/smscbridge.toml" || st.Config.LoadedAt.IsZero() {
		t.Errorf("version %q uptime %q config %+v", st.Version, st.Uptime, st.Config)
	}
	found := false
	for _, q := range st.Queues {
		if q.Lane == "mt:agg-a" && q.Queued == 1 {
			found = true
		}
	}
	if !found {
		t.Errorf("queues = %+v, want mt:agg-a with 1 queued", st.Queues)
	}
}

// TestSMSCControl: stop/start unbind and rebind an SMSC (seen at the
// SMSC), suspend/resume hold its MT in the queue; each shows on /status
// and in /metrics; all four need the admin token.
func TestSMSCControl(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, a := range []string{"stop", "start", "suspend", "resume"} {
		req, _ := http.NewRequest("POST", "http://"+h.d.AdminAddr()+"/smsc/agg-a/"+a, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Errorf("POST /smsc/agg-a/%s without token = %d, want 401", a, resp.StatusCode)
		}
	}
	if code, _ := h.adminCall("POST", "/smsc/nope/stop"); code != 404 {
		t.Errorf("unknown smsc = %d, want 404", code)
	}
	if code, _ := h.adminCall("POST", "/smsc/agg-a/explode"); code != 404 {
		t.Errorf("unknown action = %d, want 404", code)
	}

	// suspend: MT accepted and held in the queue, nothing submitted.
	if code, body := h.adminCall("POST", "/smsc/agg-a/suspend"); code != 200 || !strings.Contains(string(body), `"mt_suspended": true`) {
		t.Fatalf("suspend = %d %s", code, body)
	}
	h.sendRP("4201", "held", "+250788123123")
	h.waitStatus(t, func(st statusDoc) bool { return laneQueued(st, "mt:agg-a") == 1 && st.SMSC[0].MTSuspended })
	h.metricValue(t, `smscbridge_smsc_mt_suspended{smsc="agg-a"} 1`)
	time.Sleep(300 * time.Millisecond) // three suspend polls: a suspended lane must not submit
	if n := len(h.smsc.Submits()); n != 0 {
		t.Fatalf("submits while suspended = %d, want 0", n)
	}
	if code, _ := h.adminCall("POST", "/smsc/agg-a/resume"); code != 200 {
		t.Fatal("resume failed")
	}
	if _, err := h.smsc.WaitSubmits(ctx, 1); err != nil {
		t.Fatalf("no submit after resume: %v", err)
	}

	// stop: the SMSC sees an unbind, the session stays stopped.
	if code, body := h.adminCall("POST", "/smsc/agg-a/stop"); code != 200 || !strings.Contains(string(body), `"binds_stopped": true`) {
		t.Fatalf("stop = %d %s", code, body)
	}
	if err := h.smsc.WaitStats(ctx, func(s smsctest.Stats) bool { return s.Unbinds == 1 }); err != nil {
		t.Fatalf("no unbind at the SMSC: %v", err)
	}
	h.waitStatus(t, func(st statusDoc) bool { return st.SMSC[0].BindsStopped && st.SMSC[0].Sessions[0].State == "stopped" })
	h.metricValue(t, `smscbridge_smsc_binds_stopped{smsc="agg-a"} 1`)
	h.metricValue(t, `smscbridge_smsc_session_state{bind="transceiver",session="0",smsc="agg-a",state="stopped"} 1`)
	binds := h.smsc.Stats().Binds
	if code, _ := h.adminCall("POST", "/smsc/agg-a/start"); code != 200 {
		t.Fatal("start failed")
	}
	if err := h.smsc.WaitStats(ctx, func(s smsctest.Stats) bool { return s.Binds == binds+1 }); err != nil {
		t.Fatalf("no bind after start: %v", err)
	}
	h.waitStatus(t, func(st statusDoc) bool { return !st.SMSC[0].BindsStopped && st.SMSC[0].Sessions[0].State == "bound" })
}

func laneQueued(st statusDoc, lane string) int {
	for _, q := range st.Queues {
		if q.Lane == lane {
			return q.Queued
		}
	}
	return 0
}

// waitStatus polls /status (JSON) until cond holds.
func (h *harness) waitStatus(t *testing.T, cond func(statusDoc) bool) statusDoc {
	t.Helper()
	var st statusDoc
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		_, body := h.adminGet("/status", "application/json")
		st = statusDoc{}
		if json.Unmarshal(body, &st) == nil && len(st.SMSC) > 0 && cond(st) {
			return st
		}
	}
	t.Fatalf("/status never matched; last: %+v", st)
	return st
}

// metricValue fails unless /metrics has the line want.
func (h *harness) metricValue(t *testing.T, want string) {
	t.Helper()
	code, body := h.adminGet("/metrics", "")
	if code != 200 || !strings.Contains(string(body), want+"\n") {
		t.Errorf("/metrics = %d, want a line %q", code, want)
	}
}

// TestMetrics: /metrics is open, follows the Prometheus naming rules
// (client_golang's linter), and counts an MT's PDUs, its latency, the
// messages per channel, store commits and queue depths.
func TestMetrics(t *testing.T) {
	h := newHarness(t, smsctest.WithReceipts(10*time.Millisecond, nil))
	h.sendRP("4301", "metrics", "+250788123123")
	h.plat.wait(t, "delivered", hasStatus(t, "4301", "delivered"))
	problems, err := testutil.GatherAndLint(h.d.metrics.reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("metric %s: %s", p.Metric, p.Text)
	}
	code, body := h.adminGet("/metrics", "")
	if code != 200 {
		t.Fatalf("GET /metrics = %d", code)
	}
	for _, want := range []string{
		`smscbridge_smsc_pdus_total{command="submit_sm",direction="out",smsc="agg-a",status="ESME_ROK"} 1`,
		`smscbridge_smsc_pdus_total{command="submit_sm_resp",direction="in",smsc="agg-a",status="ESME_ROK"} 1`,
		`smscbridge_smsc_submit_duration_seconds_count{smsc="agg-a"} 1`,
		`smscbridge_bridge_messages_total{channel="rp-main",kind="mt"} 1`,
		`smscbridge_bridge_messages_total{channel="rp-main",kind="receipt"} 1`,
		`smscbridge_bridge_callback_duration_seconds_count{channel="rp-main",code="2xx"} 2`,
		`smscbridge_smsc_session_state{bind="transceiver",session="0",smsc="agg-a",state="bound"} 1`,
		`smscbridge_store_reassembly_open 0`,
		`smscbridge_build_info{version=`,
		`smscbridge_store_commit_duration_seconds_count `,
		`smscbridge_store_commit_batch_size_bucket{le="1"} `,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// TestTraceMT: every hop of an MT is in its trace, found by the bridge's
// id, RapidPro's id and the number: accepted, submit_sm with the SMSC's
// message id, receipt, and each callback attempt with its answer (a 503
// then 200 for sent, counted as attempts 1 and 2).
func TestTraceMT(t *testing.T) {
	h := newHarness(t, smsctest.WithReceipts(50*time.Millisecond, nil))
	fails := 1
	h.plat.setAnswer(func(r platformReq) int {
		if strings.HasSuffix(r.Path, "/sent") && fails > 0 {
			fails--
			return 503
		}
		return 200
	})
	id := h.sendRP("4401", "trace me", "+250788123123")
	h.plat.wait(t, "delivered", hasStatus(t, "4401", "delivered"))
	var evs []store.TraceEvent
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		code, body := h.adminGet("/trace?q="+id, "")
		var tr struct {
			Events []store.TraceEvent `json:"events"`
		}
		if code != 200 || json.Unmarshal(body, &tr) != nil {
			t.Fatalf("GET /trace = %d %s", code, body)
		}
		evs = tr.Events
		if len(evs) >= 5 && evs[len(evs)-1].Hop == "callback" && strings.Contains(evs[len(evs)-1].Detail, "delivered") {
			break
		}
	}
	var got []string
	for _, e := range evs {
		got = append(got, fmt.Sprintf("%s#%d", e.Hop, e.Attempt))
	}
	// The receipt can overtake the sent callback's retry.
	if g := strings.Join(got, " "); g != "http_in#0 submit_sm#1 callback#1 receipt#0 callback#2 callback#1" &&
		g != "http_in#0 submit_sm#1 callback#1 callback#2 receipt#0 callback#1" {
		t.Fatalf("trace hops = %s\n%+v", g, evs)
	}
	if !strings.Contains(evs[1].Detail, "message_id ") || !strings.Contains(evs[2].Detail, "→ 503, will retry") {
		t.Errorf("submit / first callback detail = %q / %q", evs[1].Detail, evs[2].Detail)
	}
	for _, q := range []string{"4401", "+250788123123", "250788123123"} {
		code, body := h.adminGet("/trace?q="+q, "")
		if code != 200 || strings.Count(string(body), `"hop"`) != len(evs) {
			t.Errorf("trace by %s = %d, %d events; want %d", q, code, strings.Count(string(body), `"hop"`), len(evs))
		}
	}
	code, page := h.adminGet("/status?trace="+id, "")
	if code != 200 || !strings.Contains(string(page), "submit_sm_resp OK message_id") {
		t.Errorf("status page trace search = %d, lacks the submit_sm", code)
	}
}

// TestTraceCmd: `smscbridge trace` asks the running daemon's admin
// listener, and reads the store file once the daemon is stopped.
func TestTraceCmd(t *testing.T) {
	h := newHarness(t, smsctest.WithReceipts(10*time.Millisecond, nil))
	id := h.sendRP("4501", "trace cmd", "+250788123123")
	h.plat.wait(t, "delivered", hasStatus(t, "4501", "delivered"))
	var out, errs strings.Builder
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		out.Reset()
		errs.Reset()
		if code := mainCmd([]string{"trace", "-admin", h.d.AdminAddr(), "4501"}, &out, &errs); code == 0 && strings.Contains(out.String(), "delivered POST") {
			break
		}
	}
	for _, want := range []string{"trace of 4501: 5 event(s), 1 message(s)", id, "http_in", "submit_sm_resp OK message_id", "receipt for message_id", "sent POST", "delivered POST"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("trace via admin lacks %q:\n%s%s", want, out.String(), errs.String())
		}
	}
	h.shutdown()
	out.Reset()
	if code := mainCmd([]string{"trace", "-db", h.cfg.Store.Path, "+250788123123"}, &out, &errs); code != 0 || !strings.Contains(out.String(), "delivered POST") {
		t.Errorf("trace from the file = %d:\n%s%s", code, out.String(), errs.String())
	}
	out.Reset()
	if code := mainCmd([]string{"trace", "-db", h.cfg.Store.Path, "nothing-like-it"}, &out, &errs); code != 1 || !strings.Contains(out.String(), "no trace of nothing-like-it") {
		t.Errorf("trace of an unknown id = %d %q", code, out.String())
	}
}

// TestTraceMO: an MO's trace, found by the sender's number, shows the
// deliver_sm commit with the routing to its channel (one event: it is
// routed in the commit that acknowledges it) and the callback.
func TestTraceMO(t *testing.T) {
	h := newHarness(t)
	h.waitBound()
	sm := &pdu.ShortMessage{SourceTON: 1, SourceNPI: 1, SourceAddr: "2349067554729", DestTON: 1, DestNPI: 1,
		DestAddr: rpNumber[1:], Message: []byte("where is my MO")}
	if st, err := h.smsc.Deliver(context.Background(), sm); err != nil || st != pdu.StatusOK {
		t.Fatalf("deliver_sm: %v %v", st, err)
	}
	var got string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		evs, err := h.d.store.Trace(context.Background(), "+2349067554729", 0)
		if err != nil {
			t.Fatal(err)
		}
		var hops []string
		for _, e := range evs {
			hops = append(hops, fmt.Sprintf("%s#%d", e.Hop, e.Attempt))
		}
		if got = strings.Join(hops, " "); got == "deliver_sm#0 callback#1" {
			if evs[0].ID == "" || evs[1].ID != evs[0].ID || !strings.Contains(evs[0].Detail, "routed to channel rp-main") || !strings.Contains(evs[1].Detail, "MO POST") {
				t.Errorf("events = %+v", evs)
			}
			return
		}
	}
	t.Fatalf("MO trace hops = %q, want deliver_sm#0 callback#1", got)
}
