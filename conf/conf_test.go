package conf

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// MustLoad loads path or fails the test.
func MustLoad(t *testing.T, path string) *Config {
	t.Helper()
	cfg, err := Load(path)
	if err != nil {
		t.Fatalf("Load(%s): %v", path, err)
	}
	return cfg
}

func TestLoadGood(t *testing.T) {
	cfg := MustLoad(t, "testdata/good.toml")
	dir, _ := filepath.Abs("testdata")
	if !filepath.IsAbs(dir) {
		t.Fatal("no absolute testdata dir")
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"File", cfg.File, "testdata/good.toml"},
		{"http.listen", cfg.HTTP.Listen, "127.0.0.1:13013"},
		{"http.max_body", cfg.HTTP.MaxBody, Size(512 << 10)},
		{"admin.listen (default)", cfg.Admin.Listen, "127.0.0.1:13000"},
		{"admin.token from token_file, newline trimmed", cfg.Admin.Token, "s3cret"},
		{"admin.token_file resolved", cfg.Admin.TokenFile, filepath.Join("testdata", "secret.txt")},
		{"store.path resolved", cfg.Store.Path, filepath.Join("testdata", "state", "bridge.db")},
		{"store.receipt_ttl", cfg.Store.ReceiptTTL.Duration, 72 * time.Hour},
		{"store.reassembly_timeout", cfg.Store.ReassemblyTimeout.Duration, 10 * time.Minute},
		{"store.partial_mo", cfg.Store.PartialMO, "deliver"},
		{"store.trace_ttl", cfg.Store.TraceTTL.Duration, 72 * time.Hour},
		{"store.trace_max", cfg.Store.TraceMax, 500000},
		{"retry", cfg.Retry, Default().Retry},
		{"log", cfg.Log, Log{Level: "info", Format: "json"}},
		{"smsc count", len(cfg.SMSC), 2},
		{"smsc a password from file", cfg.SMSC[0].Password, "s3cret"},
		{"smsc a port (default)", cfg.SMSC[0].Port, 2775},
		{"smsc a country upper-cased", cfg.SMSC[0].Country, "MY"},
		{"smsc a source_ton from an integer", cfg.SMSC[0].SourceTON, "5"},
		{"smsc a dest_ton (default)", cfg.SMSC[0].DestTON, "auto"},
		{"smsc a throughput", cfg.SMSC[0].Throughput, 50.0},
		{"smsc a registered_delivery (default)", cfg.SMSC[0].RegisteredDelivery, true},
		{"smsc a enquire_link (default)", cfg.SMSC[0].EnquireLink.Duration, 30 * time.Second},
		{"smsc a max_parts (default)", cfg.SMSC[0].MaxParts, 255},
		{"smsc a failover_after (default)", cfg.SMSC[0].FailoverAfter.Duration, 30 * time.Second},
		{"smsc b failover_after", cfg.SMSC[1].FailoverAfter.Duration, 2 * time.Minute},
		{"smsc b registered_delivery", cfg.SMSC[1].RegisteredDelivery, false},
		{"smsc b bind", cfg.SMSC[1].Bind, "pair"},
		{"smsc b sessions", cfg.SMSC[1].Sessions, 2},
		{"smsc b window", cfg.SMSC[1].Window, 50},
		{"smsc a dc0_charset (default)", cfg.SMSC[0].DC0Charset, "gsm7"},
		{"smsc a gsm7_packed", cfg.SMSC[0].GSM7Packed, true},
		{"smsc a text_receipts (default)", cfg.SMSC[0].TextReceipts, false},
		{"smsc b dc0_charset", cfg.SMSC[1].DC0Charset, "latin1"},
		{"smsc b gsm7_packed (default)", cfg.SMSC[1].GSM7Packed, false},
		{"smsc b text_receipts", cfg.SMSC[1].TextReceipts, true},
		{"smsc a concurrency (default: 4 × window × sessions)", cfg.SMSC[0].Concurrency, 40},
		{"smsc b concurrency (default: 4 × window × sessions)", cfg.SMSC[1].Concurrency, 400},
		{"rapidpro concurrency (default)", cfg.ChannelByID("rp-main").Concurrency, 64},
		{"custom concurrency", cfg.ChannelByID("telenet").Concurrency, 4},
		{"smsc b reconnect_max (default)", cfg.SMSC[1].ReconnectMax.Duration, time.Minute},
		{"smsc b local_addr", cfg.SMSC[1].LocalAddr, "10.8.0.2"},
		{"smsc b max_inbound", cfg.SMSC[1].MaxInbound, 500},
		{"smsc b throttle_pause", cfg.SMSC[1].ThrottlePause.Duration, 2 * time.Second},
		{"smsc b throttle_max (default)", cfg.SMSC[1].ThrottleMax.Duration, 30 * time.Second},
		{"smsc b throttle_timeout", cfg.SMSC[1].ThrottleTimeout.Duration, 5 * time.Minute},
		{"smsc a max_inbound (default)", cfg.SMSC[0].MaxInbound, 200},
		{"smsc a local_addr (default)", cfg.SMSC[0].LocalAddr, ""},
		{"route", cfg.Route, []Route{{Prefix: "+55", SMSC: []string{"agg-b", "agg-a"}}}},
		{"rapidpro sent_url derived", cfg.ChannelByID("rp-main").SentURL, "https://rapidpro.example.org/c/ex/a86f686f-9168-4dd9-a03e-77f11b265b56/sent/"},
		{"rapidpro delivered_url derived", cfg.ChannelByID("rp-main").DeliveredURL, "https://rapidpro.example.org/c/ex/a86f686f-9168-4dd9-a03e-77f11b265b56/delivered/"},
		{"rapidpro failed_url derived", cfg.ChannelByID("rp-main").FailedURL, "https://rapidpro.example.org/c/ex/a86f686f-9168-4dd9-a03e-77f11b265b56/failed/"},
		{"rapidpro send_authorization", cfg.ChannelByID("rp-main").SendAuthorization, "Bearer s3cret-auth"},
		{"kannel mo_method (default)", cfg.ChannelByID("rp-kannel").MOMethod, "POST"},
		{"custom id_type (default)", cfg.ChannelByID("telenet").IDType, "phone"},
		{"custom dedup_window (default)", cfg.ChannelByID("telenet").DedupWindow.Duration, 10 * time.Second},
		{"custom numbers", cfg.ChannelByID("telenet").Numbers, []string{"+60177872890", "MyShop"}},
		{"notify dedup_window 0s = off", cfg.ChannelByID("events").DedupWindow.Duration, time.Duration(0)},
		{"notify template type lower-cased", cfg.ChannelByID("events").Template[0].Type, "text"},
		{"notify templates", len(cfg.ChannelByID("events").Template), 2},
		{"rapidpro has no dedup_window", cfg.ChannelByID("rp-main").DedupWindow.Duration, time.Duration(0)},
		{"SMSCByID unknown", cfg.SMSCByID("nope") == nil, true},
		{"SMSCByID", cfg.SMSCByID("agg-b").Port, 2776},
		{"ChannelByID unknown", cfg.ChannelByID("nope") == nil, true},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("Validate() after Load = %v", err)
	}
}

// TestSampleConfigs loads every shipped sample (CI runs check-config on
// them too).
func TestSampleConfigs(t *testing.T) {
	files, err := filepath.Glob("../testdata/*.toml")
	if err != nil || len(files) < 2 {
		t.Fatalf("sample configs: %v %v", files, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) { MustLoad(t, f) })
	}
}

func TestDefault(t *testing.T) {
	d := Default()
	if d.HTTP.Listen != "0.0.0.0:13013" || d.HTTP.MaxBody != 1<<20 || d.Admin.Listen != "127.0.0.1:13000" ||
		d.Store.Path != "/var/lib/smscbridge/bridge.db" || d.Retry.MaxAttempts != 20 ||
		d.Retry.InitialBackoff.Duration != 2*time.Second || d.Retry.MaxAge.Duration != 48*time.Hour {
		t.Errorf("Default() = %+v", d)
	}
	s := DefaultSMSC()
	if s.Port != 2775 || s.Bind != "transceiver" || s.Window != 10 || s.MaxParts != 255 || !s.RegisteredDelivery {
		t.Errorf("DefaultSMSC() = %+v", s)
	}
}

// codeConfig is a valid Config built without a file.
func codeConfig() Config {
	c := Default()
	s := DefaultSMSC()
	s.ID, s.Host, s.SystemID, s.Password = "sim", "127.0.0.1", "bridge", "pw"
	c.SMSC = []SMSC{s}
	c.Channel = []Channel{{
		ID: "rp", Kind: KindRapidPro, Numbers: []string{"+5582999489287"}, SMSC: []string{"sim"},
		ReceiveURL: "http://127.0.0.1:8080/c/ex/x/receive",
	}}
	return c
}

func TestValidateInCode(t *testing.T) {
	c := codeConfig()
	c.Complete()
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate() = %v", err)
	}
	if got := c.Channel[0].SentURL; got != "http://127.0.0.1:8080/c/ex/x/sent" {
		t.Errorf("Complete() SentURL = %q", got)
	}
	c.SMSC[0].Port = 0
	c.Channel[0].SMSC = []string{"other"}
	got := problemLines(c.Validate())
	want := []string{
		`smsc "sim": port 0: must be 1..65535`,
		`channel "rp": smsc "other": must be the id of an [[smsc]] (known: "sim")`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Validate() = %q, want %q", got, want)
	}
}

// TestEveryProblemReported checks that decode, secret and validation
// problems of one file all come back, in line order.
func TestEveryProblemReported(t *testing.T) {
	src := `[http]
max_body = "huge"
[[smsc]]
id = "a"
host = "h"
system_id = "s"
password = "p"
password_file = "x"
window = 0
[[channel]]
id = "c"
kind = "rapidpro"
smsc = ["a"]
receive_url = "/relative/receive"
colour = "blue"
`
	_, err := parse("inline.toml", []byte(src))
	got := problemLines(err)
	want := []string{
		`inline.toml:2: http.max_body "huge": must be a size like "1MiB", "512KiB" or a number of bytes`,
		`inline.toml:8: smsc "a": password_file "x": give either password or password_file, not both`,
		`inline.toml:9: smsc "a": window 0: must be 1..1000`,
		`inline.toml:14: channel "c": receive_url "/relative/receive": must be an absolute http:// or https:// URL`,
		`inline.toml:15: channel "c": colour: unknown key`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parse errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/does-not-exist.toml")
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Load(missing) = %v, want *Error wrapping os.ErrNotExist", err)
	}
	if want := "testdata/does-not-exist.toml: cannot read the configuration: no such file or directory"; err.Error() != want {
		t.Errorf("Load(missing) = %q, want %q", err, want)
	}
}

// TestSecretsNeverPrinted formats and logs a loaded Config every way a
// debug line might, and looks for each secret.
func TestSecretsNeverPrinted(t *testing.T) {
	cfg := MustLoad(t, "testdata/good.toml")
	cfg.Store.DSN = "postgres://bridge:dsn-pa55@db.example.org/smscbridge"
	secrets := []string{"s3cret", "pw", "Bearer s3cret-auth", "kannel-pw", "custom-t0ken", "notify-ap1key", "dsn-pa55"}
	var outs []string
	for _, verb := range []string{"%v", "%+v", "%s", "%#v"} {
		outs = append(outs,
			fmt.Sprintf(verb, cfg), fmt.Sprintf(verb, *cfg),
			fmt.Sprintf(verb, cfg.Admin), fmt.Sprintf(verb, cfg.SMSC), fmt.Sprintf(verb, cfg.SMSC[1]),
			fmt.Sprintf(verb, &cfg.SMSC[1]), fmt.Sprintf(verb, cfg.Channel), fmt.Sprintf(verb, cfg.Channel[1]),
			fmt.Sprintf(verb, cfg.Store), fmt.Sprintf(verb, &cfg.Store))
	}
	for _, h := range []func(*bytes.Buffer) slog.Handler{
		func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	} {
		var b bytes.Buffer
		log := slog.New(h(&b))
		log.Info("config", "cfg", cfg, "smsc", cfg.SMSC[1], "channel", cfg.Channel[2], "admin", cfg.Admin, "store", cfg.Store)
		outs = append(outs, b.String())
	}
	for _, out := range outs {
		if !strings.Contains(out, "agg-b") && !strings.Contains(out, "rapidpro") && !strings.Contains(out, "13000") && !strings.Contains(out, "bridge.db") {
			t.Errorf("output carries no config at all: %q", out)
		}
		for _, s := range secrets {
			if containsWord(out, s) {
				t.Errorf("secret %q printed in %q", s, out)
			}
		}
	}
	if cfg.SMSC[1].Password != "pw" || cfg.Channel[2].APIToken != "custom-t0ken" {
		t.Error("redaction changed the Config itself")
	}
}

// containsWord reports whether s occurs in out not as part of a longer
// identifier ("pw" inside "password" does not count).
func containsWord(out, s string) bool {
	isWord := func(b byte) bool {
		return b == '_' || b == '-' || b >= '0' && b <= '9' || b|0x20 >= 'a' && b|0x20 <= 'z'
	}
	for i := 0; ; {
		j := strings.Index(out[i:], s)
		if j < 0 {
			return false
		}
		j += i
		end := j + len(s)
		if (j == 0 || !isWord(out[j-1])) && (end == len(out) || !isWord(out[end])) {
			return true
		}
		i = j + 1
	}
}

func TestSizeAndDuration(t *testing.T) {
	sizes := []struct {
		in   string
		want Size
		ok   bool
	}{
		{"1MiB", 1 << 20, true}, {"512KiB", 512 << 10, true}, {"2GiB", 2 << 30, true},
		{"1 MiB", 1 << 20, true}, {"1000", 1000, true}, {"100B", 100, true}, {"1MB", 1e6, true}, {"3kB", 3000, true},
		{"", 0, false}, {"MiB", 0, false}, {"-1", 0, false}, {"1.5MiB", 0, false}, {"1TiB", 0, false},
	}
	for _, s := range sizes {
		got, err := ParseSize(s.in)
		if (err == nil) != s.ok || got != s.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d, ok=%v", s.in, got, err, s.want, s.ok)
		}
	}
	for in, want := range map[Size]string{1 << 20: "1MiB", 1536: "1536", 2048: "2KiB", 0: "0", 3 << 30: "3GiB"} {
		if got := in.String(); got != want {
			t.Errorf("Size(%d).String() = %q, want %q", int64(in), got, want)
		}
	}
	var d Duration
	if err := d.UnmarshalText([]byte("1m30s")); err != nil || d.Duration != 90*time.Second {
		t.Errorf("Duration.UnmarshalText(1m30s) = %v, %v", d, err)
	}
	if err := d.UnmarshalText([]byte("30")); err == nil {
		t.Error("Duration.UnmarshalText(30) = nil error, want error")
	}
	if b, _ := (Duration{10 * time.Minute}).MarshalText(); string(b) != "10m0s" {
		t.Errorf("Duration.MarshalText = %q", b)
	}
}

func TestDerivedStatusURLs(t *testing.T) {
	tests := []struct{ receive, want string }{
		{"https://rp.example/c/ex/u/receive", "https://rp.example/c/ex/u/sent"},
		{"https://rp.example/c/ex/u/receive/", "https://rp.example/c/ex/u/sent/"},
		{"https://rp.example/c/ex/u/receive?x=1", "https://rp.example/c/ex/u/sent?x=1"},
		{"https://rp.example/c/ex/u/in", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := orDerived("", tt.receive, "sent"); got != tt.want {
			t.Errorf("orDerived(%q) = %q, want %q", tt.receive, got, tt.want)
		}
	}
	if got := orDerived("https://other/sent", "https://rp.example/c/ex/u/receive", "sent"); got != "https://other/sent" {
		t.Errorf("orDerived kept explicit = %q", got)
	}
}

func BenchmarkLoadSample(b *testing.B) {
	for b.Loop() {
		if _, err := Load("../testdata/smscbridge.toml"); err != nil {
			b.Fatal(err)
		}
	}
}

// TestDecodeTypes checks the messages for values of the wrong TOML type.
func TestDecodeTypes(t *testing.T) {
	base := "[[smsc]]\nid = \"a\"\nhost = \"h\"\nsystem_id = \"s\"\n%s\n[[channel]]\nid = \"c\"\nkind = \"rapidpro\"\nsmsc = [\"a\"]\nreceive_url = \"https://x.example/c/ex/u/receive\"\n"
	tests := []struct{ line, want string }{
		{`window = 10.0`, `t.toml:5: smsc "a": window 10: must be an integer`},
		{`window = 99999999999`, `t.toml:5: smsc "a": window 99999999999: must be an integer from -2147483648 to 2147483647`},
		{`throughput = "fast"`, `t.toml:5: smsc "a": throughput "fast": must be a number`},
		{`tls = "yes"`, `t.toml:5: smsc "a": tls "yes": must be true or false`},
		{`source_ton = 1.5`, `t.toml:5: smsc "a": source_ton 1.5: must be "auto" or a TON number 0..6`},
		{`system_type = 5`, `t.toml:5: smsc "a": system_type 5: must be a string`},
		{`enquire_link = 30`, `t.toml:5: smsc "a": enquire_link 30: must be a duration string like "30s" or "10m"`},
		{`reconnect_max = 1979-05-27`, `t.toml:5: smsc "a": reconnect_max 1979-05-27T00:00:00Z: must be a duration string like "30s" or "10m"`},
	}
	for _, tt := range tests {
		_, err := parse("t.toml", fmt.Appendf(nil, base, tt.line))
		if got := problemLines(err); len(got) != 1 || got[0] != tt.want {
			t.Errorf("%s: errors %q, want %q", tt.line, got, tt.want)
		}
	}
	cfg, err := parse("t.toml", fmt.Appendf(nil, base, "source_ton = 1\ndest_ton = \"auto\"\nthroughput = 7"))
	if err != nil || cfg.SMSC[0].SourceTON != "1" || cfg.SMSC[0].Throughput != 7 {
		t.Errorf("integer ton and throughput: %v, %+v", err, cfg)
	}
}
