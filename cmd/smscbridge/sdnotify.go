package main

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	sd "github.com/coreos/go-systemd/v22/daemon"
	"golang.org/x/sys/unix"
)

// sd_notify states (systemd's sd_notify(3)).
const (
	stateReady    = sd.SdNotifyReady    // READY=1
	stateStopping = sd.SdNotifyStopping // STOPPING=1
	stateWatchdog = sd.SdNotifyWatchdog // WATCHDOG=1
)

// reloadingState is RELOADING=1 with the MONOTONIC_USEC systemd wants
// with it (systemd.service(5), Type=notify-reload).
func reloadingState() string {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return sd.SdNotifyReloading + "\nMONOTONIC_USEC=" + strconv.FormatInt(ts.Nano()/1000, 10)
}

// sdNotify sends state to the service manager (nothing without
// NOTIFY_SOCKET); a failure to send is logged at DEBUG, the daemon goes on.
func sdNotify(log *slog.Logger, state string) {
	if _, err := sd.SdNotify(false, state); err != nil {
		log.Debug("sd_notify", "state", strings.ReplaceAll(state, "\n", " "), "err", err)
	}
}

// watchdogInterval is how often the watchdog loop checks the daemon and
// reports WATCHDOG=1: half of the unit's WatchdogSec (systemd passes it as
// WATCHDOG_USEC), or 0 when there is no watchdog.
func watchdogInterval() time.Duration {
	d, err := sd.SdWatchdogEnabled(false)
	if err != nil || d <= 0 {
		return 0
	}
	return d / 2
}

// stallAfter is how long every slot of a lane may stay busy before the
// watchdog takes the lane for stuck (longer than any one item may take:
// HTTP and submit timeouts, throttling pauses).
const stallAfter = 5 * time.Minute

// check is what the watchdog vouches for: the store commits (an empty
// write transaction goes through the writer and is committed within
// timeout) and no queue lane is stuck.
func (d *daemon) check(ctx context.Context, timeout time.Duration) error {
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := d.store.Ping(cctx); err != nil {
		return fmt.Errorf("store commit: %w", err)
	}
	if lanes := d.bridge.Stalled(stallAfter); len(lanes) > 0 {
		return fmt.Errorf("lanes stuck for %s with every slot busy: %s", stallAfter, strings.Join(lanes, ", "))
	}
	return nil
}

// watchdog checks the daemon every interval until ctx ends and sends
// WATCHDOG=1 after each check that passes. A failing check sends nothing
// (and is logged), so systemd restarts the service once WatchdogSec
// passes without one; a check that hangs (a store that cannot commit)
// sends nothing either. interval 0 means no watchdog.
func (d *daemon) watchdog(ctx context.Context, interval time.Duration, send func(*slog.Logger, string)) {
	if interval <= 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		err := d.check(ctx, interval)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			d.log.Error("watchdog: health check failed; not reporting WATCHDOG=1", "err", err)
		} else {
			send(d.log, stateWatchdog)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
