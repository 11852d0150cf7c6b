package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"syscall"
	"testing"
	"time"

	"github.com/smscbridge/smscbridge/smsc/coding"
	"github.com/smscbridge/smscbridge/store/pgstore/pgtest"
)

// TestPostgresKill9OneNode runs two real daemon processes against one
// PostgreSQL database, each with its own bind and HTTP listener, and kills
// one with SIGKILL in the middle of a burst of MO and MT. It is not
// restarted: the surviving node must finish everything either node
// acknowledged (the dead node's leased items once their leases run out),
// every MT must be reported sent, and each contact's messages must arrive
// in order. Skips without PostgreSQL (package pgtest).
func TestPostgresKill9OneNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	dsn := pgtest.DSN(t)
	schema := pgtest.Schema(t, dsn)
	sim := newSim(t)
	plat := newPlatform(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pg-dsn"), []byte(dsn), 0o600); err != nil {
		t.Fatal(err)
	}
	var addrs []string
	var children []*exec.Cmd
	var configs []string
	for n := range 2 {
		httpAddr := freePort(t)
		config := writeChildConfig(t, filepath.Join(dir, fmt.Sprintf("node%d.toml", n+1)), httpAddr,
			fmt.Sprintf("backend = \"postgres\"\ndsn_file = \"pg-dsn\"\nschema = %q\nnode = \"node%d\"\nlease_time = \"5s\"\n", schema, n+1),
			"", sim.Addr(), plat.srv.URL)
		children = append(children, startDaemonProcess(t, config))
		addrs, configs = append(addrs, httpAddr), append(configs, config)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := sim.WaitBound(ctx, 2); err != nil {
		for _, c := range configs {
			out, _ := os.ReadFile(c + ".log")
			t.Logf("log of %s:\n%s", filepath.Base(c), out)
		}
		t.Fatalf("nodes never bound: %v", err)
	}

	// Contacts 0 and 1 send their MT through node 1 (the one killed), 2
	// and 3 through node 2; MO go out on whichever bind the SMSC picks.
	const contacts, perContact = 4, 300
	burst := startKillBurst(sim, contacts, perContact, func(c int) string { return "http://" + addrs[c/2] + "/rapidpro/rp-main/send" })
	plat.wait(t, "the burst under way", func(r []platformReq) bool {
		return len(withPath(r, "/receive")) >= 40 && len(withPath(r, "/sent")) >= 20
	})
	if err := children[0].Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	children[0].Wait()
	ackedMO, ackedMT := burst.stop()

	tally := killTally{sim: sim, ackedMO: ackedMO, ackedMT: ackedMT}
	moArrived, submitted, missing := tally.moArrived, tally.submitted, tally.missing
	mo0, mt0, sent0 := missing(plat.all())
	pendingAtKill := len(mo0) + len(mt0) + len(sent0)
	deadline := time.Now().Add(60 * time.Second)
	for {
		mo, mt, sent := missing(plat.all())
		if len(mo)+len(mt)+len(sent) == 0 {
			break
		}
		if time.Now().After(deadline) {
			sort.Strings(mo)
			sort.Strings(mt)
			sort.Strings(sent)
			log, _ := os.ReadFile(configs[1] + ".log")
			t.Fatalf("surviving node: still missing %d of %d acknowledged MO %v; %d of %d acknowledged MT at the SMSC %v; sent callbacks for %v\nnode2 log:\n%s",
				len(mo), len(ackedMO), mo, len(mt), len(ackedMT), mt, sent, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
	finished := time.Since(killed)
	if pendingAtKill == 0 {
		t.Errorf("nothing acknowledged was still pending at the kill: the test did not kill mid-burst")
	}
	reqs, subs := plat.all(), sim.Submits()
	dupMO, dupMT := 0, 0
	for _, n := range moArrived(reqs) {
		dupMO += n - 1
	}
	for _, n := range submitted() {
		dupMT += n - 1
	}
	t.Logf("acknowledged %d MO and %d MT; %d items pending at the kill, all finished by the surviving node %.1fs after it (lease_time 5s); duplicates: %d MO, %d MT",
		len(ackedMO), len(ackedMT), pendingAtKill, finished.Seconds(), dupMO, dupMT)

	order := map[string][]int{}
	for _, q := range withPath(reqs, "/receive") {
		var c, i int
		if f, err := url.ParseQuery(string(q.Body)); err == nil && q.Code < 300 {
			if _, err := fmt.Sscanf(f.Get("text"), "mo %d %d", &c, &i); err == nil {
				order["MO from "+moSender(c)] = append(order["MO from "+moSender(c)], i)
			}
		}
	}
	for _, s := range subs {
		var c, i int
		text, _ := coding.Decode(s.SM.DataCoding, s.SM.Message)
		if _, err := fmt.Sscanf(text, "mt %d %d", &c, &i); err == nil {
			order["MT to "+mtRecipient(c)] = append(order["MT to "+mtRecipient(c)], i)
		}
	}
	for contact, seq := range order {
		for k := 1; k < len(seq); k++ {
			if seq[k] < seq[k-1] {
				t.Errorf("%s arrived out of order: ... %v ...", contact, seq[max(0, k-5):min(len(seq), k+5)])
				break
			}
		}
	}
	if err := children[1].Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := children[1].Wait(); err != nil {
		log, _ := os.ReadFile(configs[1] + ".log")
		t.Errorf("node 2 exit after SIGTERM: %v\n%s", err, log)
	}
}
