package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/smscbridge/smscbridge/conf"
	"github.com/smscbridge/smscbridge/store"
	"github.com/smscbridge/smscbridge/store/pgstore"
)

const traceUsage = `usage: smscbridge trace [-config FILE | -db PATH | -admin HOST:PORT] [-json] ID|NUMBER

Shows every hop of the messages ID names (the bridge's message id, the
platform's id, e.g. RapidPro's, or a phone number): HTTP request in, queue
commit, each submit_sm and its response, receipt, each callback attempt
and its answer, with times and attempt numbers.

It asks the running daemon (the admin listener of -config, default
` + defaultConfig + `, or -admin), and reads the store file itself when
the daemon is not running (or with -db); with [store] backend =
"postgres" it reads the database, which holds every node's events.
`

// traceCmd is `smscbridge trace`.
func traceCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("trace", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, traceUsage) }
	cfgPath := fs.String("config", defaultConfig, "configuration file")
	db := fs.String("db", "", "store file (the daemon must be stopped)")
	admin := fs.String("admin", "", "admin listener address (default: the config's [admin] listen)")
	asJSON := fs.Bool("json", false, "JSON output")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	q := fs.Arg(0)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	evs, err := findTrace(ctx, q, *cfgPath, *db, *admin)
	if err != nil {
		fmt.Fprintln(stderr, "smscbridge trace:", explain(err))
		return 1
	}
	if *asJSON {
		_ = writeJSON(stdout, map[string]any{"query": q, "events": evs})
		return 0
	}
	if len(evs) == 0 {
		fmt.Fprintf(stdout, "no trace of %s (events are kept for [store] trace_ttl)\n", q)
		return 1
	}
	printTrace(stdout, q, evs)
	return 0
}

// findTrace asks the daemon's admin listener, else reads the store file.
func findTrace(ctx context.Context, q, cfgPath, db, admin string) ([]store.TraceEvent, error) {
	if db == "" {
		cfg, err := conf.Load(cfgPath)
		if err != nil && admin == "" {
			return nil, fmt.Errorf("load %s (or give -db PATH or -admin HOST:PORT): %w", cfgPath, err)
		}
		if admin == "" {
			admin = cfg.Admin.Listen
		}
		if admin != "" {
			evs, err := traceFromAdmin(ctx, admin, q)
			if !errors.Is(err, syscall.ECONNREFUSED) || cfg == nil {
				return evs, err
			}
		}
		if cfg.Store.Backend == "postgres" { // the daemon is not running here: ask the database
			return pgstore.TraceDB(ctx, cfg.Store.DSN, cfg.Store.Schema, q, 1000)
		}
		db = cfg.Store.Path // the daemon is not running: read the file
	}
	if _, err := os.Stat(db); err != nil {
		return nil, fmt.Errorf("no store at %s: %w", db, err)
	}
	s, err := store.Open(store.Options{Path: db, LockTimeout: 2 * time.Second})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return s.Trace(ctx, q, 1000)
}

func traceFromAdmin(ctx context.Context, addr, q string) ([]store.TraceEvent, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("admin address %q: %w", addr, err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	u := "http://" + net.JoinHostPort(host, port) + "/trace?q=" + url.QueryEscape(q)
	req, _ := http.NewRequestWithContext(ctx, "GET", u, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out struct {
		Events []store.TraceEvent `json:"events"`
		Error  string             `json:"error"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(&out); err != nil {
		return nil, fmt.Errorf("%s: %s: %w", u, resp.Status, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s: %s", u, resp.Status, out.Error)
	}
	return out.Events, nil
}

// printTrace prints events as a table, one line per hop.
func printTrace(w io.Writer, q string, evs []store.TraceEvent) {
	ids := map[string]bool{}
	for _, e := range evs {
		ids[e.ID] = true
	}
	fmt.Fprintf(w, "trace of %s: %d event(s), %d message(s)\n", q, len(evs), len(ids))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME (UTC)\tMESSAGE\tHOP\tTRY\tSMSC/CHANNEL\tDETAIL")
	for _, e := range evs {
		try := ""
		if e.Attempt > 0 {
			try = fmt.Sprint(e.Attempt)
		}
		where := strings.Trim(e.SMSC+"/"+e.Channel, "/")
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.At.UTC().Format("2006-01-02 15:04:05.000"), e.ID, e.Hop, try, where, e.Detail)
	}
	tw.Flush()
}
