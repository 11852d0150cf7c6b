package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/smscbridge/smscbridge/bridge"
	"github.com/smscbridge/smscbridge/conf"
	"github.com/smscbridge/smscbridge/smsc/coding"
	"github.com/smscbridge/smscbridge/smsc/pdu"
	"github.com/smscbridge/smscbridge/smsc/smsctest"
)

// demoCmd is `smscbridge demo`: an SMSC simulator, the bridge and stand-in
// platforms (RapidPro and a custom channel) and a template-notifications
// client in one process on loopback. It
// sends a few MO and MT both ways and prints each message's path.
func demoCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	verbose := fs.Bool("v", false, "also print the daemon's log")
	timeout := fs.Duration("timeout", 30*time.Second, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	if err := runDemo(ctx, stdout, *verbose); err != nil {
		fmt.Fprintln(stderr, "demo:", err)
		return 1
	}
	return 0
}

// printer writes the demo's narrative, one line per step, in a fixed layout.
type printer struct {
	mu    sync.Mutex
	w     io.Writer
	start time.Time
}

func (p *printer) say(who, format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "%6.3fs  %-10s %s\n", time.Since(p.start).Seconds(), who, fmt.Sprintf(format, args...))
}

// Write lets the verbose log share the printer's lock.
func (p *printer) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.w.Write(b)
}

// printf writes free text, under the same lock as say (the bridge's lanes
// report events from many goroutines at once).
func (p *printer) printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format, args...)
}

func runDemo(ctx context.Context, w io.Writer, verbose bool) error {
	p := &printer{w: w, start: time.Now()}
	dir, err := os.MkdirTemp("", "smscbridge-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	sim := smsctest.NewServer(smsctest.WithAccount("bridge", "secret"),
		smsctest.WithReceipts(300*time.Millisecond, nil))
	defer sim.Close()
	sim.SetHandler(demoSMSCHandler(p, sim))
	var received atomic.Int64 // requests the stand-in platforms answered
	plat, events := newDemoPlatform(p, &received)
	defer plat.Close()

	cfg := demoConfig(sim.Addr(), "http://"+plat.Addr().String(), filepath.Join(dir, "bridge.db"))
	logger := slog.New(slog.DiscardHandler)
	if verbose {
		logger = slog.New(slog.NewTextHandler(p, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	var answered atomic.Int64        // platform requests the bridge saw a 2xx for
	notified := make(chan string, 8) // notification statuses the bridge logged
	d, err := newDaemon(cfg, daemonOptions{Logger: logger, Observe: func(e bridge.Event) {
		p.say("bridge", "%s", e.Text)
		if e.Kind == "http" && strings.Contains(e.Text, "→ 2") {
			answered.Add(1)
		}
		if e.Kind == "status" && e.Channel == "events" && strings.Contains(e.Text, ": delivered") {
			select {
			case notified <- "notify-delivered":
			default:
			}
		}
	}})
	if err != nil {
		return err
	}
	runCtx, stopDaemon := context.WithCancel(context.Background())
	done := make(chan error, 1)
	ready := make(chan struct{})
	go func() { done <- d.Run(runCtx, func() { close(ready) }) }()
	defer func() { stopDaemon(); <-done }()
	<-ready

	p.printf("smscbridge demo: SMSC simulator on %s, bridge on %s, stand-in platforms on %s\n", sim.Addr(), d.HTTPAddr(), plat.Addr())
	p.printf("channels: rapidpro %q owns %s, custom %q owns %s, kannel %q owns %s; database %s\n\n", "rp-demo", demoRPNumber, "telenet", demoCustomNumber, "rp-kannel", demoKNNumber, cfg.Store.Path)
	if err := sim.WaitBound(ctx, 1); err != nil {
		return fmt.Errorf("bridge never bound to the simulator: %w", err)
	}
	p.say("smsc", "bridge bound as transceiver (system_id %q)", "bridge")

	httpc := &http.Client{Timeout: 10 * time.Second}
	base := "http://" + d.HTTPAddr()
	wait := func(want string) error {
		for {
			select {
			case e := <-events:
				if e == want {
					return nil
				}
			case e := <-notified:
				if e == want {
					return nil
				}
			case <-ctx.Done():
				return fmt.Errorf("gave up waiting for %s: %w", want, ctx.Err())
			}
		}
	}
	steps := []struct {
		title string
		run   func() error
		until string
	}{
		{"MO: a short SMS to the RapidPro channel's number", func() error {
			return demoMO(ctx, p, sim, "+2349067554729", demoRPNumber, "JOIN", 1)
		}, "rp-mo"},
		{"MO: an SMS with an emoji (UCS-2) to the custom channel's number", func() error {
			return demoMO(ctx, p, sim, "+60123456789", demoCustomNumber, "Hello from a phone 👋 can you call me back?", 2)
		}, "custom-mo"},
		{"MO: a long SMS that arrives in two parts (UDH) and is posted once, whole", func() error {
			return demoMO(ctx, p, sim, "+2349067554729", demoRPNumber, strings.Repeat("This MO is longer than one SMS, so it arrives in parts. ", 4), 3)
		}, "rp-mo"},
		{"MT: RapidPro sends a message (GSM-7 with extension characters); sent and delivered go back", func() error {
			return demoPost(p, httpc, "rapidpro", base+"/rapidpro/rp-demo/send", "",
				`{"uuid":"`+demoRPUUID+`","text":"Welcome! Your code is {1234} and costs 2€.","to":"+250788123123","from":"`+demoRPNumber+`"}`)
		}, "rp-delivered"},
		{"MT: the custom-channel platform sends a quick reply, rendered as SMS text (UCS-2)", func() error {
			return demoPost(p, httpc, "custom", base+"/custom/telenet/message", "Bearer demo-token",
				`{"channelId":"demo-channel","contactId":"+60123456789","message":{"type":"quick_reply","title":"Which language? 🌐","replies":["Malay","English"]}}`)
		}, "custom-delivered"},
		{"MT: a RapidPro Kannel channel (any Kannel client) calls /cgi-bin/sendsms; its dlr-url hears 8 (sent) then 1 (delivered)", func() error {
			q := url.Values{"username": {"rapidpro"}, "password": {"kannel-pw"}, "from": {demoKNNumber}, "to": {"+250788383383"},
				"text": {"Hola desde Kannel"}, "dlr-mask": {"27"},
				"dlr-url": {"http://" + plat.Addr().String() + "/c/kn/" + demoKNUUID + "/status?uuid=0191e180-7d60-7000-aff4-c8d3f7bcc9d3&status=%d"}}
			return demoGet(p, httpc, "kannel", base+"/cgi-bin/sendsms?"+q.Encode())
		}, "kn-delivered"},
		{"Notification: an app fires template 7 (Cliengo-style API); the rendered text goes out as SMS, its status is logged", func() error {
			return demoNotify(p, httpc, base+"/website/"+demoWebsite+"/hsm/notifications",
				`{"templateId":"7","destination":"542994843975","params":{"name":"Julieta","order":"A-12"}}`)
		}, "notify-delivered"},
	}
	for i, st := range steps {
		p.printf("\n── %d. %s\n", i+1, st.title)
		if err := st.run(); err != nil {
			return err
		}
		if err := wait(st.until); err != nil {
			return err
		}
		// Let the bridge see the platform's answers before the next step.
		for answered.Load() < received.Load() && ctx.Err() == nil {
			time.Sleep(5 * time.Millisecond)
		}
	}
	if vs := sim.Violations(); len(vs) > 0 {
		return fmt.Errorf("the bridge broke SMPP 3.4 (%d violations), first: %s", len(vs), vs[0])
	}
	stats := sim.Stats()
	p.printf("\ndone: the SMSC sent %d deliver_sm (MO parts) and %d receipts and got %d submit_sm; every message reached its platform.\n", stats.MOSent, stats.ReceiptsSent, stats.Submits)
	if err := demoTrace(ctx, p, d, demoRPUUID); err != nil {
		return err
	}
	p.printf("\nTry it yourself: `make build`, then `bin/smscsim -listen 127.0.0.1:2775 -dlr` and `bin/smscbridge run -config testdata/local.toml` (see README).\n")
	return nil
}

// demoRPUUID is the RapidPro id of the demo's MT, whose trace ends the demo.
const demoRPUUID = "0191e180-7d60-7000-aded-7d8b151cbd5b"

// demoTrace prints the trace of the message q names, as `smscbridge trace`
// does, once its delivered callback is in it (the store writes trace
// events in batches, every 250 ms).
func demoTrace(ctx context.Context, p *printer, d *daemon, q string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for {
		evs, err := d.store.Trace(ctx, q, 100)
		if err != nil {
			return fmt.Errorf("trace %s: %w", q, err)
		}
		for _, e := range evs {
			if e.Hop == "callback" && strings.HasPrefix(e.Detail, "delivered") {
				p.printf("\n── where is my message? `smscbridge trace %s` shows every hop:\n", q)
				p.mu.Lock()
				printTrace(p.w, q, evs)
				p.mu.Unlock()
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the trace of %s never showed its delivered callback: %v", q, evs)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// demoMO has the simulator deliver text as MO, split as a phone would
// (smsctest.BuildMO), and fails unless every part is answered ESME_ROK.
func demoMO(ctx context.Context, p *printer, sim *smsctest.Server, from, to, text string, ref uint8) error {
	sms, err := smsctest.BuildMO(from, to, text, ref)
	if err != nil {
		return err
	}
	for j, sm := range sms {
		p.say("smsc", "deliver_sm %d/%d %s → %s data_coding 0x%02X (%d octets)", j+1, len(sms), from, to, sm.DataCoding, len(sm.Message))
		st, err := sim.Deliver(ctx, sm)
		if err != nil {
			return fmt.Errorf("deliver_sm %d/%d: %w", j+1, len(sms), err)
		}
		p.say("smsc", "deliver_sm_resp %s", st)
		if st != pdu.StatusOK {
			return fmt.Errorf("deliver_sm %d/%d answered %v", j+1, len(sms), st)
		}
	}
	return nil
}

const (
	demoRPNumber     = "+5582999489287"
	demoCustomNumber = "+60177872890"
	demoKNNumber     = "+250788000020"
	demoKNUUID       = "9a7c2b1e-4f0d-4c6b-8e2a-1d3f5b7c9e0a"
	demoWebsite      = "64652663e65219005dc61bd6"
)

func demoConfig(smscAddr, platURL, db string) *conf.Config {
	host, port, _ := net.SplitHostPort(smscAddr)
	cfg := conf.Default()
	cfg.HTTP.Listen, cfg.Admin.Listen, cfg.Store.Path = "127.0.0.1:0", "", db
	cfg.Retry.InitialBackoff.Duration, cfg.Retry.MaxBackoff.Duration = 200*time.Millisecond, 2*time.Second
	s := conf.DefaultSMSC()
	s.ID, s.Host, s.SystemID, s.Password = "demo-smsc", host, "bridge", "secret"
	s.Port, _ = strconv.Atoi(port)
	cfg.SMSC = []conf.SMSC{s}
	cfg.Channel = []conf.Channel{
		{ID: "rp-demo", Kind: conf.KindRapidPro, Numbers: []string{demoRPNumber}, SMSC: []string{"demo-smsc"},
			ReceiveURL: platURL + "/c/ex/8eb23e93-5ecb-45ba-b726-3b064e0c56ab/receive"},
		{ID: "telenet", Kind: conf.KindCustom, Numbers: []string{demoCustomNumber}, SMSC: []string{"demo-smsc"},
			ChannelID: "demo-channel", APIToken: "demo-token", WebhookURL: platURL + "/custom/webhook", IDType: "phone"},
		{ID: "rp-kannel", Kind: conf.KindKannel, Numbers: []string{demoKNNumber}, SMSC: []string{"demo-smsc"},
			Username: "rapidpro", Password: "kannel-pw", MOMethod: "POST",
			MOURL: platURL + "/c/kn/" + demoKNUUID + "/receive?backend=%i&sender=%p&message=%b&ts=%T&id=%I&to=%P"},
		{ID: "events", Kind: conf.KindNotify, SMSC: []string{"demo-smsc"}, WebsiteID: demoWebsite, APIKey: "demo-apikey",
			From: "MyBrand", Template: []conf.Template{{ID: "7", Type: "text", Text: "Hola {{name}}, tu pedido {{order}} está listo."}}},
	}
	return &cfg
}

// demoNotify fires a template notification as an external application
// would (apikey header) and fails unless it is answered SUCCESS.
func demoNotify(p *printer, c *http.Client, u, body string) error {
	p.say("app", "POST %s %s", u[strings.Index(u[7:], "/")+7:], body)
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("apikey", "demo-apikey")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	p.say("app", "← %d %s (X-Smscbridge-Id %s)", resp.StatusCode, strings.TrimSpace(string(b)), resp.Header.Get("X-Smscbridge-Id"))
	if resp.StatusCode != 200 {
		return fmt.Errorf("notification refused: %d %s", resp.StatusCode, b)
	}
	return nil
}

func demoPost(p *printer, c *http.Client, who, u, auth, body string) error {
	p.say(who, "POST %s %s", u[strings.Index(u[7:], "/")+7:], body)
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	p.say(who, "← %d %s", resp.StatusCode, strings.TrimSpace(string(b)))
	if resp.StatusCode != 200 {
		return fmt.Errorf("%s send refused: %d %s", who, resp.StatusCode, b)
	}
	return nil
}

// demoGet makes a Kannel sendsms call and fails unless it is accepted (202).
func demoGet(p *printer, c *http.Client, who, u string) error {
	p.say(who, "GET %s", strings.Replace(u[strings.Index(u[7:], "/")+7:], "password=kannel-pw", "password=xxxxx", 1))
	resp, err := c.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	p.say(who, "← %d %s", resp.StatusCode, strings.TrimSpace(string(b)))
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("%s send refused: %d %s", who, resp.StatusCode, b)
	}
	return nil
}

// demoSMSCHandler prints the submit_sm the simulator receives and lets it
// answer as usual.
func demoSMSCHandler(p *printer, sim *smsctest.Server) smsctest.Handler {
	return smsctest.HandlerFunc(func(s *smsctest.Session, req *pdu.PDU) *pdu.PDU {
		if sm, ok := req.Body.(*pdu.ShortMessage); ok && req.ID == pdu.SubmitSM {
			msg := sm.Message
			part := ""
			if sm.ESMClass&pdu.ESMClassUDHI != 0 {
				if c, rest, err := coding.ParseUDH(msg); err == nil && c != nil {
					msg, part = rest, fmt.Sprintf(" part %d/%d", c.Seq, c.Total)
				}
			}
			text, _ := coding.Decode(sm.DataCoding, msg)
			p.say("smsc", "submit_sm%s to %s data_coding 0x%02X: %q", part, sm.DestAddr, sm.DataCoding, text)
		}
		return sim.Default(s, req)
	})
}

// newDemoPlatform serves the stand-in RapidPro (courier) and custom-channel
// endpoints on loopback, printing what arrives and reporting milestones.
func newDemoPlatform(p *printer, received *atomic.Int64) (net.Listener, <-chan string) {
	ch := make(chan string, 64)
	events := func(e string) {
		select {
		case ch <- e:
		default:
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/c/ex/", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f, _ := url.ParseQuery(string(b))
		action := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
		switch action {
		case "receive":
			p.say("rapidpro", "← MO from %s: %q", f.Get("from"), f.Get("text"))
			events("rp-mo")
		default:
			p.say("rapidpro", "← status %s for uuid %s", action, f.Get("uuid"))
			if action == "delivered" {
				events("rp-delivered")
			}
		}
		w.Header().Set("Content-Type", "application/json")
		received.Add(1)
		io.WriteString(w, `{"message":"Accepted"}`)
	})
	mux.HandleFunc("/c/kn/", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if strings.HasSuffix(r.URL.Path, "/receive") {
			p.say("kannel", "← MO from %s: %q", q.Get("sender"), q.Get("message"))
			events("kn-mo")
		} else {
			p.say("kannel", "← GET dlr-url status=%s for uuid %s", q.Get("status"), q.Get("uuid"))
			if q.Get("status") == "1" {
				events("kn-delivered")
			}
		}
		w.Header().Set("Content-Type", "application/json")
		received.Add(1)
		io.WriteString(w, `{"message":"Status Update Accepted"}`)
	})
	mux.HandleFunc("/custom/webhook", func(w http.ResponseWriter, r *http.Request) {
		var env struct {
			ContactID string `json:"contactId"`
			Events    []struct {
				Type    string `json:"type"`
				MID     string `json:"mId"`
				Message struct {
					Text string `json:"text"`
				} `json:"message"`
				Status struct {
					Value string `json:"value"`
				} `json:"status"`
			} `json:"events"`
		}
		_ = json.NewDecoder(r.Body).Decode(&env)
		for _, e := range env.Events {
			if e.Type == "message" {
				p.say("custom", "← message event mId %s from %s: %q", e.MID, env.ContactID, e.Message.Text)
				events("custom-mo")
			} else {
				p.say("custom", "← %s event %q for mId %s", e.Type, e.Status.Value, e.MID)
				if e.Status.Value == "delivered" {
					events("custom-delivered")
				}
			}
		}
		received.Add(1)
		io.WriteString(w, "OK")
	})
	go http.Serve(ln, mux)
	return ln, ch
}
