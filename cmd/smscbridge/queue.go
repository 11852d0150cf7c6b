package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/smscbridge/smscbridge/bridge"
	"github.com/smscbridge/smscbridge/conf"
	"github.com/smscbridge/smscbridge/store"
)

const queueUsage = `usage: smscbridge queue COMMAND [flags] [ID...]

Offline administration of the durable queue (the daemon must be stopped;
while it runs, use the admin API: GET /queue/dead, POST
/queue/dead/{id}/requeue, DELETE /queue/dead/{id}). With [store] backend =
"postgres" the commands work on the shared database while the nodes run.

commands:
  ls        list queued items, or dead letters with -dead
  stats     queued, leased and dead counts per lane
  show      print items (queued or dead) by id, with their payload, and
            the last status of a template notification (kept receipt_ttl)
  requeue   move dead letters back to their queue (attempts reset):
            by ID, or every dead letter of a lane with -lane
  drop      delete dead letters by ID, or every dead letter of a lane
            with -dead -lane (queued items are never dropped); an MT's
            platform is told it failed (the callback goes out when the
            daemon runs), which needs -config
  compact   rewrite the file without free pages (in place, or to -o FILE)

flags:
  -db PATH       store file (default: [store] path of -config)
  -config FILE   configuration file (default /etc/smscbridge/smscbridge.toml)
  -dead          dead letters instead of queued items (ls, drop -lane)
  -lane LANE     only this lane (e.g. mt:agg-a, http:rp-main)
  -limit N       at most N items (ls; default 100, 0 = all)
  -json          JSON instead of a table
  -o FILE        compact into FILE and leave the store as it is
`

const defaultConfig = "/etc/smscbridge/smscbridge.toml"

type queueFlags struct {
	db, config, lane, out string
	dead, json            bool
	limit                 int
	args                  []string
}

// queueCmd implements "smscbridge queue". Exit status 0 on success, 1 on
// failure, 2 on a usage error.
func queueCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "help" {
		fmt.Fprint(stderr, queueUsage)
		return 2
	}
	cmd := args[0]
	run, ok := map[string]func(context.Context, *queueFlags, io.Writer) error{
		"ls": queueLs, "stats": queueStats, "show": queueShow,
		"requeue": queueRequeue, "drop": queueDrop, "compact": queueCompact,
	}[cmd]
	if !ok {
		fmt.Fprintf(stderr, "smscbridge queue: unknown command %q\n%s", cmd, queueUsage)
		return 2
	}
	f, err := parseQueueFlags(cmd, args[1:], stderr)
	if err != nil {
		return 2
	}
	if err := run(context.Background(), f, stdout); err != nil {
		fmt.Fprintf(stderr, "smscbridge queue %s: %v\n", cmd, explain(err))
		if errors.Is(err, errUsage) {
			return 2
		}
		return 1
	}
	return 0
}

var errUsage = errors.New("usage")

// parseQueueFlags accepts flags before, between and after the ids.
func parseQueueFlags(cmd string, args []string, stderr io.Writer) (*queueFlags, error) {
	f := &queueFlags{}
	fs := flag.NewFlagSet("queue "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, queueUsage) }
	fs.StringVar(&f.db, "db", "", "store file")
	fs.StringVar(&f.config, "config", "", "configuration file")
	fs.StringVar(&f.lane, "lane", "", "lane")
	fs.StringVar(&f.out, "o", "", "compact into this file")
	fs.BoolVar(&f.dead, "dead", false, "dead letters")
	fs.BoolVar(&f.json, "json", false, "JSON output")
	fs.IntVar(&f.limit, "limit", 100, "at most this many items")
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return f, nil
		}
		f.args = append(f.args, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// path is the store file named by -db, or by the configuration.
func (f *queueFlags) path() (string, error) {
	cfg, err := f.loadConfig()
	if err != nil || cfg == nil {
		return f.db, err
	}
	return cfg.Store.Path, nil
}

// loadConfig loads the configuration (-config, or the default one); nil
// when -db names the store instead.
func (f *queueFlags) loadConfig() (*conf.Config, error) {
	if f.db != "" && f.config != "" {
		return nil, fmt.Errorf("%w: give -db or -config, not both", errUsage)
	}
	if f.db != "" {
		return nil, nil
	}
	cfgPath := f.config
	if cfgPath == "" {
		cfgPath = defaultConfig
	}
	cfg, err := conf.Load(cfgPath)
	if err != nil {
		return nil, fmt.Errorf("load %s (or give -db PATH): %w", cfgPath, err)
	}
	return cfg, nil
}

// open opens an existing store; it never creates a bbolt file. A shared
// (PostgreSQL) store is opened as a node of its own, so the daemons that
// use it go on undisturbed.
func (f *queueFlags) open() (store.Backend, error) {
	if f.db == "" {
		cfg, err := f.loadConfig()
		if err != nil {
			return nil, err
		}
		if cfg.Store.Backend == "postgres" {
			return openStore(cfg, storeOptions(cfg, slog.New(slog.DiscardHandler)), adminNode())
		}
	}
	path, err := f.path()
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("no store at %s: %w", path, err)
	}
	return store.Open(store.Options{Path: path, LockTimeout: 2 * time.Second})
}

func explain(err error) error {
	if errors.Is(err, store.ErrLocked) {
		return fmt.Errorf("%w\n(the daemon is running: stop it, or use the admin API for dead letters)", err)
	}
	return err
}

// withStore opens the store, runs fn and closes it.
func withStore(f *queueFlags, fn func(store.Backend) error) error {
	s, err := f.open()
	if err != nil {
		return err
	}
	err = fn(s)
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	return err
}

func queueLs(ctx context.Context, f *queueFlags, w io.Writer) error {
	if len(f.args) > 0 {
		return fmt.Errorf("%w: ls takes no ids (use show)", errUsage)
	}
	return withStore(f, func(s store.Backend) error {
		list := s.List
		if f.dead {
			list = s.ListDead
		}
		items, err := list(ctx, f.lane, f.limit)
		if err != nil {
			return err
		}
		if f.json {
			return writeJSON(w, itemViews(items, false))
		}
		return itemTable(w, items, f.dead)
	})
}

// nodeTable prints, for a shared store, what each node holds leased.
func nodeTable(ctx context.Context, w io.Writer, s store.Backend, lane string) error {
	sh, ok := s.(sharedStore)
	if !ok {
		return nil
	}
	leases, err := sh.Leases(ctx)
	if err != nil {
		return err
	}
	nodes := make([]string, 0, len(leases))
	for n := range leases {
		nodes = append(nodes, n)
	}
	sort.Strings(nodes)
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tLANE\tLEASED")
	for _, n := range nodes {
		ls := make([]string, 0, len(leases[n]))
		for l := range leases[n] {
			if lane == "" || l == lane {
				ls = append(ls, l)
			}
		}
		sort.Strings(ls)
		for _, l := range ls {
			fmt.Fprintf(tw, "%s\t%s\t%d\n", n, l, leases[n][l])
		}
	}
	return tw.Flush()
}

func queueStats(ctx context.Context, f *queueFlags, w io.Writer) error {
	return withStore(f, func(s store.Backend) error {
		stats := s.Stats()
		lanes := make([]string, 0, len(stats))
		for lane := range stats {
			if f.lane == "" || lane == f.lane {
				lanes = append(lanes, lane)
			}
		}
		sort.Strings(lanes)
		if f.json {
			out := map[string]store.LaneStats{}
			for _, l := range lanes {
				out[l] = stats[l]
			}
			return writeJSON(w, out)
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "LANE\tQUEUED\tLEASED\tDEAD")
		for _, l := range lanes {
			st := stats[l]
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\n", l, st.Queued, st.Leased, st.Dead)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		return nodeTable(ctx, w, s, f.lane)
	})
}

func queueShow(ctx context.Context, f *queueFlags, w io.Writer) error {
	if len(f.args) == 0 {
		return fmt.Errorf("%w: show needs at least one id", errUsage)
	}
	return withStore(f, func(s store.Backend) error {
		var items []store.Item
		var logged []loggedView
		for _, id := range f.args {
			ls, ok, err := loggedStatus(ctx, s, id)
			if err != nil {
				return err
			}
			if ok {
				logged = append(logged, loggedView{ID: id, LoggedStatus: ls})
			}
			it, err := s.Get(ctx, id)
			if errors.Is(err, store.ErrNotFound) && ok {
				continue // a notification that is done: its status is all there is
			}
			if err != nil {
				return err
			}
			items = append(items, it)
		}
		if f.json {
			if len(logged) > 0 {
				return writeJSON(w, struct {
					Items    []itemView   `json:"items"`
					Statuses []loggedView `json:"statuses"`
				}{itemViews(items, true), logged})
			}
			return writeJSON(w, itemViews(items, true))
		}
		for i, it := range items {
			if i > 0 {
				fmt.Fprintln(w)
			}
			showItem(w, it)
		}
		for i, l := range logged {
			if i > 0 || len(items) > 0 {
				fmt.Fprintln(w)
			}
			showLogged(w, l)
		}
		return nil
	})
}

func queueRequeue(ctx context.Context, f *queueFlags, w io.Writer) error {
	if (len(f.args) == 0) == (f.lane == "") {
		return fmt.Errorf("%w: requeue needs ids or -lane, not both", errUsage)
	}
	return withStore(f, func(s store.Backend) error {
		if f.lane != "" {
			n, err := s.RequeueLane(ctx, f.lane)
			fmt.Fprintf(w, "requeued %d dead letters of %s\n", n, f.lane)
			return err
		}
		for _, id := range f.args {
			if err := s.Requeue(ctx, id); err != nil {
				return err
			}
			fmt.Fprintf(w, "requeued %s\n", id)
		}
		return nil
	})
}

func queueDrop(ctx context.Context, f *queueFlags, w io.Writer) error {
	switch {
	case (len(f.args) == 0) == (f.lane == ""):
		return fmt.Errorf("%w: drop needs ids or -dead -lane, not both", errUsage)
	case f.lane != "" && !f.dead:
		return fmt.Errorf("%w: drop -lane only drops dead letters: add -dead", errUsage)
	}
	cfg, err := f.loadConfig()
	if err != nil {
		return err
	}
	return withStore(f, func(s store.Backend) error {
		d, err := newDropper(cfg, s)
		if err != nil {
			return err
		}
		if f.lane != "" {
			n, err := d.dropLane(ctx, f.lane)
			fmt.Fprintf(w, "dropped %d dead letters of %s\n", n, f.lane)
			return err
		}
		for _, id := range f.args {
			if err := d.drop(ctx, id); err != nil {
				return err
			}
			fmt.Fprintf(w, "dropped %s\n", id)
		}
		return nil
	})
}

// dropper drops dead letters offline. An MT's platform must hear "failed"
// when its dead letter is dropped (platforms.md E), so with a
// configuration it drops through a bridge built from it (no binds, no
// listeners: only the channels' adapters, which build the callbacks; they
// go out when the daemon runs again). With -db alone it refuses MT dead
// letters.
type dropper struct {
	s store.Backend
	b *bridge.Bridge // nil without a configuration
}

func newDropper(cfg *conf.Config, s store.Backend) (*dropper, error) {
	d := &dropper{s: s}
	if cfg == nil {
		return d, nil
	}
	var err error
	d.b, err = offlineBridge(cfg, s)
	return d, err
}

func (d *dropper) drop(ctx context.Context, id string) error {
	if d.b != nil {
		return d.b.DropDead(ctx, id)
	}
	it, err := d.s.Get(ctx, id)
	if err != nil {
		return err
	}
	if it.DeadReason == "" {
		return fmt.Errorf("%s: %w", id, bridge.ErrNotDead)
	}
	if strings.HasPrefix(it.Lane, "mt:") {
		return errMTNeedsConfig
	}
	return d.s.Drop(ctx, id)
}

func (d *dropper) dropLane(ctx context.Context, lane string) (int, error) {
	if d.b != nil {
		return d.b.DropDeadLane(ctx, lane)
	}
	if strings.HasPrefix(lane, "mt:") {
		return 0, errMTNeedsConfig
	}
	return d.s.DropLane(ctx, lane)
}

var errMTNeedsConfig = fmt.Errorf("%w: dropping an MT dead letter reports failed to its platform, which needs the channel settings: give -config, not -db", errUsage)

// offlineBridge builds a bridge over the store with the configuration's
// SMSCs and channels (adapters mounted), for dead-letter administration;
// it is never run.
func offlineBridge(cfg *conf.Config, s store.Backend) (*bridge.Bridge, error) {
	bo := bridge.Options{Queue: s}
	for _, sc := range cfg.SMSC {
		bo.SMSCs = append(bo.SMSCs, bridge.SMSC{ID: sc.ID})
	}
	for _, c := range cfg.Channel {
		if c.Kind == conf.KindRapidPro || c.Kind == conf.KindCustom || c.Kind == conf.KindKannel || c.Kind == conf.KindNotify {
			bo.Channels = append(bo.Channels, bridge.Channel{ID: c.ID, Kind: c.Kind, Numbers: c.Numbers, SMSC: c.SMSC, WebsiteID: c.WebsiteID})
		}
	}
	b, err := bridge.New(bo)
	if err != nil {
		return nil, err
	}
	for _, c := range bo.Channels {
		a, err := newAdapter(cfg, *cfg.ChannelByID(c.ID), b, slog.New(slog.DiscardHandler))
		if err != nil {
			return nil, fmt.Errorf("channel %q: %w", c.ID, err)
		}
		if err := b.Mount(c.ID, a); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func queueCompact(_ context.Context, f *queueFlags, w io.Writer) error {
	if len(f.args) > 0 {
		return fmt.Errorf("%w: compact takes no ids", errUsage)
	}
	if f.db == "" {
		if cfg, err := f.loadConfig(); err == nil && cfg.Store.Backend == "postgres" {
			return fmt.Errorf("%w: compact is for the bbolt file; PostgreSQL reclaims space itself (autovacuum)", errUsage)
		}
	}
	path, err := f.path()
	if err != nil {
		return err
	}
	if f.out != "" {
		if err := store.Compact(path, f.out); err != nil {
			return err
		}
		fmt.Fprintf(w, "compacted %s into %s\n", path, f.out)
		return nil
	}
	before, after, err := store.CompactInPlace(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "compacted %s: %d → %d bytes\n", path, before, after)
	return nil
}

// itemView is the JSON form of an item.
type itemView struct {
	ID          string     `json:"id"`
	Lane        string     `json:"lane"`
	Key         string     `json:"key,omitempty"` // ordering key (contact); items of one key go in order
	Attempts    int        `json:"attempts"`
	FirstSeen   time.Time  `json:"first_seen"`
	NextDue     *time.Time `json:"next_due,omitempty"`
	LastError   string     `json:"last_error,omitempty"`
	DeadReason  string     `json:"dead_reason,omitempty"`
	DeadAt      *time.Time `json:"dead_at,omitempty"`
	Size        int        `json:"size"`
	Payload     []byte     `json:"payload,omitempty"`      // base64
	PayloadText string     `json:"payload_text,omitempty"` // when it is UTF-8 text
	// Callback replaces Payload and PayloadText for a platform callback:
	// its request as readable JSON, secrets masked (bridge.RedactPayload).
	Callback json.RawMessage `json:"callback,omitempty"`
	// MT replaces them for an MT: its record as JSON.
	MT json.RawMessage `json:"mt,omitempty"`
}

func itemViews(items []store.Item, payload bool) []itemView {
	views := make([]itemView, 0, len(items))
	for _, it := range items {
		v := itemView{ID: it.ID, Lane: it.Lane, Key: it.Key, Attempts: it.Attempts, FirstSeen: it.FirstSeen,
			LastError: it.LastError, DeadReason: it.DeadReason, Size: len(it.Payload)}
		if it.DeadReason == "" {
			v.NextDue = &it.NextDue
		} else {
			v.DeadAt = &it.DeadAt
		}
		if cb, ok := bridge.RedactPayload(it.Lane, it.Payload); payload && ok {
			if strings.HasPrefix(it.Lane, "mt:") {
				v.MT = cb
			} else {
				v.Callback = cb
			}
		} else if payload {
			v.Payload = it.Payload
			if utf8.Valid(it.Payload) {
				v.PayloadText = string(it.Payload)
			}
		}
		views = append(views, v)
	}
	return views
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func itemTable(w io.Writer, items []store.Item, dead bool) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if dead {
		fmt.Fprintln(tw, "ID\tLANE\tATTEMPTS\tFIRST SEEN\tDEAD AT\tSIZE\tREASON")
	} else {
		fmt.Fprintln(tw, "ID\tLANE\tATTEMPTS\tFIRST SEEN\tNEXT DUE\tSIZE\tLAST ERROR")
	}
	for _, it := range items {
		when, why := it.NextDue, it.LastError
		if dead {
			when, why = it.DeadAt, it.DeadReason
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%d\t%s\n", it.ID, it.Lane, it.Attempts,
			stamp(it.FirstSeen), stamp(when), len(it.Payload), oneLine(why, 60))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(items) == 0 {
		_, err := fmt.Fprintln(w, "(none)")
		return err
	}
	return nil
}

func showItem(w io.Writer, it store.Item) {
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	fmt.Fprintf(tw, "id:\t%s\n", it.ID)
	fmt.Fprintf(tw, "lane:\t%s\n", it.Lane)
	if it.Key != "" {
		fmt.Fprintf(tw, "key:\t%q\n", it.Key)
	}
	fmt.Fprintf(tw, "attempts:\t%d\n", it.Attempts)
	fmt.Fprintf(tw, "first seen:\t%s\n", stamp(it.FirstSeen))
	if it.DeadReason != "" {
		fmt.Fprintf(tw, "state:\tdead\n")
		fmt.Fprintf(tw, "dead at:\t%s\n", stamp(it.DeadAt))
		fmt.Fprintf(tw, "reason:\t%s\n", oneLine(it.DeadReason, 0))
	} else {
		fmt.Fprintf(tw, "state:\tqueued\n")
		fmt.Fprintf(tw, "next due:\t%s\n", stamp(it.NextDue))
	}
	if it.LastError != "" {
		fmt.Fprintf(tw, "last error:\t%s\n", oneLine(it.LastError, 0))
	}
	fmt.Fprintf(tw, "payload:\t%d bytes\n", len(it.Payload))
	tw.Flush()
	if cb, ok := bridge.RedactPayload(it.Lane, it.Payload); ok {
		var pretty bytes.Buffer
		if json.Indent(&pretty, cb, "", "  ") == nil {
			cb = pretty.Bytes()
		}
		what := "callback (secrets masked)"
		if strings.HasPrefix(it.Lane, "mt:") {
			what = "MT record"
		}
		fmt.Fprintf(w, "%s:\n%s\n", what, cb)
	} else if utf8.Valid(it.Payload) {
		fmt.Fprintf(w, "%s\n", it.Payload)
	} else {
		fmt.Fprint(w, hex.Dump(it.Payload))
	}
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

// oneLine keeps table cells on one line and at most n runes (n > 0).
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); n > 0 && len(r) > n {
		return string(r[:n-1]) + "…"
	}
	if s == "" {
		return "-"
	}
	return s
}

// loggedView is the last status of a template notification
// (bridge.LoggedStatus): its platform takes no callback, so the bridge
// keeps it for operators.
type loggedView struct {
	ID string `json:"id"`
	bridge.LoggedStatus
}

func loggedStatus(ctx context.Context, s store.Backend, id string) (bridge.LoggedStatus, bool, error) {
	var ls bridge.LoggedStatus
	raw, ok, err := s.GetMark(ctx, bridge.LoggedStatusKey(id))
	if err != nil || !ok {
		return ls, false, err
	}
	if err := json.Unmarshal(raw, &ls); err != nil {
		return ls, false, fmt.Errorf("status record of %s: %w", id, err)
	}
	return ls, true, nil
}

func showLogged(w io.Writer, l loggedView) {
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	fmt.Fprintf(tw, "id:\t%s\n", l.ID)
	fmt.Fprintf(tw, "notification status:\t%s (logged at %s; the notifications API has no callback)\n", l.Status, stamp(l.At))
	fmt.Fprintf(tw, "channel:\t%s\n", l.Channel)
	if l.To != "" {
		fmt.Fprintf(tw, "to:\t%s\n", l.To)
	}
	if l.SMSC != "" {
		fmt.Fprintf(tw, "smsc:\t%s\n", l.SMSC)
	}
	if l.SMSCMsgID != "" {
		fmt.Fprintf(tw, "smsc message id:\t%s\n", l.SMSCMsgID)
	}
	if l.ErrorCode != "" {
		fmt.Fprintf(tw, "error code:\t%s\n", l.ErrorCode)
	}
	if l.Reason != "" {
		fmt.Fprintf(tw, "reason:\t%s\n", oneLine(l.Reason, 0))
	}
	tw.Flush()
}
