package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// syncBuffer is a bytes.Buffer safe for the child's output copier and the
// test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// setFileSizeLimit sets RLIMIT_FSIZE of process pid: writes past limit
// bytes fail with EFBIG, an I/O error that is not "no space".
func setFileSizeLimit(t *testing.T, pid int, limit uint64) {
	t.Helper()
	lim := syscall.Rlimit{Cur: limit, Max: limit}
	if _, _, errno := syscall.RawSyscall6(syscall.SYS_PRLIMIT64, uintptr(pid), syscall.RLIMIT_FSIZE,
		uintptr(unsafe.Pointer(&lim)), 0, 0, 0); errno != 0 {
		t.Skipf("prlimit: %v", errno)
	}
}

// TestStoreFailureStopsDaemon runs `smscbridge run` as a child whose file
// size limit makes a store commit fail with EFBIG (not "no space"): the
// daemon must stop with exit status 1 and a log line saying the store
// failed, so systemd restarts it, instead of carrying on with bbolt's state
// uncertain.
func TestStoreFailureStopsDaemon(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	dir := t.TempDir()
	httpAddr := freePort(t)
	deadSMSC := freePort(t) // nothing listens: MT stay queued and the file grows
	config := filepath.Join(dir, "smscbridge.toml")
	toml := fmt.Sprintf(`
[http]
listen = %q
[admin]
listen = ""
[store]
path = %q
[[smsc]]
id = "agg-a"
host = "127.0.0.1"
port = %s
system_id = "bridge"
reconnect_delay = "1s"
[[channel]]
id = "rp-main"
kind = "rapidpro"
numbers = [%q]
smsc = ["agg-a"]
receive_url = "http://127.0.0.1:1/c/ex/%s/receive"
`, httpAddr, filepath.Join(dir, "bridge.db"), deadSMSC[strings.LastIndex(deadSMSC, ":")+1:], rpNumber, rpUUID)
	if err := os.WriteFile(config, []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "run", "-config", config)
	cmd.Env = append(os.Environ(), "SMSCBRIDGE_TEST_MAIN=1")
	var log syncBuffer // a pipe: the file size limit does not apply to it
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			cmd.Process.Kill()
			<-exited
		}
	})
	setFileSizeLimit(t, cmd.Process.Pid, 256<<10)

	h := &harness{t: t, baseURL: "http://" + httpAddr}
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(log.String(), "smscbridge running"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("daemon did not start:\n%s", log.String())
		}
	}
	text := strings.Repeat("0123456789", 150)
	refused := false
	for i := 0; i < 2000 && !refused; i++ {
		req := url.Values{"id": {fmt.Sprint(i)}, "text": {text}, "to": {"+250788123123"}}
		code, body := h.postNoFail("/rapidpro/rp-main/send", "application/x-www-form-urlencoded", req.Encode())
		switch code {
		case 200:
		case 503, 0: // refused, or the daemon is gone
			refused = true
		default:
			t.Fatalf("send %d = %d %s", i, code, body)
		}
	}
	if !refused {
		t.Fatalf("2000 sends accepted under a 256 KiB file size limit; no commit failed")
	}
	select {
	case <-exited:
		var ee *exec.ExitError
		if !errors.As(waitErr, &ee) || ee.ExitCode() != 1 {
			t.Errorf("daemon exited with %v, want exit status 1", waitErr)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("daemon still running 30 s after its store failed:\n%s", log.String())
	}
	out := log.String()
	var stopLines []string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "store failed") {
			stopLines = append(stopLines, l)
		}
	}
	if len(stopLines) != 1 || !strings.Contains(stopLines[0], "level=ERROR") || !strings.Contains(stopLines[0], "file too large") {
		t.Errorf("want one ERROR line saying the store failed and why; log:\n%s", out)
	}
}

// postNoFail is post without failing the test on a transport error (code 0).
func (h *harness) postNoFail(path, contentType, body string) (int, string) {
	resp, err := httpPost(h.baseURL+path, contentType, body)
	if err != nil {
		return 0, err.Error()
	}
	return resp.code, resp.body
}

type postResult struct {
	code int
	body string
}

func httpPost(u, contentType, body string) (postResult, error) {
	resp, err := http.Post(u, contentType, strings.NewReader(body))
	if err != nil {
		return postResult{}, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return postResult{resp.StatusCode, string(b)}, nil
}
