package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestKannelConfRenders: the interop test's kannel.conf.tmpl, which both
// test/interop and make compare fill, renders with compare's kannelConfig
// (a field the template gained for the interop test once broke compare's
// Kannel half at run time only).
func TestKannelConfRenders(t *testing.T) {
	file := filepath.Join(t.TempDir(), "kannel.conf")
	cfg := kannelConfig{Dir: t.TempDir(), AdminPort: 1, BoxPort: 2, SendPort: 3, SMSCPort: 4, User: "u", UserPassword: "p",
		SystemID: "bridge", Password: "secret", MsgIDType: "0", MOURL: "http://127.0.0.1:5/kannel/mo", LogLevel: 2,
		NoAccessLog: true, StoreFile: "/tmp/kannel.store", MaxPending: 10}
	if err := writeKannelConf(file, cfg); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"group = core", "sendsms-port = 3", `get-url = "http://127.0.0.1:5/kannel/mo?`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("kannel.conf lacks %q:\n%s", want, b)
		}
	}
}
