//go:build interop

package interop

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"text/template"
	"time"
	"unicode/utf8"

	"github.com/smscbridge/smscbridge/smsc/coding"
	"github.com/smscbridge/smscbridge/smsc/pdu"
	"github.com/smscbridge/smscbridge/smsc/smsctest"
)

// kannelConfig fills kannel.conf.tmpl.
type kannelConfig struct {
	Dir                                    string
	AdminPort, BoxPort, SendPort, SMSCPort int
	AdminPassword, User, UserPassword      string
	SystemID, Password                     string
	MsgIDType                              string
	MOURL                                  string // sms-service get-url
	MOQuery                                string // its query (with escapes); "" = the default one
	Pair                                   bool   // bind_transmitter + bind_receiver instead of one transceiver
	GlobalSender                           string // smsbox global-sender: the from of a sendsms without one
	// Set by test/compare only (zero here: log-level 0, access log on,
	// no store, Kannel's default max-pending-submits).
	LogLevel    int
	NoAccessLog bool
	StoreFile   string
	MaxPending  int
}

// kannel is a running bearerbox + smsbox pair.
type kannel struct {
	t      *testing.T
	cfg    kannelConfig
	bb, sb *proc
}

// startKannel renders the config (cfg gives the SMSC side and the MO URL;
// directories, ports and local passwords are filled in here), starts
// bearerbox, waits until its SMPP connection is online, then starts smsbox
// and waits for the sendsms port.
func startKannel(t *testing.T, cfg kannelConfig) *kannel {
	t.Helper()
	bearerbox := mustTool(t, "BEARERBOX", "/usr/sbin/bearerbox")
	smsbox := mustTool(t, "SMSBOX", "/usr/sbin/smsbox")
	cfg.Dir, cfg.AdminPort, cfg.BoxPort, cfg.SendPort = t.TempDir(), freePort(t), freePort(t), freePort(t)
	cfg.AdminPassword, cfg.User, cfg.UserPassword = "adm1n", "u", "p"
	k := &kannel{t: t, cfg: cfg}
	tmpl := template.Must(template.ParseFiles(filepath.Join(repoRoot(t), "test", "interop", "kannel.conf.tmpl")))
	conf := filepath.Join(k.cfg.Dir, "kannel.conf")
	var b bytes.Buffer
	if err := tmpl.Execute(&b, k.cfg); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bearerbox, "-v", "1", conf)
	cmd.Dir = k.cfg.Dir
	k.bb = mustStart(t, cmd, nil)
	t.Cleanup(func() {
		if t.Failed() {
			for _, f := range []string{"bearerbox.log", "smsbox.log", "access.log"} {
				b, _ := os.ReadFile(filepath.Join(k.cfg.Dir, f))
				t.Logf("--- kannel %s:\n%s", f, tail(string(b), 6000))
			}
		}
	})
	waitFor(t, "bearerbox admin port", waitLong, dialable(k.adminAddr()))
	waitFor(t, "Kannel smsc 'sim' online", 30*time.Second, func() error {
		st, err := k.status()
		if err != nil {
			return err
		}
		for _, line := range strings.Split(st, "\n") {
			if strings.Contains(line, "sim") && strings.Contains(line, "online") {
				return nil
			}
		}
		return fmt.Errorf("status:\n%s", st)
	})
	cmd = exec.Command(smsbox, "-v", "1", conf)
	cmd.Dir = k.cfg.Dir
	k.sb = mustStart(t, cmd, nil)
	waitFor(t, "smsbox sendsms port", waitLong, dialable(fmt.Sprintf("127.0.0.1:%d", k.cfg.SendPort)))
	return k
}

func (k *kannel) adminAddr() string { return fmt.Sprintf("127.0.0.1:%d", k.cfg.AdminPort) }

// status returns bearerbox's status.txt page.
func (k *kannel) status() (string, error) {
	return httpGet(fmt.Sprintf("http://%s/status.txt?password=%s", k.adminAddr(), k.cfg.AdminPassword))
}

// shutdown asks bearerbox to stop (it unbinds first) and waits, bounded,
// for both boxes to exit.
func (k *kannel) shutdown() {
	k.t.Helper()
	if _, err := httpGet(fmt.Sprintf("http://%s/shutdown?password=%s", k.adminAddr(), k.cfg.AdminPassword)); err != nil {
		k.t.Logf("kannel shutdown: %v", err)
	}
	select {
	case <-k.bb.done:
	case <-time.After(20 * time.Second):
		k.t.Errorf("bearerbox did not exit within 20s of shutdown")
	}
	k.sb.stop(5 * time.Second)
}

// sendsms submits text through Kannel's HTTP interface; extra holds more
// query parameters (coding, charset, dlr-mask, dlr-url...).
func (k *kannel) sendsms(to, text string, extra url.Values) {
	k.t.Helper()
	q := url.Values{"username": {k.cfg.User}, "password": {k.cfg.UserPassword}, "from": {ourNumber}, "to": {to}, "text": {text}}
	for key, v := range extra {
		q[key] = v
	}
	body, err := httpGet(fmt.Sprintf("http://127.0.0.1:%d/cgi-bin/sendsms?%s", k.cfg.SendPort, q.Encode()))
	if err != nil || !strings.Contains(body, "Accepted for delivery") {
		k.t.Fatalf("sendsms to %s: %q, %v", to, body, err)
	}
}

var httpClient = &http.Client{Timeout: 10 * time.Second}

func httpGet(u string) (string, error) {
	resp, err := httpClient.Get(u)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", err
	}
	if resp.StatusCode/100 != 2 {
		return string(b), fmt.Errorf("GET %s: %s", strings.SplitN(u, "?", 2)[0], resp.Status)
	}
	return string(b), nil
}

// httpSink is an HTTP endpoint for Kannel's callbacks (dlr-url and the
// sms-service get-url): it records every request's query.
type httpSink struct {
	srv  *httptest.Server
	mu   sync.Mutex
	got  []url.Values
	more chan struct{}
}

func newHTTPSink(t *testing.T) *httpSink {
	d := &httpSink{more: make(chan struct{})}
	d.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		q.Set("path", r.URL.Path)
		q.Set("raw", r.URL.RawQuery) // as sent, for comparing encodings
		d.mu.Lock()
		d.got = append(d.got, q)
		close(d.more)
		d.more = make(chan struct{})
		d.mu.Unlock()
	}))
	t.Cleanup(d.srv.Close)
	return d
}

// dlrURL returns a dlr-url for Kannel: tag identifies the message, the
// %-escapes are Kannel's (type, smsc-id, foreign id, reply text, to, from).
func (d *httpSink) dlrURL(tag string) string {
	return d.srv.URL + "/dlr?tag=" + tag + "&type=%d&smsc=%i&fid=%F&reply=%A&to=%p&from=%P"
}

// wait returns the first request that matches, failing after 30s.
func (d *httpSink) wait(t *testing.T, what string, match func(url.Values) bool) url.Values {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		d.mu.Lock()
		more := d.more
		for _, q := range d.got {
			if match(q) {
				d.mu.Unlock()
				return q
			}
		}
		seen := fmt.Sprint(d.got)
		d.mu.Unlock()
		select {
		case <-more:
		case <-deadline:
			t.Fatalf("no HTTP callback %s within 30s; got %s", what, seen)
		}
	}
}

// waitDLR returns the first dlr-url callback for tag with Kannel dlr type
// typ (1 delivered, 2 undelivered, 4 buffered, 8 SMSC ack, 16 SMSC reject).
func (d *httpSink) waitDLR(t *testing.T, tag, typ string) url.Values {
	t.Helper()
	return d.wait(t, fmt.Sprintf("dlr type %s for %s", typ, tag), func(q url.Values) bool {
		return q.Get("path") == "/dlr" && q.Get("tag") == tag && q.Get("type") == typ
	})
}

// simSubmit is what an SMSC simulator recorded of one submit_sm.
type simSubmit struct {
	Dest       string
	ESMClass   uint8
	DataCoding uint8
	Message    []byte // short_message, UDH included
	MessageID  string
}

// kannelCase is one message sent through Kannel.
type kannelCase struct {
	tag, to, text string
	extra         url.Values
	dc            uint8
	parts         int
}

var kannelCases = []kannelCase{
	{"gsm", "15550003331", "Kannel GSM: Hello {}[]~€ @ £", nil, 0x00, 1},
	{"ucs2", "15550003332", "Kannel UCS-2: Привет 😀 ✓", url.Values{"coding": {"2"}, "charset": {"UTF-8"}}, 0x08, 1},
	{"long", "15550003333", strings.Repeat("Long GSM via Kannel, concatenated. ", 6), nil, 0x00, 2},
}

// checkSimView asserts that the submit_sm PDUs the simulator recorded
// decode, with our coding package, back to each case's text, with the
// expected data_coding and concatenation UDH.
func checkSimView(t *testing.T, subs []simSubmit) {
	t.Helper()
	for _, c := range kannelCases {
		var parts []simSubmit
		for _, s := range subs {
			if strings.HasSuffix(s.Dest, c.to) {
				parts = append(parts, s)
			}
		}
		if len(parts) != c.parts {
			t.Errorf("%s: simulator saw %d submit_sm to %s, want %d", c.tag, len(parts), c.to, c.parts)
			continue
		}
		texts := make([]string, c.parts)
		for i, p := range parts {
			if p.DataCoding != c.dc {
				t.Errorf("%s part %d: data_coding 0x%02x, want 0x%02x", c.tag, i+1, p.DataCoding, c.dc)
			}
			payload, seq := p.Message, 1
			if c.parts > 1 {
				if p.ESMClass&0x40 == 0 {
					t.Errorf("%s part %d: esm_class 0x%02x without UDHI", c.tag, i+1, p.ESMClass)
					continue
				}
				cc, rest, err := coding.ParseUDH(p.Message)
				if err != nil || cc == nil || cc.Total != c.parts {
					t.Errorf("%s part %d: UDH of %x: %+v, %v", c.tag, i+1, p.Message, cc, err)
					continue
				}
				payload, seq = rest, cc.Seq
			}
			txt, err := coding.Decode(p.DataCoding, payload)
			if err != nil || seq < 1 || seq > c.parts {
				t.Errorf("%s part %d: decode %x: %q, %v (seq %d)", c.tag, i+1, payload, txt, err, seq)
				continue
			}
			texts[seq-1] = txt
		}
		if got := strings.Join(texts, ""); got != c.text {
			t.Errorf("%s: simulator decoded %q\n want %q", c.tag, got, c.text)
		}
	}
}

// sendKannelCases sends every case through Kannel with dlr-mask 31.
func sendKannelCases(k *kannel, d *httpSink) {
	for _, c := range kannelCases {
		q := url.Values{"dlr-mask": {"31"}, "dlr-url": {d.dlrURL(c.tag)}}
		for key, v := range c.extra {
			q[key] = v
		}
		k.sendsms("+"+c.to, c.text, q)
	}
}

// checkDLRs waits for Kannel's SMSC-ack and delivered callbacks of every
// case: the delivered one proves Kannel matched our receipt to its submit.
func checkDLRs(t *testing.T, d *httpSink) {
	t.Helper()
	for _, c := range kannelCases {
		ack := d.waitDLR(t, c.tag, "8")
		if ack.Get("smsc") != "sim" {
			t.Errorf("%s: ack callback %v, want smsc sim", c.tag, ack)
		}
		got := d.waitDLR(t, c.tag, "1")
		if !strings.Contains(got.Get("reply"), "stat:DELIVRD") || got.Get("to") != "+"+c.to {
			t.Errorf("%s: delivered callback %v, want a DELIVRD receipt for +%s", c.tag, got, c.to)
		}
	}
}

// TestKannelSmsctest binds Kannel to the in-process smsctest server, as a
// transceiver and as a transmitter+receiver pair. The server answers with
// hex ids and quotes them decimal in receipts (pitfall 15, Kannel
// msg-id-type 0x01). Checked: the submit_sm PDUs recorded by the server,
// Kannel's dlr-url callbacks, and MO from the server through Kannel.
func TestKannelSmsctest(t *testing.T) {
	for _, pair := range []bool{false, true} {
		name := map[bool]string{false: "transceiver", true: "pair"}[pair]
		t.Run(name, func(t *testing.T) { testKannelSmsctest(t, pair) })
	}
}

func testKannelSmsctest(t *testing.T, pair bool) {
	srv := smsctest.NewServer(
		smsctest.WithTB(t), // Kannel must keep to SMPP 3.4: every violation fails the test
		smsctest.WithAccount("kannel", "secret"),
		// Ids from 4096 up: "00001000" in the resp, "4096" in the receipt.
		smsctest.WithMessageIDs(func(n uint64) string { return smsctest.HexIDs(n + 4095) }),
		smsctest.WithReceiptIDs(func(n uint64) string { return smsctest.DecimalIDs(n + 4095) }),
		// Receipts say DELIVRD in text and TLVs, except for numbers ending
		// 9995 (UNDELIV), 9996 (text only) and 9997 (TLVs only).
		smsctest.WithReceipts(200*time.Millisecond, func(sub smsctest.Submit) smsctest.Receipt {
			switch d := sub.SM.DestAddr; {
			case strings.HasSuffix(d, "9995"):
				return smsctest.Receipt{Stat: "UNDELIV", Err: "001"}
			case strings.HasSuffix(d, "9996"):
				return smsctest.Receipt{Stat: "DELIVRD", Form: smsctest.ReceiptText}
			case strings.HasSuffix(d, "9997"):
				return smsctest.Receipt{Stat: "DELIVRD", Form: smsctest.ReceiptTLV}
			}
			return smsctest.Receipt{Stat: "DELIVRD"}
		}),
	)
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Addr())
	p, _ := strconv.Atoi(port)
	d := newHTTPSink(t)
	k := startKannel(t, kannelConfig{SMSCPort: p, SystemID: "kannel", Password: "secret", MsgIDType: "0x01", MOURL: d.srv.URL + "/mo", Pair: pair})
	binds := 1
	if pair {
		binds = 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.WaitBound(ctx, binds); err != nil {
		t.Fatalf("smsctest: %d binds of Kannel: %v", binds, err)
	}
	sendKannelCases(k, d)
	want := 0
	for _, c := range kannelCases {
		want += c.parts
	}
	recs, err := srv.WaitSubmits(ctx, want)
	if err != nil {
		t.Fatalf("smsctest saw %d submit_sm, want %d: %v", len(srv.Submits()), want, err)
	}
	subs := make([]simSubmit, len(recs))
	for i, r := range recs {
		subs[i] = simSubmit{Dest: r.SM.DestAddr, ESMClass: r.SM.ESMClass, DataCoding: r.SM.DataCoding, Message: r.SM.Message, MessageID: r.MessageID}
		if r.Status != pdu.StatusOK {
			t.Errorf("submit_sm %d answered %v", i, r.Status)
		}
	}
	checkSimView(t, subs)
	checkDLRs(t, d)
	t.Run("receipt-forms", func(t *testing.T) {
		// Kannel maps our UNDELIV receipt to dlr type 2, and matches
		// receipts that carry only the text or only the TLVs.
		for _, c := range []struct{ tag, to, typ, reply string }{
			{"undeliv", "+15550009995", "2", "stat:UNDELIV"},
			{"textonly", "+15550009996", "1", "stat:DELIVRD"},
			{"tlvonly", "+15550009997", "1", ""},
		} {
			k.sendsms(c.to, "receipt form "+c.tag, url.Values{"dlr-mask": {"31"}, "dlr-url": {d.dlrURL(c.tag)}})
			got := d.waitDLR(t, c.tag, c.typ)
			if !strings.Contains(got.Get("reply"), c.reply) {
				t.Errorf("%s callback %v, want a reply with %q", c.tag, got, c.reply)
			}
		}
	})
	t.Run("mo", func(t *testing.T) { checkKannelMO(t, srv, d) })
	k.shutdown()
	// Kannel asks for a receipt on one part of a concatenated message only,
	// so there is one receipt per message, not per part.
	if st := srv.Stats(); st.Binds != binds || st.Unbinds != binds || st.ReceiptsSent != len(kannelCases)+3 || st.DeliverFails != 0 {
		t.Errorf("smsctest stats %+v, want %d binds and unbinds, %d receipts, no deliver errors", st, binds, len(kannelCases)+3)
	}
}

// checkKannelMO sends MO deliver_sm to Kannel through smsctest (a single
// GSM 03.38 one and a two-part UCS-2 one with a concatenation UDH, parts out
// of order) and checks what Kannel's sms-service passed to its get-url.
func checkKannelMO(t *testing.T, srv *smsctest.Server, d *httpSink) {
	gsmText := "MO to Kannel {ok} @ 100€ [x]"
	ucsText := strings.Repeat("Кириллица 😀 ", 8)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	deliver := func(from string, dc uint8, esm uint8, msg []byte) {
		st, err := srv.Deliver(ctx, &pdu.ShortMessage{SourceTON: 1, SourceNPI: 1, SourceAddr: from, DestAddr: ourNumber, ESMClass: esm, DataCoding: dc, Message: msg})
		if err != nil || st != pdu.StatusOK {
			t.Fatalf("Deliver from %s to Kannel = %v, %v; want ESME_ROK", from, st, err)
		}
	}
	gsm, err := coding.Encode(coding.GSM7, gsmText)
	if err != nil {
		t.Fatal(err)
	}
	deliver("15550004441", 0x00, 0, gsm)
	chunks, err := coding.Split(ucsText, coding.UCS2, coding.Capacity(coding.UCS2, coding.UDHConcat8Len))
	if err != nil || len(chunks) != 2 {
		t.Fatalf("Split: %d chunks, %v", len(chunks), err)
	}
	for i := len(chunks) - 1; i >= 0; i-- { // out of order on purpose
		udh := coding.Concat{Ref: 0x5a, Total: len(chunks), Seq: i + 1}.UDH()
		deliver("15550004442", 0x08, pdu.ESMClassUDHI, append(udh, chunks[i]...))
	}
	for from, want := range map[string]string{"15550004441": gsmText, "15550004442": ucsText} {
		q := d.wait(t, "MO get-url from "+from, func(q url.Values) bool {
			return q.Get("path") == "/mo" && strings.HasSuffix(q.Get("from"), from)
		})
		got := q.Get("msg")
		if strings.EqualFold(q.Get("charset"), "UTF-16BE") {
			got, err = coding.Decode(0x08, []byte(got))
			if err != nil {
				t.Errorf("MO from %s: %v", from, err)
			}
		}
		if got != want || q.Get("smsc") != "sim" {
			t.Errorf("Kannel passed on MO from %s as %q (charset %q, coding %q, smsc %q)\n want %q", from, got, q.Get("charset"), q.Get("coding"), q.Get("smsc"), want)
		}
	}
}

// simReport is the JSON stats line cmd/smscsim prints when it stops.
type simReport struct {
	Binds        int   `json:"binds"`
	Unbinds      int   `json:"unbinds"`
	Submits      int64 `json:"submits"`
	SubmitsOK    int   `json:"submits_ok"`
	MOSent       int   `json:"mo_sent"`
	ReceiptsSent int   `json:"receipts_sent"`
	Errors       int64 `json:"errors"`
	Violations   []struct {
		Command string `json:"command"`
		Rule    string `json:"rule"`
		Detail  string `json:"detail"`
		Lenient bool   `json:"lenient"`
	} `json:"violations"`
}

// simRecord is one line of smscsim's -record file (the fields read here).
type simRecord struct {
	DestAddr     string `json:"dest_addr"`
	ESMClass     uint8  `json:"esm_class"`
	DataCoding   uint8  `json:"data_coding"`
	ShortMessage string `json:"short_message"` // hex
	Text         string `json:"text"`
	TextError    string `json:"text_error"`
	Concat       *struct {
		Ref        uint16
		Total, Seq int
	} `json:"concat"`
	MessageID  string `json:"message_id"`
	StatusName string `json:"status_name"`
}

// readSimRecords parses smscsim's -record file.
func readSimRecords(t *testing.T, path string) []simRecord {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("smscsim -record file: %v", err)
	}
	var recs []simRecord
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var r simRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("smscsim -record line %q: %v", line, err)
		}
		recs = append(recs, r)
	}
	return recs
}

// checkSimRecords asserts what smscsim itself recorded of Kannel's submits:
// the raw PDUs decode with our coding package to each case's text (through
// checkSimView), and the simulator's own decoding (text without UDH, concat
// seq/total) agrees; every submit was answered ESME_ROK with a hex id.
func checkSimRecords(t *testing.T, recs []simRecord) {
	t.Helper()
	subs := make([]simSubmit, len(recs))
	for i, r := range recs {
		msg, err := hex.DecodeString(r.ShortMessage)
		if err != nil {
			t.Errorf("record %d: short_message %q: %v", i, r.ShortMessage, err)
		}
		subs[i] = simSubmit{Dest: r.DestAddr, ESMClass: r.ESMClass, DataCoding: r.DataCoding, Message: msg, MessageID: r.MessageID}
		if _, err := strconv.ParseUint(r.MessageID, 16, 32); err != nil || len(r.MessageID) != 8 || r.StatusName != "ESME_ROK" {
			t.Errorf("record %d: answered %s with id %q, want ESME_ROK and an 8-digit hex id", i, r.StatusName, r.MessageID)
		}
	}
	checkSimView(t, subs)
	for _, c := range kannelCases {
		texts := make([]string, c.parts)
		n := 0
		for _, r := range recs {
			if !strings.HasSuffix(r.DestAddr, c.to) {
				continue
			}
			n++
			seq, total := 1, 1
			if r.Concat != nil {
				seq, total = r.Concat.Seq, r.Concat.Total
			}
			if r.DataCoding != c.dc || r.TextError != "" || total != c.parts || seq < 1 || seq > c.parts {
				t.Errorf("%s: smscsim recorded text %q (%s), data_coding 0x%02x, concat %+v; want 0x%02x in %d part(s)",
					c.tag, r.Text, r.TextError, r.DataCoding, r.Concat, c.dc, c.parts)
				continue
			}
			texts[seq-1] = r.Text
		}
		if got := strings.Join(texts, ""); n != c.parts || got != c.text {
			t.Errorf("%s: smscsim recorded %d part(s) reading %q\n want %d reading %q", c.tag, n, got, c.parts, c.text)
		}
	}
}

// TestKannelSmscsim binds Kannel to the bin/smscsim binary (hex ids in
// submit_sm_resp, decimal in receipts, its own enquire_link every second,
// its MO generator on): messages sent through sendsms are answered, their
// receipts reach Kannel's dlr-url, the submit_sm PDUs the simulator wrote
// to its -record file carry the right text and data_coding (read while it
// runs), the simulator's MO reach Kannel's sms-service, and the
// simulator's final JSON stats agree.
func TestKannelSmscsim(t *testing.T) {
	const moCount = 5
	bin := mustTool(t, "SMSCSIM", "bin/smscsim")
	port := freePort(t)
	out := &lockedBuffer{}
	record := filepath.Join(t.TempDir(), "submits.jsonl")
	sim := mustStart(t, exec.Command(bin, "-listen", fmt.Sprintf("127.0.0.1:%d", port),
		"-system-id", "kannel", "-password", "secret",
		"-id-format", "hex", "-receipt-id-format", "dec", "-dlr", "-dlr-delay", "200ms",
		"-enquire-link", "1s", "-mo-count", fmt.Sprint(moCount), "-mo-rate", "20", "-mo-shuffle",
		"-mo-from", "+15550004449", "-mo-to", ourNumber, "-json", "-record", record), out)
	waitFor(t, "smscsim listening", waitLong, dialable(fmt.Sprintf("127.0.0.1:%d", port)))
	d := newHTTPSink(t)
	k := startKannel(t, kannelConfig{SMSCPort: port, SystemID: "kannel", Password: "secret", MsgIDType: "0x01", MOURL: d.srv.URL + "/mo"})
	sendKannelCases(k, d)
	checkDLRs(t, d)
	// Every submit was answered before its receipt came, so all are in
	// the file by now.
	recs := readSimRecords(t, record)
	checkSimRecords(t, recs)

	// Kannel reassembles the generator's multipart MO; every message must
	// come through as clean text in Kannel's charset.
	var mos []url.Values
	waitFor(t, fmt.Sprintf("%d MO through Kannel", moCount), 30*time.Second, func() error {
		d.mu.Lock()
		defer d.mu.Unlock()
		mos = nil
		for _, q := range d.got {
			if q.Get("path") == "/mo" {
				mos = append(mos, q)
			}
		}
		if len(mos) < moCount {
			return fmt.Errorf("%d so far", len(mos))
		}
		return nil
	})
	distinct := map[string]bool{}
	for _, q := range mos {
		text := q.Get("msg")
		if strings.EqualFold(q.Get("charset"), "UTF-16BE") {
			var err error
			if text, err = coding.Decode(0x08, []byte(text)); err != nil {
				t.Errorf("MO %v: %v", q, err)
			}
		}
		if text == "" || !utf8.ValidString(text) || strings.ContainsRune(text, utf8.RuneError) || q.Get("udh") != "" {
			t.Errorf("MO reached Kannel as %q (charset %q, udh %q)", text, q.Get("charset"), q.Get("udh"))
		}
		distinct[text] = true
	}
	if len(distinct) != moCount {
		t.Errorf("Kannel got %d distinct MO texts, want %d: %q", len(distinct), moCount, keys(distinct))
	}

	k.shutdown()
	sim.stop(10 * time.Second)
	var rep simReport
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &rep); err != nil {
		t.Fatalf("smscsim -json report %q: %v", out.String(), err)
	}
	t.Logf("smscsim report: %+v; Kannel passed on %d MO", rep, len(mos))
	parts := 0
	for _, c := range kannelCases {
		parts += c.parts
	}
	// One bind that survived the simulator's enquire_link, ended by
	// Kannel's unbind; one receipt per message (Kannel asks on one part).
	if rep.Binds != 1 || rep.Unbinds != 1 || rep.Submits != int64(parts) || rep.SubmitsOK != parts ||
		rep.ReceiptsSent != len(kannelCases) || rep.MOSent < moCount || rep.Errors != 0 {
		t.Errorf("smscsim report %+v, want 1 bind and unbind, %d submits all ok, %d receipts, >= %d MO, no errors", rep, parts, len(kannelCases), moCount)
	}
	if rep.Violations == nil || len(rep.Violations) != 0 {
		t.Errorf("smscsim (strict) saw Kannel break SMPP 3.4: %+v", rep.Violations)
	}
}
