//go:build interop

package interop

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Shared constants of the interop tests.
const (
	waitLong  = 15 * time.Second // bounded wait for anything crossing a peer
	ourNumber = "12345"          // our short code: source of MT, destination of MO
)

// proc is a child process started by a test. It runs in its own process
// group so that stopping it also stops anything it forked, and nothing
// else: every signal goes to the group of the PID we started.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
	log  *lockedBuffer
}

// lockedBuffer collects a child's stderr for the failure report.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// mustStart starts cmd (stdout to stdout, or to the log when nil) and
// registers a cleanup that stops it. On test failure the process's output
// is printed.
func mustStart(t *testing.T, cmd *exec.Cmd, stdout io.Writer) *proc {
	t.Helper()
	p := &proc{name: filepath.Base(cmd.Path), cmd: cmd, done: make(chan struct{}), log: &lockedBuffer{}}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stderr = p.log
	cmd.Stdout = stdout
	if stdout == nil {
		cmd.Stdout = p.log
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", strings.Join(cmd.Args, " "), err)
	}
	pidFile := ""
	if dir := os.Getenv("INTEROP_PIDDIR"); dir != "" {
		// run.sh stops whatever a killed test binary left behind.
		pidFile = filepath.Join(dir, fmt.Sprint(cmd.Process.Pid))
		_ = os.WriteFile(pidFile, []byte(p.name), 0o644)
	}
	go func() {
		p.err = cmd.Wait()
		if pidFile != "" {
			_ = os.Remove(pidFile)
		}
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop(5 * time.Second)
		if t.Failed() {
			t.Logf("--- %s (pid %d) output:\n%s", p.name, cmd.Process.Pid, tail(p.log.String(), 4000))
		}
	})
	return p
}

// stop sends SIGTERM to the process group, waits up to grace, then
// SIGKILLs it. It is safe to call more than once.
func (p *proc) stop(grace time.Duration) {
	pgid := -p.cmd.Process.Pid
	select {
	case <-p.done:
		return
	default:
	}
	_ = syscall.Kill(pgid, syscall.SIGTERM)
	select {
	case <-p.done:
		return
	case <-time.After(grace):
	}
	_ = syscall.Kill(pgid, syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(grace):
	}
}

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitFor polls cond every 100ms until it returns nil or timeout passes,
// then fails the test with the last error.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s (%s): %v", what, timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// dialable is a waitFor condition: addr accepts TCP connections.
func dialable(addr string) func() error {
	return func() error {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return err
		}
		return c.Close()
	}
}

// repoRoot is the module root (two levels above this directory).
func repoRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(filepath.Dir(wd))
}

// mustTool finds an executable named by env var env, else at def; it fails
// the test (rather than skipping) because `make interop` installs every
// peer first and a silently skipped peer would hide a broken install.
func mustTool(t *testing.T, env, def string) string {
	t.Helper()
	p := os.Getenv(env)
	if p == "" {
		p = def
	}
	if !filepath.IsAbs(p) && strings.ContainsRune(p, filepath.Separator) {
		p = filepath.Join(repoRoot(t), p)
	}
	found, err := exec.LookPath(p)
	if err != nil {
		t.Fatalf("%s: %v (run `make interop`, which installs the peers and builds bin/; or set %s)", p, err, env)
	}
	return found
}
