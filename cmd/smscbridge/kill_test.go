package main

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

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

// TestKill9LosesNothing runs the real daemon as a child process, has it
// acknowledge MO and MT while the platform is down, kills it with SIGKILL,
// starts it again and checks that everything acknowledged still arrives.
func TestKill9LosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	sim := smsctest.NewServer(smsctest.WithTB(t), smsctest.WithAccount("bridge", "secret"))
	t.Cleanup(sim.Close)
	plat := newPlatform(t)
	plat.setFail(503)
	dir := t.TempDir()
	httpAddr := freePort(t)
	host, port, _ := net.SplitHostPort(sim.Addr())
	config := filepath.Join(dir, "smscbridge.toml")
	toml := fmt.Sprintf(`
[http]
listen = %q
[admin]
listen = ""
[store]
path = %q
[retry]
initial_backoff = "20ms"
max_backoff = "200ms"
[[smsc]]
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
`, httpAddr, filepath.Join(dir, "bridge.db"), host, port, rpNumber, plat.srv.URL, rpUUID)
	if err := os.WriteFile(config, []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	child := startDaemonProcess(t, config)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := sim.WaitBound(ctx, 1); err != nil {
		t.Fatalf("daemon never bound: %v", err)
	}
	h := &harness{t: t, smsc: sim, plat: plat, baseURL: "http://" + httpAddr}
	const nMO, nMT = 20, 5
	for i := range nMO {
		h.deliverMO("+2349067554729", rpNumber, fmt.Sprintf("mo %d", i)) // fails the test unless ESME_ROK
	}
	for i := range nMT { // the listener is up: it opens before the binds start
		req := url.Values{"id": {fmt.Sprint(1000 + i)}, "text": {fmt.Sprintf("mt %d", i)}, "to": {"+250788123123"}}
		if code, body := h.post("/rapidpro/rp-main/send", "application/x-www-form-urlencoded", "", req.Encode()); code != 200 {
			t.Fatalf("send %d = %d %s", i, code, body)
		}
	}
	plat.wait(t, "the platform to be tried", func(r []platformReq) bool { return len(r) > 0 })
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	child.Wait()

	plat.setFail(0)
	child = startDaemonProcess(t, config)
	plat.wait(t, "every MO and every sent callback after the restart", func(r []platformReq) bool {
		mo, sent := map[string]bool{}, map[string]bool{}
		for _, q := range r {
			switch {
			case strings.HasSuffix(q.Path, "/receive"):
				mo[q.form(t).Get("text")] = true
			case strings.HasSuffix(q.Path, "/sent"):
				sent[q.form(t).Get("id")] = true
			}
		}
		return len(mo) == nMO && len(sent) == nMT
	})
	if err := child.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := child.Wait(); err != nil {
		log, _ := os.ReadFile(config + ".log")
		t.Errorf("daemon exit after SIGTERM: %v\n%s", err, log)
	}
}
