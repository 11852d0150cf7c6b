// Command compare is `make compare`: the same load against Kannel
// (bearerbox + smsbox, file store) and smscbridge (default durable store),
// one after the other, with one SMPP simulator (smsctest, in this process)
// and one HTTP sink standing in for the platform, both on 127.0.0.1.
//
// Figures per daemon: MO deliver_sm → platform request end to end and MO
// acknowledged on the SMPP side (-mo-window deliver_sm in flight); MT send
// calls accepted (-mt-concurrency at once), MT submit_sm, MT delivered
// callbacks done (receipts on: Kannel dlr-mask 27 + dlr-url, the bridge's
// RapidPro /delivered), and the same MT phase through the bridge's
// Kannel-compatible sendsms (kannel channel, the requests Kannel gets)
// against Kannel's; the daemons' CPU time (user+system from
// /proc/PID/stat; Kannel: bearerbox + smsbox) per MO and per MT; then a
// fixed-rate run (-rate MO/s and -rate MT/s together for -duration) with
// p50/p99 latency deliver_sm → platform request and send call → submit_sm,
// CPU seconds and peak RSS (VmRSS sampled every 100ms).
//
// It prints a table (ratio > 1: smscbridge better) and writes -json. The
// Kannel half is skipped, with a message saying why, when bearerbox or
// smsbox is missing. Every phase is bounded by -phase-timeout; counts are
// checked at both ends (lost = acknowledged but never arrived; duplicates
// counted).
//
//	go run ./test/compare -mo 10000 -mt 5000 -duration 60s   # make compare
//	go run ./test/compare -mo 2000 -mt 1000 -duration 5s     # quick check
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

type options struct {
	mo, mt, moWindow, mtConc, contacts, window int
	bridgeConc, bridgeMTConc                   int
	rate                                       int
	duration, phaseTimeout, receiptDelay       time.Duration
	bridgeBin, bearerbox, smsbox, jsonOut      string
	only, profile                              string
	keep                                       bool
}

func main() {
	var o options
	flag.IntVar(&o.mo, "mo", 10000, "MO messages in the throughput run")
	flag.IntVar(&o.mt, "mt", 5000, "MT messages in the throughput run")
	flag.IntVar(&o.moWindow, "mo-window", 100, "deliver_sm in flight from the simulator")
	flag.IntVar(&o.mtConc, "mt-concurrency", 20, "platform send calls in flight")
	flag.IntVar(&o.contacts, "contacts", 1000, "distinct senders (MO) and recipients (MT)")
	flag.IntVar(&o.window, "window", 10, "submit_sm window of both daemons (bridge window, Kannel max-pending-submits)")
	flag.IntVar(&o.bridgeConc, "bridge-concurrency", 0, "the bridge channel's concurrency (0: its default)")
	flag.IntVar(&o.bridgeMTConc, "bridge-mt-concurrency", 0, "the bridge SMSC's MT concurrency (0: its default, window × sessions)")
	flag.IntVar(&o.rate, "rate", 1000, "fixed-rate run: MO/s and MT/s (each)")
	flag.DurationVar(&o.duration, "duration", 60*time.Second, "fixed-rate run length (0: skip it)")
	flag.DurationVar(&o.phaseTimeout, "phase-timeout", 3*time.Minute, "bound of each phase, draining included")
	flag.DurationVar(&o.receiptDelay, "receipt-delay", 10*time.Millisecond, "simulator: submit_sm_resp → delivery receipt")
	flag.StringVar(&o.bridgeBin, "bridge", "bin/smscbridge", "smscbridge binary (make build)")
	flag.StringVar(&o.bearerbox, "bearerbox", "/usr/sbin/bearerbox", "Kannel bearerbox")
	flag.StringVar(&o.smsbox, "smsbox", "/usr/sbin/smsbox", "Kannel smsbox")
	flag.StringVar(&o.jsonOut, "json", "compare.json", "write the results here")
	flag.StringVar(&o.only, "only", "", "run one daemon only: kannel or bridge")
	flag.StringVar(&o.profile, "bridge-cpuprofile", "", "write a pprof CPU profile of each smscbridge run into this directory\n(1: throughput phases, 2: fixed-rate run; go tool pprof bin/smscbridge FILE)")
	flag.BoolVar(&o.keep, "keep", false, "keep the daemons' directories (logs, stores)")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

// Report is the JSON output.
type Report struct {
	Date      time.Time `json:"date"`
	Machine   string    `json:"machine"`
	Options   any       `json:"options"`
	Kannel    *Result   `json:"kannel,omitempty"`
	KannelErr string    `json:"kannel_skipped,omitempty"`
	Bridge    *Result   `json:"smscbridge,omitempty"`
	BridgeErr string    `json:"smscbridge_error,omitempty"`
}

func run(o options) error {
	root, err := os.MkdirTemp("", "compare-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Println("compare: daemons' directories in", root)
	} else {
		defer os.RemoveAll(root)
	}
	sim, err := newSimulator(o.receiptDelay)
	if err != nil {
		return err
	}
	defer sim.srv.Close()
	snk, err := newSink()
	if err != nil {
		return err
	}
	defer snk.close()
	rep := Report{Date: time.Now().UTC(), Machine: machine(), Options: map[string]any{
		"mo": o.mo, "mt": o.mt, "mo_window": o.moWindow, "mt_concurrency": o.mtConc, "contacts": o.contacts,
		"window": o.window, "bridge_concurrency": o.bridgeConc, "bridge_mt_concurrency": o.bridgeMTConc, "rate": o.rate, "duration": o.duration.String(), "receipt_delay": o.receiptDelay.String()}}
	h := &harness{o: o, sim: sim, sink: snk}

	if o.only != "bridge" {
		if why := kannelMissing(o); why != "" {
			rep.KannelErr = why
			fmt.Println("compare: Kannel half SKIPPED:", why)
		} else {
			r, err := h.measure(&kannelTarget{bearerbox: o.bearerbox, smsbox: o.smsbox, root: root, sim: sim, sink: snk, window: o.window})
			if err != nil {
				rep.KannelErr = err.Error()
				fmt.Println("compare: Kannel run failed:", err)
			}
			rep.Kannel = r
		}
	}
	if o.only != "kannel" {
		bin, _ := filepath.Abs(o.bridgeBin)
		if _, err := os.Stat(bin); err != nil {
			return fmt.Errorf("%s: %w (run make build)", o.bridgeBin, err)
		}
		prof := o.profile
		if prof != "" {
			if prof, err = filepath.Abs(prof); err == nil {
				err = os.MkdirAll(prof, 0o755)
			}
			if err != nil {
				return err
			}
		}
		r, err := h.measure(&bridgeTarget{bin: bin, root: root, sim: sim, sink: snk, window: o.window, profile: prof, conc: o.bridgeConc, mtConc: o.bridgeMTConc})
		if err != nil {
			rep.BridgeErr = err.Error()
			fmt.Println("compare: smscbridge run failed:", err)
		}
		rep.Bridge = r
	}
	printTable(os.Stdout, &rep)
	b, _ := json.MarshalIndent(rep, "", "  ")
	if err := os.WriteFile(o.jsonOut, append(b, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Println("compare: wrote", o.jsonOut)
	if rep.BridgeErr != "" {
		return errors.New("smscbridge run failed")
	}
	if rep.Bridge != nil && rep.Bridge.lossy() {
		return errors.New("smscbridge lost acknowledged messages")
	}
	return nil
}

func kannelMissing(o options) string {
	for _, p := range []string{o.bearerbox, o.smsbox} {
		if _, err := exec.LookPath(p); err != nil {
			return fmt.Sprintf("%s not found (Debian package kannel; make compare installs it when it can, as make interop does)", p)
		}
	}
	return ""
}

func machine() string {
	host, _ := os.Hostname()
	model := ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	load := ""
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = " load " + strings.Join(strings.Fields(string(b))[:3], " ")
	}
	return fmt.Sprintf("%s, %d CPUs, %s, %s%s", host, runtime.NumCPU(), model, runtime.Version(), load)
}
