//go:build chaos

// The chaos suite (make chaos): the daemon under faults, each case
// counting at both ends. Nothing acknowledged may be lost; duplicates are
// counted and reported, and allowed only where the protocol cannot avoid
// them (a submit_sm or callback whose answer was lost). Every case is
// bounded in count and time; CHAOS_LONG=1 stretches the platform outage to
// the full minute.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/smscbridge/smscbridge/bridge"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/smscbridge/smscbridge/conf"
	"github.com/smscbridge/smscbridge/smsc/coding"
	"github.com/smscbridge/smscbridge/smsc/pdu"
	"github.com/smscbridge/smscbridge/smsc/smsctest"
)

var chaosClient = &http.Client{Timeout: 10 * time.Second}

// chaosHarness is newHarness with the configuration changed before start.
func chaosHarness(t *testing.T, mutate func(*conf.Config), opts ...smsctest.Option) *harness {
	t.Helper()
	opts = append([]smsctest.Option{smsctest.WithAccount("bridge", "secret")}, opts...)
	h := &harness{t: t, smsc: smsctest.NewServer(opts...), plat: newPlatform(t)}
	t.Cleanup(h.smsc.Close)
	h.cfg = testConfig(t, h.smsc.Addr(), h.plat.srv.URL, filepath.Join(t.TempDir(), "bridge.db"))
	if mutate != nil {
		mutate(h.cfg)
	}
	h.start()
	h.waitBound()
	return h
}

// sendMT is one RapidPro send call; nil once answered 200.
func sendMT(base string, id int, to, text string) error {
	resp, err := chaosClient.PostForm(base+"/rapidpro/rp-main/send", url.Values{"id": {fmt.Sprint(id)}, "text": {text}, "to": {to}})
	if err != nil {
		return err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", resp.Status, b)
	}
	return nil
}

// submitted counts the submit_sm the simulator answered OK, by text.
func submitted(sim *smsctest.Server) map[string]int {
	got := map[string]int{}
	for _, s := range sim.Submits() {
		if s.Status != pdu.StatusOK {
			continue
		}
		text, _ := coding.Decode(s.SM.DataCoding, s.SM.Message)
		got[text]++
	}
	return got
}

// posted counts the platform requests answered 2xx on paths ending in
// suffix, by form field.
func posted(p *platform, suffix, field string) map[string]int {
	got := map[string]int{}
	for _, r := range withPath(p.all(), suffix) {
		if f, err := url.ParseQuery(string(r.Body)); err == nil && r.Code < 300 {
			got[f.Get(field)]++
		}
	}
	return got
}

// waitAll polls missing until it returns nothing, failing after timeout.
func waitAll(t *testing.T, what string, timeout time.Duration, missing func() []string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		m := missing()
		if len(m) == 0 {
			return
		}
		if time.Now().After(deadline) {
			slices.Sort(m)
			t.Fatalf("%s: %d still missing after %v: %v", what, len(m), timeout, m[:min(len(m), 20)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func dups(m map[string]int) int {
	n := 0
	for _, c := range m {
		n += max(c-1, 0)
	}
	return n
}

// inOrder checks that, per contact, sequence numbers never go down (a
// repeat of an item in flight is allowed).
func inOrder(t *testing.T, what string, seqs map[string][]int) {
	t.Helper()
	for contact, seq := range seqs {
		for k := 1; k < len(seq); k++ {
			if seq[k] < seq[k-1] {
				t.Errorf("%s for %s out of order: %v", what, contact, seq[max(0, k-5):min(len(seq), k+5)])
				break
			}
		}
	}
}

// Case 5: the SMSC drops the connection about every second under MT load
// (1,500 MT over about 6 s).
func TestChaosSMSCDropsConnection(t *testing.T) {
	h := chaosHarness(t, nil)
	const n, workers = 1500, 8
	var accepted sync.Map
	var next atomic.Int64
	stopDrops := make(chan struct{})
	var drops atomic.Int64
	var bg sync.WaitGroup
	bg.Go(func() {
		// Every 0.75-1.25 s: a drop at a fixed period can phase-lock with
		// the bridge's fixed 1 s wait for a bind and starve a few MT for
		// as long as it lasts, which no real SMSC does.
		for {
			select {
			case <-stopDrops:
				return
			case <-time.After(time.Duration(750+rand.IntN(500)) * time.Millisecond):
				h.smsc.DropConnections()
				drops.Add(1)
			}
		}
	})
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1))
				if i > n {
					return
				}
				text := fmt.Sprintf("c5 %d", i)
				// A refusal while the bind is down is fine: the platform
				// retries; only what was accepted counts.
				if sendMT(h.baseURL, i, fmt.Sprint("+250788", 200000+i%200), text) == nil {
					accepted.Store(text, true)
				}
				time.Sleep(30 * time.Millisecond) // spread the load over the drops
			}
		})
	}
	wg.Wait()
	close(stopDrops) // the load is over: the SMSC stays up
	bg.Wait()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("queue at the end: %+v", h.d.store.Stats())
			items, _ := h.d.store.List(context.Background(), "mt:agg-a", 5)
			for _, it := range items {
				t.Logf("  queued %s key %s attempts %d due %v (in %v) last error %q", it.ID, it.Key, it.Attempts, it.NextDue, time.Until(it.NextDue).Round(time.Millisecond), it.LastError)
			}
		}
	})
	// An MT whose submit_sm was written when the connection went, with no
	// answer, has an unknown outcome: by design (design.md, MT rule 7) it
	// becomes a dead letter that waits for a late response or an operator
	// rather than a resend that may duplicate it. Those are counted apart.
	unknown := map[string]bool{}
	waitAll(t, "accepted MT at the SMSC (or dead-lettered as unknown_outcome)", 30*time.Second, func() []string {
		got := submitted(h.smsc)
		dead, _ := h.d.store.ListDead(context.Background(), "mt:agg-a", 1000)
		clear(unknown)
		for _, it := range dead {
			var rec struct{ Text string }
			view, ok := bridge.RedactPayload(it.Lane, it.Payload) // the MT record as JSON
			if ok && json.Unmarshal(view, &rec) == nil && strings.HasPrefix(it.DeadReason, "unknown_outcome") {
				unknown[rec.Text] = true
			}
		}
		var m []string
		accepted.Range(func(k, _ any) bool {
			if got[k.(string)] == 0 && !unknown[k.(string)] {
				m = append(m, k.(string))
			}
			return true
		})
		return m
	})
	got := submitted(h.smsc)
	nAcc := 0
	accepted.Range(func(any, any) bool { nAcc++; return true })
	d := dups(got)
	// A duplicate is a submit resent because its response was lost with
	// the connection: at most a window's worth per drop.
	if limit := int(drops.Load()) * h.cfg.SMSC[0].Window; d > limit {
		t.Errorf("%d duplicate submits for %d drops: more than a window (%d) per drop", d, drops.Load(), h.cfg.SMSC[0].Window)
	}
	if drops.Load() < 3 {
		t.Errorf("only %d drops during the load: the case did not run", drops.Load())
	}
	t.Logf("case 5: %d drops; %d of %d MT accepted: %d submitted, %d dead-lettered as unknown_outcome (written, no response before the drop: waiting for an operator, not resent); %d duplicate submits",
		drops.Load(), nAcc, n, nAcc-len(unknown), len(unknown), d)
}

// chaosFront is a reverse proxy in front of the stand-in platform whose
// behaviour the test switches: pass, 500, hang (answer nothing, then drop
// the connection), or down (the port refuses connections).
type chaosFront struct {
	addr  string
	mode  atomic.Value // "pass" | "500" | "hang"
	mu    sync.Mutex
	srv   *http.Server
	proxy *httputil.ReverseProxy
	hung  chan struct{}
}

func newChaosFront(t *testing.T, target string) *chaosFront {
	u, _ := url.Parse(target)
	f := &chaosFront{proxy: httputil.NewSingleHostReverseProxy(u), hung: make(chan struct{})}
	f.mode.Store("pass")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.addr = ln.Addr().String()
	f.serve(ln)
	t.Cleanup(func() { f.down() })
	return f
}

func (f *chaosFront) serve(ln net.Listener) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.srv = &http.Server{Handler: http.HandlerFunc(f.handle)}
	go f.srv.Serve(ln)
}

func (f *chaosFront) handle(w http.ResponseWriter, r *http.Request) {
	switch f.mode.Load() {
	case "500":
		http.Error(w, "chaos", http.StatusInternalServerError)
	case "hang":
		select {
		case <-f.hung:
		case <-r.Context().Done():
		}
		// Drop the connection without an answer.
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	default:
		f.proxy.ServeHTTP(w, r)
	}
}

// down closes the listener: connections are refused.
func (f *chaosFront) down() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.srv != nil {
		f.srv.Close()
		f.srv = nil
	}
}

// up listens again on the same port.
func (f *chaosFront) up(t *testing.T) {
	var ln net.Listener
	var err error
	for range 50 {
		if ln, err = net.Listen("tcp", f.addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("relisten %s: %v", f.addr, err)
	}
	f.serve(ln)
}

// Case 6: the platform answers 500, then hangs (no answer, then the
// connection drops), then refuses connections, for 15 s in all (a minute
// with CHAOS_LONG=1), under MO load from 20 senders: everything lands
// after it recovers, in order per sender.
func TestChaosPlatformOutage(t *testing.T) {
	phase := 5 * time.Second
	if os.Getenv("CHAOS_LONG") != "" {
		phase = 20 * time.Second
	}
	var front *chaosFront
	// Retries must outlast the outage (20 attempts at the test's short
	// backoff would dead-letter the heads, as configured).
	h := chaosHarness(t, func(c *conf.Config) {
		c.Retry.MaxBackoff.Duration = time.Second
		c.Retry.MaxAttempts = 10000
	})
	// The front needs the platform's URL, which exists only now: restart
	// the daemon with receive_url through the front.
	h.shutdown()
	front = newChaosFront(t, h.plat.srv.URL)
	h.cfg.Channel[0].ReceiveURL = "http://" + front.addr + "/c/ex/" + rpUUID + "/receive"
	h.start()
	h.waitBound()

	const senders, perSender = 20, 60
	acked := map[string]bool{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	total := 3 * phase
	for c := range senders {
		wg.Go(func() {
			for i := range perSender {
				// Spread the MO over the outage and a little after.
				time.Sleep(time.Until(start.Add(time.Duration(i) * (total + 2*time.Second) / perSender)))
				text := fmt.Sprintf("c6 %d %d", c, i)
				sms, _ := smsctest.BuildMO(fmt.Sprintf("+2349067560%03d", c), rpNumber, text, 0)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				st, err := h.smsc.Deliver(ctx, sms[0])
				cancel()
				if err == nil && st == pdu.StatusOK {
					mu.Lock()
					acked[text] = true
					mu.Unlock()
				}
			}
		})
	}
	front.mode.Store("500")
	time.Sleep(phase)
	front.mode.Store("hang")
	time.Sleep(phase)
	front.down()
	close(front.hung)
	time.Sleep(phase)
	front.mode.Store("pass")
	front.up(t)
	recovered := time.Now()
	wg.Wait()
	waitAll(t, "acknowledged MO at the platform", 60*time.Second, func() []string {
		got := posted(h.plat, "/receive", "text")
		var m []string
		mu.Lock()
		defer mu.Unlock()
		for text := range acked {
			if got[text] == 0 {
				m = append(m, text)
			}
		}
		return m
	})
	got := posted(h.plat, "/receive", "text")
	seqs := map[string][]int{}
	for _, r := range withPath(h.plat.all(), "/receive") {
		var c, i int
		if f, err := url.ParseQuery(string(r.Body)); err == nil {
			if _, err := fmt.Sscanf(f.Get("text"), "c6 %d %d", &c, &i); err == nil {
				seqs[fmt.Sprint(c)] = append(seqs[fmt.Sprint(c)], i)
			}
		}
	}
	inOrder(t, "MO", seqs)
	t.Logf("case 6: outage %v (500, hang, refused); %d MO acknowledged, all at the platform %.1fs after recovery, in order per sender; %d duplicates (hung requests the platform may have seen)",
		3*phase, len(acked), time.Since(recovered).Seconds(), dups(got))
}

// Case 7: the SMSC throttles (it allows 300 submit_sm/s; beyond that
// ESME_RTHROTTLED), then caps outstanding submits at 3 (beyond that
// ESME_RMSGQFUL, answers after 5 ms): the bridge slows down to what it
// allows and loses nothing.
func TestChaosThrottlingAndQueueFull(t *testing.T) {
	for _, c := range []struct {
		name string
		opts []smsctest.Option
		set  func(*smsctest.Server)
	}{
		{"ESME_RTHROTTLED at 300/s", []smsctest.Option{smsctest.WithSubmitRate(300)}, func(*smsctest.Server) {}},
		{"ESME_RMSGQFUL beyond 3 outstanding", []smsctest.Option{smsctest.WithMaxInflight(3, pdu.StatusMsgQFul)},
			func(s *smsctest.Server) { s.SetDelay(5 * time.Millisecond) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := chaosHarness(t, func(c *conf.Config) {
				c.SMSC[0].ThrottlePause.Duration = 50 * time.Millisecond
				c.SMSC[0].ThrottleMax.Duration = 400 * time.Millisecond
				c.Retry.MaxAttempts = 10000
			}, c.opts...)
			c.set(h.smsc)
			const n = 1200
			start := time.Now()
			accepted := map[string]bool{}
			var mu sync.Mutex
			var wg sync.WaitGroup
			var next atomic.Int64
			for range 8 {
				wg.Go(func() {
					for {
						i := int(next.Add(1))
						if i > n {
							return
						}
						text := fmt.Sprintf("c7 %d", i)
						if sendMT(h.baseURL, i, fmt.Sprint("+250788", 300000+i%100), text) == nil {
							mu.Lock()
							accepted[text] = true
							mu.Unlock()
						}
					}
				})
			}
			wg.Wait()
			waitAll(t, "accepted MT at the SMSC", 120*time.Second, func() []string {
				got := submitted(h.smsc)
				var m []string
				for text := range accepted {
					if got[text] == 0 {
						m = append(m, text)
					}
				}
				return m
			})
			took := time.Since(start)
			st := h.smsc.Stats()
			refused := st.Throttled + st.OverWindow
			t.Logf("case 7 (%s): %d MT accepted, all submitted in %.1fs (%.0f/s); SMSC refused %d (throttled %d, queue full %d); %d duplicates",
				c.name, len(accepted), took.Seconds(), float64(len(accepted))/took.Seconds(), refused, st.Throttled, st.OverWindow, dups(submitted(h.smsc)))
			if refused == 0 {
				t.Errorf("the SMSC refused nothing: the case did not run")
			}
			// Slowing down: refusals stay a fraction of the traffic, not a
			// tight resend loop.
			if refused > len(accepted) {
				t.Errorf("%d refused submits for %d messages: the bridge did not slow down", refused, len(accepted))
			}
		})
	}
}

const garbageStreams = 5

// garbageSMSC accepts connections and answers the bind with one of the
// malformed streams, then closes.
func garbageSMSC(t *testing.T) (addr string, conns *atomic.Int64) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	conns = &atomic.Int64{}
	streams := [][]byte{
		{0, 0, 0, 4}, // command_length below the header
		{0x06, 0, 0, 0, 0x80, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 1},        // ~100 MB command_length
		{0, 0, 0, 16, 0x12, 0x34, 0x56, 0x78, 0, 0, 0, 0, 0, 0, 0, 1}, // unknown command id
		{0, 0, 0, 40, 0x80, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 1, 'x'},     // truncated body, then EOF
		{0, 0, 0, 17, 0x80, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 1, 'n'},     // bind_transceiver_resp, system_id without NUL
	}
	if len(streams) != garbageStreams {
		panic("garbageStreams")
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			k := conns.Add(1)
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				buf := make([]byte, 4096)
				c.Read(buf) // the bind
				c.Write(streams[int(k)%len(streams)])
				io.Copy(io.Discard, io.LimitReader(c, 1<<20))
			}()
		}
	}()
	return ln.Addr().String(), conns
}

// Case 8: a raw TCP peer posing as an SMSC sends malformed PDUs; that
// session errors out cleanly and reconnects, the good bind is unaffected,
// MO and MT keep flowing.
func TestChaosGarbageOnTheWire(t *testing.T) {
	addr, conns := garbageSMSC(t)
	host, port, _ := net.SplitHostPort(addr)
	h := chaosHarness(t, func(c *conf.Config) {
		s := c.SMSC[0]
		s.ID, s.Host = "junk", host
		fmt.Sscan(port, &s.Port)
		c.SMSC = append(c.SMSC, s)
	})
	const n = 200
	for i := range n {
		sms, _ := smsctest.BuildMO(fmt.Sprintf("+2349067570%03d", i%10), rpNumber, fmt.Sprintf("c8 mo %d", i), 0)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		st, err := h.smsc.Deliver(ctx, sms[0])
		cancel()
		if err != nil || st != pdu.StatusOK {
			t.Fatalf("MO %d through the good bind: %v %v", i, st, err)
		}
		if err := sendMT(h.baseURL, 800000+i, fmt.Sprint("+250788", 400000+i%10), fmt.Sprintf("c8 mt %d", i)); err != nil {
			t.Fatalf("MT %d: %v", i, err)
		}
	}
	waitAll(t, "MO and MT", 30*time.Second, func() []string {
		mo, mt := posted(h.plat, "/receive", "text"), submitted(h.smsc)
		var m []string
		for i := range n {
			if mo[fmt.Sprintf("c8 mo %d", i)] == 0 {
				m = append(m, fmt.Sprintf("c8 mo %d", i))
			}
			if mt[fmt.Sprintf("c8 mt %d", i)] == 0 {
				m = append(m, fmt.Sprintf("c8 mt %d", i))
			}
		}
		return m
	})
	waitAll(t, "the daemon reconnecting to the garbage peer through every stream twice", 60*time.Second, func() []string {
		if c := conns.Load(); c < 2*garbageStreams {
			return []string{fmt.Sprint(c, " connections")}
		}
		return nil
	})
	if err := sendMT(h.baseURL, 899999, "+250788400001", "c8 after"); err != nil {
		t.Fatalf("MT after the garbage: %v", err)
	}
	waitAll(t, "MT after the garbage", 10*time.Second, func() []string {
		if submitted(h.smsc)["c8 after"] == 0 {
			return []string{"c8 after"}
		}
		return nil
	})
	t.Logf("case 8: garbage peer saw %d connection attempts, each errored out; %d MO and %d MT through the good bind meanwhile", conns.Load(), n, n)
}

// Case 9: bad HTTP (malformed bodies, wrong tokens, oversized bodies,
// slow-loris clients) gets 4xx and queues nothing; a well-behaved client's
// latency is measured during the attack.
func TestChaosBadHTTP(t *testing.T) {
	h := chaosHarness(t, func(c *conf.Config) {
		c.Channel[0].SendAuthorization = "Bearer right-token"
	})
	before := len(h.smsc.Submits())
	stop := make(chan struct{})
	var attack sync.WaitGroup
	var bad4xx, badOther atomic.Int64
	hostport := strings.TrimPrefix(h.baseURL, "http://")
	// Slow-loris: 50 connections sending a header byte every 500ms.
	for range 50 {
		attack.Go(func() {
			c, err := net.Dial("tcp", hostport)
			if err != nil {
				return
			}
			defer c.Close()
			c.Write([]byte("POST /rapidpro/rp-main/send HTTP/1.1\r\nHost: x\r\n"))
			for {
				select {
				case <-stop:
					return
				case <-time.After(500 * time.Millisecond):
				}
				if _, err := c.Write([]byte("X-a: b\r\n")); err != nil {
					return
				}
			}
		})
	}
	bads := []struct{ ctype, auth, body string }{
		{"application/x-www-form-urlencoded", "Bearer right-token", "id=%zz&text"},                             // malformed
		{"application/x-www-form-urlencoded", "Bearer wrong", "id=1&text=hi&to=%2B250788123456"},               // wrong token
		{"application/x-www-form-urlencoded", "", "id=1&text=hi&to=%2B250788123456"},                           // no token
		{"application/x-www-form-urlencoded", "Bearer right-token", "id=1&text=" + strings.Repeat("a", 2<<20)}, // oversized
		{"application/json", "Bearer right-token", "{not json"},
		{"application/x-www-form-urlencoded", "Bearer right-token", "id=1&text=hi&to=not-a-number"},
	}
	for w := range 4 {
		attack.Go(func() {
			for k := 0; ; k++ {
				select {
				case <-stop:
					return
				default:
				}
				b := bads[(k+w)%len(bads)]
				req, _ := http.NewRequest(http.MethodPost, h.baseURL+"/rapidpro/rp-main/send", strings.NewReader(b.body))
				req.Header.Set("Content-Type", b.ctype)
				if b.auth != "" {
					req.Header.Set("Authorization", b.auth)
				}
				resp, err := chaosClient.Do(req)
				if err != nil {
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode >= 400 && resp.StatusCode < 500 {
					bad4xx.Add(1)
				} else {
					badOther.Add(1)
				}
			}
		})
	}
	// The well-behaved client.
	var lat []time.Duration
	for i := range 200 {
		t0 := time.Now()
		body := url.Values{"id": {fmt.Sprint(900000 + i)}, "text": {fmt.Sprintf("c9 %d", i)}, "to": {"+250788500001"}}.Encode()
		req, _ := http.NewRequest(http.MethodPost, h.baseURL+"/rapidpro/rp-main/send", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Bearer right-token")
		resp, err := chaosClient.Do(req)
		if err != nil {
			t.Fatalf("good client during the attack: %v", err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("good client during the attack: %s", resp.Status)
		}
		lat = append(lat, time.Since(t0))
	}
	close(stop)
	attack.Wait()
	waitAll(t, "good MT", 30*time.Second, func() []string {
		got := submitted(h.smsc)
		var m []string
		for i := range 200 {
			if got[fmt.Sprintf("c9 %d", i)] == 0 {
				m = append(m, fmt.Sprintf("c9 %d", i))
			}
		}
		return m
	})
	if extra := len(h.smsc.Submits()) - before - 200; extra != 0 {
		t.Errorf("%d submits beyond the good client's 200: bad requests were queued", extra)
	}
	if badOther.Load() > 0 {
		t.Errorf("%d bad requests were not answered 4xx", badOther.Load())
	}
	slices.Sort(lat)
	t.Logf("case 9: %d bad requests answered 4xx, 50 slow-loris connections; nothing queued from them; good client p50 %v p99 %v (200 sends)",
		bad4xx.Load(), lat[len(lat)/2].Round(time.Microsecond), lat[len(lat)*99/100].Round(time.Microsecond))
}

// Case 10: the store on a 32 MiB tmpfs that a filler file then fills, under
// MO and MT load: MO are
// answered with a temporary error and sends with 503 while full; service
// resumes by itself once space returns; nothing acknowledged is lost.
func TestChaosDiskFull(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=32m"); err != nil {
		t.Skipf("case 10 skipped: cannot mount a tmpfs (%v); needs root", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	h := chaosHarness(t, func(c *conf.Config) {
		c.Store.Path = filepath.Join(dir, "bridge.db")
		c.Retry.MaxAttempts = 100000 // the platform is held down meanwhile
	})
	// Hold the platform so MO stay queued and the file grows.
	h.plat.setFail(http.StatusServiceUnavailable)
	filler := filepath.Join(dir, "filler")
	fill := func() {
		f, err := os.Create(filler)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 64<<10)
		for {
			if _, err := f.Write(buf); err != nil {
				break
			}
		}
		f.Close()
	}
	ackedMO, acceptedMT := map[string]bool{}, map[string]bool{}
	var moTemp, mt503, other int
	long := strings.Repeat("x", 140) // one SMS: "c10 mo 699 " + 140 < 160
	send := func(i int) {
		text := fmt.Sprintf("c10 mo %d %s", i, long)
		sms, _ := smsctest.BuildMO(fmt.Sprintf("+2349067580%03d", i%20), rpNumber, text, 0)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		st, err := h.smsc.Deliver(ctx, sms[0])
		cancel()
		switch {
		case err == nil && st == pdu.StatusOK:
			ackedMO[text] = true
		case err == nil && (st == pdu.StatusRxTAppn || st == pdu.StatusSysErr || st == pdu.StatusMsgQFul || st == pdu.StatusThrottled):
			moTemp++
		default:
			other++
		}
		mt := fmt.Sprintf("c10 mt %d", i)
		switch err := sendMT(h.baseURL, 700000+i, fmt.Sprint("+250788", 600000+i%20), mt); {
		case err == nil:
			acceptedMT[mt] = true
		case strings.HasPrefix(err.Error(), "503"):
			mt503++
		default:
			other++
			t.Logf("MT while full: %v", err)
		}
	}
	i := 0
	for ; i < 100; i++ {
		send(i)
	}
	fill()
	for ; i < 600; i++ {
		send(i)
	}
	if moTemp == 0 || mt503 == 0 {
		t.Errorf("while full: %d MO temporary errors, %d MT 503: the disk never filled or the answers are wrong", moTemp, mt503)
	}
	os.Remove(filler)
	h.plat.setFail(0)
	for ; i < 700; i++ {
		send(i)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("queue at the end: %+v", h.d.store.Stats())
		}
	})
	waitAll(t, "acknowledged MO and accepted MT after space returned", 60*time.Second, func() []string {
		mo, mt := posted(h.plat, "/receive", "text"), submitted(h.smsc)
		var m []string
		for text := range ackedMO {
			if mo[text] == 0 {
				m = append(m, text[:12])
			}
		}
		for text := range acceptedMT {
			if mt[text] == 0 {
				m = append(m, text)
			}
		}
		return m
	})
	if other > 0 {
		t.Errorf("%d answers were neither OK nor the temporary ones", other)
	}
	t.Logf("case 10: %d MO acknowledged and %d MT accepted, all delivered after space returned; while full %d MO got a temporary status and %d sends 503",
		len(ackedMO), len(acceptedMT), moTemp, mt503)
}

// Case 4: kill -9 of the daemon (a child process) at random moments under
// mixed MO and MT load, restarted each time, 5 kills. The SMSC and the
// platform retry what was not acknowledged (same message, so order per
// contact is checkable); the SMSC keeps each receipt until the daemon
// acknowledges it, as real SMSCs do. At the end: every acknowledged MO at
// the platform, every accepted MT at the SMSC with its delivered callback,
// each contact in order; duplicates counted.
func TestChaosKill9Repeated(t *testing.T) {
	const kills, contacts, perContact = 5, 6, 300
	sim := smsctest.NewServer(smsctest.WithAccount("bridge", "secret"))
	t.Cleanup(sim.Close)
	plat := newPlatform(t)
	dir := t.TempDir()
	httpAddr := freePort(t)
	config := writeChildConfig(t, filepath.Join(dir, "smscbridge.toml"), httpAddr,
		fmt.Sprintf("path = %q\n", filepath.Join(dir, "bridge.db")), "max_attempts = 10000\n", sim.Addr(), plat.srv.URL)
	var mu sync.Mutex
	ackedMO, ackedMT := map[string]bool{}, map[string]bool{}
	stop := make(chan struct{})
	var load sync.WaitGroup
	pause := func() bool {
		select {
		case <-stop:
			return false
		case <-time.After(30 * time.Millisecond):
			return true
		}
	}
	for c := range contacts {
		load.Go(func() { // MO from contact c, each until acknowledged
			for i := 0; i < perContact; {
				text := fmt.Sprintf("k mo %d %d", c, i)
				sms, _ := smsctest.BuildMO(moSender(c), rpNumber, text, 0)
				ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
				st, err := sim.Deliver(ctx, sms[0])
				cancel()
				if err == nil && st == pdu.StatusOK {
					mu.Lock()
					ackedMO[text] = true
					mu.Unlock()
					i++
					time.Sleep(15 * time.Millisecond) // spread the load over the kills
				} else if !pause() {
					return
				}
			}
		})
		load.Go(func() { // MT to contact c, each until accepted
			for i := 0; i < perContact; {
				text := fmt.Sprintf("k mt %d %d", c, i)
				if sendMT("http://"+httpAddr, 1000*c+i, mtRecipient(c), text) == nil {
					mu.Lock()
					ackedMT[text] = true
					mu.Unlock()
					i++
					time.Sleep(15 * time.Millisecond)
				} else if !pause() {
					return
				}
			}
		})
	}
	// The receipt pump: one DELIVRD receipt per submit answered OK, sent
	// until the daemon acknowledges it.
	var pump sync.WaitGroup
	stopPump := make(chan struct{})
	pump.Go(func() {
		done := map[string]bool{}
		for {
			for _, s := range sim.Submits() {
				if s.Status != pdu.StatusOK || done[s.MessageID] {
					continue
				}
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				st, err := sim.SendReceipt(ctx, s, smsctest.Receipt{Stat: "DELIVRD"})
				cancel()
				if err == nil && st == pdu.StatusOK {
					done[s.MessageID] = true
				}
			}
			select {
			case <-stopPump:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
	defer func() { close(stopPump); pump.Wait() }()

	child := startDaemonProcess(t, config)
	for k := range kills {
		time.Sleep(time.Duration(300+rand.IntN(900)) * time.Millisecond)
		if err := child.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		child.Wait()
		mu.Lock()
		t.Logf("kill %d: %d MO and %d MT acknowledged so far", k+1, len(ackedMO), len(ackedMT))
		mu.Unlock()
		child = startDaemonProcess(t, config)
	}
	// Let the load finish on the last daemon (bounded).
	loadDone := make(chan struct{})
	go func() { load.Wait(); close(loadDone) }()
	select {
	case <-loadDone:
	case <-time.After(60 * time.Second):
		close(stop)
		<-loadDone
		t.Errorf("the load did not finish within 60s of the last restart")
	}
	waitAll(t, "acknowledged MO at the platform, accepted MT at the SMSC with their delivered callbacks", 60*time.Second, func() []string {
		mo, mt, dl := posted(plat, "/receive", "text"), submitted(sim), posted(plat, "/delivered", "id")
		var m []string
		mu.Lock()
		defer mu.Unlock()
		for text := range ackedMO {
			if mo[text] == 0 {
				m = append(m, text)
			}
		}
		for text := range ackedMT {
			var c, i int
			fmt.Sscanf(text, "k mt %d %d", &c, &i)
			if mt[text] == 0 {
				m = append(m, text)
			} else if dl[fmt.Sprint(1000*c+i)] == 0 {
				m = append(m, "delivered callback of "+text)
			}
		}
		return m
	})
	child.Process.Signal(syscall.SIGTERM)
	child.Wait()
	seqs := map[string][]int{}
	for _, r := range withPath(plat.all(), "/receive") {
		var c, i int
		if f, err := url.ParseQuery(string(r.Body)); err == nil && r.Code < 300 {
			if _, err := fmt.Sscanf(f.Get("text"), "k mo %d %d", &c, &i); err == nil {
				seqs["MO from "+moSender(c)] = append(seqs["MO from "+moSender(c)], i)
			}
		}
	}
	for _, s := range sim.Submits() {
		var c, i int
		text, _ := coding.Decode(s.SM.DataCoding, s.SM.Message)
		if _, err := fmt.Sscanf(text, "k mt %d %d", &c, &i); err == nil {
			seqs["MT to "+mtRecipient(c)] = append(seqs["MT to "+mtRecipient(c)], i)
		}
	}
	inOrder(t, "messages", seqs)
	t.Logf("case 4: %d kills; %d MO and %d MT acknowledged, none lost, each MT with its delivered callback, in order per contact; duplicates: %d MO POSTs, %d submit_sm, %d delivered callbacks",
		kills, len(ackedMO), len(ackedMT), dups(posted(plat, "/receive", "text")), dups(submitted(sim)), dups(posted(plat, "/delivered", "id")))
}
