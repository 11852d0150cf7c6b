package kannel

import (
	"cmp"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/smscbridge/smscbridge/bridge"
)

// DedupWindow is how long a sendsms with the same dlr-url (and recipient)
// is answered without queueing a second SMS while the first is pending or
// succeeded (platforms.md §0.1).
const DedupWindow = 24 * time.Hour

// Path is where Kannel clients send: smsbox's sendsms URL.
const Path = "/cgi-bin/sendsms"

// Config is one Kannel-compatible channel.
type Config struct {
	Channel  string // our channel id
	Username string // sendsms username; selects the channel
	Password string // sendsms password; compared in constant time, never logged
	// MOURL is the URL template MO go to, with Kannel escapes (%p, %b, ...);
	// empty means the channel takes no MO.
	MOURL string
	// MOMethod is GET or POST (default). POST puts everything in the
	// query string and sends an empty body, as courier's KN receive needs.
	MOMethod string
	// From is the sender of an MT whose sendsms gives none (the channel's
	// first number, as the core sends it): the %P of its reports.
	From string
	// SystemIDs maps each SMSC id to the system_id the bridge binds with:
	// Kannel's %o of a receipt's report.
	SystemIDs map[string]string
	// Now is the clock for %T / %t of MO without a receive time; nil means
	// time.Now.
	Now func() time.Time
}

// String formats c with the password masked.
func (c Config) String() string {
	return fmt.Sprintf("{Channel:%s Username:%s Password:%s MOURL:%s MOMethod:%s}",
		c.Channel, c.Username, mask(c.Password), c.MOURL, c.MOMethod)
}

// LogValue logs c with the password masked.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(slog.String("channel", c.Channel), slog.String("username", c.Username),
		slog.String("password", mask(c.Password)), slog.String("mo_url", c.MOURL), slog.String("mo_method", c.MOMethod))
}

func mask(s string) string {
	if s == "" {
		return ""
	}
	return "xxxxx"
}

// Adapter is the Kannel dialect for one channel. It implements
// bridge.Adapter and bridge.SendsmsUser.
type Adapter struct {
	cfg  Config
	acc  bridge.Accepter
	log  *slog.Logger
	pass [sha256.Size]byte
}

var (
	_ bridge.Adapter          = (*Adapter)(nil)
	_ bridge.SendsmsUser      = (*Adapter)(nil)
	_ bridge.BufferedReporter = (*Adapter)(nil)
)

// New checks cfg and returns the adapter. It does no I/O.
func New(cfg Config, acc bridge.Accepter, logger *slog.Logger) (*Adapter, error) {
	if cfg.Channel == "" {
		return nil, errors.New("kannel: channel id is empty")
	}
	if acc == nil {
		return nil, fmt.Errorf("kannel: channel %q: nil Accepter", cfg.Channel)
	}
	if cfg.Username == "" || cfg.Password == "" {
		return nil, fmt.Errorf("kannel: channel %q: username and password are required", cfg.Channel)
	}
	switch cfg.MOMethod = strings.ToUpper(cfg.MOMethod); cfg.MOMethod {
	case "":
		cfg.MOMethod = http.MethodPost
	case http.MethodGet, http.MethodPost:
	default:
		return nil, fmt.Errorf("kannel: channel %q: mo_method must be GET or POST", cfg.Channel)
	}
	if cfg.MOURL != "" {
		if u, err := url.Parse(cfg.MOURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("kannel: channel %q: mo_url must be an absolute http:// or https:// URL", cfg.Channel)
		}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Adapter{cfg: cfg, acc: acc, log: logger.With("channel", cfg.Channel), pass: sha256.Sum256([]byte(cfg.Password))}, nil
}

// ReportsBuffered implements bridge.BufferedReporter: receipts saying the
// SMSC holds the message are Kannel's type 4.
func (a *Adapter) ReportsBuffered() bool { return true }

// SendsmsUser implements bridge.SendsmsUser: the core hands this adapter
// the sendsms calls that name this username.
func (a *Adapter) SendsmsUser() string { return a.cfg.Username }

// ServeHTTP answers one sendsms call (GET, or POST) as Kannel's smsbox
// does (platforms.md C.1): the password is checked, the parameters too, one
// MT per receiver is committed, and only then 202 "0: Accepted for
// delivery" is answered.
func (a *Adapter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ans := a.serve(r)
	switch {
	case ans.code >= 500:
		a.log.Error("sendsms not accepted", "status", ans.code, "answer", ans.body)
	case ans.code == http.StatusForbidden:
		a.log.Warn("sendsms refused", "status", ans.code, "answer", ans.body)
	case ans.code >= 400:
		a.log.Info("sendsms rejected", "status", ans.code, "answer", ans.body)
	}
	bridge.KannelReply(w, ans.code, ans.body)
}

func (a *Adapter) serve(r *http.Request) answer {
	if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodPost {
		return answer{http.StatusBadRequest, ""} // as Kannel (the core answers these itself)
	}
	if err := r.ParseForm(); err != nil {
		return answer{http.StatusBadRequest, answerCharset}
	}
	q, bad := parse(r)
	if bad != nil {
		return *bad
	}
	got := sha256.Sum256([]byte(q.pass))
	if q.user != a.cfg.Username || subtle.ConstantTimeCompare(got[:], a.pass[:]) != 1 {
		return answer{http.StatusForbidden, answerAuth}
	}
	switch {
	case q.to == nil:
		return answer{http.StatusBadRequest, answerNoTo}
	case *q.to == "":
		return answer{http.StatusBadRequest, answerEmptyTo}
	}
	if bad := q.check(); bad != nil {
		return *bad
	}
	if q.coding == -1 && q.udh != "" { // Kannel: with a UDH, 8-bit unless told
		q.coding = 1
	}
	var text string
	if q.coding != 1 { // 8-bit data goes as it came, in submit().Data
		var ok bool
		if text, ok = decodeText(q.text, q.charset, q.coding); !ok {
			return answer{http.StatusBadRequest, answerCharset}
		}
	}
	return a.accept(r, q, text)
}

// accept commits one MT per receiver. With several receivers, those that
// could not be committed are named in Kannel's 500 "Sending failed. Failed
// receivers are: …" while the others stay accepted; a single receiver's
// failure gets the answer of its cause.
func (a *Adapter) accept(r *http.Request, q *request, text string) answer {
	var accepted int
	var failed []string
	var first *answer // the answer for the first receiver that failed
	for _, to := range receivers(*q.to) {
		mt := bridge.MT{Channel: a.cfg.Channel, To: to, From: q.from, Text: text, AllowEmpty: true, Submit: q.submit(), SMSC: q.smsc}
		if q.dlrURL != "" && q.dlrMask > 0 {
			rp := q.report(to)
			rp.From = cmp.Or(rp.From, a.cfg.From)
			mt.ExternalID = rp.encode()
			if identifies(q.dlrURL) {
				sum := sha256.Sum256([]byte(text))
				mt.DedupKey = "kannel\x00" + q.dlrURL + "\x00" + to + "\x00" + hex.EncodeToString(sum[:])
				mt.DedupWindow = DedupWindow
			}
			mt.TraceRef = traceRef(q.dlrURL)
		}
		id, err := a.acc.Accept(r.Context(), mt)
		if err == nil {
			accepted++
			a.log.Debug("mt accepted", "msg_id", id)
			continue
		}
		var ans answer
		switch {
		case errors.Is(err, bridge.ErrNoRoute):
			ans = answer{http.StatusForbidden, answerNotRoutable}
		case errors.Is(err, bridge.ErrInvalid):
			field, msg := bridge.Invalid(err)
			a.log.Info("sendsms receiver refused", "field", field, "err", msg)
			if field == "to" {
				continue // like a number Kannel's lists deny
			}
			ans = answer{http.StatusBadRequest, answerCharset}
		default:
			a.log.Error("commit MT failed", "err", err)
			ans = answer{http.StatusServiceUnavailable, answerTemporary}
		}
		failed = append(failed, to)
		if first == nil {
			first = &ans
		}
	}
	switch {
	case accepted > 0 && len(failed) > 0:
		return answer{http.StatusInternalServerError, "Sending failed. Failed receivers are: " + strings.Join(failed, " ")}
	case first != nil:
		return *first
	case accepted == 0: // every receiver denied, or none at all (to=" ")
		return answer{http.StatusBadRequest, answerDenied}
	}
	return answer{http.StatusAccepted, answerAccepted}
}

// maxMinutes is the longest validity or deferral passed on (99 days, the
// most SMPP's relative time format holds in days); longer ones are cut.
const maxMinutes = 99 * 24 * 60

// submit maps the sendsms parameters SMPP has fields for: priority →
// priority_flag, validity and deferred (minutes) → validity_period and
// schedule_delivery_time (relative), binfo → service_type (when it fits
// its 5 characters), coding=1 → the text's octets as 8-bit data, udh → the
// UDH (esm_class UDHI), mclass and alt-dcs → data_coding's class group,
// mwi → data_coding's message waiting group, pid → protocol_id, rpi (1 or
// 2) → esm_class reply path, as Kannel's SMPP driver writes them. compress
// and account are not carried.
func (q *request) submit() bridge.SubmitParams {
	var p bridge.SubmitParams
	if q.priority > 0 {
		p.Priority = uint8(q.priority)
	}
	if q.validity > 0 {
		p.Validity = time.Duration(min(q.validity, maxMinutes)) * time.Minute
	}
	if q.deferred > 0 {
		p.Deferred = time.Duration(min(q.deferred, maxMinutes)) * time.Minute
	}
	if len(q.binfo) <= 5 {
		p.ServiceType = q.binfo
	}
	if q.coding == 1 {
		p.Binary, p.Data = true, bridge.Octets(q.text)
	}
	if q.udh != "" {
		p.UDH = bridge.Octets(q.udh)
	}
	if q.mclass >= 0 {
		p.Class = uint8(q.mclass) + 1
	}
	if q.mwi >= 0 {
		p.MWI = uint8(q.mwi) + 1
	}
	p.AltDCS = q.altDCS == 1
	if q.pid > 0 {
		p.PID = uint8(q.pid)
	}
	p.RPI = q.rpi > 0
	return p
}

// report is what a delivery report of one MT needs from its sendsms call;
// it travels with the MT as its ExternalID (so the core also keys the
// MT's statuses, and its dlr-url's resend rule, by it), in the form of
// report.go (the JSON tags are those of the older JSON form).
type report struct {
	URL  string `json:"u"`
	Mask int    `json:"m"`
	To   string `json:"t"`
	From string `json:"f,omitempty"`
	User string `json:"n,omitempty"`
	Meta string `json:"md,omitempty"`
}

func (q *request) report(to string) report {
	return report{URL: q.dlrURL, Mask: q.dlrMask, To: to, From: q.from, User: q.user, Meta: q.meta}
}

// DLR types (platforms.md C.4.1).
const (
	dlrDelivered = 1
	dlrFailed    = 2
	dlrBuffered  = 4
	dlrSubmit    = 8
	dlrReject    = 16
)

// Status builds the dlr-url request for a state change, when the MT's
// dlr-mask selects its type (C.4.1): sent (submit_sm_resp OK) is 8,
// buffered (a receipt saying ENROUTE, ACCEPTD, ...) 4, delivered 1, failed
// from a receipt 2, failed before any receipt (SMPP error, retries run
// out) 16. The bridge reports each MT's status forward only (E), so a
// buffered report is never sent after a final one.
func (a *Adapter) Status(st bridge.Status) ([]bridge.Request, error) {
	if st.ExternalID == "" {
		return nil, nil // no dlr-url (or dlr-mask 0): nothing to report
	}
	rp, ok := decodeReport(st.ExternalID)
	if !ok || rp.URL == "" {
		return nil, fmt.Errorf("kannel: channel %q: MT %s: unreadable report data", a.cfg.Channel, st.MTID)
	}
	typ, reply := dlrType(st)
	if typ == 0 || rp.Mask&typ == 0 {
		return nil, nil
	}
	// A Kannel report is a message of its own: no coding, class, MWI,
	// UDH, validity, deferral or billing info of the original (make
	// interop compares).
	v := vars{typ: typ, reply: reply, foreign: st.SMSCMsgID, sender: rp.To, receiver: rp.From, smsc: st.SMSC,
		id: st.MTID, at: st.At, body: reply, coding: -1, mclass: "-1", mwi: "-1", user: rp.User, dlrURL: rp.URL}
	v.meta = reportMeta(rp, typ, st.Report)
	if typ == dlrDelivered || typ == dlrFailed || typ == dlrBuffered { // from a receipt
		v.account = a.cfg.SystemIDs[st.SMSC]
	}
	if v.at.IsZero() {
		v.at = a.cfg.Now()
	}
	return []bridge.Request{{Method: http.MethodGet, URL: expand(rp.URL, v)}}, nil
}

// dlrType maps a status to its DLR type and %A text: "ACK/" for 8,
// "NACK/0x<status>/<name>" for 16, the receipt's text for 1 and 2.
func dlrType(st bridge.Status) (int, string) {
	switch st.State {
	case bridge.StateSent:
		return dlrSubmit, "ACK/"
	case bridge.StateBuffered:
		return dlrBuffered, st.Report
	case bridge.StateDelivered:
		return dlrDelivered, st.Report
	case bridge.StateFailed:
		if st.SMSCMsgID != "" { // from a receipt
			return dlrFailed, st.Report
		}
		if c, err := strconv.ParseUint(strings.TrimPrefix(st.ErrorCode, "0x"), 16, 32); err == nil && st.ErrorCode != "" {
			return dlrReject, fmt.Sprintf("NACK/0x%08x/%s", c, smppError(uint32(c)))
		}
		return dlrReject, "NACK/"
	}
	return 0, ""
}

// MO builds the request to mo_url (C.3): its Kannel escapes substituted
// with the MO's values; GET, or POST with an empty body.
func (a *Adapter) MO(mo bridge.MO) ([]bridge.Request, error) {
	if a.cfg.MOURL == "" {
		return nil, fmt.Errorf("kannel: channel %q: no mo_url configured", a.cfg.Channel)
	}
	at := mo.Received
	if at.IsZero() {
		at = a.cfg.Now()
	}
	// As Kannel fills them for an SMPP MO (make interop compares): the text
	// always goes as UTF-8 (coding 0, DCS 00), class and MWI undefined, the
	// bind's system_id as account, the service (here: channel) name.
	v := vars{sender: mo.From, receiver: mo.To, smsc: mo.SMSC, id: mo.ID, at: at, body: mo.Text, charset: "UTF-8",
		user: a.cfg.Channel, mclass: "-1", mwi: "-1", dcs: "00", account: a.cfg.SystemIDs[mo.SMSC], meta: "?smpp?"}
	req := bridge.Request{Method: a.cfg.MOMethod, URL: expand(a.cfg.MOURL, v)}
	if req.Method == http.MethodPost {
		req.Header = map[string]string{"Content-Type": "text/plain; charset=\"UTF-8\""}
	}
	return []bridge.Request{req}, nil
}

// receiptErr is the err: field of a receipt text.
var receiptErr = regexp.MustCompile(`(?:^| )err:(\d{1,5})(?: |$)`)

// reportMeta is Kannel's meta-data (%D) of a report, as Debian's Kannel
// writes it (make interop compares): the sendsms meta-data (but its smpp
// group, which a receipt's replaces), the original dlr-mask, and for 8
// and 16 the (empty) SMPP response group, for receipts the error as 3
// octets (type 3, GSM; the receipt's err: value) in the smpp group.
func reportMeta(rp report, typ int, receipt string) string {
	orig := "?orig_msg?dlr_mask=" + strconv.Itoa(rp.Mask) + "&"
	switch typ {
	case dlrSubmit, dlrReject:
		if rp.Meta == "" {
			return "?smpp_resp?" + orig
		}
		return rp.Meta + orig + "?smpp_resp?"
	}
	e := 0
	if sm := receiptErr.FindStringSubmatch(receipt); sm != nil {
		e, _ = strconv.Atoi(sm[1])
	}
	return withoutGroup(rp.Meta, "smpp") + orig + "?smpp?dlr_err=" + escape(string([]byte{3, byte(e >> 8), byte(e)})) + "&"
}

// withoutGroup removes group g ("?g?k=v&...") from Kannel meta-data m.
func withoutGroup(m, g string) string {
	var out strings.Builder
	for rest := m; rest != ""; {
		if rest[0] != '?' {
			out.WriteString(rest)
			break
		}
		name, after, ok := strings.Cut(rest[1:], "?")
		if !ok {
			out.WriteString(rest)
			break
		}
		body := after
		if i := strings.Index(after, "?"); i >= 0 {
			body, rest = after[:i], after[i:]
		} else {
			rest = ""
		}
		if name != g {
			out.WriteString("?" + name + "?" + body)
		}
	}
	return out.String()
}

// traceRef is what people search a message by: the uuid (current courier)
// or id (older courier) in its dlr-url, else the dlr-url itself.
func traceRef(dlrURL string) string {
	if u, err := url.Parse(dlrURL); err == nil {
		q := u.Query()
		if v := cmp.Or(q.Get("uuid"), q.Get("id")); v != "" {
			return v
		}
	}
	return dlrURL
}

// identifies reports whether a dlr-url can name one message, as courier's
// does (…/status?uuid=<message uuid>&status=%d): it uses no escape code
// but %d (and %%). A dlr-url with others (%I, %F, %p, ...) is a template
// its client fills per message through Kannel's codes, the same for many
// messages: it cannot serve as a de-duplication key.
func identifies(dlrURL string) bool {
	for i := strings.IndexByte(dlrURL, '%'); i >= 0 && i+1 < len(dlrURL); i = strings.IndexByte(dlrURL, '%') {
		switch c := dlrURL[i+1]; {
		case c == 'd', c == '%':
		case '0' <= c && c <= '9': // a percent-encoded octet ("%2F"; Kannel takes "%A…" as a code)
		default:
			return false
		}
		dlrURL = dlrURL[i+2:]
	}
	return true
}
