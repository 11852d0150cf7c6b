package conf

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/nyaruka/phonenumbers"
)

// Validate checks every value and the references between sections and
// returns all problems joined (see Error), or nil. It does not read files
// other than to check that tls_cert, tls_key and tls_ca are readable.
// Load calls it; a Config built in code should be Complete()d first.
func (c *Config) Validate() error {
	p := &problems{file: c.File, lines: c.lines, skip: map[string]bool{}}
	c.validate(p)
	return p.err()
}

func (c *Config) validate(p *problems) {
	v := validator{p, c}
	v.http()
	v.admin()
	v.store()
	v.retry()
	v.log()
	v.smscs()
	v.routes()
	v.channels()
}

type validator struct {
	*problems
	c *Config
}

// at reports a problem with key k of table w.
func (v validator) at(w where, k string, value any, format string, args ...any) {
	path, label := w.key(k)
	v.add(path, label, value, format, args...)
}

var (
	idRE        = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
	e164RE      = regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)
	shortRE     = regexp.MustCompile(`^[0-9]{1,8}$`)
	alnumRE     = regexp.MustCompile(`^[A-Za-z0-9 ._&-]{1,11}$`)
	hasNonDigit = regexp.MustCompile(`[^0-9]`)
	schemaRE    = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)
	prefixRE    = regexp.MustCompile(`^\+?[0-9]{1,15}$`)
	hostRE      = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$`)
)

// section locates a top-level table such as [http].
func section(name string) where { return where{name, name + "."} }

const (
	idAllowed     = "required: 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
	numberAllowed = `must be E.164 ("+" and 8-15 digits), a short code (up to 8 digits) or an alphanumeric sender (up to 11 letters, digits or spaces)`
)

func (c *Config) smscWhere(i int) where {
	return where{"smsc." + strconv.Itoa(i), entryLabelID("smsc", i, c.SMSC[i].ID)}
}

func (c *Config) channelWhere(i int) where {
	return where{"channel." + strconv.Itoa(i), entryLabelID("channel", i, c.Channel[i].ID)}
}

func entryLabelID(k string, i int, id string) string {
	if id != "" {
		return fmt.Sprintf("%s %q: ", k, id)
	}
	return fmt.Sprintf("%s #%d: ", k, i+1)
}

func (v validator) http() {
	h, w := v.c.HTTP, section("http")
	v.listen(w, "listen", h.Listen)
	if h.MaxBody <= 0 {
		v.at(w, "max_body", h.MaxBody, "must be more than 0")
	}
	switch {
	case h.TLSCert != "" && h.TLSKey == "":
		v.at(w, "tls_key", nil, "required when tls_cert is set")
	case h.TLSCert == "" && h.TLSKey != "":
		v.at(w, "tls_cert", nil, "required when tls_key is set")
	}
	if v.readable(w, "tls_cert", h.TLSCert) && v.readable(w, "tls_key", h.TLSKey) && h.TLSCert != "" && h.TLSKey != "" {
		if _, err := tls.LoadX509KeyPair(v.c.resolve(h.TLSCert), v.c.resolve(h.TLSKey)); err != nil {
			v.at(w, "tls_cert", h.TLSCert, "with tls_key %q is not a usable certificate and key: %s", h.TLSKey, errText(err))
		}
	}
}

func (v validator) admin() {
	a, w := v.c.Admin, section("admin")
	if a.Listen == "" {
		return // no admin listener
	}
	v.listen(w, "listen", a.Listen)
	if a.Listen == v.c.HTTP.Listen && a.Listen != "" && !strings.HasSuffix(a.Listen, ":0") {
		v.at(w, "listen", a.Listen, "must differ from http.listen")
	}
}

func (v validator) store() {
	s, w := v.c.Store, section("store")
	v.oneOf(w, "backend", s.Backend, "bbolt", "postgres")
	if s.Path == "" && s.Backend != "postgres" {
		v.at(w, "path", nil, "required: the bbolt database file")
	}
	if s.Backend == "postgres" {
		switch {
		case s.DSN == "" && s.DSNFile == "":
			v.at(w, "dsn", nil, `required with backend "postgres": a connection string like "postgres://smscbridge@db.example.org/smscbridge" (or dsn_file)`)
		case s.DSN != "":
			if _, err := pgconn.ParseConfig(s.DSN); err != nil {
				v.at(w, "dsn", "***", "is not a PostgreSQL connection string (URL or key=value)")
			}
		}
		if s.PoolSize < 1 || s.PoolSize > 1000 {
			v.at(w, "pool_size", s.PoolSize, "must be 1..1000")
		}
		if s.Node != "" && !idRE.MatchString(s.Node) {
			v.at(w, "node", s.Node, "must be 1..64 letters, digits, '_', '.' or '-', starting with a letter or digit")
		}
		if s.Schema != "" && !schemaRE.MatchString(s.Schema) {
			v.at(w, "schema", s.Schema, "must be a plain PostgreSQL name: 1..63 lower-case letters, digits or '_', not starting with a digit")
		}
	}
	if s.LeaseTime.Duration < 0 || (s.LeaseTime.Duration > 0 && s.LeaseTime.Duration < time.Second) {
		v.at(w, "lease_time", s.LeaseTime, `must be at least "1s" (or left out for the backend's default)`)
	}
	v.positive(w, "receipt_ttl", s.ReceiptTTL)
	v.positive(w, "reassembly_timeout", s.ReassemblyTimeout)
	v.oneOf(w, "partial_mo", s.PartialMO, "deliver", "dead")
	if s.TraceTTL.Duration < 0 {
		v.at(w, "trace_ttl", s.TraceTTL, "must not be negative (\"0s\" turns the trace off)")
	}
	if s.TraceMax < 1000 {
		v.at(w, "trace_max", s.TraceMax, "must be at least 1000")
	}
}

func (v validator) retry() {
	r, w := v.c.Retry, section("retry")
	if r.MaxAttempts < 1 {
		v.at(w, "max_attempts", r.MaxAttempts, "must be at least 1")
	}
	v.positive(w, "initial_backoff", r.InitialBackoff)
	v.positive(w, "max_backoff", r.MaxBackoff)
	v.positive(w, "max_age", r.MaxAge)
	if r.InitialBackoff.Duration > r.MaxBackoff.Duration {
		v.at(w, "initial_backoff", r.InitialBackoff, "must not exceed max_backoff %q", r.MaxBackoff.String())
	}
}

func (v validator) log() {
	l, w := v.c.Log, section("log")
	v.oneOf(w, "level", l.Level, "debug", "info", "warn", "error")
	v.oneOf(w, "format", l.Format, "text", "json")
}

func (v validator) smscs() {
	if len(v.c.SMSC) == 0 {
		v.add("smsc", "smsc", nil, "at least one [[smsc]] is required")
	}
	seen := map[string]bool{}
	for i := range v.c.SMSC {
		s, w := v.c.SMSC[i], v.c.smscWhere(i)
		v.id(w, s.ID, seen, "smsc")
		v.smscLink(s, w)
		v.smscSession(s, w)
		v.smscMessages(s, w)
	}
}

// smscLink checks how to reach and bind to the SMSC.
func (v validator) smscLink(s SMSC, w where) {
	if s.Host == "" {
		v.at(w, "host", nil, "required: the SMSC's IP address or host name")
	} else if net.ParseIP(s.Host) == nil && !hostRE.MatchString(s.Host) {
		v.at(w, "host", s.Host, "must be an IP address or a host name (no port, no scheme)")
	}
	if s.Port < 1 || s.Port > 65535 {
		v.at(w, "port", s.Port, "must be 1..65535")
	}
	switch {
	case s.SystemID == "":
		v.at(w, "system_id", nil, "required: the account name the aggregator gave you")
	case len(s.SystemID) > 15:
		v.at(w, "system_id", s.SystemID, "must be at most 15 characters (SMPP 3.4 bind)")
	}
	if len(s.Password) > 8 {
		v.at(w, "password", "***", "must be at most 8 characters (SMPP 3.4 bind), got %d", len(s.Password))
	}
	if len(s.SystemType) > 12 {
		v.at(w, "system_type", s.SystemType, "must be at most 12 characters (SMPP 3.4 bind)")
	}
	v.oneOf(w, "bind", s.Bind, "transceiver", "transmitter", "receiver", "pair")
	if !s.TLS {
		if s.TLSCA != "" {
			v.at(w, "tls_ca", s.TLSCA, "only used with tls = true")
		}
		if s.TLSInsecureSkipVerify {
			v.at(w, "tls_insecure_skip_verify", true, "only used with tls = true")
		}
	}
	if v.readable(w, "tls_ca", s.TLSCA) && s.TLS && s.TLSCA != "" {
		if _, err := LoadCA(v.c.resolve(s.TLSCA)); err != nil {
			v.at(w, "tls_ca", s.TLSCA, "%s", errText(err))
		}
	}
	v.localAddr(s, w)
}

// LoadCA reads the PEM certificates of a tls_ca file into a pool. The
// daemon uses it, and check-config refuses a file it cannot use.
func LoadCA(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, errors.New("no PEM certificate in it")
	}
	return pool, nil
}

// localAddr checks local_addr: an IP address, optionally with a port; a
// fixed port can serve one connection only.
func (v validator) localAddr(s SMSC, w where) {
	if s.LocalAddr == "" || net.ParseIP(s.LocalAddr) != nil {
		return
	}
	host, port, err := net.SplitHostPort(s.LocalAddr)
	if err != nil || net.ParseIP(host) == nil {
		v.at(w, "local_addr", s.LocalAddr, `must be an IP address of this host, optionally with a port: "10.8.0.2" or "10.8.0.2:40000"`)
		return
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		v.at(w, "local_addr", s.LocalAddr, "port must be 1..65535")
		return
	}
	conns := s.Sessions
	if s.Bind == "pair" {
		conns *= 2
	}
	if conns > 1 {
		v.at(w, "local_addr", s.LocalAddr, "a fixed port serves one connection only, but sessions = %d, bind = %q opens %d; leave the port out",
			s.Sessions, s.Bind, conns)
	}
}

// smscSession checks the session timers and limits.
func (v validator) smscSession(s SMSC, w where) {
	if s.Sessions < 1 || s.Sessions > 32 {
		v.at(w, "sessions", s.Sessions, "must be 1..32")
	}
	v.positive(w, "enquire_link", s.EnquireLink)
	v.positive(w, "response_timeout", s.ResponseTimeout)
	v.positive(w, "reconnect_delay", s.ReconnectDelay)
	v.positive(w, "reconnect_max", s.ReconnectMax)
	if s.ReconnectMax.Duration < s.ReconnectDelay.Duration {
		v.at(w, "reconnect_max", s.ReconnectMax, "must be at least reconnect_delay %q", s.ReconnectDelay.String())
	}
	if s.Window < 1 || s.Window > 1000 {
		v.at(w, "window", s.Window, "must be 1..1000")
	}
	v.concurrency(w, s.Concurrency)
	if s.Throughput < 0 || math.IsNaN(s.Throughput) || math.IsInf(s.Throughput, 0) {
		v.at(w, "throughput", s.Throughput, "must be 0 (no limit) or a positive number of submit_sm per second")
	}
	if s.MaxInbound < 1 || s.MaxInbound > 10000 {
		v.at(w, "max_inbound", s.MaxInbound, "must be 1..10000")
	}
	v.positive(w, "throttle_pause", s.ThrottlePause)
	v.positive(w, "throttle_max", s.ThrottleMax)
	v.positive(w, "throttle_timeout", s.ThrottleTimeout)
	if s.ThrottleMax.Duration < s.ThrottlePause.Duration {
		v.at(w, "throttle_max", s.ThrottleMax, "must be at least throttle_pause %q", s.ThrottlePause.String())
	}
}

// smscMessages checks encoding, addressing and routing settings.
func (v validator) smscMessages(s SMSC, w where) {
	v.oneOf(w, "default_coding", s.DefaultCoding, "gsm7", "latin1", "ascii")
	v.oneOf(w, "dc0_charset", s.DC0Charset, "gsm7", "latin1", "ascii")
	if s.GSM7Packed && s.DC0Charset != "gsm7" {
		v.at(w, "gsm7_packed", true, "only with dc0_charset = \"gsm7\" (packing is for GSM septets, not %q)", s.DC0Charset)
	}
	v.oneOf(w, "long_messages", s.LongMessages, "udh", "udh16", "sar", "payload")
	v.ton(w, "source_ton", s.SourceTON)
	v.ton(w, "dest_ton", s.DestTON)
	v.oneOf(w, "msg_id_type", s.MsgIDType, "auto", "hex", "decimal")
	if s.Country != "" && (len(s.Country) != 2 || phonenumbers.GetCountryCodeForRegion(s.Country) == 0) {
		v.at(w, "country", s.Country, `must be an ISO 3166 alpha-2 country code like "MY" or "BR", or ""`)
	}
	if s.MaxParts < 1 || s.MaxParts > 255 {
		v.at(w, "max_parts", s.MaxParts, "must be 1..255")
	}
	v.positive(w, "failover_after", s.FailoverAfter)
	if s.DefaultChannel == "" {
		return
	}
	switch ch := v.c.ChannelByID(s.DefaultChannel); {
	case ch == nil:
		v.at(w, "default_channel", s.DefaultChannel, "must be the id of a [[channel]]%s", known(v.channelIDs()))
	case ch.Kind == KindNotify:
		v.at(w, "default_channel", s.DefaultChannel, "must be a channel that receives MO (kind %q does not)", ch.Kind)
	}
}

// concurrency checks a lane's concurrency (after Complete: 0 is the default).
func (v validator) concurrency(w where, n int) {
	if n < 0 || n > MaxConcurrency {
		v.at(w, "concurrency", n, "must be 1..%d", MaxConcurrency)
	}
}

func (v validator) ton(w where, k, val string) {
	if val == "auto" {
		return
	}
	if n, err := strconv.Atoi(val); err != nil || n < 0 || n > 6 {
		v.at(w, k, val, `must be "auto" or a TON number 0..6`)
	}
}

func (v validator) routes() {
	seen := map[string]bool{}
	for i, r := range v.c.Route {
		w := where{"route." + strconv.Itoa(i), fmt.Sprintf("route %q: ", r.Prefix)}
		switch {
		case r.Prefix == "":
			w.label = fmt.Sprintf("route #%d: ", i+1)
			v.at(w, "prefix", nil, `required: a destination prefix like "+55"`)
		case !prefixRE.MatchString(r.Prefix):
			v.at(w, "prefix", r.Prefix, `must be "+" and/or up to 15 digits, like "+55"`)
		case seen[r.Prefix]:
			v.at(w, "prefix", r.Prefix, "is routed twice; merge the two [[route]] entries")
		}
		seen[r.Prefix] = true
		if len(r.SMSC) == 0 {
			v.at(w, "smsc", nil, "required: at least one SMSC id (an empty list routes to nowhere)")
		}
		v.smscRefs(w, r.SMSC, true)
	}
}

// smscRefs checks a list of SMSC ids; sends says the list is used for MT.
func (v validator) smscRefs(w where, ids []string, sends bool) {
	canSend := false
	for j, id := range ids {
		s := v.c.SMSCByID(id)
		switch {
		case s == nil:
			v.at(w, "smsc", id, "must be the id of an [[smsc]]%s", known(v.smscIDs()))
		case slices.Contains(ids[:j], id):
			v.at(w, "smsc", id, "is listed twice")
		case s.Bind != "receiver":
			canSend = true
		}
	}
	if sends && len(ids) > 0 && !canSend && v.allKnown(ids) {
		v.at(w, "smsc", ids, `must include an SMSC that can send (these all bind as "receiver")`)
	}
}

func (v validator) allKnown(ids []string) bool {
	for _, id := range ids {
		if v.c.SMSCByID(id) == nil {
			return false
		}
	}
	return true
}

func (v validator) smscIDs() []string {
	ids := make([]string, 0, len(v.c.SMSC))
	for _, s := range v.c.SMSC {
		ids = append(ids, s.ID)
	}
	return ids
}

func (v validator) channelIDs() []string {
	ids := make([]string, 0, len(v.c.Channel))
	for _, ch := range v.c.Channel {
		ids = append(ids, ch.ID)
	}
	return ids
}

// known lists the valid choices for a reference, when there are any.
func known(ids []string) string {
	ids = slices.DeleteFunc(slices.Clone(ids), func(s string) bool { return s == "" })
	if len(ids) == 0 {
		return ""
	}
	return fmt.Sprintf(" (known: %s)", strings.Join(quoteAll(ids), ", "))
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strconv.Quote(s)
	}
	return out
}

// --- small checks shared by sections ---

func (v validator) id(w where, id string, seen map[string]bool, what string) {
	switch {
	case id == "":
		v.at(w, "id", nil, idAllowed)
	case !idRE.MatchString(id):
		v.at(w, "id", id, "must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
	case seen[id]:
		v.at(w, "id", id, "is used by another [[%s]]; ids must be unique", what)
	}
	seen[id] = true
}

func (v validator) oneOf(w where, k, val string, allowed ...string) {
	if !slices.Contains(allowed, val) {
		v.at(w, k, val, "must be one of %s", strings.Join(quoteAll(allowed), ", "))
	}
}

func (v validator) positive(w where, k string, d Duration) {
	if d.Duration <= 0 {
		v.at(w, k, d, `must be a duration above 0 like "30s"`)
	}
}

func (v validator) listen(w where, k, addr string) {
	host, port, err := net.SplitHostPort(addr)
	if err == nil {
		n, perr := strconv.Atoi(port)
		if perr != nil || n < 0 || n > 65535 {
			err = fmt.Errorf("bad port")
		}
		if host != "" && net.ParseIP(host) == nil && !hostRE.MatchString(host) {
			err = fmt.Errorf("bad host")
		}
	}
	if err != nil {
		v.at(w, k, addr, `must be host:port like "127.0.0.1:13000" or ":13013" (port 0..65535)`)
	}
}

// check reports err, the verdict of a check shared with the daemon, as a
// problem with key k.
func (v validator) check(w where, k string, value any, err error) {
	if err != nil {
		v.at(w, k, value, "%v", err)
	}
}

// readable reports a file that cannot be opened; "" (not set) is fine.
func (v validator) readable(w where, k, file string) bool {
	if file == "" {
		return true
	}
	f, err := os.Open(v.c.resolve(file))
	if err != nil {
		v.at(w, k, file, "cannot be read: %s", errText(err))
		return false
	}
	f.Close()
	return true
}

// httpURL checks an absolute http(s) URL; kannel says Kannel escapes
// (%p, %a, ...) are allowed in it.
func (v validator) httpURL(w where, k, raw string, kannel bool) {
	check := raw
	if kannel {
		check = kannelEscape.ReplaceAllString(raw, "x")
	}
	u, err := url.Parse(check)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.at(w, k, raw, "must be an absolute http:// or https:// URL")
	}
}

var kannelEscape = regexp.MustCompile(`%[A-Za-z%]|%#[^#]*#[^#]*#`)

// validNumber reports whether s is a valid channel number or sender.
func validNumber(s string) bool {
	return e164RE.MatchString(s) || shortRE.MatchString(s) ||
		alnumRE.MatchString(s) && hasNonDigit.MatchString(s) && strings.TrimSpace(s) == s && !strings.HasPrefix(s, "+")
}
