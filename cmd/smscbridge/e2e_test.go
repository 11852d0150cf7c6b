package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smscbridge/smscbridge/conf"
	"github.com/smscbridge/smscbridge/smsc/coding"
	"github.com/smscbridge/smscbridge/smsc/pdu"
	"github.com/smscbridge/smscbridge/smsc/smsctest"
	"github.com/smscbridge/smscbridge/store"
)

const (
	rpNumber     = "+5582999489287"
	customNumber = "+60177872890"
	rpUUID       = "8eb23e93-5ecb-45ba-b726-3b064e0c56ab"
	customToken  = "tok-46-chars-opaque-secret"
	customChanID = "gfd8g7fd89dgfd"
)

// platformReq is one request a stand-in platform received.
type platformReq struct {
	Method, Path string
	Query        url.Values
	Header       http.Header
	Body         []byte
	Code         int // status answered
}

func (r platformReq) form(t testing.TB) url.Values {
	t.Helper()
	v, err := url.ParseQuery(string(r.Body))
	if err != nil {
		t.Fatalf("form body %q: %v", r.Body, err)
	}
	return v
}

// platform is a stand-in for RapidPro (courier) and a custom-channel
// platform: it records every request and answers failCode while failing.
type platform struct {
	srv      *httptest.Server
	mu       sync.Mutex
	reqs     []platformReq
	failCode int
	failBody string // body of the failing answers
	// answer, when set, picks the status code of each request (0: use
	// failCode); it may block to hold a request in flight.
	answer  func(platformReq) int
	changed chan struct{}
}

func newPlatform(t testing.TB) *platform {
	p := &platform{changed: make(chan struct{}, 1)}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req := platformReq{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: body}
		p.mu.Lock()
		code, answer, failBody := p.failCode, p.answer, p.failBody
		p.mu.Unlock()
		if answer != nil {
			if c := answer(req); c != 0 {
				code = c
			}
		}
		req.Code = cmp.Or(code, http.StatusOK)
		p.mu.Lock()
		p.reqs = append(p.reqs, req)
		p.mu.Unlock()
		select {
		case p.changed <- struct{}{}:
		default:
		}
		if code != 0 {
			w.WriteHeader(code)
			io.WriteString(w, failBody)
			return
		}
		io.WriteString(w, `{"message":"Accepted"}`)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *platform) setFail(code int) {
	p.mu.Lock()
	p.failCode = code
	p.mu.Unlock()
}

func (p *platform) setAnswer(f func(platformReq) int) {
	p.mu.Lock()
	p.answer = f
	p.mu.Unlock()
}

// count is len(withPath(p.all(), suffix)) without the copies (benchmarks
// poll it).
func (p *platform) count(suffix string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, r := range p.reqs {
		if strings.HasSuffix(r.Path, suffix) {
			n++
		}
	}
	return n
}

func (p *platform) all() []platformReq {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]platformReq(nil), p.reqs...)
}

// wait returns the requests once cond holds for them, failing the test
// after 15 s.
func (p *platform) wait(t testing.TB, what string, cond func([]platformReq) bool) []platformReq {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		reqs := p.all()
		if cond(reqs) {
			return reqs
		}
		select {
		case <-p.changed:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("timed out waiting for %s; platform saw %d requests: %s", what, len(reqs), describe(reqs))
		}
	}
}

func describe(reqs []platformReq) string {
	var b strings.Builder
	for _, r := range reqs {
		b.WriteString("\n  " + r.Method + " " + r.Path + " " + string(r.Body))
	}
	return b.String()
}

func withPath(reqs []platformReq, suffix string) []platformReq {
	var out []platformReq
	for _, r := range reqs {
		if strings.HasSuffix(r.Path, suffix) {
			out = append(out, r)
		}
	}
	return out
}

// harness runs the whole daemon against smsctest and a stand-in platform.
type harness struct {
	t        testing.TB
	smsc     *smsctest.Server
	plat     *platform
	cfg      *conf.Config
	d        *daemon
	stop     context.CancelFunc
	done     chan error
	baseURL  string
	logger   *slog.Logger     // nil: testLogger
	timeouts listenerTimeouts // zero: the defaults
}

func testConfig(t testing.TB, smscAddr, platURL, dbPath string) *conf.Config {
	t.Helper()
	host, port, _ := net.SplitHostPort(smscAddr)
	cfg := conf.Default()
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.Admin.Listen, cfg.Admin.Token = "127.0.0.1:0", "admin-secret"
	cfg.Store.Path = dbPath
	cfg.Retry.InitialBackoff.Duration = 20 * time.Millisecond
	cfg.Retry.MaxBackoff.Duration = 200 * time.Millisecond
	s := conf.DefaultSMSC()
	s.ID, s.Host, s.SystemID, s.Password = "agg-a", host, "bridge", "secret"
	s.Port, _ = strconv.Atoi(port)
	s.ReconnectDelay.Duration, s.ReconnectMax.Duration = 20*time.Millisecond, 200*time.Millisecond
	s.ResponseTimeout.Duration = 2 * time.Second
	cfg.SMSC = []conf.SMSC{s}
	cfg.Channel = []conf.Channel{
		{ID: "rp-main", Kind: conf.KindRapidPro, Numbers: []string{rpNumber}, SMSC: []string{"agg-a"},
			ReceiveURL: platURL + "/c/ex/" + rpUUID + "/receive"},
		{ID: "telenet", Kind: conf.KindCustom, Numbers: []string{customNumber}, SMSC: []string{"agg-a"},
			ChannelID: customChanID, APIToken: customToken, WebhookURL: platURL + "/custom/webhook", IDType: "phone"},
	}
	return &cfg
}

func newHarness(t testing.TB, opts ...smsctest.Option) *harness {
	t.Helper()
	opts = append([]smsctest.Option{smsctest.WithTB(t), smsctest.WithAccount("bridge", "secret")}, opts...)
	h := &harness{t: t, smsc: smsctest.NewServer(opts...), plat: newPlatform(t)}
	t.Cleanup(h.smsc.Close)
	h.cfg = testConfig(t, h.smsc.Addr(), h.plat.srv.URL, filepath.Join(t.TempDir(), "bridge.db"))
	h.start()
	return h
}

func (h *harness) start() {
	t := h.t
	t.Helper()
	log := h.logger
	if log == nil {
		log = testLogger(t)
	}
	d, err := newDaemon(h.cfg, daemonOptions{Logger: log, ReceiptGrace: 3 * time.Second, Timeouts: h.timeouts})
	if err != nil {
		t.Fatalf("newDaemon: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.d, h.stop, h.done = d, cancel, make(chan error, 1)
	ready := make(chan struct{})
	go func() { h.done <- d.Run(ctx, func() { close(ready) }) }()
	<-ready
	h.baseURL = "http://" + d.HTTPAddr()
	t.Cleanup(h.shutdown)
}

// shutdown stops the daemon and waits for it (idempotent).
func (h *harness) shutdown() {
	if h.stop == nil {
		return
	}
	h.stop()
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Errorf("daemon Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		h.t.Errorf("daemon did not stop within 30s")
	}
	h.stop = nil
}

func (h *harness) waitBound() {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.smsc.WaitBound(ctx, 1); err != nil {
		h.t.Fatalf("bridge never bound: %v", err)
	}
	for !h.d.client("agg-a").Bound() {
		select {
		case <-ctx.Done():
			h.t.Fatalf("client never bound")
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() && os.Getenv("SMSCBRIDGE_TEST_QUIET") == "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// deliverMO has the SMSC deliver text from sender to dest as MO (split as
// a phone would) and fails the test unless every part is acknowledged OK.
func (h *harness) deliverMO(from, to, text string) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := demoMO(ctx, &printer{w: io.Discard}, h.smsc, from, to, text, 0x42); err != nil {
		h.t.Fatalf("MO %q: %v", text, err)
	}
}

func (h *harness) post(path, contentType, auth string, body string) (int, []byte) {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, h.baseURL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func decodeJSON(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not JSON: %q: %v", b, err)
	}
	return m
}

func TestMOToRapidPro(t *testing.T) {
	h := newHarness(t)
	h.waitBound()
	h.deliverMO("+2349067554729", rpNumber, "Join")
	reqs := h.plat.wait(t, "receive POST", func(r []platformReq) bool { return len(withPath(r, "/receive")) == 1 })
	f := withPath(reqs, "/receive")[0].form(t)
	if f.Get("from") != "+2349067554729" || f.Get("text") != "Join" {
		t.Errorf("receive form = %v, want from=+2349067554729 text=Join", f)
	}
	if _, err := time.Parse(time.RFC3339Nano, f.Get("date")); err != nil {
		t.Errorf("date %q is not RFC 3339: %v", f.Get("date"), err)
	}
}

func TestLongUCS2MOIsOnePost(t *testing.T) {
	h := newHarness(t)
	h.waitBound()
	text := strings.Repeat("Olá 😀 ", 25) // 175 UTF-16 units: 3 UCS-2 parts
	sms, err := smsctest.BuildMO("+60123456789", customNumber, text, 7)
	if err != nil || len(sms) != 3 || sms[0].DataCoding != 0x08 {
		t.Fatalf("BuildMO = %d parts, %v; want 3 UCS-2 parts", len(sms), err)
	}
	// Out of order, with a duplicate: still one message.
	for _, i := range []int{2, 0, 0, 1} {
		if st, err := h.smsc.Deliver(context.Background(), sms[i]); err != nil || st != pdu.StatusOK {
			t.Fatalf("deliver part %d: %v %v", i+1, st, err)
		}
	}
	reqs := h.plat.wait(t, "webhook", func(r []platformReq) bool { return len(withPath(r, "/custom/webhook")) >= 1 })
	time.Sleep(200 * time.Millisecond) // a second POST would be a bug; give it a chance to show up
	reqs = withPath(h.plat.all(), "/custom/webhook")
	if len(reqs) != 1 {
		t.Fatalf("webhook POSTs = %d, want exactly 1:%s", len(reqs), describe(reqs))
	}
	var env struct {
		ChannelID string `json:"channelId"`
		ContactID string `json:"contactId"`
		Events    []struct {
			Type      string `json:"type"`
			MID       string `json:"mId"`
			Timestamp int64  `json:"timestamp"`
			Message   struct {
				Type, Text string
			} `json:"message"`
		} `json:"events"`
	}
	if err := json.Unmarshal(reqs[0].Body, &env); err != nil {
		t.Fatal(err)
	}
	if env.ContactID != "+60123456789" || env.ChannelID != customChanID || len(env.Events) != 1 {
		t.Fatalf("envelope = %+v", env)
	}
	ev := env.Events[0]
	if ev.Type != "message" || ev.Message.Text != text || ev.MID == "" || ev.Timestamp < 1e12 {
		t.Errorf("event = %+v, want message with the whole text %q", ev, text)
	}
	if got := reqs[0].Header.Get("Authorization"); got != "Bearer "+customToken {
		t.Errorf("Authorization = %q", got)
	}
}

func TestRapidProMTWithReceipts(t *testing.T) {
	h := newHarness(t, smsctest.WithReceipts(10*time.Millisecond, nil))
	h.waitBound()
	text := strings.Repeat("Hola {mundo} € ", 12) // GSM-7 with extension chars, 2 parts
	body, _ := json.Marshal(map[string]any{"uuid": "0191e180-7d60-7000-aded-7d8b151cbd5b", "text": text, "to": "+250788123123", "from": rpNumber})
	code, resp := h.post("/rapidpro/rp-main/send", "application/json", "", string(body))
	if code != 200 {
		t.Fatalf("send = %d %s", code, resp)
	}
	if m := decodeJSON(t, resp); m["status"] != "accepted" || m["id"] == "" {
		t.Errorf("send response = %s", resp)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	subs, err := h.smsc.WaitSubmits(ctx, 2)
	if err != nil {
		t.Fatalf("submits: %v", err)
	}
	var got []byte
	for i, s := range subs {
		if s.SM.DataCoding != 0 || s.SM.ESMClass&pdu.ESMClassUDHI == 0 || s.SM.DestAddr != "250788123123" || s.SM.DestTON != 1 {
			t.Errorf("submit %d: dc %#x esm %#x dest %q ton %d", i, s.SM.DataCoding, s.SM.ESMClass, s.SM.DestAddr, s.SM.DestTON)
		}
		_, rest, err := coding.ParseUDH(s.SM.Message)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, rest...)
	}
	if dec, _ := coding.Decode(0, got); dec != text {
		t.Errorf("SMSC got text %q, want %q", dec, text)
	}
	reqs := h.plat.wait(t, "sent and delivered callbacks", func(r []platformReq) bool {
		return len(withPath(r, "/sent")) >= 1 && len(withPath(r, "/delivered")) >= 1
	})
	for _, suffix := range []string{"/sent", "/delivered"} {
		f := withPath(reqs, suffix)[0].form(t)
		if f.Get("uuid") != "0191e180-7d60-7000-aded-7d8b151cbd5b" {
			t.Errorf("%s callback form = %v, want the uuid as received", suffix, f)
		}
	}
	if n := len(withPath(reqs, "/delivered")); n != 1 {
		t.Errorf("delivered callbacks = %d, want 1 for a 2-part message", n)
	}
}

func TestCustomChannelBothWays(t *testing.T) {
	h := newHarness(t, smsctest.WithReceipts(10*time.Millisecond, nil))
	h.waitBound()
	msg := `{"channelId":"` + customChanID + `","contactId":"+60123456789","message":{"type":"text","text":"Hello World"}}`
	code, resp := h.post("/custom/telenet/message", "application/json", "Bearer "+customToken, msg)
	if code != 200 {
		t.Fatalf("message = %d %s", code, resp)
	}
	mid, _ := decodeJSON(t, resp)["mId"].(string)
	if mid == "" {
		t.Fatalf("no mId in %s", resp)
	}
	reqs := h.plat.wait(t, "delivered status event", func(r []platformReq) bool {
		return bytes.Contains(bytes.Join(bodies(r), nil), []byte(`"delivered"`))
	})
	var sawSent bool
	for _, r := range withPath(reqs, "/custom/webhook") {
		var env struct {
			Events []struct {
				Type   string                 `json:"type"`
				MID    string                 `json:"mId"`
				Status struct{ Value string } `json:"status"`
			} `json:"events"`
		}
		_ = json.Unmarshal(r.Body, &env)
		for _, e := range env.Events {
			if e.Type != "message_status" || e.MID != mid {
				t.Errorf("event %+v, want message_status for mId %s", e, mid)
			}
			sawSent = sawSent || e.Status.Value == "sent"
		}
	}
	if !sawSent {
		t.Errorf("no sent status event:%s", describe(reqs))
	}
	// And MO to the custom number comes back as a message event.
	h.deliverMO("+60123456789", customNumber, "Reply")
	h.plat.wait(t, "MO message event", func(r []platformReq) bool {
		return bytes.Contains(bytes.Join(bodies(r), nil), []byte(`"Reply"`))
	})
}

func bodies(reqs []platformReq) [][]byte {
	var out [][]byte
	for _, r := range reqs {
		out = append(out, r.Body)
	}
	return out
}

func TestCustomRendersAttachmentAndQuickReply(t *testing.T) {
	h := newHarness(t)
	h.waitBound()
	for _, m := range []string{
		`{"type":"attachment","attachment":{"type":"image","url":"https://example.org/a.png","description":"Menu"}}`,
		`{"type":"quick_reply","title":"Language?","replies":["Malay","English"]}`,
	} {
		code, resp := h.post("/custom/telenet/message", "application/json", "Bearer "+customToken,
			`{"channelId":"`+customChanID+`","contactId":"+60123456789","message":`+m+`}`)
		if code != 200 {
			t.Fatalf("message %s = %d %s", m, code, resp)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	subs, err := h.smsc.WaitSubmits(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, s := range subs {
		dec, _ := coding.Decode(s.SM.DataCoding, s.SM.Message)
		texts = append(texts, dec)
	}
	joined := strings.Join(texts, "|")
	for _, want := range []string{"Menu\nhttps://example.org/a.png", "Language?\n1) Malay\n2) English"} {
		if !strings.Contains(joined, want) {
			t.Errorf("SMS texts %q lack %q", joined, want)
		}
	}
}

func TestPlatformOutageThenRecovery(t *testing.T) {
	h := newHarness(t)
	h.waitBound()
	h.plat.setFail(500)
	h.deliverMO("+2349067554729", rpNumber, "during outage")
	h.plat.wait(t, "several failed attempts", func(r []platformReq) bool { return len(withPath(r, "/receive")) >= 3 })
	h.plat.setFail(0)
	reqs := h.plat.wait(t, "delivery after recovery", func(r []platformReq) bool {
		rs := withPath(r, "/receive")
		return len(rs) >= 4
	})
	last := withPath(reqs, "/receive")
	if f := last[len(last)-1].form(t); f.Get("text") != "during outage" {
		t.Errorf("last attempt form = %v", f)
	}
	// Once it got 2xx it is done: no more attempts.
	n := len(withPath(h.plat.all(), "/receive"))
	time.Sleep(300 * time.Millisecond)
	if m := len(withPath(h.plat.all(), "/receive")); m != n {
		t.Errorf("attempts went on after a 2xx: %d → %d", n, m)
	}
}

func TestSMSCDownHoldsMT(t *testing.T) {
	h := newHarness(t)
	h.waitBound()
	h.smsc.RefuseBinds(pdu.StatusBindFail)
	h.smsc.DropConnections()
	deadline := time.Now().Add(5 * time.Second)
	for h.d.client("agg-a").Bound() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	code, resp := h.post("/rapidpro/rp-main/send", "application/x-www-form-urlencoded", "",
		"id=1241244&text=held&to=%2B250788123123&from="+url.QueryEscape(rpNumber))
	if code != 200 {
		t.Fatalf("send while SMSC down = %d %s (the MT must be queued)", code, resp)
	}
	time.Sleep(200 * time.Millisecond)
	if n := len(h.smsc.Submits()); n != 0 {
		t.Fatalf("submits while down = %d", n)
	}
	h.smsc.RefuseBinds(pdu.StatusOK)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	subs, err := h.smsc.WaitSubmits(ctx, 1)
	if err != nil {
		t.Fatalf("MT not sent after reconnect: %v", err)
	}
	if dec, _ := coding.Decode(subs[0].SM.DataCoding, subs[0].SM.Message); dec != "held" {
		t.Errorf("text = %q", dec)
	}
	reqs := h.plat.wait(t, "sent callback", func(r []platformReq) bool { return len(withPath(r, "/sent")) == 1 })
	if f := withPath(reqs, "/sent")[0].form(t); f.Get("id") != "1241244" {
		t.Errorf("sent callback = %v, want id=1241244 as received", f)
	}
}

func TestRestartLosesNothing(t *testing.T) {
	h := newHarness(t)
	h.waitBound()
	h.plat.setFail(503)
	h.deliverMO("+2349067554729", rpNumber, "survive a restart")
	h.plat.wait(t, "a failed attempt", func(r []platformReq) bool { return len(withPath(r, "/receive")) >= 1 })
	h.shutdown()
	h.plat.setFail(0)
	h.start()
	h.plat.wait(t, "delivery after restart", func(r []platformReq) bool {
		for _, q := range withPath(r, "/receive") {
			if q.form(t).Get("text") == "survive a restart" && len(withPath(r, "/receive")) >= 2 {
				return true
			}
		}
		return false
	})
}

func TestRejectedRequestsQueueNothing(t *testing.T) {
	h := newHarness(t)
	h.waitBound()
	long := strings.Repeat("x", 7001)
	cases := []struct {
		name, path, auth, body string
		code                   int
		mention                string
	}{
		{"wrong token", "/custom/telenet/message", "Bearer nope",
			`{"channelId":"` + customChanID + `","contactId":"+60123456789","message":{"type":"text","text":"hi"}}`, 401, "unauthorized"},
		{"malformed JSON", "/custom/telenet/message", "Bearer " + customToken, `{"channelId":`, 400, ""},
		{"over-long text", "/custom/telenet/message", "Bearer " + customToken,
			`{"channelId":"` + customChanID + `","contactId":"+60123456789","message":{"type":"text","text":"` + long + `"}}`, 400, "message.text"},
		{"unknown channel", "/custom/nope/message", "Bearer " + customToken, `{}`, 404, "nope"},
		{"rapidpro without to", "/rapidpro/rp-main/send", "", `{"uuid":"0191e180-7d60-7000-aded-7d8b151cbd5b","text":"x"}`, 400, "to"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body := h.post(c.path, "application/json", c.auth, c.body)
			if code != c.code || !strings.Contains(string(body), c.mention) {
				t.Errorf("%s = %d %s, want %d mentioning %q", c.path, code, body, c.code, c.mention)
			}
		})
	}
	for lane, st := range h.d.store.Stats() {
		if st.Queued+st.Dead+st.Leased != 0 {
			t.Errorf("lane %s has items after rejected requests: %+v", lane, st)
		}
	}
	if n := len(h.smsc.Submits()); n != 0 {
		t.Errorf("submits = %d, want 0", n)
	}
}

func TestUnroutableMOIsDeadLettered(t *testing.T) {
	h := newHarness(t)
	h.waitBound()
	h.deliverMO("+2349067554729", "+15550001111", "to nobody")
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		dead, err := h.d.store.ListDead(context.Background(), "", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(dead) == 1 {
			if dead[0].DeadReason != "no_route" {
				t.Errorf("dead reason = %q, want no_route", dead[0].DeadReason)
			}
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("unroutable MO never showed up as a dead letter")
}

func TestDemoCompletes(t *testing.T) {
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := runDemo(ctx, &out, false); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	for _, want := range []string{"submit_sm_resp OK", "status delivered", `message_status event "delivered"`,
		"HSM notification sent to 542994843975.", `to 542994843975 data_coding 0x08: "Hola Julieta, tu pedido A-12 está listo."`,
		"to +542994843975: delivered", "0: Accepted for delivery", "dlr-url status=1", "done:",
		// It ends with the trace of the RapidPro MT, every hop.
		"smscbridge trace " + demoRPUUID, "http_in", "submit_sm  1", "→ submit_sm_resp OK message_id", "receipt for message_id", "delivered POST"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestAdminDeadLetters(t *testing.T) {
	h := newHarness(t)
	h.waitBound()
	h.deliverMO("+2349067554729", "+15550001111", "to nobody") // no_route dead letter
	admin := "http://" + h.d.AdminAddr()
	call := func(method, path, token string) (int, []byte) {
		req, _ := http.NewRequest(method, admin+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	if code, _ := call("GET", "/queue/dead", ""); code != 401 {
		t.Errorf("dead list without token = %d, want 401", code)
	}
	var items []struct{ ID, DeadReason string }
	for deadline := time.Now().Add(10 * time.Second); len(items) == 0 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		code, body := call("GET", "/queue/dead", "admin-secret")
		if code != 200 {
			t.Fatalf("dead list = %d %s", code, body)
		}
		_ = json.Unmarshal(body, &items)
	}
	if len(items) != 1 || items[0].DeadReason != "no_route" {
		t.Fatalf("dead letters = %+v, want one no_route", items)
	}
	if code, body := call("DELETE", "/queue/dead/"+items[0].ID, "admin-secret"); code != 200 {
		t.Errorf("drop = %d %s", code, body)
	}
	if code, _ := call("DELETE", "/queue/dead/"+items[0].ID, "admin-secret"); code != 404 {
		t.Errorf("second drop = %d, want 404", code)
	}
	// DELETE /queue/dead/{id} removes dead letters only, never a queued
	// item (issue 12 item 11: a queued MO callback was deleted with 200).
	queued, _, err := h.d.store.Enqueue(context.Background(), store.NewItem{Lane: "http:nobody-works-here", Payload: []byte("mo")})
	if err != nil {
		t.Fatal(err)
	}
	if code, body := call("DELETE", "/queue/dead/"+queued, "admin-secret"); code != 404 || !strings.Contains(string(body), "only dead letters") {
		t.Errorf("drop of a queued item = %d %s, want 404", code, body)
	}
	if it, err := h.d.store.Get(context.Background(), queued); err != nil || it.DeadReason != "" {
		t.Errorf("queued item after DELETE = %+v, %v; want still queued", it, err)
	}
	if code, _ := call("GET", "/status", ""); code != 200 {
		t.Errorf("status = %d", code)
	}
}

// TestReceiptBeforeSubmitResp: a fast SMSC sends the receipt before the
// submit_sm_resp; the bridge still matches it once the response lands.
func TestReceiptBeforeSubmitResp(t *testing.T) {
	h := newHarness(t)
	h.smsc.SetHandler(smsctest.HandlerFunc(func(s *smsctest.Session, p *pdu.PDU) *pdu.PDU {
		resp := h.smsc.Default(s, p)
		sm, ok := p.Body.(*pdu.ShortMessage)
		if p.ID != pdu.SubmitSM || !ok || resp == nil || resp.Status != pdu.StatusOK {
			return resp
		}
		id := resp.Body.(*pdu.MessageResp).MessageID
		go func() {
			rcpt := smsctest.BuildReceipt(smsctest.Submit{SM: sm, MessageID: id}, smsctest.Receipt{}, id, time.Now())
			st, err := s.Deliver(context.Background(), rcpt)
			if err != nil || st != pdu.StatusOK {
				t.Errorf("receipt deliver_sm = %v, %v", st, err)
			}
			s.Write(resp) // only now the submit_sm_resp
		}()
		return nil
	}))
	h.waitBound()
	code, resp := h.post("/rapidpro/rp-main/send", "application/x-www-form-urlencoded", "",
		"id=77&text=fast&to=%2B250788123123")
	if code != 200 {
		t.Fatalf("send = %d %s", code, resp)
	}
	reqs := h.plat.wait(t, "delivered callback", func(r []platformReq) bool { return len(withPath(r, "/delivered")) == 1 })
	if f := withPath(reqs, "/delivered")[0].form(t); f.Get("id") != "77" {
		t.Errorf("delivered callback = %v, want id=77", f)
	}
}

// TestLateSubmitRespSettles: a submit_sm_resp that comes after the response
// timeout turns the unknown_outcome dead letter into a "sent" callback.
func TestLateSubmitRespSettles(t *testing.T) {
	h := newHarness(t)
	h.waitBound()
	h.smsc.SetDelay(3 * time.Second) // response_timeout is 2s in the harness
	code, resp := h.post("/rapidpro/rp-main/send", "application/x-www-form-urlencoded", "",
		"id=88&text=slow&to=%2B250788123123")
	if code != 200 {
		t.Fatalf("send = %d %s", code, resp)
	}
	sawDead := false
	reqs := h.plat.wait(t, "sent callback after the late response", func(r []platformReq) bool {
		if dead, _ := h.d.store.ListDead(context.Background(), "", 10); len(dead) == 1 && strings.HasPrefix(dead[0].DeadReason, "unknown_outcome") {
			sawDead = true
		}
		return len(withPath(r, "/sent")) == 1
	})
	if f := withPath(reqs, "/sent")[0].form(t); f.Get("id") != "88" {
		t.Errorf("sent callback = %v", f)
	}
	if !sawDead {
		t.Errorf("the MT was never dead-lettered as unknown_outcome while its response was late")
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		dead, _ := h.d.store.ListDead(context.Background(), "", 10)
		if len(dead) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("dead letters after settling = %+v, want none", dead)
		}
	}
	if n := len(h.smsc.Submits()); n != 1 {
		t.Errorf("submits = %d, want 1 (never resent)", n)
	}
}

// TestThrottledPartIsRetriedInPlace: ESME_RTHROTTLED on part 2 of a long MT
// re-submits part 2 only; part 1 is not sent twice.
func TestThrottledPartIsRetriedInPlace(t *testing.T) {
	h := newHarness(t)
	h.waitBound()
	var n int
	var mu sync.Mutex
	h.smsc.SetHandler(smsctest.HandlerFunc(func(s *smsctest.Session, p *pdu.PDU) *pdu.PDU {
		mu.Lock()
		n++
		second := n == 2
		mu.Unlock()
		if p.ID == pdu.SubmitSM && second {
			return pdu.NewResponse(p, pdu.StatusThrottled, nil)
		}
		return h.smsc.Default(s, p)
	}))
	text := strings.Repeat("throttle me ", 20) // 240 GSM characters: 2 parts
	body, _ := json.Marshal(map[string]any{"uuid": "0191e180-7d60-7000-aded-7d8b151cbd5c", "text": text, "to": "+250788123123"})
	if code, resp := h.post("/rapidpro/rp-main/send", "application/json", "", string(body)); code != 200 {
		t.Fatalf("send = %d %s", code, resp)
	}
	h.plat.wait(t, "sent callback", func(r []platformReq) bool { return len(withPath(r, "/sent")) == 1 })
	var seqs []int
	for _, s := range h.smsc.Submits() {
		if s.Status != pdu.StatusOK {
			continue
		}
		c, _, err := coding.ParseUDH(s.SM.Message)
		if err != nil || c == nil {
			t.Fatalf("part without UDH: %v", err)
		}
		seqs = append(seqs, c.Seq)
	}
	if fmt.Sprint(seqs) != "[1 2]" {
		t.Errorf("accepted parts = %v, want [1 2] (part 1 once, part 2 after the throttle)", seqs)
	}
}

// TestThrottlingSMSCLosesNoMT: an SMSC that accepts 10 submit_sm/s gets 30
// MT at once; the bridge sends them all, each once, as fast as the SMSC
// allows, and none is dead-lettered for throttling.
func TestThrottlingSMSCLosesNoMT(t *testing.T) {
	const n = 30
	h := &harness{t: t, smsc: smsctest.NewServer(smsctest.WithAccount("bridge", "secret"), smsctest.WithSubmitRate(10)), plat: newPlatform(t)}
	t.Cleanup(h.smsc.Close)
	h.cfg = testConfig(t, h.smsc.Addr(), h.plat.srv.URL, filepath.Join(t.TempDir(), "bridge.db"))
	h.cfg.SMSC[0].ThrottlePause.Duration = 100 * time.Millisecond
	h.start()
	h.waitBound()
	for i := range n {
		body, _ := json.Marshal(map[string]any{"uuid": fmt.Sprintf("0191e180-7d60-7000-aded-7d8b151c%04d", i),
			"text": fmt.Sprintf("mt %d", i), "to": "+250788123123"})
		if code, resp := h.post("/rapidpro/rp-main/send", "application/json", "", string(body)); code != 200 {
			t.Fatalf("send %d = %d %s", i, code, resp)
		}
	}
	h.plat.wait(t, "sent callbacks", func(r []platformReq) bool { return len(withPath(r, "/sent")) == n })
	if dead, _ := h.d.store.ListDead(context.Background(), "", 10); len(dead) != 0 {
		t.Errorf("dead letters = %+v, want none", dead)
	}
	accepted := map[string]int{}
	for _, s := range h.smsc.Submits() {
		if s.Status == pdu.StatusOK {
			accepted[string(s.SM.Message)]++
		}
	}
	if len(accepted) != n {
		t.Errorf("SMSC accepted %d distinct MT, want %d", len(accepted), n)
	}
	for text, k := range accepted {
		if k != 1 {
			t.Errorf("%q accepted %d times, want once", text, k)
		}
	}
	t.Logf("%d throttled answers", h.smsc.Stats().Throttled)
}
