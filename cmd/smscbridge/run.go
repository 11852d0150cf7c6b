package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"

	sd "github.com/coreos/go-systemd/v22/daemon"

	"github.com/smscbridge/smscbridge/conf"
)

// runCmd is `smscbridge run -config FILE`: the daemon.
func runCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "/etc/smscbridge/smscbridge.toml", "configuration file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, err := conf.Load(*path)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	log := newLogger(cfg.Log, stderr)
	if f := os.Getenv("SMSCBRIDGE_CPUPROFILE"); f != "" {
		stopProfile, err := startCPUProfile(f)
		if err != nil {
			log.Error("cpu profile", "err", err)
			return 1
		}
		defer stopProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	d, err := newDaemon(cfg, daemonOptions{Logger: log})
	if err != nil {
		log.Error("start failed", "err", err)
		return 1
	}
	err = d.Run(ctx, func() { _, _ = sd.SdNotify(false, sd.SdNotifyReady) })
	_, _ = sd.SdNotify(false, sd.SdNotifyStopping)
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

// newLogger builds the daemon's one logger from [log]; it writes to w
// (stderr, which journald collects).
func newLogger(c conf.Log, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(strings.ToUpper(c.Level)))
	ho := &slog.HandlerOptions{Level: lvl}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, ho))
	}
	if w == nil {
		w = os.Stderr
	}
	return slog.New(slog.NewTextHandler(w, ho))
}
