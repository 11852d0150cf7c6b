package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smscbridge/smscbridge/smsc/pdu"
	"github.com/smscbridge/smscbridge/smsc/smsctest"
)

// config is the parsed command line.
type config struct {
	listen, systemID, password string
	moCount                    int
	moRate                     float64
	moFrom, moTo               string
	moShuffle                  bool
	dlr                        bool
	dlrDelay                   time.Duration
	dlrMix                     []weighted
	idFormat, receiptIDFormat  string
	throttleEvery, window      int
	failRate, dropRate         float64
	failStatus                 uint
	delay                      time.Duration
	enquireLink                time.Duration
	duration                   time.Duration
	json, verbose              bool
	seed                       uint64
	record                     string // -record file
	lenient                    []smsctest.Rule
	lenientAll                 bool
	dc0                        smsctest.DC0
}

type weighted struct {
	stat   string
	weight int
}

// sim is one simulator run.
type sim struct {
	cfg    config
	srv    *smsctest.Server
	out    io.Writer // the report
	errOut io.Writer // the listening line and logs
	rng    *rand.Rand
	rngMu  sync.Mutex
	counts struct {
		submits, throttled, failed, dropped, moFailed atomic.Int64
	}
	ready chan struct{} // closed once listening
	rec   *recorder     // -record; nil without
}

// Report is the final stats printed on exit (JSON with -json).
type Report struct {
	Binds         int     `json:"binds"`
	Unbinds       int     `json:"unbinds"`
	Submits       int64   `json:"submits"`
	SubmitsOK     int     `json:"submits_ok"`
	Throttled     int64   `json:"throttled"`
	Failed        int64   `json:"failed"`
	Dropped       int64   `json:"dropped"`
	MOSent        int     `json:"mo_sent"`
	ReceiptsSent  int     `json:"receipts_sent"`
	Errors        int64   `json:"errors"`
	MaxInflight   int     `json:"max_inflight"`
	UptimeSeconds float64 `json:"uptime_seconds"`
	// Violations are the SMPP 3.4 violations of the ESMEs, in order (at
	// most 10,000), lenient ones included.
	Violations []ReportViolation `json:"violations"`
}

// ReportViolation is one smsctest.Violation in the report.
type ReportViolation struct {
	Time       time.Time `json:"time"`
	Session    int       `json:"session"`
	SystemID   string    `json:"system_id"`
	Command    string    `json:"command"`
	Seq        uint32    `json:"seq"`
	Rule       string    `json:"rule"`
	Detail     string    `json:"detail"`
	StatusName string    `json:"status_name"` // what a strict SMSC answers ("ESME_ROK": accepted anyway)
	Lenient    bool      `json:"lenient,omitempty"`
}

func reportViolation(v smsctest.Violation) ReportViolation {
	return ReportViolation{Time: v.At.UTC(), Session: v.Session, SystemID: v.SystemID, Command: v.Command.String(), Seq: v.Seq,
		Rule: string(v.Rule), Detail: v.Detail, StatusName: v.Status.String(), Lenient: v.Lenient}
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	var mix, lenient, dc0 string
	fs := flag.NewFlagSet("smscsim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.listen, "listen", "127.0.0.1:2775", "address to listen on")
	fs.StringVar(&c.systemID, "system-id", "", "accepted system_id (with -password)")
	fs.StringVar(&c.password, "password", "", "accepted password; empty accepts any bind")
	fs.IntVar(&c.moCount, "mo-count", 0, "MO messages to send to bound receivers")
	fs.Float64Var(&c.moRate, "mo-rate", 1, "MO messages per second")
	fs.StringVar(&c.moFrom, "mo-from", "+15550001111", "MO sender")
	fs.StringVar(&c.moTo, "mo-to", "12345", "MO destination")
	fs.BoolVar(&c.moShuffle, "mo-shuffle", false, "send the segments of multipart MO in random order")
	fs.BoolVar(&c.dlr, "dlr", false, "send delivery receipts for submits that request them")
	fs.DurationVar(&c.dlrDelay, "dlr-delay", time.Second, "delay between submit_sm_resp and its receipt")
	fs.StringVar(&mix, "dlr-mix", "DELIVRD=1", "receipt stat weights, e.g. DELIVRD=8,UNDELIV=1,EXPIRED=1")
	fs.StringVar(&c.idFormat, "id-format", "dec", "message id format in submit_sm_resp: dec, hex or padded")
	fs.StringVar(&c.receiptIDFormat, "receipt-id-format", "", "id format in receipts (default: as -id-format)")
	fs.IntVar(&c.throttleEvery, "throttle-every", 0, "answer every Nth submit with ESME_RTHROTTLED")
	fs.IntVar(&c.window, "window", 0, "max outstanding submits per session; more get ESME_RMSGQFUL (0: no cap)")
	fs.Float64Var(&c.failRate, "fail-rate", 0, "fraction of submits answered with -fail-status")
	fs.UintVar(&c.failStatus, "fail-status", uint(pdu.StatusSysErr), "status for -fail-rate")
	fs.Float64Var(&c.dropRate, "drop-rate", 0, "fraction of submits never answered")
	fs.DurationVar(&c.delay, "delay", 0, "delay every submit_sm_resp")
	fs.DurationVar(&c.enquireLink, "enquire-link", 0, "send enquire_link this often (0: never)")
	fs.DurationVar(&c.duration, "duration", 0, "stop after this long (0: until SIGINT/SIGTERM)")
	fs.BoolVar(&c.json, "json", false, "print the final stats as JSON")
	fs.BoolVar(&c.verbose, "v", false, "log every PDU to stderr")
	fs.Uint64Var(&c.seed, "seed", 0, "random seed (0: random)")
	fs.StringVar(&c.record, "record", "", "append one JSON line per submit_sm received to `FILE`, written before the response\n"+
		"(time, session, system_id, seq, source/dest addr+ton+npi, esm_class, registered_delivery, data_coding,\n"+
		"short_message as hex, tlvs as \"0xTAG\": hex, the decoded text without UDH, concat ref/total/seq of a part,\n"+
		"message_id, status and status_name answered, or dropped, and the SMPP 3.4 rules broken as \"violation\");\n"+
		"submits refused by -window are not recorded")
	fs.StringVar(&lenient, "lenient", "", "accept what breaks these SMPP 3.4 rules (comma-separated, or \"all\") instead of refusing it;\n"+
		"violations are still reported. Rules: "+ruleNames())
	fs.StringVar(&dc0, "dc0", "gsm7", "what data_coding 0 means here: gsm7 (unpacked), gsm7-packed, latin1 or ascii;\nchecks submit_sm with it and encodes MO with it")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	var err error
	if c.dlrMix, err = parseMix(mix); err != nil {
		return c, err
	}
	var errs []error
	if c.lenient, c.lenientAll, err = parseLenient(lenient); err != nil {
		errs = append(errs, err)
	}
	if c.dc0, err = smsctest.ParseDC0(dc0); err != nil {
		errs = append(errs, fmt.Errorf("-dc0: %w", err))
	}
	for name, r := range map[string]float64{"fail-rate": c.failRate, "drop-rate": c.dropRate} {
		if r < 0 || r > 1 {
			errs = append(errs, fmt.Errorf("-%s must be 0..1, got %g", name, r))
		}
	}
	if c.moRate <= 0 {
		errs = append(errs, fmt.Errorf("-mo-rate must be > 0, got %g", c.moRate))
	}
	if _, err := idFormat(c.idFormat); err != nil {
		errs = append(errs, err)
	}
	if c.receiptIDFormat != "" {
		if _, err := idFormat(c.receiptIDFormat); err != nil {
			errs = append(errs, err)
		}
	}
	return c, errors.Join(errs...)
}

// parseMix parses "DELIVRD=8,UNDELIV=1".
func parseMix(s string) ([]weighted, error) {
	var out []weighted
	for part := range strings.SplitSeq(s, ",") {
		stat, w, ok := strings.Cut(strings.TrimSpace(part), "=")
		n, err := strconv.Atoi(w)
		if !ok || err != nil || n < 0 || stat == "" {
			return nil, fmt.Errorf("-dlr-mix: %q: want STAT=weight", part)
		}
		out = append(out, weighted{strings.ToUpper(stat), n})
	}
	return out, nil
}

// rules are the smsctest rules -lenient takes.
var rules = []smsctest.Rule{
	smsctest.RuleSequence, smsctest.RuleCommandStatus, smsctest.RuleMalformed, smsctest.RuleCommand,
	smsctest.RuleBindState, smsctest.RuleResponse, smsctest.RuleInterfaceVersion, smsctest.RuleField,
	smsctest.RuleESMClass, smsctest.RuleMessageLength, smsctest.RuleUDH, smsctest.RuleConcat,
	smsctest.RuleSAR, smsctest.RuleCharset, smsctest.RulePayloadConflict,
}

func ruleNames() string {
	names := make([]string, len(rules))
	for i, r := range rules {
		names[i] = string(r)
	}
	return strings.Join(names, ", ")
}

// parseLenient parses -lenient: "" (strict), "all", or rule names.
func parseLenient(s string) (rs []smsctest.Rule, all bool, err error) {
	if strings.TrimSpace(s) == "" {
		return nil, false, nil
	}
	if strings.TrimSpace(s) == "all" {
		return nil, true, nil
	}
	for name := range strings.SplitSeq(s, ",") {
		r := smsctest.Rule(strings.TrimSpace(name))
		if !slices.Contains(rules, r) {
			return nil, false, fmt.Errorf("-lenient: unknown rule %q (want all or some of: %s)", name, ruleNames())
		}
		rs = append(rs, r)
	}
	return rs, false, nil
}

func idFormat(name string) (func(uint64) string, error) {
	switch name {
	case "dec":
		return smsctest.DecimalIDs, nil
	case "hex":
		return smsctest.HexIDs, nil
	case "padded":
		return smsctest.PaddedDecimalIDs, nil
	}
	return nil, fmt.Errorf("id format %q: want dec, hex or padded", name)
}

func newSim(args []string, stdout, stderr io.Writer) (*sim, error) {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return nil, err
	}
	seed := cfg.seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	s := &sim{cfg: cfg, out: stdout, errOut: stderr, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), ready: make(chan struct{})}
	msgID, _ := idFormat(cfg.idFormat)
	opts := []smsctest.Option{smsctest.WithMessageIDs(msgID), smsctest.WithHandler(smsctest.HandlerFunc(s.answer)),
		smsctest.WithRequestHook(s.recordSubmit), smsctest.WithDC0(cfg.dc0)}
	if cfg.lenientAll {
		opts = append(opts, smsctest.WithLenient())
	} else if len(cfg.lenient) > 0 {
		opts = append(opts, smsctest.WithLenient(cfg.lenient...))
	}
	if cfg.receiptIDFormat != "" {
		rid, _ := idFormat(cfg.receiptIDFormat)
		opts = append(opts, smsctest.WithReceiptIDs(rid))
	}
	if cfg.password != "" {
		opts = append(opts, smsctest.WithAccount(cfg.systemID, cfg.password))
	}
	if cfg.window > 0 {
		opts = append(opts, smsctest.WithMaxInflight(cfg.window, pdu.StatusMsgQFul))
	}
	if cfg.dlr {
		opts = append(opts, smsctest.WithReceipts(cfg.dlrDelay, s.pickReceipt))
	}
	if cfg.enquireLink > 0 {
		opts = append(opts, smsctest.WithEnquireLink(cfg.enquireLink, 10*time.Second))
	}
	if cfg.verbose {
		opts = append(opts, smsctest.WithLogger(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	}
	s.srv = smsctest.NewUnstartedServer(opts...)
	return s, nil
}

// float returns a random number in [0,1).
func (s *sim) float() float64 {
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	return s.rng.Float64()
}

// recordSubmit writes a -record line for every submit_sm, before its
// answer goes out: those the handler answered and those refused as
// violations or undecodable.
func (s *sim) recordSubmit(ss *smsctest.Session, req, resp *pdu.PDU, vs []smsctest.Violation) {
	if req.ID == pdu.SubmitSM && s.rec != nil {
		s.rec.add(ss, req, resp, vs)
	}
}

// answer applies the fault flags, then the server's default behaviour.
func (s *sim) answer(ss *smsctest.Session, p *pdu.PDU) *pdu.PDU {
	if p.ID != pdu.SubmitSM {
		return s.srv.Default(ss, p)
	}
	n := s.counts.submits.Add(1)
	switch {
	case s.cfg.throttleEvery > 0 && n%int64(s.cfg.throttleEvery) == 0:
		s.counts.throttled.Add(1)
		return pdu.NewResponse(p, pdu.StatusThrottled, nil)
	case s.cfg.dropRate > 0 && s.float() < s.cfg.dropRate:
		s.counts.dropped.Add(1)
		return nil
	case s.cfg.failRate > 0 && s.float() < s.cfg.failRate:
		s.counts.failed.Add(1)
		return pdu.NewResponse(p, pdu.Status(s.cfg.failStatus), nil)
	}
	return s.srv.Default(ss, p)
}

// pickReceipt draws a receipt stat from -dlr-mix.
func (s *sim) pickReceipt(smsctest.Submit) smsctest.Receipt {
	total := 0
	for _, w := range s.cfg.dlrMix {
		total += w.weight
	}
	if total == 0 {
		return smsctest.Receipt{Stat: "DELIVRD"}
	}
	x := int(s.float() * float64(total))
	for _, w := range s.cfg.dlrMix {
		if x < w.weight {
			r := smsctest.Receipt{Stat: w.stat}
			if w.stat != "DELIVRD" {
				r.Err = "001"
			}
			return r
		}
		x -= w.weight
	}
	return smsctest.Receipt{Stat: s.cfg.dlrMix[len(s.cfg.dlrMix)-1].stat}
}

// run listens and serves until ctx ends or -duration passes, then prints
// the report.
func (s *sim) run(ctx context.Context) error {
	if s.cfg.record != "" {
		rec, err := openRecorder(s.cfg.record, s.errOut)
		if err != nil {
			return err
		}
		defer rec.Close()
		s.rec = rec
	}
	if err := s.srv.Listen(s.cfg.listen); err != nil {
		return err
	}
	start := time.Now()
	fmt.Fprintf(s.errOut, "smscsim: listening on %s\n", s.srv.Addr())
	close(s.ready)
	if s.cfg.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.cfg.duration)
		defer cancel()
	}
	var wg sync.WaitGroup
	if s.cfg.moCount > 0 {
		wg.Go(func() { s.sendMO(ctx) })
	}
	<-ctx.Done()
	wg.Wait()
	s.srv.Close()
	return s.report(time.Since(start))
}

// moTexts are the MO messages the generator cycles through: plain GSM, GSM
// with extension characters, long GSM (multipart UDH), UCS2 with emoji and
// long UCS2.
var moTexts = []string{
	"Hello from smscsim",
	"Price: 10€ [promo] {ok} ~ ^ | \\",
	strings.Repeat("This is a long multipart message from the simulator. ", 5),
	"Olá 👋 ça va? 你好",
	strings.Repeat("Emoji 🎉 and UCS2 text ", 6),
}

// sendMO sends -mo-count messages at -mo-rate to bound receivers.
func (s *sim) sendMO(ctx context.Context) {
	t := time.NewTicker(time.Duration(float64(time.Second) / s.cfg.moRate))
	defer t.Stop()
	for i := 0; i < s.cfg.moCount; i++ {
		parts, err := smsctest.BuildMOFor(s.cfg.moFrom, s.cfg.moTo, moTexts[i%len(moTexts)], uint8(i), s.cfg.dc0)
		if err != nil {
			s.counts.moFailed.Add(1)
			continue
		}
		if s.cfg.moShuffle {
			s.rngMu.Lock()
			s.rng.Shuffle(len(parts), func(a, b int) { parts[a], parts[b] = parts[b], parts[a] })
			s.rngMu.Unlock()
		}
		for _, p := range parts {
			if !s.deliver(ctx, t, p) {
				return
			}
		}
	}
}

// deliver sends one MO PDU, waiting for a receiver when none is bound.
// It reports false when ctx ended.
func (s *sim) deliver(ctx context.Context, t *time.Ticker, p *pdu.ShortMessage) bool {
	for {
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
		st, err := s.srv.Deliver(ctx, p)
		switch {
		case errors.Is(err, smsctest.ErrNoReceiver):
			continue // try again on the next tick
		case err != nil || st != pdu.StatusOK:
			s.counts.moFailed.Add(1)
		}
		return true
	}
}

// recordFailed returns the -record lines that could not be written.
func (s *sim) recordFailed() int64 {
	if s.rec == nil {
		return 0
	}
	return s.rec.failed()
}

func (s *sim) report(uptime time.Duration) error {
	st := s.srv.Stats()
	r := Report{
		Binds: st.Binds, Unbinds: st.Unbinds, Submits: s.counts.submits.Load(), SubmitsOK: st.Submits - st.SubmitErrors,
		Throttled: s.counts.throttled.Load(), Failed: s.counts.failed.Load(), Dropped: s.counts.dropped.Load(),
		MOSent: st.MOSent, ReceiptsSent: st.ReceiptsSent, MaxInflight: st.MaxInflight,
		Errors:        int64(st.DeliverFails+st.BindsRefused+st.SubmitErrors) + s.counts.moFailed.Load() + s.recordFailed(),
		UptimeSeconds: uptime.Seconds(), Violations: []ReportViolation{},
	}
	for _, v := range s.srv.Violations() {
		r.Violations = append(r.Violations, reportViolation(v))
	}
	if s.cfg.json {
		enc := json.NewEncoder(s.out)
		return enc.Encode(r)
	}
	for _, v := range s.srv.Violations() {
		fmt.Fprintf(s.out, "smscsim: violation: %s\n", v)
	}
	_, err := fmt.Fprintf(s.out, "smscsim: binds=%d unbinds=%d submits=%d ok=%d throttled=%d failed=%d dropped=%d mo_sent=%d receipts_sent=%d errors=%d max_inflight=%d violations=%d uptime=%.1fs\n",
		r.Binds, r.Unbinds, r.Submits, r.SubmitsOK, r.Throttled, r.Failed, r.Dropped, r.MOSent, r.ReceiptsSent, r.Errors, r.MaxInflight, st.Violations, r.UptimeSeconds)
	return err
}
