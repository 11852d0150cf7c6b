package rapidpro

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/smscbridge/smscbridge/bridge"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// render prints requests as HTTP-like text: method, URL, sorted headers,
// blank line, body.
func render(reqs []bridge.Request) string {
	var b strings.Builder
	for i, r := range reqs {
		if i > 0 {
			b.WriteString("\n----\n")
		}
		b.WriteString(r.Method + " " + r.URL + "\n")
		keys := make([]string, 0, len(r.Header))
		for k := range r.Header {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			b.WriteString(k + ": " + r.Header[k] + "\n")
		}
		b.WriteString("\n")
		b.Write(r.Body)
		b.WriteString("\n")
	}
	return b.String()
}

// checkGolden compares got with testdata/name.golden (rewritten by -update).
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("requests differ from %s\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

var fixedNow = time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)

func TestMOGolden(t *testing.T) {
	sao := time.FixedZone("BRT", -3*3600)
	tests := []struct {
		name string
		mo   bridge.MO
	}{
		{"mo-simple", bridge.MO{ID: "m1", Channel: testChannel, From: "+2349067554729", To: "+5582999489287",
			Text: "Join", Received: time.Date(2017, 6, 23, 12, 30, 0, 500e6, time.UTC), Parts: 1}},
		{"mo-unicode-reserved", bridge.MO{ID: "m2", Channel: testChannel, From: "+5582999489287", To: "2020",
			Text: "Olá 😀 1+1=2 & 50% off?\nline two", Received: time.Date(2026, 1, 2, 9, 8, 7, 123456789, sao), Parts: 3}},
		{"mo-no-date", bridge.MO{ID: "m3", Channel: testChannel, From: "+15551234567", Text: ""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := MustAdapter(t, &fakeAccepter{}, nil, func(c *Config) { c.Now = func() time.Time { return fixedNow } })
			reqs, err := a.MO(tc.mo)
			if err != nil {
				t.Fatalf("MO(%+v) = %v", tc.mo, err)
			}
			checkGolden(t, tc.name, render(reqs))
		})
	}
}

func TestMONoSender(t *testing.T) {
	a := MustAdapter(t, &fakeAccepter{}, nil, nil)
	if reqs, err := a.MO(bridge.MO{ID: "m1", Text: "x"}); err == nil {
		t.Errorf("MO without From = %v, nil; want an error", reqs)
	}
}

func TestStatusGolden(t *testing.T) {
	explicit := func(c *Config) {
		c.SentURL = "https://courier.example/hooks/sent?k=1"
		c.DeliveredURL = "https://courier.example/hooks/dlr"
		c.FailedURL = "https://courier.example/hooks/fail"
	}
	trailing := func(c *Config) { c.ReceiveURL += "/" }
	tests := []struct {
		name string
		edit func(*Config)
		st   bridge.Status
	}{
		{"status-sent-uuid", nil, bridge.Status{MTID: "b1", ExternalID: testUUID, State: bridge.StateSent}},
		{"status-delivered-uuid", nil, bridge.Status{MTID: "b1", ExternalID: testUUID, State: bridge.StateDelivered}},
		{"status-failed-uuid", nil, bridge.Status{MTID: "b1", ExternalID: testUUID, State: bridge.StateFailed,
			ErrorCode: "0x0000000B", Description: "invalid destination"}},
		{"status-delivered-int", nil, bridge.Status{MTID: "b2", ExternalID: "1241244", State: bridge.StateDelivered}},
		{"status-sent-upper-uuid", nil, bridge.Status{MTID: "b3", ExternalID: strings.ToUpper(testUUID), State: bridge.StateSent}},
		{"status-failed-explicit-url", explicit, bridge.Status{MTID: "b4", ExternalID: "7", State: bridge.StateFailed}},
		{"status-sent-explicit-url", explicit, bridge.Status{MTID: "b4", ExternalID: "7", State: bridge.StateSent}},
		{"status-delivered-trailing-slash", trailing, bridge.Status{MTID: "b5", ExternalID: "8", State: bridge.StateDelivered}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := MustAdapter(t, &fakeAccepter{}, nil, tc.edit)
			reqs, err := a.Status(tc.st)
			if err != nil {
				t.Fatalf("Status(%+v) = %v", tc.st, err)
			}
			checkGolden(t, tc.name, render(reqs))
		})
	}
}

func TestStatusErrors(t *testing.T) {
	a := MustAdapter(t, &fakeAccepter{}, nil, nil)
	for _, st := range []bridge.Status{
		{MTID: "b1", ExternalID: "", State: bridge.StateSent},
		{MTID: "b1", ExternalID: "7", State: 0},
		{MTID: "b1", ExternalID: "7", State: bridge.State(99)},
	} {
		if reqs, err := a.Status(st); err == nil {
			t.Errorf("Status(%+v) = %v, nil; want an error", st, reqs)
		}
	}
}

func TestNew(t *testing.T) {
	acc := &fakeAccepter{}
	tests := []struct {
		name    string
		cfg     Config
		acc     bridge.Accepter
		errText string // "" means valid
	}{
		{"minimal", Config{Channel: "c", ReceiveURL: testRecv}, acc, ""},
		{"http and trailing slash", Config{Channel: "c", ReceiveURL: "http://10.0.0.1:8000/c/ex/8eb23e93-5ecb-45ba-b726-3b064e0c56ab/receive/"}, acc, ""},
		{"odd receive url with explicit status urls", Config{Channel: "c", ReceiveURL: "https://x.example/in",
			SentURL: "https://x.example/s", DeliveredURL: "https://x.example/d", FailedURL: "https://x.example/f"}, acc, ""},
		{"with authorization", Config{Channel: "c", ReceiveURL: testRecv, SendAuthorization: testSecret}, acc, ""},
		{"no channel", Config{ReceiveURL: testRecv}, acc, "channel id is empty"},
		{"nil accepter", Config{Channel: "c", ReceiveURL: testRecv}, nil, "nil Accepter"},
		{"no receive url", Config{Channel: "c"}, acc, "receive_url is empty"},
		{"relative receive url", Config{Channel: "c", ReceiveURL: "/c/ex/x/receive"}, acc, "absolute http:// or https://"},
		{"ftp receive url", Config{Channel: "c", ReceiveURL: "ftp://x.example/receive"}, acc, "absolute http:// or https://"},
		{"unparsable receive url", Config{Channel: "c", ReceiveURL: "https://x.example/%zz"}, acc, "receive_url"},
		{"upper-case channel uuid", Config{Channel: "c", ReceiveURL: "https://x.example/c/ex/8EB23E93-5ECB-45BA-B726-3B064E0C56AB/receive"}, acc, "lowercase channel UUID"},
		{"cannot derive", Config{Channel: "c", ReceiveURL: "https://x.example/in"}, acc, `sent_url not set and receive_url does not end in "/receive"`},
		{"cannot derive failed", Config{Channel: "c", ReceiveURL: "https://x.example/in",
			SentURL: "https://x.example/s", DeliveredURL: "https://x.example/d"}, acc, "failed_url not set"},
		{"bad sent url", Config{Channel: "c", ReceiveURL: testRecv, SentURL: "courier/sent"}, acc, "sent_url"},
		{"password redacted", Config{Channel: "c", ReceiveURL: "ftp://u:hunter2@x.example/receive"}, acc, "u:xxxxx@"},
		{"authorization with trailing space", Config{Channel: "c", ReceiveURL: testRecv, SendAuthorization: "Bearer x "}, acc, "send_authorization has leading or trailing white space"},
		{"authorization with newline", Config{Channel: "c", ReceiveURL: testRecv, SendAuthorization: "Bearer x\r\ny"}, acc, "send_authorization contains a line break"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := New(tc.cfg, tc.acc, nil)
			if tc.errText == "" {
				if err != nil || a == nil {
					t.Fatalf("New(%+v) = %v, %v; want an adapter", tc.cfg, a, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.errText) {
				t.Fatalf("New(%+v) error = %v, want it to contain %q", tc.cfg, err, tc.errText)
			}
			if !strings.HasPrefix(err.Error(), "rapidpro: ") {
				t.Errorf("error %q lacks the rapidpro: prefix", err)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q leaks a URL password", err)
			}
		})
	}
}

func TestConfigHidesSecret(t *testing.T) {
	c := Config{Channel: "c", ReceiveURL: testRecv, SendAuthorization: testSecret}
	var logs strings.Builder
	slog.New(slog.NewTextHandler(&logs, nil)).Info("config", "cfg", c)
	for _, out := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%v", &c), logs.String()} {
		if strings.Contains(out, "s3cret") {
			t.Errorf("output shows the secret: %s", out)
		}
		if !strings.Contains(out, testRecv) {
			t.Errorf("output lacks receive_url: %s", out)
		}
	}
}
