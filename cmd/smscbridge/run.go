package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"sync"
	"syscall"

	"github.com/smscbridge/smscbridge/conf"
)

// runCmd is `smscbridge run -config FILE`: the daemon. SIGINT and SIGTERM
// stop it; SIGHUP reloads the configuration file.
// defaultGOGC is the daemon's GOGC unless the environment sets one.
const defaultGOGC = 200

func runCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "/etc/smscbridge/smscbridge.toml", "configuration file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if os.Getenv("GOGC") == "" {
		// The heap is small and short-lived (a message's buffers live for
		// one request); collecting at twice the live heap instead of once
		// halves the collector's share of the CPU for a few MB more.
		debug.SetGCPercent(defaultGOGC)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	return runDaemon(ctx, *path, hup, stderr)
}

// runDaemon loads the configuration at path and runs the daemon until ctx
// ends, reloading the file at each value from hup. It speaks systemd's
// notify protocol (a no-op without NOTIFY_SOCKET): READY=1 once the
// listeners serve, RELOADING=1 then READY=1 around each reload, WATCHDOG=1
// from the health check loop when the unit has WatchdogSec=, STOPPING=1 as
// it shuts down.
func runDaemon(ctx context.Context, path string, hup <-chan os.Signal, stderr io.Writer) int {
	cfg, err := conf.Load(path)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	level := new(slog.LevelVar)
	log := newLogger(cfg.Log, stderr, level)
	if f := os.Getenv("SMSCBRIDGE_CPUPROFILE"); f != "" {
		stopProfile, err := startCPUProfile(f)
		if err != nil {
			log.Error("cpu profile", "err", err)
			return 1
		}
		defer stopProfile()
	}
	d, err := newDaemon(cfg, daemonOptions{Logger: log, Level: level})
	if err != nil {
		log.Error("start failed", "err", err)
		return 1
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var loops sync.WaitGroup
	err = d.Run(runCtx, func() {
		sdNotify(log, stateReady)
		loops.Go(func() { d.watchdog(runCtx, watchdogInterval(), sdNotify) })
		loops.Go(func() {
			reloadOnSignal(runCtx, hup, func() {
				sdNotify(log, reloadingState())
				if err := d.Reload(path); err != nil && !errors.Is(err, errReloadRefused) {
					log.Error("reload", "err", err)
				}
				sdNotify(log, stateReady)
			})
		})
	})
	sdNotify(log, stateStopping)
	cancel()
	loops.Wait()
	if err != nil {
		log.Error("stopped with error", "err", err)
		return 1
	}
	log.Info("stopped")
	return 0
}

// startCPUProfile writes a pprof CPU profile of the daemon to file until
// the returned function is called (SMSCBRIDGE_CPUPROFILE, for make compare
// and profiling on a test machine; the file is complete after a clean
// stop, not after kill -9).
func startCPUProfile(file string) (func(), error) {
	f, err := os.Create(file)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// reloadOnSignal calls reload for each value from sig until ctx ends.
func reloadOnSignal(ctx context.Context, sig <-chan os.Signal, reload func()) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-sig:
			reload()
		}
	}
}

// newLogger builds the daemon's one logger from [log]; it writes to w
// (stderr, which journald collects) at level, set here from c.Level (a
// reload may change it).
func newLogger(c conf.Log, w io.Writer, level *slog.LevelVar) *slog.Logger {
	setLevel(level, c.Level)
	ho := &slog.HandlerOptions{Level: level}
	if w == nil {
		w = os.Stderr
	}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, ho))
	}
	return slog.New(slog.NewTextHandler(w, ho))
}

// setLevel sets v from a [log] level ("debug" … "error"; "" is info).
func setLevel(v *slog.LevelVar, s string) {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(strings.ToUpper(s)))
	v.Set(lvl)
}
