package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smscbridge/smscbridge/bridge/notify"
	"github.com/smscbridge/smscbridge/conf"
	"github.com/smscbridge/smscbridge/smsc/coding"
	"github.com/smscbridge/smscbridge/smsc/pdu"
	"github.com/smscbridge/smscbridge/smsc/smsctest"
)

const (
	notifyWebsite = "64652663e65219005dc61bd6"
	notifyKey     = "company-private-key"
)

// logBuffer is a log sink tests read while the daemon writes.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *logBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *logBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// notifyChannel is the notify channel of the end-to-end tests.
func notifyChannel() conf.Channel {
	return conf.Channel{ID: "events", Kind: conf.KindNotify, SMSC: []string{"agg-a"}, WebsiteID: notifyWebsite,
		APIKey: notifyKey, From: "MyBrand", AllowPrivateMedia: true, // the media server is an httptest one
		Template: []conf.Template{
			{ID: "7", Type: "text", Text: "Hola {{name}}, tu pedido {{order}} está listo."},
			{ID: "1", Type: "image", Text: "Hola {{name}}, mira tu pedido. Este mensaje es largo a proposito, para que el texto con el enlace ocupe dos SMS: asi se ve que el estado se informa una sola vez."},
		}}
}

// startNotifyDaemon runs the daemon with the notify channel added, logging
// JSON into logs, and returns the platform base URL and the store path.
func startNotifyDaemon(t *testing.T, sim *smsctest.Server, logs *logBuffer) (base, db string, stop func()) {
	t.Helper()
	db = filepath.Join(t.TempDir(), "bridge.db")
	cfg := testConfig(t, sim.Addr(), "http://127.0.0.1:9", db)
	cfg.Channel = append(cfg.Channel, notifyChannel())
	d, err := newDaemon(cfg, daemonOptions{Logger: slog.New(slog.NewJSONHandler(logs, nil)), ReceiptGrace: 3 * time.Second})
	if err != nil {
		t.Fatalf("newDaemon: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	ready := make(chan struct{})
	go func() { done <- d.Run(ctx, func() { close(ready) }) }()
	<-ready
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("daemon Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	if err := sim.WaitBound(wctx, 1); err != nil {
		t.Fatalf("bridge never bound: %v", err)
	}
	return "http://" + d.HTTPAddr(), db, stop
}

func postNotify(t *testing.T, url, apikey, body string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if apikey != "" {
		req.Header.Set("apikey", apikey)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp, b.Bytes()
}

// statusLines returns the "notification status" log records of msg id.
func statusLines(logs string, id string) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(logs, "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "notification status" && m["msg_id"] == id {
			out = append(out, m)
		}
	}
	return out
}

// submittedText joins the text of the submits (UDH removed).
func submittedText(t *testing.T, subs []smsctest.Submit) string {
	t.Helper()
	var b strings.Builder
	for _, s := range subs {
		msg := s.SM.Message
		if s.SM.ESMClass&pdu.ESMClassUDHI != 0 {
			_, rest, err := coding.ParseUDH(msg)
			if err != nil {
				t.Fatal(err)
			}
			msg = rest
		}
		text, err := coding.Decode(s.SM.DataCoding, msg)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString(text)
	}
	return b.String()
}

// TestNotificationEndToEnd: a media notification is checked (HEAD), its
// rendered text with the link reaches the strict simulator in two parts
// from the channel's sender, and its statuses (sent, delivered: once each,
// for the whole message) are logged with the notification's id at INFO
// and shown by "queue show".
func TestNotificationEndToEnd(t *testing.T) {
	sim := smsctest.NewServer(smsctest.WithTB(t), smsctest.WithAccount("bridge", "secret"),
		smsctest.WithReceipts(20*time.Millisecond, nil))
	t.Cleanup(sim.Close)
	media := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/jpeg")
		w.Header().Set("Content-Length", "123456")
	}))
	t.Cleanup(media.Close)
	logs := &logBuffer{}
	base, db, stop := startNotifyDaemon(t, sim, logs)

	link := media.URL + "/pedido.jpg"
	resp, body := postNotify(t, base+"/website/"+notifyWebsite+"/hsm/notifications", notifyKey,
		`{"templateId":1,"destination":"542994843975","params":{"name":"Santiago"},"media":{"link":"`+link+`"}}`)
	if resp.StatusCode != 200 || string(body) != `{"code":"SUCCESS","statusCode":200,"description":"Resource successfully created","result":"HSM notification sent to 542994843975."}` {
		t.Fatalf("notification: %d %s", resp.StatusCode, body)
	}
	id := resp.Header.Get(notify.IDHeader)
	if id == "" {
		t.Fatalf("no %s header", notify.IDHeader)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	subs, err := sim.WaitSubmits(ctx, 2)
	if err != nil {
		t.Fatalf("submits: %v", err)
	}
	want := "Hola Santiago, mira tu pedido. Este mensaje es largo a proposito, para que el texto con el enlace ocupe dos SMS: asi se ve que el estado se informa una sola vez.\n" + link
	if len(sim.Submits()) != 2 {
		t.Errorf("%d submit_sm, want 2 parts", len(sim.Submits()))
	}
	if got := submittedText(t, subs); got != want {
		t.Errorf("SMSC got %q, want %q", got, want)
	}
	for i, s := range subs {
		if s.SM.SourceAddr != "MyBrand" || s.SM.SourceTON != 5 || s.SM.DestAddr != "542994843975" || s.SM.DestTON != 1 {
			t.Errorf("submit %d: from %q ton %d to %q ton %d", i, s.SM.SourceAddr, s.SM.SourceTON, s.SM.DestAddr, s.SM.DestTON)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(statusLines(logs.String(), id)) < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // a duplicate or backwards status would show up by now
	lines := statusLines(logs.String(), id)
	var states []string
	for _, l := range lines {
		states = append(states, l["status"].(string))
		if l["level"] != "INFO" || l["channel"] != "events" || l["to"] != "+542994843975" {
			t.Errorf("status line %v", l)
		}
	}
	if strings.Join(states, ",") != "sent,delivered" {
		t.Errorf("logged statuses %v, want sent,delivered (once each for the two-part message)", states)
	}
	if strings.Contains(logs.String(), notifyKey) {
		t.Error("the apikey is in the logs")
	}
	if vs := sim.Violations(); len(vs) > 0 {
		t.Errorf("SMPP violations: %v", vs)
	}

	stop()
	code, out, errs := runQueue(t, "show", "-db", db, id)
	if code != 0 || !strings.Contains(out, "notification status: delivered") || !strings.Contains(out, "+542994843975") {
		t.Errorf("queue show %s = %d\n%s%s", id, code, out, errs)
	}
}

// TestNotificationFailedIsLogged: a notification the SMSC refuses for good
// (receipt UNDELIV) is logged sent, then failed with the receipt's error code.
func TestNotificationFailedIsLogged(t *testing.T) {
	sim := smsctest.NewServer(smsctest.WithTB(t), smsctest.WithAccount("bridge", "secret"),
		smsctest.WithReceipts(20*time.Millisecond, func(smsctest.Submit) smsctest.Receipt {
			return smsctest.Receipt{Stat: "UNDELIV", Err: "001"}
		}))
	t.Cleanup(sim.Close)
	logs := &logBuffer{}
	base, _, _ := startNotifyDaemon(t, sim, logs)
	resp, body := postNotify(t, base+"/website/"+notifyWebsite+"/hsm/notifications", notifyKey,
		`{"templateId":"7","destination":"542994843975","params":{"name":"Julieta","order":"A-12"}}`)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	id := resp.Header.Get(notify.IDHeader)
	deadline := time.Now().Add(10 * time.Second)
	var lines []map[string]any
	for time.Now().Before(deadline) {
		if lines = statusLines(logs.String(), id); len(lines) >= 2 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(lines) != 2 || lines[0]["status"] != "sent" || lines[1]["status"] != "failed" || lines[1]["err_code"] != "001" {
		t.Errorf("status lines %v, want sent then failed with err_code 001", lines)
	}
	if got := submittedText(t, sim.Submits()); got != "Hola Julieta, tu pedido A-12 está listo." {
		t.Errorf("SMSC got %q", got)
	}
}

// TestNotificationRouting: answers of the core for the notifications path,
// in the API's shape, and the checks reaching the daemon (no SMS queued).
func TestNotificationRouting(t *testing.T) {
	sim := newSim(t)
	base, _, _ := startNotifyDaemon(t, sim, &logBuffer{})
	body := `{"templateId":"7","destination":"542994843975","params":{"name":"a","order":"b"}}`
	for _, tc := range []struct {
		path, apikey string
		code         int
		want         string
	}{
		{"/website/6377e1f22f9fc600267345c3/hsm/notifications", notifyKey, 401,
			`{"code":"UNAUTHORIZED","statusCode":401,"description":"Invalid ApiKey","result":{"websiteId":"6377e1f22f9fc600267345c3"}}`},
		{"/website/" + notifyWebsite + "/hsm/notifications", "wrong", 401,
			`{"code":"UNAUTHORIZED","statusCode":401,"description":"Invalid ApiKey","result":{"websiteId":"64652663e65219005dc61bd6"}}`},
		{"/website/" + notifyWebsite + "/hsm", notifyKey, 404, `"code":"NOT_FOUND"`},
		{"/website/" + notifyWebsite + "/hsm/other", notifyKey, 404, `"code":"NOT_FOUND"`},
	} {
		resp, got := postNotify(t, base+tc.path, tc.apikey, body)
		if resp.StatusCode != tc.code || !strings.Contains(string(got), tc.want) {
			t.Errorf("%s: %d %s, want %d %s", tc.path, resp.StatusCode, got, tc.code, tc.want)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/website/"+notifyWebsite+"/hsm/notifications", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "POST" {
		t.Errorf("GET: %d Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
	if n := len(sim.Submits()); n != 0 {
		t.Errorf("%d submit_sm for refused requests", n)
	}
}

// TestNotificationRefusedBySMSC: a notification the SMSC refuses with a
// permanent error is logged failed with the SMPP status, is a dead letter,
// and "queue show" has both.
func TestNotificationRefusedBySMSC(t *testing.T) {
	sim := newSim(t)
	sim.SetStatus(pdu.StatusInvDstAdr, false) // permanent
	logs := &logBuffer{}
	base, db, stop := startNotifyDaemon(t, sim, logs)
	resp, body := postNotify(t, base+"/website/"+notifyWebsite+"/hsm/notifications", notifyKey,
		`{"templateId":"7","destination":"542994843975","params":{"name":"Julieta","order":"A-12"}}`)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	id := resp.Header.Get(notify.IDHeader)
	deadline := time.Now().Add(10 * time.Second)
	var lines []map[string]any
	for time.Now().Before(deadline) {
		if lines = statusLines(logs.String(), id); len(lines) >= 1 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(lines) != 1 || lines[0]["status"] != "failed" || lines[0]["err_code"] != "0x0B" {
		t.Errorf("status lines %v, want one failed with err_code 0x0B", lines)
	}
	stop()
	code, out, errs := runQueue(t, "show", "-db", db, id)
	if code != 0 || !strings.Contains(out, "dead at:") || !strings.Contains(out, "notification status: failed") {
		t.Errorf("queue show %s = %d\n%s%s", id, code, out, errs)
	}
}
