package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/smscbridge/smscbridge/smsc/coding"
	"github.com/smscbridge/smscbridge/smsc/pdu"
	"github.com/smscbridge/smscbridge/smsc/smsctest"
)

// TestMain lets a test re-run this binary as the daemon itself
// (`smscbridge run`), so tests can kill it for real.
func TestMain(m *testing.M) {
	if os.Getenv("SMSCBRIDGE_TEST_MAIN") == "1" {
		os.Exit(mainCmd(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// writeChildConfig writes the configuration of a daemon run as a child
// process (the kill -9 tests): platform listener on httpAddr, no admin
// listener, the [store] keys given, quick retries (plus the [retry] keys
// given), one SMSC at smscAddr and the RapidPro channel posting to platURL.
// It returns path.
func writeChildConfig(t *testing.T, path, httpAddr, storeKeys, retryKeys, smscAddr, platURL string) string {
	t.Helper()
	host, port, _ := net.SplitHostPort(smscAddr)
	toml := fmt.Sprintf(`
[http]
listen = %q
[admin]
listen = ""
[store]
%s[retry]
initial_backoff = "20ms"
max_backoff = "200ms"
%s[[smsc]]
id = "agg-a"
host = %q
port = %s
system_id = "bridge"
password = "secret"
reconnect_delay = "20ms"
reconnect_max = "200ms"
[[channel]]
id = "rp-main"
kind = "rapidpro"
numbers = [%q]
smsc = ["agg-a"]
receive_url = "%s/c/ex/%s/receive"
`, httpAddr, storeKeys, retryKeys, host, port, rpNumber, platURL, rpUUID)
	if err := os.WriteFile(path, []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func startDaemonProcess(t *testing.T, config string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "run", "-config", config)
	cmd.Env = append(os.Environ(), "SMSCBRIDGE_TEST_MAIN=1")
	log, err := os.Create(config + ".log")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd
}

// killTally counts what the platform and the SMSC received, after a kill,
// of the MO and MT a burst got acknowledged ("mo C I" texts, "mt C I" texts
// whose RapidPro id is 1000·C+I); only 2xx answers count as received.
type killTally struct {
	sim              *smsctest.Server
	ackedMO, ackedMT map[string]bool
}

// moArrived counts MO texts the platform took, per text.
func (k killTally) moArrived(r []platformReq) map[string]int {
	got := map[string]int{}
	for _, q := range withPath(r, "/receive") {
		if f, err := url.ParseQuery(string(q.Body)); err == nil && q.Code < 300 {
			got[f.Get("text")]++
		}
	}
	return got
}

// sentArrived counts sent callbacks the platform took, per RapidPro id.
func (k killTally) sentArrived(r []platformReq) map[string]int {
	got := map[string]int{}
	for _, q := range withPath(r, "/sent") {
		if f, err := url.ParseQuery(string(q.Body)); err == nil && q.Code < 300 {
			got[f.Get("id")]++
		}
	}
	return got
}

// submitted counts submit_sm texts at the SMSC, per text.
func (k killTally) submitted() map[string]int {
	got := map[string]int{}
	for _, s := range k.sim.Submits() {
		text, _ := coding.Decode(s.SM.DataCoding, s.SM.Message)
		got[text]++
	}
	return got
}

// missing lists the acknowledged MO not at the platform, the acknowledged
// MT not at the SMSC, and those whose sent callback did not land.
func (k killTally) missing(r []platformReq) (mo, mt, sent []string) {
	gotMO, gotSent, gotMT := k.moArrived(r), k.sentArrived(r), k.submitted()
	for text := range k.ackedMO {
		if gotMO[text] == 0 {
			mo = append(mo, text)
		}
	}
	for text := range k.ackedMT {
		var c, i int
		fmt.Sscanf(text, "mt %d %d", &c, &i)
		if gotMT[text] == 0 {
			mt = append(mt, text)
		}
		if gotSent[fmt.Sprint(1000*c+i)] == 0 {
			sent = append(sent, text)
		}
	}
	return mo, mt, sent
}

// killBurst sends, per contact, MO ("mo C I" from moSender(C)) and MT
// ("mt C I" to mtRecipient(C), RapidPro id 1000·C+I) numbered in order,
// one after the other; contacts in parallel. Each goroutine stops at its
// first error (the daemon is gone) and records only what was acknowledged.
type killBurst struct {
	mu               sync.Mutex
	ackedMO, ackedMT map[string]bool
	quit             chan struct{}
	wg               sync.WaitGroup
}

// startKillBurst starts the burst; contact c's MT go to sendURL(c).
func startKillBurst(sim *smsctest.Server, contacts, perContact int, sendURL func(c int) string) *killBurst {
	b := &killBurst{ackedMO: map[string]bool{}, ackedMT: map[string]bool{}, quit: make(chan struct{})}
	client := &http.Client{Timeout: 5 * time.Second}
	for c := range contacts {
		b.wg.Go(func() {
			for i := range perContact {
				if b.stopped() {
					return
				}
				text := fmt.Sprintf("mo %d %d", c, i)
				sms, _ := smsctest.BuildMO(moSender(c), rpNumber, text, 0)
				dctx, dcancel := context.WithTimeout(context.Background(), 5*time.Second)
				st, err := sim.Deliver(dctx, sms[0])
				dcancel()
				if err != nil || st != pdu.StatusOK {
					return
				}
				b.ack(b.ackedMO, text)
			}
		})
		b.wg.Go(func() {
			for i := range perContact {
				if b.stopped() {
					return
				}
				text := fmt.Sprintf("mt %d %d", c, i)
				form := url.Values{"id": {fmt.Sprint(1000*c + i)}, "text": {text}, "to": {mtRecipient(c)}}
				resp, err := client.PostForm(sendURL(c), form)
				if err != nil {
					return
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					return
				}
				b.ack(b.ackedMT, text)
			}
		})
	}
	return b
}

func (b *killBurst) stopped() bool {
	select {
	case <-b.quit:
		return true
	default:
		return false
	}
}

func (b *killBurst) ack(m map[string]bool, text string) {
	b.mu.Lock()
	m[text] = true
	b.mu.Unlock()
}

// stop ends the burst and returns what was acknowledged.
func (b *killBurst) stop() (ackedMO, ackedMT map[string]bool) {
	close(b.quit)
	b.wg.Wait()
	return b.ackedMO, b.ackedMT
}

// TestKill9LosesNothing runs the real daemon as a child process and kills
// it with SIGKILL in the middle of a burst of MO and MT from several
// contacts, while the platform and the SMSC work normally. After a restart,
// every MO the SMSC got ESME_ROK for must reach the platform and every MT
// the platform got 200 for must reach the SMSC and be reported sent; items
// may arrive twice (at-least-once: those are counted and reported), but
// each contact's messages arrive in order, across the restart.
func TestKill9LosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	sim := newSim(t)
	plat := newPlatform(t)
	dir := t.TempDir()
	httpAddr := freePort(t)
	config := writeChildConfig(t, filepath.Join(dir, "smscbridge.toml"), httpAddr,
		fmt.Sprintf("path = %q\n", filepath.Join(dir, "bridge.db")), "", sim.Addr(), plat.srv.URL)
	child := startDaemonProcess(t, config)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := sim.WaitBound(ctx, 1); err != nil {
		t.Fatalf("daemon never bound: %v", err)
	}

	// The burst: per contact, MO and MT numbered in order, one after the
	// other; contacts in parallel. Each goroutine stops at its first error
	// (the daemon is gone) and records only what was acknowledged.
	const contacts, perContact = 4, 400
	burst := startKillBurst(sim, contacts, perContact, func(int) string { return "http://" + httpAddr + "/rapidpro/rp-main/send" })
	plat.wait(t, "the burst under way", func(r []platformReq) bool {
		return len(withPath(r, "/receive")) >= 40 && len(withPath(r, "/sent")) >= 20
	})
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	child.Wait()
	ackedMO, ackedMT := burst.stop()
	before, submitsBefore := len(plat.all()), len(sim.Submits())

	child = startDaemonProcess(t, config)
	tally := killTally{sim: sim, ackedMO: ackedMO, ackedMT: ackedMT}
	moArrived, submitted, missing := tally.moArrived, tally.submitted, tally.missing
	deadline := time.Now().Add(30 * time.Second)
	for {
		mo, mt, sent := missing(plat.all())
		if len(mo)+len(mt)+len(sent) == 0 {
			break
		}
		if time.Now().After(deadline) {
			sort.Strings(mo)
			sort.Strings(mt)
			sort.Strings(sent)
			t.Fatalf("after the restart, still missing: %d of %d acknowledged MO %v; %d of %d acknowledged MT at the SMSC %v; sent callbacks for %v",
				len(mo), len(ackedMO), mo, len(mt), len(ackedMT), mt, sent)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := child.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := child.Wait(); err != nil {
		log, _ := os.ReadFile(config + ".log")
		t.Errorf("daemon exit after SIGTERM: %v\n%s", err, log)
	}

	reqs, subs := plat.all(), sim.Submits()
	// The kill must have caught work in flight, or this test proves nothing.
	after := moArrived(reqs[before:])
	newAfter := 0
	for text := range after {
		if moArrived(reqs[:before])[text] == 0 {
			newAfter++
		}
	}
	if newAfter == 0 && len(subs) == submitsBefore {
		t.Errorf("nothing acknowledged was still pending at the kill: the test did not kill mid-burst")
	}
	dupMO, dupMT := 0, 0
	for _, n := range moArrived(reqs) {
		dupMO += n - 1
	}
	for _, n := range submitted() {
		dupMT += n - 1
	}
	t.Logf("acknowledged %d MO and %d MT; after the restart %d MO POSTs (%d not seen before) and %d submit_sm arrived; duplicates: %d MO, %d MT",
		len(ackedMO), len(ackedMT), len(withPath(reqs[before:], "/receive")), newAfter, len(subs)-submitsBefore, dupMO, dupMT)

	// Order per contact across the restart: each contact's sequence numbers
	// never go down (a repeat of the item in flight at the kill is allowed).
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
}

func moSender(c int) string    { return fmt.Sprintf("+23490675547%02d", c) }
func mtRecipient(c int) string { return fmt.Sprintf("+2507881231%02d", c) }
