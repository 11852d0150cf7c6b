package main

import (
	"cmp"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smscbridge/smscbridge/conf"
	"github.com/smscbridge/smscbridge/smsc/pdu"
	"github.com/smscbridge/smscbridge/smsc/smsctest"
)

// writeCert writes a self-signed certificate for 127.0.0.1 named cn and
// its key to dir, and returns their paths.
func writeCert(t *testing.T, dir, cn string) (certPath, keyPath string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath = filepath.Join(dir, cn+".crt"), filepath.Join(dir, cn+".key")
	mustWrite(t, certPath, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	mustWrite(t, keyPath, string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})))
	return certPath, keyPath
}

// reloadSetup is the file a reload test edits.
type reloadSetup struct {
	dir, db, platURL string
	admin            string // admin listen address
	listen           string // platform listen address; "" = 127.0.0.1:0
	cert, key        string
	smscs            map[string]string // id → "host:port"
}

// newSim starts a strict simulator with the bridge's account, closed at
// the end of the test.
func newSim(t *testing.T) *smsctest.Server {
	t.Helper()
	s := smsctest.NewServer(smsctest.WithTB(t), smsctest.WithAccount("bridge", "secret"))
	t.Cleanup(s.Close)
	return s
}

// newReloadSetup is the configuration of a reload test in a fresh
// directory (store bridge.db, admin listener on a free port) and the path
// of its file.
func newReloadSetup(t *testing.T) (*reloadSetup, string) {
	dir := t.TempDir()
	return &reloadSetup{dir: dir, db: filepath.Join(dir, "bridge.db"), admin: "127.0.0.1:0"}, filepath.Join(dir, "smscbridge.toml")
}

// smscTOML is one [[smsc]] of a simulator at addr, with extra lines.
func smscTOML(id, addr, extra string) string {
	host, port, _ := net.SplitHostPort(addr)
	return fmt.Sprintf(`
[[smsc]]
id = %q
host = %q
port = %s
system_id = "bridge"
password = "secret"
reconnect_delay = "20ms"
reconnect_max = "200ms"
response_timeout = "2s"
%s`, id, host, port, extra)
}

// file is the configuration: the common sections, then body.
func (r *reloadSetup) file(body string) string {
	tlsLines := ""
	if r.cert != "" {
		tlsLines = fmt.Sprintf("tls_cert = %q\ntls_key = %q\n", r.cert, r.key)
	}
	listen := cmp.Or(r.listen, "127.0.0.1:0")
	return fmt.Sprintf(`[http]
listen = %q
%s
[admin]
listen = %q
token = "admin-secret"

[store]
path = %q

[retry]
initial_backoff = "20ms"
max_backoff = "200ms"
%s`, listen, tlsLines, r.admin, r.db, body)
}

// rpChannel is a [[channel]] of kind rapidpro.
func rpChannel(id, number, smscs, platURL, extra string) string {
	return fmt.Sprintf(`
[[channel]]
id = %q
kind = "rapidpro"
numbers = [%q]
smsc = [%s]
receive_url = "%s/c/ex/%s/receive"
%s`, id, number, smscs, platURL, rpUUID, extra)
}

// notifyTOML is a [[channel]] of kind notify with template "7" of text.
func notifyTOML(smscs, text string) string {
	return fmt.Sprintf(`
[[channel]]
id = "events"
kind = "notify"
website_id = "64652663e65219005dc61bd6"
apikey = "notify-key"
smsc = [%s]
from = "MyBrand"

[[channel.template]]
id = "7"
type = "text"
text = %q
`, smscs, text)
}

// servedCert is the CommonName of the certificate the listener at addr
// presents.
func servedCert(t *testing.T, addr string) string {
	t.Helper()
	c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatalf("tls dial %s: %v", addr, err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].Subject.CommonName
}

// tlsPost posts an MT form to a RapidPro send URL over TLS and returns the
// status code.
func tlsPost(t *testing.T, addr, channel, form, auth string) int {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	defer client.CloseIdleConnections()
	req, _ := http.NewRequest(http.MethodPost, "https://"+addr+"/rapidpro/"+channel+"/send", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", channel, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// eventually polls cond for up to 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestReloadAppliesTheDifference edits the configuration file of a running
// daemon and reloads it (as SIGHUP does): the unchanged SMSC keeps its one
// bind, the changed one re-binds, the removed one unbinds, the added one
// binds; routes, channels and channel settings change; the TLS certificate
// is swapped; a file with an error, or with a setting that needs a
// restart, changes nothing and says why, with its line (issue 15 item 1).
func TestReloadAppliesTheDifference(t *testing.T) {
	sims := map[string]*smsctest.Server{}
	for _, id := range []string{"a", "b", "c", "d"} {
		sims[id] = newSim(t)
	}
	plat := newPlatform(t)
	dir := t.TempDir()
	r := &reloadSetup{dir: dir, db: filepath.Join(dir, "bridge.db"), admin: "127.0.0.1:0"}
	cert1, key1 := writeCert(t, dir, "cert-one")
	cert2, key2 := writeCert(t, dir, "cert-two")
	r.cert, r.key = cert1, key1
	path := filepath.Join(dir, "smscbridge.toml")
	v1 := r.file(smscTOML("a", sims["a"].Addr(), "") + smscTOML("b", sims["b"].Addr(), "window = 10") +
		smscTOML("d", sims["d"].Addr(), "") +
		rpChannel("rp-main", rpNumber, `"a"`, plat.srv.URL, "") + rpChannel("rp-old", "+15550001", `"d"`, plat.srv.URL, "") +
		notifyTOML(`"a"`, "Hola {{name}}"))
	mustWrite(t, path, v1)
	cfg, err := conf.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	logs := &logBuf{}
	d, err := newDaemon(cfg, daemonOptions{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done, ready := make(chan error, 1), make(chan struct{})
	go func() { done <- d.Run(ctx, func() { close(ready) }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	<-ready
	addr := d.HTTPAddr()
	for _, id := range []string{"a", "b", "d"} {
		wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
		if err := sims[id].WaitBound(wctx, 1); err != nil {
			t.Fatalf("smsc %s never bound: %v", id, err)
		}
		wcancel()
	}
	if got := servedCert(t, addr); got != "cert-one" {
		t.Fatalf("served certificate %q, want cert-one", got)
	}
	if code := tlsPost(t, addr, "rp-main", "id=1&text=before&to=%2B250788123123", ""); code != 200 {
		t.Fatalf("send before reload = %d", code)
	}
	eventually(t, "submit at a", func() bool { return sims["a"].Stats().Submits == 1 })

	// A new file: a unchanged, b changed, d removed, c added; rp-old
	// removed, rp-new added, rp-main wants an Authorization header now;
	// +250 routed through c; the second certificate.
	r.cert, r.key = cert2, key2
	v2 := r.file(smscTOML("a", sims["a"].Addr(), "") + smscTOML("b", sims["b"].Addr(), "window = 20") +
		smscTOML("c", sims["c"].Addr(), "") +
		"\n[[route]]\nprefix = \"+250\"\nsmsc = [\"c\"]\n" +
		rpChannel("rp-main", rpNumber, `"a"`, plat.srv.URL, `send_authorization = "Bearer reloaded"`) +
		rpChannel("rp-new", "+15550002", `"c"`, plat.srv.URL, "") + notifyTOML(`"a"`, "Adios {{name}}"))
	mustWrite(t, path, v2)
	if err := d.Reload(path); err != nil {
		t.Fatalf("Reload: %v\nlogs:\n%s", err, logs)
	}
	eventually(t, "c bound", func() bool { return sims["c"].Stats().Binds == 1 })
	eventually(t, "b bound again", func() bool { return sims["b"].Stats().Binds == 2 })
	eventually(t, "d unbound", func() bool { return sims["d"].Stats().Unbinds == 1 })
	if st := sims["a"].Stats(); st.Binds != 1 || st.Unbinds != 0 {
		t.Errorf("unchanged smsc a: %d binds, %d unbinds; want 1 and 0 (untouched)", st.Binds, st.Unbinds)
	}
	if st := sims["b"].Stats(); st.Unbinds != 1 {
		t.Errorf("changed smsc b: %d unbinds, want 1 (restarted)", st.Unbinds)
	}
	if got := servedCert(t, addr); got != "cert-two" {
		t.Errorf("served certificate after reload %q, want cert-two", got)
	}
	if code := tlsPost(t, addr, "rp-main", "id=2&text=after&to=%2B250788123123", ""); code != 401 {
		t.Errorf("rp-main without its new send_authorization = %d, want 401", code)
	}
	if code := tlsPost(t, addr, "rp-main", "id=2&text=after&to=%2B250788123123", "Bearer reloaded"); code != 200 {
		t.Fatalf("rp-main send after reload = %d", code)
	}
	eventually(t, "submit at c (the new route)", func() bool { return sims["c"].Stats().Submits == 1 })
	if code := tlsPost(t, addr, "rp-old", "id=3&text=x&to=%2B15550009", ""); code != 404 {
		t.Errorf("removed channel rp-old = %d, want 404", code)
	}
	if code := tlsPost(t, addr, "rp-new", "id=4&text=x&to=%2B15550009", ""); code != 200 {
		t.Errorf("added channel rp-new = %d, want 200", code)
	}
	if n := sims["a"].Stats().Submits; n != 1 {
		t.Errorf("smsc a got %d submits, want 1 (the +250 MT goes through c now)", n)
	}
	// The notify channel's template changed with the reload.
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	req, _ := http.NewRequest(http.MethodPost, "https://"+addr+"/website/64652663e65219005dc61bd6/hsm/notifications",
		strings.NewReader(`{"templateId":"7","destination":"542994843975","params":{"name":"Julieta"}}`))
	req.Header.Set("apikey", "notify-key")
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	client.CloseIdleConnections()
	if resp.StatusCode != 200 {
		t.Fatalf("notification after reload = %d", resp.StatusCode)
	}
	eventually(t, "the notification at a", func() bool { return sims["a"].Stats().Submits == 2 })
	if sub := sims["a"].Submits()[1]; string(sub.SM.Message) != "Adios Julieta" {
		t.Errorf("notification text %q, want the reloaded template's %q", sub.SM.Message, "Adios Julieta")
	}

	// A file with a mistake changes nothing and names the line.
	bad := strings.Replace(v2, "window = 20", "window = 0", 1)
	mustWrite(t, path, bad)
	line := 1 + strings.Count(bad[:strings.Index(bad, "window = 0")], "\n")
	if err := d.Reload(path); !errors.Is(err, errReloadRefused) {
		t.Fatalf("Reload of a bad file = %v, want refused", err)
	}
	if want := fmt.Sprintf("%s:%d: ", path, line); !strings.Contains(logs.String(), want) {
		t.Errorf("logs lack the problem at %q:\n%s", want, logs)
	}
	// A setting that needs a restart changes nothing either.
	mustWrite(t, path, strings.Replace(v2, "listen = \"127.0.0.1:0\"\ntoken", "listen = \"127.0.0.1:1\"\ntoken", 1))
	if err := d.Reload(path); !errors.Is(err, errReloadRefused) {
		t.Fatalf("Reload changing admin.listen = %v, want refused", err)
	}
	if !strings.Contains(logs.String(), "admin.listen") || !strings.Contains(logs.String(), "cannot change without a restart") {
		t.Errorf("logs do not say admin.listen needs a restart:\n%s", logs)
	}
	if code := tlsPost(t, addr, "rp-new", "id=5&text=x&to=%2B15550009", ""); code != 200 {
		t.Errorf("rp-new after refused reloads = %d, want 200 (the previous configuration)", code)
	}
	time.Sleep(100 * time.Millisecond) // nothing re-binds behind our back
	if st := sims["a"].Stats(); st.Binds != 1 || st.Unbinds != 0 {
		t.Errorf("smsc a after refused reloads: %d binds, %d unbinds; want 1 and 0", st.Binds, st.Unbinds)
	}
	if st := sims["c"].Stats(); st.Binds != 1 {
		t.Errorf("smsc c after refused reloads: %d binds, want 1", st.Binds)
	}

}

// TestReloadDrainsARemovedSMSC: an SMSC removed by a reload first gets the
// response of the submit_sm it has in flight — the MT completes and its
// platform hears "sent" — and only then is unbound; the reload returns
// once that is done (issue 15 item 1).
func TestReloadDrainsARemovedSMSC(t *testing.T) {
	a := newSim(t)
	d := newSim(t)
	held, release := make(chan struct{}, 1), make(chan struct{})
	d.SetHandler(smsctest.HandlerFunc(func(s *smsctest.Session, p *pdu.PDU) *pdu.PDU {
		resp := d.Default(s, p)
		if p.ID != pdu.SubmitSM || resp == nil {
			return resp
		}
		held <- struct{}{}
		go func() {
			<-release
			s.Write(resp)
		}()
		return nil
	}))
	plat := newPlatform(t)
	r, path := newReloadSetup(t)
	mustWrite(t, path, r.file(smscTOML("a", a.Addr(), "")+smscTOML("d", d.Addr(), "")+
		rpChannel("rp-main", rpNumber, `"a"`, plat.srv.URL, "")+rpChannel("rp-old", "+15550001", `"d"`, plat.srv.URL, "")))
	cfg, err := conf.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	logs := &logBuf{}
	dm, err := newDaemon(cfg, daemonOptions{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done, ready := make(chan error, 1), make(chan struct{})
	go func() { done <- dm.Run(ctx, func() { close(ready) }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	<-ready
	for _, s := range []*smsctest.Server{a, d} {
		wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
		if err := s.WaitBound(wctx, 1); err != nil {
			t.Fatal(err)
		}
		wcancel()
	}
	resp, err := http.Post("http://"+dm.HTTPAddr()+"/rapidpro/rp-old/send", "application/x-www-form-urlencoded",
		strings.NewReader("id=55&text=in+flight&to=%2B250788123123"))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("send = %v %v", resp, err)
	}
	resp.Body.Close()
	select {
	case <-held:
	case <-time.After(10 * time.Second):
		t.Fatal("submit_sm never reached smsc d")
	}
	// A second MT to the same recipient waits behind the first (one at a
	// time per contact): queued, not in flight, when d is removed.
	resp, err = http.Post("http://"+dm.HTTPAddr()+"/rapidpro/rp-old/send", "application/x-www-form-urlencoded",
		strings.NewReader("id=56&text=queued&to=%2B250788123123"))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("send = %v %v", resp, err)
	}
	resp.Body.Close()
	mustWrite(t, path, r.file(smscTOML("a", a.Addr(), "")+
		rpChannel("rp-main", rpNumber, `"a"`, plat.srv.URL, "")+rpChannel("rp-old", "+15550001", `"a"`, plat.srv.URL, "")))
	reloaded := make(chan error, 1)
	go func() { reloaded <- dm.Reload(path) }()
	time.Sleep(200 * time.Millisecond) // the reload waits for the response it cannot get yet
	select {
	case err := <-reloaded:
		t.Fatalf("reload returned (%v) while smsc d still had a submit_sm in flight", err)
	default:
	}
	if n := d.Stats().Unbinds; n != 0 {
		t.Fatalf("smsc d unbound (%d) with a submit_sm in flight", n)
	}
	close(release)
	if err := <-reloaded; err != nil {
		t.Fatalf("Reload: %v", err)
	}
	eventually(t, "smsc d unbound", func() bool { return d.Stats().Unbinds == 1 })
	reqs := plat.wait(t, "sent callback", func(r []platformReq) bool { return len(withPath(r, "/sent")) == 1 })
	if f := withPath(reqs, "/sent")[0].form(t); f.Get("id") != "55" {
		t.Errorf("sent callback = %v, want id=55", f)
	}
	if dead, _ := dm.store.ListDead(context.Background(), "", 10); len(dead) != 0 {
		t.Errorf("dead letters = %+v, want none", dead)
	}
	// The queued one stays queued in d's lane, reported as orphaned.
	if st := dm.orphanedLanes()["mt:d"]; st.Queued+st.Leased != 1 {
		t.Errorf("orphaned lanes = %+v, want mt:d with the queued MT", dm.orphanedLanes())
	}
	if !strings.Contains(logs.String(), "no longer configured") || !strings.Contains(logs.String(), "lane=mt:d") {
		t.Errorf("the orphaned lane is not logged:\n%s", logs)
	}
	if n := d.Stats().Submits; n != 1 {
		t.Errorf("smsc d got %d submits, want 1 (the queued MT was not sent while it drained)", n)
	}
	if st := a.Stats(); st.Binds != 1 || st.Unbinds != 0 {
		t.Errorf("smsc a: %d binds, %d unbinds; want 1 and 0", st.Binds, st.Unbinds)
	}
}

// TestReloadUnderTraffic reloads ten times while platforms keep sending
// MT: each reload moves the +250 route between two SMSCs, restarts one of
// them and restarts the channel's callback lane. Every accepted MT is
// submitted and reported sent, none is dead-lettered, and the unchanged
// SMSC is bound once all along (race detector on: the table swap is the
// only shared change) (issue 15 item 1).
func TestReloadUnderTraffic(t *testing.T) {
	a := newSim(t)
	b := newSim(t)
	plat := newPlatform(t)
	r, path := newReloadSetup(t)
	version := func(i int) string {
		via := []string{`"a"`, `"b"`}[i%2]
		return r.file(smscTOML("a", a.Addr(), "") + smscTOML("b", b.Addr(), fmt.Sprintf("window = %d", 10+i)) +
			"\n[[route]]\nprefix = \"+250\"\nsmsc = [" + via + "]\n" +
			rpChannel("rp-main", rpNumber, `"a"`, plat.srv.URL, fmt.Sprintf("concurrency = %d", 4+i)))
	}
	mustWrite(t, path, version(0))
	cfg, err := conf.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	dm, err := newDaemon(cfg, daemonOptions{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done, ready := make(chan error, 1), make(chan struct{})
	go func() { done <- dm.Run(ctx, func() { close(ready) }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	<-ready
	const senders, each = 4, 25
	var wg sync.WaitGroup
	for s := range senders {
		wg.Go(func() {
			for i := range each {
				id := fmt.Sprintf("%d%03d", s+1, i)
				resp, err := http.Post("http://"+dm.HTTPAddr()+"/rapidpro/rp-main/send", "application/x-www-form-urlencoded",
					strings.NewReader(fmt.Sprintf("id=%s&text=m%s&to=%%2B25078812%04d", id, id, s*100+i)))
				if err != nil {
					t.Errorf("send %s: %v", id, err)
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Errorf("send %s = %d %s", id, resp.StatusCode, body)
				}
				time.Sleep(2 * time.Millisecond)
			}
		})
	}
	for i := 1; i <= 10; i++ {
		mustWrite(t, path, version(i))
		if err := dm.Reload(path); err != nil {
			t.Fatalf("reload %d: %v", i, err)
		}
		time.Sleep(15 * time.Millisecond)
	}
	wg.Wait()
	want := map[string]bool{}
	for s := range senders {
		for i := range each {
			want[fmt.Sprintf("%d%03d", s+1, i)] = true
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := map[string]bool{}
		for _, req := range withPath(plat.all(), "/sent") {
			got[req.form(t).Get("id")] = true
		}
		missing := 0
		for id := range want {
			if !got[id] {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d MT never reported sent", missing, len(want))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := a.Stats().Submits + b.Stats().Submits; n < len(want) {
		t.Errorf("%d submits at the SMSCs, want at least %d", n, len(want))
	}
	if dead, _ := dm.store.ListDead(context.Background(), "", 10); len(dead) != 0 {
		t.Errorf("dead letters = %+v, want none", dead)
	}
	if st := a.Stats(); st.Binds != 1 || st.Unbinds != 0 {
		t.Errorf("unchanged smsc a: %d binds, %d unbinds; want 1 and 0", st.Binds, st.Unbinds)
	}
	// b was restarted by every reload (a restart that came before the
	// previous one's bind leaves no bind to count) and is bound at the end.
	eventually(t, "smsc b bound after the last reload", func() bool { return len(b.BoundSessions()) == 1 })
	if st := b.Stats(); st.Binds < 2 || st.Unbinds < 1 {
		t.Errorf("smsc b: %d binds, %d unbinds; want restarts", st.Binds, st.Unbinds)
	}
}

// TestReloadKeepsOperatorControl: an SMSC whose MT an operator suspended,
// and one whose binds an operator stopped, stay so when a reload restarts
// them for changed settings; the status page shows when the configuration
// was loaded (issue 15 item 1).
func TestReloadKeepsOperatorControl(t *testing.T) {
	a := newSim(t)
	b := newSim(t)
	plat := newPlatform(t)
	r, path := newReloadSetup(t)
	version := func(window int) string {
		w := fmt.Sprintf("window = %d", window)
		return r.file(smscTOML("a", a.Addr(), w) + smscTOML("b", b.Addr(), w) + rpChannel("rp-main", rpNumber, `"a", "b"`, plat.srv.URL, ""))
	}
	mustWrite(t, path, version(10))
	cfg, err := conf.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	dm, err := newDaemon(cfg, daemonOptions{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done, ready := make(chan error, 1), make(chan struct{})
	go func() { done <- dm.Run(ctx, func() { close(ready) }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	<-ready
	for _, s := range []*smsctest.Server{a, b} {
		wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
		if err := s.WaitBound(wctx, 1); err != nil {
			t.Fatal(err)
		}
		wcancel()
	}
	admin := func(method, p string) (int, string) {
		req, _ := http.NewRequest(method, "http://"+dm.AdminAddr()+p, nil)
		req.Header.Set("Authorization", "Bearer admin-secret")
		req.Header.Set("Accept", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	_, before := admin("GET", "/status")
	for _, p := range []string{"/smsc/a/suspend", "/smsc/b/stop"} {
		if code, body := admin("POST", p); code != 200 {
			t.Fatalf("%s = %d %s", p, code, body)
		}
	}
	eventually(t, "b unbound by the operator", func() bool { return b.Stats().Unbinds == 1 })
	mustWrite(t, path, version(20)) // both SMSCs change: both are restarted
	if err := dm.Reload(path); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	eventually(t, "a bound again after its restart", func() bool { return a.Stats().Binds == 2 })
	if !dm.bridge.MTSuspended("a") {
		t.Error("smsc a's MT are no longer suspended after the reload restarted it")
	}
	if c := dm.client("b"); c == nil || !c.Stopped() {
		t.Error("smsc b's binds are no longer stopped after the reload restarted it")
	}
	time.Sleep(200 * time.Millisecond) // b must not bind behind the operator's back
	if n := b.Stats().Binds; n != 1 {
		t.Errorf("smsc b bound %d times, want 1 (stopped by the operator, across the reload)", n)
	}
	_, after := admin("GET", "/status")
	loadedAt := func(doc string) string {
		var st struct {
			Config struct {
				LoadedAt string `json:"loaded_at"`
			} `json:"config"`
		}
		if err := json.Unmarshal([]byte(doc), &st); err != nil {
			t.Fatalf("status JSON: %v: %s", err, doc)
		}
		return st.Config.LoadedAt
	}
	if l0, l1 := loadedAt(before), loadedAt(after); l0 == "" || l0 == l1 {
		t.Errorf("status config.loaded_at %q → %q, want it to move with the reload", l0, l1)
	}
}
