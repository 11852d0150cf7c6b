package bridge

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Config is what Reload may change while the bridge runs.
type Config struct {
	SMSCs    []SMSC
	Channels []Channel
	Routes   []Route
	// MaxBody limits platform request bodies (default 1 MiB).
	MaxBody int64
}

// table is the configured SMSCs, channels and routes. It is never changed
// once in use: Reload builds a new one and swaps it in whole, so every
// request and every queue item is handled under one configuration, never
// half of two. Operations that look at it more than once load it once.
type table struct {
	smscs    map[string]*smscState
	channels map[string]*channelState
	websites map[string]*channelState // notify channels by WebsiteID
	routes   []Route
	maxBody  int64
}

// t is the table in force.
func (b *Bridge) t() *table { return b.tab.Load() }

// running is the lanes Run works, per SMSC and per channel, so Reload can
// stop and start them one SMSC or channel at a time.
type running struct {
	mu      sync.Mutex // serialises Run's start, Reload and Run's end
	ctx     context.Context
	runners map[string]*runner // "smsc:" or "channel:" + id
	wg      sync.WaitGroup
	stopped bool
	started chan struct{} // closed once Run has started the lanes (Started)
}

// runner is the lane workers of one SMSC or channel.
type runner struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// stop ends the runner's lanes and waits until their in-flight items are
// done (bounded by DrainTimeout).
func (r *runner) stop() { r.cancel(); <-r.done }

// start runs the workers fns under their own context, child of Run's.
// b.run.mu must be held.
func (b *Bridge) start(key string, fns ...func(context.Context)) {
	ctx, cancel := context.WithCancel(b.run.ctx)
	r := &runner{cancel: cancel, done: make(chan struct{})}
	b.run.runners[key] = r
	var wg sync.WaitGroup
	for _, fn := range fns {
		wg.Go(func() { fn(ctx) })
	}
	b.run.wg.Go(func() { wg.Wait(); cancel(); close(r.done) })
}

// startSMSC starts the lanes of one SMSC: its inbound and reassembly
// lanes, its bind watch and its MT lane. b.run.mu must be held.
func (b *Bridge) startSMSC(s *smscState) {
	b.start("smsc:"+s.ID,
		func(ctx context.Context) {
			b.work(ctx, lane{name: laneIn(s.ID), slots: inboundConcurrency, fn: b.processInbound})
		},
		func(ctx context.Context) {
			b.work(ctx, lane{name: laneCat(s.ID), slots: inboundConcurrency, fn: b.processAssembled})
		},
		func(ctx context.Context) { b.watchBind(ctx, s) },
		func(ctx context.Context) {
			b.work(ctx, lane{name: laneMT(s.ID), slots: s.Concurrency, fn: b.processMT, gate: b.bindGate(s)})
		})
}

// startChannel starts the callback lane of one channel. b.run.mu must be
// held.
func (b *Bridge) startChannel(c *channelState) {
	b.start("channel:"+c.ID, func(ctx context.Context) {
		b.work(ctx, lane{name: laneHTTP(c.ID), slots: c.Concurrency, fn: b.processCallback})
	})
}

// build makes a table of cfg. SMSCs for which keep is true reuse their
// state in old (submitter, bind watch, concatenation reference); the
// others start afresh, without a submitter. Channels start without an
// adapter.
func (b *Bridge) build(cfg Config, old *table, keep func(id string) bool) (*table, error) {
	t := &table{smscs: map[string]*smscState{}, channels: map[string]*channelState{}, websites: map[string]*channelState{},
		routes: cfg.Routes, maxBody: cfg.MaxBody}
	if t.maxBody <= 0 {
		t.maxBody = 1 << 20
	}
	for _, s := range cfg.SMSCs {
		if old != nil && keep(s.ID) && old.smscs[s.ID] != nil {
			t.smscs[s.ID] = old.smscs[s.ID]
			continue
		}
		if s.MaxParts <= 0 {
			s.MaxParts = 255
		}
		if s.Concurrency <= 0 {
			s.Concurrency = 40
		}
		if s.FailoverAfter <= 0 {
			s.FailoverAfter = 30 * time.Second
		}
		st := &smscState{SMSC: s}
		st.downSince.Store(b.o.Now().UnixNano()) // not bound until its binds come up
		st.ref.Store(rand.Uint32N(256))
		t.smscs[s.ID] = st
	}
	for _, c := range cfg.Channels {
		if c.Concurrency <= 0 {
			c.Concurrency = 16
		}
		if c.HTTP == nil {
			c.HTTP = b.client
		}
		cs := &channelState{Channel: c, numbers: map[string]bool{}}
		if c.RateLimit > 0 {
			cs.limiter = rate.NewLimiter(rate.Limit(c.RateLimit), max(1, int(c.RateLimit)))
		}
		if c.MaxRequests > 0 {
			cs.inbound = rate.NewLimiter(rate.Limit(c.MaxRequests), max(1, int(c.MaxRequests)))
		}
		for _, n := range c.Numbers {
			cs.numbers[n] = true
		}
		for _, id := range c.SMSC {
			if t.smscs[id] == nil {
				return nil, fmt.Errorf("bridge: channel %q names unknown smsc %q", c.ID, id)
			}
		}
		t.channels[c.ID] = cs
		if c.Kind == KindNotify {
			if t.websites[c.WebsiteID] != nil {
				return nil, fmt.Errorf("bridge: channels %q and %q have the same website id", t.websites[c.WebsiteID].ID, c.ID)
			}
			t.websites[c.WebsiteID] = cs
		}
	}
	for _, r := range cfg.Routes {
		for _, id := range r.SMSC {
			if t.smscs[id] == nil {
				return nil, fmt.Errorf("bridge: route %q names unknown smsc %q", r.Prefix, id)
			}
		}
	}
	return t, nil
}

// Reload changes the SMSCs, channels and routes while Run runs, and
// returns once the new configuration is in force.
//
// An SMSC given a Submitter in subs is new, or restarted on new settings:
// the lanes of its old settings (if any) stop first, letting their
// in-flight submits finish (bounded by DrainTimeout) on the old
// Submitter, which the caller stops afterwards. Every other SMSC of cfg
// must be configured already and is kept as it is (its settings in cfg
// are taken to be unchanged): its lanes, bind state and Submitter are not
// touched. An SMSC missing from cfg stops the same way; its queued items
// stay in its lanes (orphaned, see OwnsLane) until it is configured again.
//
// Every channel of cfg gets its adapter from adapters. A channel whose
// concurrency is unchanged keeps its callback lane running (the next
// callback uses the new adapter); a removed one's lane stops like an SMSC's.
//
// The new SMSCs, channels and routes are swapped in at once: a request or
// queue item is handled entirely under the old configuration or entirely
// under the new one. On an error nothing has changed.
func (b *Bridge) Reload(cfg Config, subs map[string]Submitter, adapters map[string]Adapter) error {
	b.run.mu.Lock()
	defer b.run.mu.Unlock()
	if b.run.ctx == nil || b.run.stopped {
		return errors.New("bridge: reload while not running")
	}
	old := b.t()
	nt, err := b.build(cfg, old, func(id string) bool { return subs[id] == nil })
	if err != nil {
		return err
	}
	for id, s := range nt.smscs {
		if sub := subs[id]; sub != nil && s != old.smscs[id] {
			s.sub = sub
			if o := old.smscs[id]; o != nil {
				s.suspended.Store(o.suspended.Load()) // an operator's suspend outlasts a restart of the SMSC
			}
		}
		if s.sub == nil {
			return fmt.Errorf("bridge: smsc %q has no submitter", id)
		}
	}
	for id, c := range nt.channels {
		if c.adapter = adapters[id]; c.adapter == nil {
			return fmt.Errorf("bridge: channel %q has no adapter", id)
		}
	}
	var stop []string
	for id, s := range old.smscs {
		if nt.smscs[id] != s {
			stop = append(stop, "smsc:"+id)
		}
	}
	for id, c := range old.channels {
		if n := nt.channels[id]; n == nil || n.Concurrency != c.Concurrency {
			stop = append(stop, "channel:"+id)
		}
	}
	b.stopRunners(stop)
	b.tab.Store(nt)
	for id, c := range old.channels {
		if n := nt.channels[id]; c.HTTP != b.client && (n == nil || n.HTTP != c.HTTP) {
			c.HTTP.CloseIdleConnections() // the replaced client's pool; requests in flight finish
		}
	}
	for id, s := range nt.smscs {
		if b.run.runners["smsc:"+id] == nil {
			b.startSMSC(s)
		}
	}
	for id, c := range nt.channels {
		if b.run.runners["channel:"+id] == nil {
			b.startChannel(c)
		}
	}
	b.log.Debug("bridge reconfigured", "smscs", len(nt.smscs), "channels", len(nt.channels), "routes", len(nt.routes),
		"smscs_started", slices.Sorted(maps.Keys(subs)))
	return nil
}

// stopRunners stops the runners of keys together and waits for all of
// them. b.run.mu must be held.
func (b *Bridge) stopRunners(keys []string) {
	var wg sync.WaitGroup
	for _, k := range keys {
		if r := b.run.runners[k]; r != nil {
			delete(b.run.runners, k)
			wg.Go(r.stop)
		}
	}
	wg.Wait()
}
