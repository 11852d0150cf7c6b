package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"time"

	"github.com/smscbridge/smscbridge/bridge"
	"github.com/smscbridge/smscbridge/conf"
	"github.com/smscbridge/smscbridge/smsc"
)

// errReloadRefused is a reload that found a problem and changed nothing.
var errReloadRefused = errors.New("reload refused; still running on the previous configuration")

// Reload re-reads the configuration file and applies what changed, as on
// SIGHUP. The new file is validated first; on any problem (each logged
// with its line) nothing changes. Settings that need a restart (listen
// addresses, TLS on or off, [store], [retry], [log] format) refuse the
// reload. On
// success: new SMSCs bind, removed ones stop once their in-flight submits
// are answered and unbind (their queued MT stay queued, reported as
// orphaned lanes), changed ones are restarted that way, and unchanged ones
// are not touched (no re-bind). Channels, routes, templates, max_body, the
// admin token and the platform listener's TLS certificate are swapped in
// at once, and the log level is set from [log] level.
func (d *daemon) Reload(path string) error {
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	if d.closing {
		return errors.New("reload: shutting down")
	}
	log := d.log.With("file", path)
	cfg, err := conf.Load(path)
	if err != nil {
		for _, e := range splitErrors(err) {
			log.Error("reload: configuration error", "err", e)
		}
		log.Error(errReloadRefused.Error())
		return fmt.Errorf("%w: %w", errReloadRefused, err)
	}
	old := d.cfg.Load()
	if probs := restartOnly(old, cfg, d.level != nil); len(probs) > 0 {
		for _, p := range probs {
			log.Error("reload: setting needs a restart", "err", p)
		}
		log.Error(errReloadRefused.Error())
		return fmt.Errorf("%w: %w", errReloadRefused, errors.Join(probs...))
	}
	var cert *tls.Certificate
	if cfg.HTTP.TLSCert != "" {
		c, err := tls.LoadX509KeyPair(cfg.HTTP.TLSCert, cfg.HTTP.TLSKey)
		if err != nil {
			log.Error("reload: http tls", "err", err)
			return fmt.Errorf("%w: http tls: %w", errReloadRefused, err)
		}
		cert = &c
	}
	bc, err := bridgeConfig(cfg, d.log)
	if err != nil {
		log.Error("reload", "err", err)
		return fmt.Errorf("%w: %w", errReloadRefused, err)
	}
	started := map[string]*smsc.Client{}
	subs := map[string]bridge.Submitter{}
	for _, s := range cfg.SMSC {
		if o := old.SMSCByID(s.ID); o != nil && reflect.DeepEqual(*o, s) {
			continue // unchanged: its binds stay up
		}
		c, err := d.newClient(s)
		if err != nil {
			log.Error("reload", "err", err)
			return fmt.Errorf("%w: %w", errReloadRefused, err)
		}
		if oc := d.client(s.ID); oc != nil && oc.Stopped() {
			c.Stop() // an operator's stop outlasts a restart of the SMSC
		}
		started[s.ID], subs[s.ID] = c, c
	}
	var stopped []string
	for _, s := range old.SMSC {
		if cfg.SMSCByID(s.ID) == nil || started[s.ID] != nil {
			stopped = append(stopped, s.ID)
		}
	}
	adapters, err := d.adapters(cfg, bc)
	if err != nil {
		log.Error("reload", "err", err)
		return fmt.Errorf("%w: %w", errReloadRefused, err)
	}
	// The bridge stops the lanes of removed and changed SMSCs (their
	// in-flight submits are answered on the old binds), then swaps in the
	// new SMSCs, channels and routes at once.
	if err := d.bridge.Reload(bc, subs, adapters); err != nil {
		log.Error("reload", "err", err)
		return fmt.Errorf("%w: %w", errReloadRefused, err)
	}
	if cert != nil {
		d.cert.Store(cert)
	}
	d.cfg.Store(cfg)
	d.loaded.Store(time.Now().UnixNano())
	if d.level != nil {
		setLevel(d.level, cfg.Log.Level)
	}
	d.stopClients(stopped) // unbind
	d.mu.Lock()
	for _, id := range slices.Sorted(maps.Keys(started)) {
		d.startClient(id, started[id])
	}
	d.mu.Unlock()
	var restarted, added, removed []string
	for _, id := range stopped {
		if started[id] != nil {
			restarted = append(restarted, id)
		} else {
			removed = append(removed, id)
		}
	}
	for id := range started {
		if old.SMSCByID(id) == nil {
			added = append(added, id)
		}
	}
	slices.Sort(added)
	log.Info("configuration reloaded", "smsc_added", added, "smsc_restarted", restarted, "smsc_removed", removed,
		"smsc_unchanged", len(cfg.SMSC)-len(started), "channels", len(bc.Channels), "routes", len(bc.Routes))
	d.warnOrphans()
	return nil
}

// restartOnly lists the settings that differ between the running
// configuration and the new one but can only change with a restart, each
// as a conf.Error at its line in the new file. levelVar says whether the
// log level can change without one.
func restartOnly(old, cfg *conf.Config, levelVar bool) []error {
	type setting struct {
		path      string
		was, want string
	}
	tlsOn := func(c *conf.Config) string { return strconv.FormatBool(c.HTTP.TLSCert != "") }
	list := []setting{
		{"http.listen", old.HTTP.Listen, cfg.HTTP.Listen},
		{"http.tls_cert", "tls " + tlsOn(old), "tls " + tlsOn(cfg)},
		{"admin.listen", old.Admin.Listen, cfg.Admin.Listen},
		{"store.path", old.Store.Path, cfg.Store.Path},
		{"store.receipt_ttl", old.Store.ReceiptTTL.String(), cfg.Store.ReceiptTTL.String()},
		{"store.reassembly_timeout", old.Store.ReassemblyTimeout.String(), cfg.Store.ReassemblyTimeout.String()},
		{"store.partial_mo", old.Store.PartialMO, cfg.Store.PartialMO},
		{"retry.max_attempts", strconv.Itoa(old.Retry.MaxAttempts), strconv.Itoa(cfg.Retry.MaxAttempts)},
		{"retry.initial_backoff", old.Retry.InitialBackoff.String(), cfg.Retry.InitialBackoff.String()},
		{"retry.max_backoff", old.Retry.MaxBackoff.String(), cfg.Retry.MaxBackoff.String()},
		{"retry.max_age", old.Retry.MaxAge.String(), cfg.Retry.MaxAge.String()},
		{"log.format", old.Log.Format, cfg.Log.Format},
	}
	if !levelVar {
		list = append(list, setting{"log.level", old.Log.Level, cfg.Log.Level})
	}
	var out []error
	for _, s := range list {
		if s.was != s.want {
			out = append(out, &conf.Error{File: cfg.File, Line: cfg.Line(s.path), Key: s.path, Value: strconv.Quote(s.want),
				Msg: fmt.Sprintf("cannot change without a restart (running with %q)", s.was)})
		}
	}
	return out
}
