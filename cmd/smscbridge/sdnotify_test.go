package main

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// notifySocket is a stand-in for systemd's notification socket: it
// collects the datagrams sent to NOTIFY_SOCKET.
type notifySocket struct {
	conn *net.UnixConn
	msgs chan string
}

func newNotifySocket(t *testing.T) *notifySocket {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	s := &notifySocket{conn: conn, msgs: make(chan string, 1000)}
	var wg sync.WaitGroup
	wg.Go(func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			s.msgs <- string(buf[:n])
		}
	})
	t.Cleanup(func() { conn.Close(); wg.Wait() })
	t.Setenv("NOTIFY_SOCKET", path)
	return s
}

// next returns the next datagram that is not WATCHDOG=1 (skip) or fails.
func (s *notifySocket) next(t *testing.T, skipWatchdog bool) string {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case m := <-s.msgs:
			if skipWatchdog && m == "WATCHDOG=1" {
				continue
			}
			return m
		case <-timeout:
			t.Fatal("no sd_notify datagram within 10 s")
		}
	}
}

// TestNotifyProtocol runs the daemon as systemd would (NOTIFY_SOCKET,
// WATCHDOG_USEC) and reads what it says: READY=1 once serving, WATCHDOG=1
// again and again while healthy, RELOADING=1 (with MONOTONIC_USEC) then
// READY=1 around a SIGHUP reload, STOPPING=1 on shutdown (issue 15 items 1
// and 5).
func TestNotifyProtocol(t *testing.T) {
	sock := newNotifySocket(t)
	t.Setenv("WATCHDOG_USEC", "100000") // 100 ms: a check every 50 ms
	t.Setenv("WATCHDOG_PID", "")
	sim := newSim(t)
	plat := newPlatform(t)
	dir := t.TempDir()
	r := &reloadSetup{dir: dir, db: filepath.Join(dir, "bridge.db"), admin: "127.0.0.1:0", listen: freePort(t)}
	path := filepath.Join(dir, "smscbridge.toml")
	mustWrite(t, path, r.file(smscTOML("a", sim.Addr(), "")+rpChannel("rp-main", rpNumber, `"a"`, plat.srv.URL, "")))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hup := make(chan os.Signal, 1)
	logs := &logBuf{}
	done := make(chan int, 1)
	go func() { done <- runDaemon(ctx, path, hup, logs) }()

	if m := sock.next(t, false); m != "READY=1" {
		t.Fatalf("first datagram %q, want READY=1\nlogs:\n%s", m, logs)
	}
	for i := range 3 {
		if m := sock.next(t, false); m != "WATCHDOG=1" {
			t.Fatalf("datagram %d after READY = %q, want WATCHDOG=1", i, m)
		}
	}
	send := func(id string, submits int) {
		t.Helper()
		resp, err := http.Post("http://"+r.listen+"/rapidpro/rp-main/send", "application/x-www-form-urlencoded",
			strings.NewReader("id="+id+"&text=hi&to=%2B250788123123"))
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("send: %v %v", resp, err)
		}
		resp.Body.Close()
		eventually(t, "submit "+id, func() bool { return len(sim.Submits()) == submits })
	}
	send("1", 1)
	// The new file adds an SMSC and turns on DEBUG logging.
	mustWrite(t, path, r.file(smscTOML("a", sim.Addr(), "")+smscTOML("b", sim.Addr(), "")+
		rpChannel("rp-main", rpNumber, `"a"`, plat.srv.URL, "")+"\n[log]\nlevel = \"debug\"\n"))
	hup <- syscall.SIGHUP
	m := sock.next(t, true)
	if !strings.HasPrefix(m, "RELOADING=1\nMONOTONIC_USEC=") {
		t.Fatalf("on SIGHUP: %q, want RELOADING=1 with MONOTONIC_USEC", m)
	}
	if m := sock.next(t, true); m != "READY=1" {
		t.Fatalf("after the reload: %q, want READY=1", m)
	}
	if !strings.Contains(logs.String(), "configuration reloaded") {
		t.Errorf("no reload logged:\n%s", logs)
	}
	if strings.Contains(logs.String(), "level=DEBUG") {
		t.Errorf("DEBUG lines before the reload turned them on:\n%s", logs)
	}
	send("2", 2) // a second submit: an "MT submitted" DEBUG line
	eventually(t, "a DEBUG line", func() bool { return strings.Contains(logs.String(), "level=DEBUG msg=\"MT submitted\"") })
	cancel()
	if m := sock.next(t, true); m != "STOPPING=1" {
		t.Fatalf("on shutdown: %q, want STOPPING=1", m)
	}
	if code := <-done; code != 0 {
		t.Errorf("runDaemon = %d\nlogs:\n%s", code, logs)
	}
}

// TestSIGHUPReloadsTheRealDaemon runs `smscbridge run` as a child process
// the way systemd does (NOTIFY_SOCKET) and sends it real signals: SIGHUP
// makes it say RELOADING=1 then READY=1 and bind the SMSC added to its
// file without re-binding the other; SIGTERM makes it say STOPPING=1 and
// exit 0 (issue 15 items 1 and 5).
func TestSIGHUPReloadsTheRealDaemon(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	sock := newNotifySocket(t)
	a := newSim(t)
	b := newSim(t)
	plat := newPlatform(t)
	r, path := newReloadSetup(t)
	mustWrite(t, path, r.file(smscTOML("a", a.Addr(), "")+rpChannel("rp-main", rpNumber, `"a"`, plat.srv.URL, "")))
	child := startDaemonProcess(t, path)
	if m := sock.next(t, true); m != "READY=1" {
		t.Fatalf("first datagram %q, want READY=1", m)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.WaitBound(ctx, 1); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, path, r.file(smscTOML("a", a.Addr(), "")+smscTOML("b", b.Addr(), "")+
		rpChannel("rp-main", rpNumber, `"a"`, plat.srv.URL, "")))
	if err := child.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if m := sock.next(t, true); !strings.HasPrefix(m, "RELOADING=1\nMONOTONIC_USEC=") {
		t.Fatalf("on SIGHUP: %q, want RELOADING=1", m)
	}
	if m := sock.next(t, true); m != "READY=1" {
		t.Fatalf("after the reload: %q, want READY=1", m)
	}
	if err := b.WaitBound(ctx, 1); err != nil {
		t.Fatalf("the added smsc never bound: %v", err)
	}
	if st := a.Stats(); st.Binds != 1 || st.Unbinds != 0 {
		t.Errorf("unchanged smsc a: %d binds, %d unbinds; want 1 and 0", st.Binds, st.Unbinds)
	}
	if err := child.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if m := sock.next(t, true); m != "STOPPING=1" {
		t.Fatalf("on SIGTERM: %q, want STOPPING=1", m)
	}
	if err := child.Wait(); err != nil {
		t.Errorf("daemon exit: %v", err)
	}
}

// TestWatchdogChecksTheStore: the watchdog sends WATCHDOG=1 only while
// its check passes; once the store stops taking commits it sends nothing
// (so systemd restarts the daemon) and logs why (issue 15 item 5).
func TestWatchdogChecksTheStore(t *testing.T) {
	h, logs := newHarnessLogged(t, nil)
	h.waitBound()
	sent := make(chan string, 100)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		h.d.watchdog(ctx, 20*time.Millisecond, func(_ *slog.Logger, s string) { sent <- s })
	})
	defer func() { cancel(); wg.Wait() }()
	for range 3 {
		select {
		case s := <-sent:
			if s != "WATCHDOG=1" {
				t.Fatalf("sent %q", s)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no WATCHDOG=1 from a healthy daemon")
		}
	}
	h.d.store.Close() // commits fail from now on
	deadline := time.Now().Add(10 * time.Second)
	for len(sent) > 0 || !strings.Contains(logs.String(), "watchdog: health check failed") {
		if time.Now().After(deadline) {
			t.Fatalf("no failed check logged:\n%s", logs)
		}
		select {
		case <-sent: // a check that passed before the close
		case <-time.After(10 * time.Millisecond):
		}
	}
	select {
	case s := <-sent:
		t.Fatalf("sent %q with a closed store", s)
	case <-time.After(200 * time.Millisecond):
	}
	if !strings.Contains(logs.String(), "store commit") {
		t.Errorf("log does not say the store failed:\n%s", logs)
	}
}
