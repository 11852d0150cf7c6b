package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"text/template"
	"time"
)

// platformNumber is the number MO are sent to (the RapidPro channel's).
const platformNumber = "+5582999489287"

// rpUUID is the stand-in courier channel UUID in the bridge's URLs.
const rpUUID = "8eb23e93-5ecb-45ba-b726-3b064e0c56ab"

// target is a daemon under test: started fresh for a phase, bound to the
// simulator, sent MT through its platform-facing HTTP interface.
type target interface {
	name() string
	start() error
	stop()
	pids() []int
	// sendMT makes one platform send call for MT id to to; nil once the
	// daemon accepted it.
	sendMT(ctx context.Context, id int, to, text string) error
}

// sendsmsTarget is a target that also serves Kannel's sendsms (the
// bridge's kannel channel): its MT phase is run a second time through it.
type sendsmsTarget interface {
	// sendsms makes one sendsms call for MT id to to, as the harness
	// makes to Kannel; nil once the daemon accepted it.
	sendsms(ctx context.Context, id int, to, text string) error
}

// The harness's sendsms calls: the account (Kannel's sendsms-user, the
// bridge's kannel channel) and the sender (the kannel channel's number).
const sendsmsUser, sendsmsPassword, sendsmsFrom = "u", "p", "12345"

var client = &http.Client{
	Timeout:   30 * time.Second,
	Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute},
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// waitUntil polls cond every 50ms until it returns nil or timeout passes.
func waitUntil(what string, timeout time.Duration, cond func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not within %v: %w", what, timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func dialable(addr string) func() error {
	return func() error {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err
	}
}

// drain reads and closes a response body so the connection is reused.
func drain(resp *http.Response) []byte {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return b
}

// bridgeTarget is bin/smscbridge with the default durable store, one
// transceiver bind to the simulator, one RapidPro EX channel and one kannel
// channel (sendsms) on the same SMSC.
type bridgeTarget struct {
	bin, root string
	sim       *simulator
	sink      *sink
	window    int
	p         *proc
	httpAddr  string
	adminAddr string
	n         int    // starts, for fresh directories
	profile   string // -bridge-cpuprofile: directory for one CPU profile per start
	conc      int    // -bridge-concurrency: the channel's concurrency (0: default)
	mtConc    int    // -bridge-mt-concurrency: the SMSC's MT concurrency (0: default)
}

func (b *bridgeTarget) name() string { return "smscbridge" }

func (b *bridgeTarget) start() error {
	b.n++
	dir := filepath.Join(b.root, fmt.Sprintf("bridge-%d", b.n))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	hp, err1 := freePort()
	ap, err2 := freePort()
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	b.httpAddr, b.adminAddr = fmt.Sprintf("127.0.0.1:%d", hp), fmt.Sprintf("127.0.0.1:%d", ap)
	cfg := b.config(filepath.Join(dir, "bridge.db"), ap)
	conf := filepath.Join(dir, "smscbridge.toml")
	if err := os.WriteFile(conf, []byte(cfg), 0o600); err != nil {
		return err
	}
	cmd := exec.Command(b.bin, "run", "-config", conf)
	if b.profile != "" {
		f := filepath.Join(b.profile, fmt.Sprintf("smscbridge-%d.cpu.pprof", b.n))
		cmd.Env = append(os.Environ(), "SMSCBRIDGE_CPUPROFILE="+f)
		fmt.Println("compare: CPU profile of this smscbridge run:", f)
	}
	p, err := startProc("smscbridge", cmd, filepath.Join(dir, "smscbridge.log"))
	if err != nil {
		return err
	}
	b.p = p
	if err := waitUntil("smscbridge HTTP port", 30*time.Second, func() error {
		if p.exited() {
			return fmt.Errorf("exited: %v (log %s)", p.err, filepath.Join(dir, "smscbridge.log"))
		}
		return dialable(b.httpAddr)()
	}); err != nil {
		b.stop()
		return err
	}
	if err := b.sim.waitBound(30 * time.Second); err != nil {
		b.stop()
		return fmt.Errorf("smscbridge never bound: %w", err)
	}
	return nil
}

// config is the bridge's configuration: store at store, admin listener on
// adminPort, the SMSC and both channels with the flags' concurrency.
func (b *bridgeTarget) config(store string, adminPort int) string {
	smscConc, chanConc := "", "" // the flags' concurrency lines (none: the defaults)
	if b.mtConc > 0 {
		smscConc = fmt.Sprintf("concurrency = %d\n", b.mtConc)
	}
	if b.conc > 0 {
		chanConc = fmt.Sprintf("concurrency = %d\n", b.conc)
	}
	return fmt.Sprintf(`# written by test/compare
[http]
listen = %q
[admin]
listen = "127.0.0.1:%d"
token = "compare-admin-token"
[store]
path = %q
[log]
level = "warn"
[[smsc]]
id = "sim"
host = "127.0.0.1"
port = %d
system_id = "bridge"
password = "secret"
window = %d
reconnect_delay = "200ms"
%s[[channel]]
id = "rp-main"
kind = "rapidpro"
numbers = [%q]
smsc = ["sim"]
receive_url = "%s/c/ex/%s/receive"
%s[[channel]]
id = "kn-main"
kind = "kannel"
numbers = [%q]
smsc = ["sim"]
username = %q
password = %q
%s`, b.httpAddr, adminPort, store, b.sim.port(), b.window, smscConc,
		platformNumber, b.sink.url(), rpUUID, chanConc, sendsmsFrom, sendsmsUser, sendsmsPassword, chanConc)
}

func (b *bridgeTarget) stop() {
	b.p.stop(30 * time.Second)
	waitUnbound(b.sim)
}

func (b *bridgeTarget) pids() []int { return []int{b.p.pid()} }

// commitStats reads the store's commit counters from the daemon's /metrics:
// commits so far, their total time (fsync included) and the calls they
// carried.
func (b *bridgeTarget) commitStats() (s commitStats, ok bool) {
	resp, err := http.Get("http://" + b.adminAddr + "/metrics")
	if err != nil {
		return s, false
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, v, found := strings.Cut(sc.Text(), " ")
		if !found {
			continue
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			continue
		}
		switch name {
		case "smscbridge_store_commit_duration_seconds_count":
			s.commits, ok = f, true
		case "smscbridge_store_commit_duration_seconds_sum":
			s.seconds = f
		case "smscbridge_store_commit_batch_size_sum":
			s.calls = f
		}
	}
	return s, ok
}

func (b *bridgeTarget) sendMT(ctx context.Context, id int, to, text string) error {
	body := url.Values{"id": {strconv.Itoa(id)}, "text": {text}, "to": {to}}.Encode()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+b.httpAddr+"/rapidpro/rp-main/send", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	out := drain(resp)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("send: %s %s", resp.Status, out)
	}
	return nil
}

func (b *bridgeTarget) sendsms(ctx context.Context, id int, to, text string) error {
	return sendsms(ctx, "http://"+b.httpAddr, b.sink, id, to, text)
}

// waitUnbound waits (bounded) until the simulator has no session left, so
// the next daemon is the only one bound.
func waitUnbound(sim *simulator) {
	_ = waitUntil("sessions closed", 10*time.Second, func() error {
		if n := len(sim.srv.Sessions()); n > 0 {
			return fmt.Errorf("%d sessions", n)
		}
		return nil
	})
}

// kannelConfig fills test/interop/kannel.conf.tmpl (the interop test's
// template, with the compare-only keys set).
type kannelConfig struct {
	Dir                                    string
	AdminPort, BoxPort, SendPort, SMSCPort int
	AdminPassword, User, UserPassword      string
	SystemID, Password                     string
	MsgIDType                              string
	MOURL                                  string
	Pair                                   bool
	LogLevel                               int
	NoAccessLog                            bool
	StoreFile                              string
	MaxPending                             int
	GlobalSender                           string // unused here: the sendsms requests carry their from
	MOQuery                                string // "" = the template's default get-url query
}

// kannelTarget is Debian's Kannel: bearerbox (file store) + smsbox, MO by
// get-url, MT by sendsms with dlr-mask 27 and a dlr-url.
type kannelTarget struct {
	bearerbox, smsbox, root string
	sim                     *simulator
	sink                    *sink
	window                  int
	cfg                     kannelConfig
	bb, sb                  *proc
	n                       int
}

func (k *kannelTarget) name() string { return "Kannel" }

func (k *kannelTarget) start() error {
	k.n++
	dir := filepath.Join(k.root, fmt.Sprintf("kannel-%d", k.n))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	var ports [3]int
	for i := range ports {
		p, err := freePort()
		if err != nil {
			return err
		}
		ports[i] = p
	}
	k.cfg = kannelConfig{Dir: dir, AdminPort: ports[0], BoxPort: ports[1], SendPort: ports[2], SMSCPort: k.sim.port(),
		AdminPassword: "adm1n", User: sendsmsUser, UserPassword: sendsmsPassword, SystemID: "bridge", Password: "secret", MsgIDType: "0",
		MOURL: k.sink.url() + "/kannel/mo", LogLevel: 2, NoAccessLog: true,
		StoreFile: filepath.Join(dir, "kannel.store"), MaxPending: k.window}
	conf := filepath.Join(dir, "kannel.conf")
	err := writeKannelConf(conf, k.cfg)
	if err != nil {
		return err
	}
	cmd := exec.Command(k.bearerbox, "-v", "2", conf)
	cmd.Dir = dir
	if k.bb, err = startProc("bearerbox", cmd, filepath.Join(dir, "bearerbox.out")); err != nil {
		return err
	}
	if err := waitUntil("Kannel smsc online", 30*time.Second, func() error {
		if k.bb.exited() {
			return fmt.Errorf("bearerbox exited: %v (see %s)", k.bb.err, dir)
		}
		st, err := httpGet(fmt.Sprintf("http://127.0.0.1:%d/status.txt?password=%s", k.cfg.AdminPort, k.cfg.AdminPassword))
		if err != nil {
			return err
		}
		for line := range strings.SplitSeq(st, "\n") {
			if strings.Contains(line, "sim") && strings.Contains(line, "online") {
				return nil
			}
		}
		return errors.New("smsc not online yet")
	}); err != nil {
		k.stop()
		return err
	}
	cmd = exec.Command(k.smsbox, "-v", "2", conf)
	cmd.Dir = dir
	if k.sb, err = startProc("smsbox", cmd, filepath.Join(dir, "smsbox.out")); err != nil {
		k.stop()
		return err
	}
	if err := waitUntil("smsbox sendsms port", 30*time.Second, dialable(fmt.Sprintf("127.0.0.1:%d", k.cfg.SendPort))); err != nil {
		k.stop()
		return err
	}
	time.Sleep(500 * time.Millisecond) // smsbox ↔ bearerbox link
	return nil
}

func (k *kannelTarget) stop() {
	if k.bb != nil && !k.bb.exited() {
		_, _ = httpGet(fmt.Sprintf("http://127.0.0.1:%d/shutdown?password=%s", k.cfg.AdminPort, k.cfg.AdminPassword))
		select {
		case <-k.bb.done:
		case <-time.After(20 * time.Second):
		}
	}
	k.sb.stop(5 * time.Second)
	k.bb.stop(5 * time.Second)
	waitUnbound(k.sim)
}

func (k *kannelTarget) pids() []int { return []int{k.bb.pid(), k.sb.pid()} }

func (k *kannelTarget) sendMT(ctx context.Context, id int, to, text string) error {
	return sendsms(ctx, fmt.Sprintf("http://127.0.0.1:%d", k.cfg.SendPort), k.sink, id, to, text)
}

// sendsms makes one GET /cgi-bin/sendsms at base for MT id to to, with
// dlr-mask 27 and a dlr-url to the sink's /kannel/dlr naming id: the
// request the harness makes to Kannel and to the bridge's kannel channel.
func sendsms(ctx context.Context, base string, snk *sink, id int, to, text string) error {
	q := url.Values{"username": {sendsmsUser}, "password": {sendsmsPassword}, "from": {sendsmsFrom}, "to": {to}, "text": {text},
		"dlr-mask": {"27"}, "dlr-url": {fmt.Sprintf("%s/kannel/dlr?id=%d&type=%%d", snk.url(), id)}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/cgi-bin/sendsms?"+q.Encode(), nil)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	out := drain(resp)
	if resp.StatusCode/100 != 2 || !bytes.Contains(out, []byte("Accepted")) {
		return fmt.Errorf("sendsms: %s %s", resp.Status, out)
	}
	return nil
}

func httpGet(u string) (string, error) {
	resp, err := client.Get(u)
	if err != nil {
		return "", err
	}
	b := drain(resp)
	if resp.StatusCode/100 != 2 {
		return string(b), fmt.Errorf("GET %s: %s", strings.SplitN(u, "?", 2)[0], resp.Status)
	}
	return string(b), nil
}

// repoRoot finds the module root from the working directory.
// writeKannelConf renders the interop test's kannel.conf.tmpl with cfg
// into file.
func writeKannelConf(file string, cfg kannelConfig) error {
	tmpl, err := template.ParseFiles(filepath.Join(repoRoot(), "test", "interop", "kannel.conf.tmpl"))
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, cfg); err != nil {
		return err
	}
	return os.WriteFile(file, buf.Bytes(), 0o600)
}

func repoRoot() string {
	dir, _ := os.Getwd()
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return dir
		}
	}
}
