package main

import (
	"cmp"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smscbridge/smscbridge/bridge"
	"github.com/smscbridge/smscbridge/bridge/custom"
	"github.com/smscbridge/smscbridge/bridge/kannel"
	"github.com/smscbridge/smscbridge/bridge/notify"
	"github.com/smscbridge/smscbridge/bridge/rapidpro"
	"github.com/smscbridge/smscbridge/conf"
	"github.com/smscbridge/smscbridge/smsc"
	"github.com/smscbridge/smscbridge/smsc/coding"
	"github.com/smscbridge/smscbridge/smsc/dlr"
	"github.com/smscbridge/smscbridge/store"
)

// daemon is the whole bridge built from one configuration: the store, one
// SMPP client per [[smsc]], the bridge core with one adapter per channel,
// and the platform and admin listeners. Reload applies a changed
// configuration file while it runs.
type daemon struct {
	cfg      atomic.Pointer[conf.Config] // the configuration in force
	loaded   atomic.Int64                // when it was loaded (Unix ns)
	log      *slog.Logger
	store    store.Backend
	bridge   *bridge.Bridge
	cert     atomic.Pointer[tls.Certificate] // the platform listener's, when it serves TLS
	httpLn   net.Listener
	adminLn  net.Listener
	started  time.Time
	timeouts listenerTimeouts
	level    *slog.LevelVar // the logger's level, or nil (see daemonOptions.Level)
	metrics  *metrics
	rates    rates

	mu       sync.Mutex // guards clients, runs and smscCtx
	clients  map[string]*smsc.Client
	runs     map[string]*clientRun // the running clients
	smscCtx  context.Context       // the clients' parent context, set by Run
	reloadMu sync.Mutex            // one reload at a time; held by Run's shutdown
	closing  bool                  // Run is shutting down: no more reloads (guarded by reloadMu)
}

// clientRun is one running SMPP client.
type clientRun struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// daemonOptions are the parts of a daemon that are not in the config.
type daemonOptions struct {
	Logger  *slog.Logger
	Observe func(bridge.Event)
	// ReceiptGrace overrides the bridge default (tests shorten it).
	ReceiptGrace time.Duration
	// Timeouts override defaultTimeouts (tests shorten them).
	Timeouts listenerTimeouts
	// Level, when set, is the level of Logger: a reload sets it from
	// [log] level. Without it a change of level needs a restart.
	Level *slog.LevelVar
}

// listenerTimeouts bound how long a client may take over each step of a
// request on the platform and admin listeners, so slow or stalled clients
// (slow-loris) cannot hold connections: the headers must arrive within
// ReadHeader, the whole request within Read, the answer be taken within
// Write, and an idle keep-alive connection is closed after Idle.
type listenerTimeouts struct {
	ReadHeader, Read, Write, Idle time.Duration
}

var defaultTimeouts = listenerTimeouts{ReadHeader: 10 * time.Second, Read: 30 * time.Second,
	Write: 30 * time.Second, Idle: 2 * time.Minute}

// maxHeaderBytes caps request headers on both listeners (platforms send
// a few hundred bytes).
const maxHeaderBytes = 64 << 10

// server is an http.Server for one listener with the timeouts set.
func (d *daemon) server(h http.Handler) *http.Server {
	t := d.timeouts
	return &http.Server{Handler: h, ReadHeaderTimeout: t.ReadHeader, ReadTimeout: t.Read, WriteTimeout: t.Write,
		IdleTimeout: t.Idle, MaxHeaderBytes: maxHeaderBytes, ErrorLog: slog.NewLogLogger(d.log.Handler(), slog.LevelWarn)}
}

// newDaemon opens the store and the listeners and builds every component.
// Nothing talks to an SMSC or a platform until Run.
func newDaemon(cfg *conf.Config, o daemonOptions) (_ *daemon, err error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d := &daemon{log: log, clients: map[string]*smsc.Client{}, runs: map[string]*clientRun{}, started: time.Now(),
		timeouts: o.Timeouts, level: o.Level}
	if d.timeouts == (listenerTimeouts{}) {
		d.timeouts = defaultTimeouts
	}
	d.cfg.Store(cfg)
	d.loaded.Store(time.Now().UnixNano())
	d.metrics = newMetrics(d)
	traceTTL := cfg.Store.TraceTTL.Duration
	if traceTTL == 0 {
		traceTTL = -1 // "0s": no trace
	}
	defer func() {
		if err != nil {
			d.close()
		}
	}()
	if cfg.HTTP.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.HTTP.TLSCert, cfg.HTTP.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("http tls: %w", err)
		}
		d.cert.Store(&cert)
	}
	so := storeOptions(cfg, log)
	so.TraceTTL, so.TraceMax, so.OnCommit = traceTTL, cfg.Store.TraceMax, d.metrics.onCommit
	if d.store, err = openStore(cfg, so, ""); err != nil {
		return nil, err
	}
	bc, err := bridgeConfig(cfg, log)
	if err != nil {
		return nil, err
	}
	d.bridge, err = bridge.New(bridge.Options{Queue: d.store, SMSCs: bc.SMSCs, Channels: bc.Channels, Routes: bc.Routes,
		MaxBody: bc.MaxBody, MaxBackoff: cfg.Retry.MaxBackoff.Duration, Logger: log.With("component", "bridge"),
		Observe: o.Observe, ReceiptGrace: o.ReceiptGrace, Trace: d.store, Meter: d.metrics})
	if err != nil {
		return nil, err
	}
	for _, s := range cfg.SMSC {
		c, err := d.newClient(s)
		if err != nil {
			return nil, err
		}
		d.clients[s.ID] = c
		if err := d.bridge.AttachSMSC(s.ID, c); err != nil {
			return nil, err
		}
	}
	adapters, err := d.adapters(cfg, bc)
	if err != nil {
		return nil, err
	}
	for id, a := range adapters {
		if err := d.bridge.Mount(id, a); err != nil {
			return nil, err
		}
	}
	if d.httpLn, err = net.Listen("tcp", cfg.HTTP.Listen); err != nil {
		return nil, fmt.Errorf("http listener: %w", err)
	}
	if cfg.Admin.Listen != "" {
		if d.adminLn, err = net.Listen("tcp", cfg.Admin.Listen); err != nil {
			return nil, fmt.Errorf("admin listener: %w", err)
		}
	}
	return d, nil
}

// bridgeConfig maps the SMSCs, channels and routes of cfg onto the
// bridge's; channels of a kind this build does not serve are skipped with a
// warning.
func bridgeConfig(cfg *conf.Config, log *slog.Logger) (bridge.Config, error) {
	bc := bridge.Config{MaxBody: int64(cfg.HTTP.MaxBody)}
	for _, s := range cfg.SMSC {
		bs, err := bridgeSMSC(s)
		if err != nil {
			return bc, err
		}
		bc.SMSCs = append(bc.SMSCs, bs)
	}
	for _, r := range cfg.Route {
		bc.Routes = append(bc.Routes, bridge.Route{Prefix: r.Prefix, SMSC: r.SMSC})
	}
	for _, c := range cfg.Channel {
		if c.Kind != conf.KindRapidPro && c.Kind != conf.KindCustom && c.Kind != conf.KindKannel && c.Kind != conf.KindNotify {
			log.Warn("channel kind not supported yet; channel skipped", "channel", c.ID, "kind", c.Kind)
			continue
		}
		n := cmp.Or(c.Concurrency, conf.DefaultChannelConcurrency)
		ch := bridge.Channel{ID: c.ID, Kind: c.Kind, Numbers: c.Numbers, SMSC: c.SMSC, Concurrency: n, MaxRequests: c.MaxRequestsPerSecond,
			HTTP: bridge.NewHTTPClient(30*time.Second, n, log.With("component", "http", "channel", c.ID))}
		if c.Kind == conf.KindNotify {
			ch.WebsiteID = c.WebsiteID
		}
		if c.Kind == conf.KindCustom {
			ch.RateLimit = 20 // respond.io: 20 requests per second per custom channel (platforms.md A.1)
		}
		bc.Channels = append(bc.Channels, ch)
	}
	return bc, nil
}

// newClient builds the SMPP client of one [[smsc]] (it does not dial).
func (d *daemon) newClient(s conf.SMSC) (*smsc.Client, error) {
	o, err := smscOptions(s, d.bridge.Handler(s.ID), d.log)
	if err != nil {
		return nil, fmt.Errorf("smsc %q: %w", s.ID, err)
	}
	o.LateResponse = d.bridge.LateResponse(s.ID)
	o.Meter = d.metrics
	c, err := smsc.New(o)
	if err != nil {
		return nil, fmt.Errorf("smsc %q: %w", s.ID, err)
	}
	return c, nil
}

// adapters builds the platform adapter of every channel of bc.
func (d *daemon) adapters(cfg *conf.Config, bc bridge.Config) (map[string]bridge.Adapter, error) {
	out := map[string]bridge.Adapter{}
	for _, c := range bc.Channels {
		a, err := newAdapter(cfg, *cfg.ChannelByID(c.ID), d.bridge, d.log)
		if err != nil {
			return nil, fmt.Errorf("channel %q: %w", c.ID, err)
		}
		out[c.ID] = a
	}
	return out, nil
}

// client is the SMPP client of SMSC id, or nil.
func (d *daemon) client(id string) *smsc.Client {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.clients[id]
}

// clientSnapshot is a copy of the SMPP clients by SMSC id (a reload
// changes the set).
func (d *daemon) clientSnapshot() map[string]*smsc.Client {
	d.mu.Lock()
	defer d.mu.Unlock()
	return maps.Clone(d.clients)
}

// startClient runs c (the client of SMSC id) until stopClient or the
// end of Run. d.mu must be held.
func (d *daemon) startClient(id string, c *smsc.Client) {
	ctx, cancel := context.WithCancel(d.smscCtx)
	r := &clientRun{cancel: cancel, done: make(chan struct{})}
	d.clients[id], d.runs[id] = c, r
	go func() {
		defer close(r.done)
		_ = c.Run(ctx)
	}()
}

// stopClients unbinds the clients of ids and waits for them (each bounded
// by its unbind timeout). d.mu must not be held.
func (d *daemon) stopClients(ids []string) {
	d.mu.Lock()
	var runs []*clientRun
	for _, id := range ids {
		if r := d.runs[id]; r != nil {
			runs = append(runs, r)
			r.cancel()
			delete(d.runs, id)
			delete(d.clients, id)
		}
	}
	d.mu.Unlock()
	for _, r := range runs {
		<-r.done
	}
}

func partialPolicy(s string) store.PartialPolicy {
	if s == "dead" {
		return store.DeadPartial
	}
	return store.DeliverPartial
}

func newAdapter(cfg *conf.Config, c conf.Channel, acc bridge.Accepter, log *slog.Logger) (bridge.Adapter, error) {
	l := log.With("component", c.Kind)
	switch c.Kind {
	case conf.KindRapidPro:
		return rapidpro.New(rapidpro.Config{Channel: c.ID, ReceiveURL: c.ReceiveURL, SentURL: c.SentURL,
			DeliveredURL: c.DeliveredURL, FailedURL: c.FailedURL, SendAuthorization: c.SendAuthorization}, acc, l)
	case conf.KindKannel:
		from := "" // the sender the core gives an MT without one
		if len(c.Numbers) > 0 {
			from = c.Numbers[0]
		}
		systemIDs := map[string]string{} // Kannel's %o of receipt reports
		for _, s := range cfg.SMSC {
			systemIDs[s.ID] = s.SystemID
		}
		return kannel.New(kannel.Config{Channel: c.ID, Username: c.Username, Password: c.Password,
			MOURL: c.MOURL, MOMethod: c.MOMethod, SystemIDs: systemIDs, From: from}, acc, l)
	case conf.KindCustom:
		return custom.New(custom.Config{Channel: c.ID, ChannelID: c.ChannelID, APIToken: c.APIToken,
			WebhookURL: c.WebhookURL, IDType: c.IDType, DedupWindow: c.DedupWindow.Duration}, acc, l)
	case conf.KindNotify:
		return notify.New(notify.Config{Channel: c.ID, WebsiteID: c.WebsiteID, APIKey: c.APIKey, From: c.From,
			AllowPrivateMedia: c.AllowPrivateMedia, Templates: c.Template, DedupWindow: c.DedupWindow.Duration}, acc, l)
	}
	return nil, fmt.Errorf("kind %q not supported", c.Kind)
}

func bridgeSMSC(s conf.SMSC) (bridge.SMSC, error) {
	c, err := coding.ParseCoding(s.DefaultCoding)
	if err != nil {
		return bridge.SMSC{}, fmt.Errorf("smsc %q: %w", s.ID, err)
	}
	long, err := smsc.ParseLongMode(s.LongMessages)
	if err != nil {
		return bridge.SMSC{}, fmt.Errorf("smsc %q: %w", s.ID, err)
	}
	idt, err := dlr.ParseIDType(s.MsgIDType)
	if err != nil {
		return bridge.SMSC{}, fmt.Errorf("smsc %q: %w", s.ID, err)
	}
	alpha, err := coding.ParseAlphabet(s.DC0Charset, s.GSM7Packed)
	if err != nil {
		return bridge.SMSC{}, fmt.Errorf("smsc %q: %w", s.ID, err)
	}
	return bridge.SMSC{ID: s.ID, Coding: c, Alphabet: alpha, TextReceipts: s.TextReceipts, Long: long, MaxParts: s.MaxParts, SourceTON: tonSetting(s.SourceTON),
		DestTON: tonSetting(s.DestTON), RegisteredDelivery: s.RegisteredDelivery, IDType: idt, Country: s.Country,
		DefaultChannel: s.DefaultChannel, Concurrency: cmp.Or(s.Concurrency, conf.DefaultSMSCConcurrency(s.Window, s.Sessions)),
		FailoverAfter: s.FailoverAfter.Duration}, nil
}

func tonSetting(s string) bridge.TONSetting {
	if n, err := strconv.Atoi(s); err == nil {
		return bridge.TONSetting(n)
	}
	return bridge.TONAuto
}

func smscOptions(s conf.SMSC, h smsc.Handler, log *slog.Logger) (smsc.Options, error) {
	mode, err := smsc.ParseBindMode(s.Bind)
	if err != nil {
		return smsc.Options{}, err
	}
	o := smsc.Options{ID: s.ID, Addr: net.JoinHostPort(s.Host, strconv.Itoa(s.Port)), SystemID: s.SystemID,
		Password: s.Password, SystemType: s.SystemType, Bind: mode, Sessions: s.Sessions,
		EnquireLink: s.EnquireLink.Duration, ResponseTimeout: s.ResponseTimeout.Duration,
		ReconnectDelay: s.ReconnectDelay.Duration, ReconnectMax: s.ReconnectMax.Duration,
		Window: s.Window, Throughput: s.Throughput, MaxInbound: s.MaxInbound,
		ThrottlePause: s.ThrottlePause.Duration, ThrottleMax: s.ThrottleMax.Duration, ThrottleTimeout: s.ThrottleTimeout.Duration,
		LocalAddr: s.LocalAddr, Handler: h, Logger: log}
	if s.TLS {
		o.TLS = &tls.Config{ServerName: s.Host, InsecureSkipVerify: s.TLSInsecureSkipVerify, MinVersion: tls.VersionTLS12}
		if s.TLSCA != "" {
			pool, err := conf.LoadCA(s.TLSCA)
			if err != nil {
				return smsc.Options{}, fmt.Errorf("tls_ca %s: %w", s.TLSCA, err)
			}
			o.TLS.RootCAs = pool
		}
	}
	return o, nil
}

// HTTPAddr and AdminAddr are the listeners' actual addresses (":0" in tests).
func (d *daemon) HTTPAddr() string { return d.httpLn.Addr().String() }

// AdminAddr is the admin listener's address ("" when it is off).
func (d *daemon) AdminAddr() string {
	if d.adminLn == nil {
		return ""
	}
	return d.adminLn.Addr().String()
}

// Run serves until ctx ends, then shuts down in reverse order: stop taking
// HTTP, let in-flight queue work finish (bounded, so outstanding
// submit_sm_resp arrive), unbind, close the store. ready is called once the
// listeners serve.
func (d *daemon) Run(ctx context.Context, ready func()) error {
	defer d.close()
	storeCtx, stopStore := context.WithCancel(context.WithoutCancel(ctx))
	smscCtx, stopSMSC := context.WithCancel(context.WithoutCancel(ctx))
	var bg sync.WaitGroup
	bg.Go(func() { _ = d.store.Run(storeCtx) })
	bg.Go(func() { d.rates.run(storeCtx, d.counts) })
	d.mu.Lock()
	d.smscCtx = smscCtx
	for id, c := range d.clients {
		d.startClient(id, c)
	}
	d.mu.Unlock()
	var bridgeWG sync.WaitGroup
	bridgeErr := make(chan error, 1)
	bridgeCtx, stopBridge := context.WithCancel(ctx) // ends with ctx, or when Run stops for an error
	defer stopBridge()
	bridgeWG.Go(func() { bridgeErr <- d.bridge.Run(bridgeCtx) })
	select { // ready (and reloadable) only once the lanes run
	case <-d.bridge.Started():
	case err := <-bridgeErr:
		bridgeErr <- err
	}

	srv := d.server(d.bridge)
	if d.cert.Load() != nil {
		// The certificate is looked up per handshake, so a reload swaps it
		// without closing the listener.
		srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12,
			GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return d.cert.Load(), nil }}
	}
	var admin *http.Server
	serveErr := make(chan error, 2)
	bg.Go(func() { serveErr <- d.serve(srv, d.httpLn) })
	if d.adminLn != nil {
		admin = d.server(d.adminHandler())
		bg.Go(func() { serveErr <- admin.Serve(d.adminLn) })
	}
	d.warnOrphans()
	d.log.Info("smscbridge running", "http", d.httpLn.Addr().String(), "smscs", len(d.cfg.Load().SMSC), "version", version)
	if ready != nil {
		ready()
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-serveErr:
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
	case err = <-bridgeErr:
	case <-d.store.Fatal():
		// bbolt's state in memory is uncertain: stop, and let the service
		// manager start us again on what is on disk.
		err = fmt.Errorf("store failed, stopping so that a restart reopens it: %w", d.store.FatalErr())
	}
	d.log.Info("shutting down")
	d.reloadMu.Lock() // a reload under way finishes first; none starts after
	d.closing = true
	d.reloadMu.Unlock()
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutCtx)
	if admin != nil {
		_ = admin.Shutdown(shutCtx)
	}
	stopBridge()
	bridgeWG.Wait() // in-flight MT finish (bounded by the bridge's drain timeout)
	d.mu.Lock()
	ids := slices.Collect(maps.Keys(d.runs))
	d.mu.Unlock()
	d.stopClients(ids) // unbind, bounded by each client's unbind timeout
	stopSMSC()
	stopStore()
	bg.Wait()
	return err
}

func (d *daemon) serve(srv *http.Server, ln net.Listener) error {
	if srv.TLSConfig != nil {
		return srv.ServeTLS(ln, "", "") // certificate from TLSConfig.GetCertificate
	}
	return srv.Serve(ln)
}

// warnOrphans logs the lanes with queued work of an SMSC or channel that
// is no longer configured.
func (d *daemon) warnOrphans() {
	for lane, st := range d.orphanedLanes() {
		d.log.Warn("queued work for an SMSC or channel that is no longer configured: nothing works this lane; restore it in the config, or requeue/drop its items offline",
			"lane", lane, "queued", st.Queued+st.Leased, "dead", st.Dead)
	}
}

func (d *daemon) close() {
	if d.httpLn != nil {
		d.httpLn.Close()
	}
	if d.adminLn != nil {
		d.adminLn.Close()
	}
	if d.store != nil {
		d.store.Close()
	}
}

// adminHandler serves the admin listener: /healthz, /readyz and /status
// (JSON) open; dead-letter administration with the Bearer admin token
// (compared in constant time; no token configured = actions disabled).
func (d *daemon) adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ready") })
	mux.HandleFunc("GET /status", d.serveStatus)
	mux.HandleFunc("GET /trace", d.serveTrace)
	mux.Handle("GET /metrics", d.metrics.handler())
	mux.HandleFunc("POST /smsc/{id}/{action}", d.admin(d.smscControl))
	mux.HandleFunc("GET /queue/dead", d.admin(func(w http.ResponseWriter, r *http.Request) {
		items, err := d.store.ListDead(r.Context(), r.URL.Query().Get("lane"), 1000)
		if err != nil {
			respondJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
			return
		}
		respondJSON(w, http.StatusOK, deadViews(items))
	}))
	mux.HandleFunc("POST /queue/dead/{id}/requeue", d.admin(func(w http.ResponseWriter, r *http.Request) {
		d.adminResult(w, d.store.Requeue(r.Context(), r.PathValue("id")))
	}))
	mux.HandleFunc("DELETE /queue/dead/{id}", d.admin(func(w http.ResponseWriter, r *http.Request) {
		// Dead letters only: a queued item is never dropped (404). An
		// MT's platform hears failed, queued with the drop.
		err := d.bridge.DropDead(r.Context(), r.PathValue("id"))
		if errors.Is(err, bridge.ErrNotDead) {
			respondJSON(w, http.StatusNotFound, map[string]string{"error": bridge.ErrNotDead.Error()})
			return
		}
		d.adminResult(w, err)
	}))
	return mux
}

// deadView is a dead letter as GET /queue/dead serves it: the fields of
// store.Item, with a platform callback's payload replaced by Callback, its
// request as readable JSON with its secrets masked (bridge.RedactPayload).
// Other payloads are served as they are (base64).
type deadView struct {
	ID         string
	Lane       string
	Key        string
	Payload    []byte          `json:",omitempty"`
	Callback   json.RawMessage `json:",omitempty"`
	Attempts   int
	FirstSeen  time.Time
	NextDue    time.Time
	LastError  string
	DeadReason string
	DeadAt     time.Time
}

func deadViews(items []store.Item) []deadView {
	out := make([]deadView, 0, len(items))
	for _, it := range items {
		v := deadView{ID: it.ID, Lane: it.Lane, Key: it.Key, Attempts: it.Attempts, FirstSeen: it.FirstSeen,
			NextDue: it.NextDue, LastError: it.LastError, DeadReason: it.DeadReason, DeadAt: it.DeadAt}
		if cb, ok := bridge.RedactPayload(it.Lane, it.Payload); ok {
			v.Callback = cb
		} else {
			v.Payload = it.Payload
		}
		out = append(out, v)
	}
	return out
}

// orphanedLanes are the lanes holding items (queued or dead) of an SMSC
// or channel that is not in the configuration.
func (d *daemon) orphanedLanes() map[string]store.LaneStats {
	out := map[string]store.LaneStats{}
	for lane, st := range d.store.Stats() {
		if st.Queued+st.Leased+st.Dead > 0 && !d.bridge.OwnsLane(lane) {
			out[lane] = st
		}
	}
	return out
}

// admin wraps an admin action with the Bearer token check.
func (d *daemon) admin(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token := d.cfg.Load().Admin.Token // a reload may change it
		want := sha256.Sum256([]byte("Bearer " + token))
		got := sha256.Sum256([]byte(r.Header.Get("Authorization")))
		if token == "" || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			respondJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthorized"})
			return
		}
		h(w, r)
	}
}

func (d *daemon) adminResult(w http.ResponseWriter, err error) {
	switch {
	case err == nil:
		respondJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	case errors.Is(err, store.ErrNotFound):
		respondJSON(w, http.StatusNotFound, map[string]string{"error": "not found"})
	default:
		respondJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
	}
}

func respondJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = writeJSON(w, v)
}
