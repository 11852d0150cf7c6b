package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smscbridge/smscbridge/conf"
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

// TestBridgeConfigLoads: the configuration compare writes for the bridge
// is one the daemon takes, with the RapidPro EX and the kannel channel on
// the one SMSC and the concurrency flags on the SMSC and on both channels.
func TestBridgeConfigLoads(t *testing.T) {
	sim, err := newSimulator(time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer sim.srv.Close()
	snk, err := newSink()
	if err != nil {
		t.Fatal(err)
	}
	defer snk.close()
	dir := t.TempDir()
	b := &bridgeTarget{sim: sim, sink: snk, window: 10, httpAddr: "127.0.0.1:1", conc: 7, mtConc: 9}
	file := filepath.Join(dir, "smscbridge.toml")
	if err := os.WriteFile(file, []byte(b.config(filepath.Join(dir, "bridge.db"), 2)), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := conf.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.SMSC) != 1 || cfg.SMSC[0].Concurrency != 9 {
		t.Errorf("smsc = %+v, want one with concurrency 9", cfg.SMSC)
	}
	kinds := map[string]string{}
	for _, ch := range cfg.Channel {
		kinds[ch.ID] = ch.Kind
		if ch.Concurrency != 7 || len(ch.SMSC) != 1 || ch.SMSC[0] != "sim" {
			t.Errorf("channel %s: concurrency %d, smsc %v; want 7, [sim]", ch.ID, ch.Concurrency, ch.SMSC)
		}
	}
	if len(kinds) != 2 || kinds["rp-main"] != conf.KindRapidPro || kinds["kn-main"] != conf.KindKannel {
		t.Errorf("channels = %v, want rp-main rapidpro and kn-main kannel", kinds)
	}
}

// TestTableSendsmsRows: the bridge's sendsms figures are printed against
// Kannel's MT figures, with the ratio.
func TestTableSendsmsRows(t *testing.T) {
	rep := &Report{Options: map[string]any{"mo_window": 100, "mt_concurrency": 20, "rate": 1000, "duration": "0s"},
		Kannel: &Result{MT: MT{MTAcceptedPerSec: 1000, MTDeliveredPerSec: 500}},
		Bridge: &Result{Sendsms: &MT{MTAcceptedPerSec: 2000, MTDeliveredPerSec: 1500}}}
	var buf bytes.Buffer
	printTable(&buf, rep)
	for _, want := range []string{
		"| MT sendsms accepted | 1,000 /s | 2,000 /s | 2.00× |",
		"| MT sendsms with receipts, delivered callback done | 500 /s | 1,500 /s | 3.00× |",
		"smscbridge counts: MO not acknowledged 0, acknowledged but lost 0, duplicates 0; MT refused 0,",
		"; MT sendsms refused 0, accepted but not submitted 0,",
	} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, buf.String())
		}
	}
	if strings.Contains(buf.String(), "not measured") {
		t.Errorf("table still has a placeholder:\n%s", buf.String())
	}
}
