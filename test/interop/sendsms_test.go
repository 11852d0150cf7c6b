//go:build interop

package interop

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/smscbridge/smscbridge/smsc/pdu"
	"github.com/smscbridge/smscbridge/smsc/smsctest"
)

// bridgeProc is a running smscbridge daemon (bin/smscbridge run).
type bridgeProc struct {
	p    *proc
	addr string // its platform listener
}

// startBridge runs bin/smscbridge with one SMSC "sim" (the smsctest server
// at smscPort) and one kannel channel with the same sendsms user as
// startKannel's, MO to moURL by GET.
func startBridge(t *testing.T, smscPort int, moURL string) *bridgeProc {
	t.Helper()
	bin := mustTool(t, "SMSCBRIDGE", filepath.Join(repoRoot(t), "bin", "smscbridge"))
	dir := t.TempDir()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cfg := fmt.Sprintf(`[http]
listen = %q

[store]
path = %q

[[smsc]]
id = "sim"
host = "127.0.0.1"
port = %d
system_id = "bridge"
password = "secret"
bind = "transceiver"

[[channel]]
id = "default"
kind = "kannel"
numbers = [%q]
smsc = ["sim"]
username = "u"
password = "p"
mo_url = %q
mo_method = "GET"
`, addr, filepath.Join(dir, "bridge.db"), smscPort, ourNumber, moURL)
	path := filepath.Join(dir, "smscbridge.toml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var out lockedBuffer
	p := mustStart(t, exec.Command(bin, "run", "-config", path), &out)
	t.Cleanup(func() {
		p.stop(10 * time.Second)
		if t.Failed() {
			t.Logf("--- smscbridge output:\n%s", tail(out.String(), 6000))
		}
	})
	waitFor(t, "smscbridge platform listener", waitLong, dialable(addr))
	return &bridgeProc{p: p, addr: addr}
}

// reply is one sendsms answer.
type reply struct {
	code        int
	body, ctype string
}

func (r reply) String() string { return fmt.Sprintf("%d %q (%s)", r.code, r.body, r.ctype) }

func doSendsms(t *testing.T, method, base, query string, header map[string]string, body string) reply {
	t.Helper()
	req, err := http.NewRequest(method, base+"/cgi-bin/sendsms?"+query, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, base, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, string(b), resp.Header.Get("Content-Type")}
}

func doGet(t *testing.T, u string) reply {
	t.Helper()
	resp, err := httpClient.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, string(b), resp.Header.Get("Content-Type")}
}

// TestKannelSendsmsCompare sends the same sendsms requests to Debian's
// real Kannel (smsbox) and to smscbridge, both bound to one smsctest
// server, and requires the same status codes, bodies and content type;
// then the same message with a dlr-url full of escape codes through each,
// and requires the same dlr-url fetches for the same receipts (8, 1, 2);
// then the same MO to each, and compares the MO URL each fetches.
func TestKannelSendsmsCompare(t *testing.T) {
	var srv *smsctest.Server
	srv = smsctest.NewServer(
		smsctest.WithTB(t),
		// submit_sm to numbers ending 9990 are refused for good
		// (ESME_RINVDSTADR): the report is 16.
		smsctest.WithHandler(smsctest.HandlerFunc(func(ss *smsctest.Session, p *pdu.PDU) *pdu.PDU {
			if sm, ok := p.Body.(*pdu.ShortMessage); ok && p.ID == pdu.SubmitSM && strings.HasSuffix(sm.DestAddr, "9990") {
				return pdu.NewResponse(p, pdu.StatusInvDstAdr, nil)
			}
			return srv.Default(ss, p)
		})),
		smsctest.WithAccount("kannel", "secret"),
		smsctest.WithAccount("bridge", "secret"),
		smsctest.WithReceipts(200*time.Millisecond, func(sub smsctest.Submit) smsctest.Receipt {
			switch {
			case strings.HasSuffix(sub.SM.DestAddr, "9995"):
				return smsctest.Receipt{Stat: "UNDELIV", Err: "001"}
			case strings.HasSuffix(sub.SM.DestAddr, "9994"):
				return smsctest.Receipt{Stat: "ENROUTE"} // then DELIVRD, sent by the test
			}
			return smsctest.Receipt{Stat: "DELIVRD"}
		}),
	)
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Addr())
	smscPort, _ := strconv.Atoi(port)
	d := newHTTPSink(t)
	moTmpl := "?from=%p&to=%P&q=%q&Q=%Q&smsc=%i&coding=%c&charset=%C&udh=%u&msg=%b&a=%a&k=%k&s=%s&S=%S&r=%r&T=%T&t=%t&I=%I&n=%n&m=%m&M=%M&O=%O&B=%B&o=%o&D=%D&f=%f&pct=%%&z=%z"
	k := startKannel(t, kannelConfig{SMSCPort: smscPort, SystemID: "kannel", Password: "secret", MsgIDType: "0x00", MOURL: d.srv.URL + "/mo-kannel", MOQuery: moTmpl,
		GlobalSender: ourNumber}) // as the channel's first number is for the bridge
	b := startBridge(t, smscPort, d.srv.URL+"/mo-bridge"+moTmpl)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.WaitBound(ctx, 2); err != nil {
		t.Fatalf("Kannel and the bridge bound: %v", err)
	}
	kBase := fmt.Sprintf("http://127.0.0.1:%d", k.cfg.SendPort)
	bBase := "http://" + b.addr

	t.Run("answers", func(t *testing.T) {
		auth := "username=u&password=p&from=" + ourNumber
		ucs := url.QueryEscape("\x00H\x00i\x26\x3a")
		cases := []struct {
			name, method, query string
			header              map[string]string
			body                string
		}{
			{"wrong password", "GET", "username=u&password=x&to=15550001001&text=hi", nil, ""},
			{"unknown user", "GET", "username=nobody&password=p&to=15550001001&text=hi", nil, ""},
			{"no credentials", "GET", "to=15550001001&text=hi", nil, ""},
			{"missing to", "GET", auth + "&text=hi", nil, ""},
			{"empty to", "GET", auth + "&to=&text=hi", nil, ""},
			{"dlr-mask 64", "GET", auth + "&to=15550001002&text=hi&dlr-mask=64", nil, ""},
			{"dlr-mask -5", "GET", auth + "&to=15550001002&text=hi&dlr-mask=-5", nil, ""},
			{"dlr-mask x", "GET", auth + "&to=15550001002&text=hi&dlr-mask=x", nil, ""},
			{"coding x", "GET", auth + "&to=15550001002&text=hi&coding=x", nil, ""},
			{"validity x", "GET", auth + "&to=15550001002&text=hi&validity=x", nil, ""},
			{"mclass -2", "GET", auth + "&to=15550001002&text=hi&mclass=-2", nil, ""},
			{"alt-dcs 2", "GET", auth + "&to=15550001002&text=hi&alt-dcs=2", nil, ""},
			{"pid 256", "GET", auth + "&to=15550001002&text=hi&pid=256", nil, ""},
			{"rpi 3", "GET", auth + "&to=15550001002&text=hi&rpi=3", nil, ""},
			{"compress 2", "GET", auth + "&to=15550001002&text=hi&compress=2", nil, ""},
			{"udh too long", "GET", auth + "&to=15550001002&text=hi&udh=" + url.QueryEscape("\x8f"+strings.Repeat("a", 143)), nil, ""},
			{"no text", "GET", auth + "&to=15550001014", nil, ""},
			{"empty text", "GET", auth + "&to=15550001015&text=", nil, ""},
			{"no from", "GET", "username=u&password=p&to=15550001016&text=hi", nil, ""},
			{"only spaces in to", "GET", auth + "&to=+++&text=hi", nil, ""},
			{"bad coding", "GET", auth + "&to=15550001002&text=hi&coding=3", nil, ""},
			{"bad mclass", "GET", auth + "&to=15550001002&text=hi&mclass=4", nil, ""},
			{"bad mwi", "GET", auth + "&to=15550001002&text=hi&mwi=8", nil, ""},
			{"bad priority", "GET", auth + "&to=15550001002&text=hi&priority=4", nil, ""},
			{"bad validity", "GET", auth + "&to=15550001002&text=hi&validity=-5", nil, ""},
			{"bad deferred", "GET", auth + "&to=15550001002&text=hi&deferred=-5", nil, ""},
			{"bad udh", "GET", auth + "&to=15550001002&text=hi&udh=%05%00%03%01", nil, ""},
			{"bad charset", "GET", auth + "&to=15550001002&text=hi&charset=klingon", nil, ""},
			{"plain", "GET", auth + "&to=%2B15550001003&text=Hello+plain", nil, ""},
			{"user/pass aliases", "GET", "user=u&pass=p&from=" + ourNumber + "&to=15550001004&text=alias", nil, ""},
			{"courier utf8", "GET", auth + "&to=%2B15550001005&text=Unicode+%E2%98%BA&coding=2&charset=utf8", nil, ""},
			{"courier utf-8", "GET", auth + "&to=%2B15550001006&text=Unicode+%E2%98%BA&coding=2&charset=utf-8", nil, ""},
			{"courier UTF-16BE", "GET", auth + "&to=%2B15550001007&text=" + ucs + "&coding=2&charset=UTF-16BE", nil, ""},
			{"courier raw UCS-2", "GET", auth + "&to=%2B15550001008&text=" + ucs + "&coding=2", nil, ""},
			{"two receivers", "GET", auth + "&to=15550001009+15550001010&text=two", nil, ""},
			{"valid extras", "GET", auth + "&to=15550001011&text=extras&priority=1&validity=60&mclass=1&dlr-mask=0", nil, ""},
			{"post headers", "POST", "", map[string]string{"Content-Type": "text/plain", "X-Kannel-Username": "u",
				"X-Kannel-Password": "p", "X-Kannel-From": ourNumber, "X-Kannel-To": "15550001012"}, "posted"},
			{"smsc known", "GET", auth + "&to=15550001021&text=hi&smsc=sim", nil, ""},
			{"smsc unknown", "GET", auth + "&to=15550001022&text=hi&smsc=nope", nil, ""},
			{"PUT", "PUT", auth + "&to=15550001017&text=put", nil, ""},
			{"HEAD", "HEAD", auth + "&to=15550001018&text=head", nil, ""},
			{"unknown path", "GET", "/cgi-bin/sendmms?username=u", nil, ""},
			{"post wrong password", "POST", "", map[string]string{"Content-Type": "text/plain", "X-Kannel-Username": "u",
				"X-Kannel-Password": "x", "X-Kannel-To": "15550001013"}, "posted"},
		}
		for _, c := range cases {
			kr := doSendsms(t, c.method, kBase, c.query, c.header, c.body)
			br := doSendsms(t, c.method, bBase, c.query, c.header, c.body)
			if c.name == "unknown path" {
				kr, br = doGet(t, kBase+c.query), doGet(t, bBase+c.query)
			}
			if kr != br {
				t.Errorf("%s:\n  Kannel  %v\n  bridge  %v", c.name, kr, br)
			} else {
				t.Logf("%s: both %v", c.name, kr)
			}
		}
	})

	t.Run("submit_sm", func(t *testing.T) {
		// The parameters SMPP has fields for, through each: the submit_sm
		// the simulator got must agree.
		q := "username=u&password=p&from=" + ourNumber + "&to=15550001020&text=fields&priority=2&validity=90&deferred=5&binfo=KN"
		for _, base := range []string{kBase, bBase} {
			if r := doSendsms(t, "GET", base, q, nil, ""); r.code != 202 {
				t.Fatalf("%s: %v", base, r)
			}
		}
		subs := map[string]*pdu.ShortMessage{}
		kAt := map[string]time.Time{} // when Kannel submitted
		for deadline := time.Now().Add(waitLong); len(subs) < 2 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			for _, s := range srv.Submits() {
				if strings.HasSuffix(s.SM.DestAddr, "15550001020") {
					subs[s.SystemID] = s.SM
					if s.SystemID == "kannel" {
						kAt["validity_period"], kAt["schedule_delivery_time"] = s.At, s.At
					}
				}
			}
		}
		k, b := subs["kannel"], subs["bridge"]
		if k == nil || b == nil {
			t.Fatalf("submit_sm seen from %v", subs)
		}
		show := func(sm *pdu.ShortMessage) string {
			return fmt.Sprintf("priority_flag %d validity_period %q schedule_delivery_time %q service_type %q data_coding 0x%02x",
				sm.PriorityFlag, sm.ValidityPeriod, sm.ScheduleDeliveryTime, sm.ServiceType, sm.DataCoding)
		}
		t.Logf("Kannel: %s\nbridge: %s", show(k), show(b))
		if k.PriorityFlag != b.PriorityFlag || k.DataCoding != b.DataCoding || k.ServiceType != b.ServiceType {
			t.Errorf("submit_sm differ:\n  Kannel  %s\n  bridge  %s", show(k), show(b))
		}
		// Kannel writes absolute times, the bridge relative ones (the
		// message may wait in the queue): they must say the same.
		for _, f := range []struct {
			name   string
			kv, bv string
		}{{"validity_period", k.ValidityPeriod, b.ValidityPeriod}, {"schedule_delivery_time", k.ScheduleDeliveryTime, b.ScheduleDeliveryTime}} {
			kd, kerr := smppDuration(f.kv, kAt[f.name])
			bd, berr := smppDuration(f.bv, time.Time{})
			if kerr != nil || berr != nil || (kd-bd).Abs() > 2*time.Second {
				t.Errorf("%s: Kannel %q (%v, %v) vs bridge %q (%v, %v)", f.name, f.kv, kd, kerr, f.bv, bd, berr)
			}
		}
	})

	t.Run("dcs params", func(t *testing.T) {
		// coding=1, udh, mclass, alt-dcs, pid, rpi (and the ignored mwi,
		// compress, account): the same request to each, and the submit_sm
		// the simulator got must agree in data_coding, esm_class,
		// protocol_id, parts and user data (the concatenation reference
		// aside).
		wap := "\x06\x05\x04\x0b\x84\x23\xf0"
		cases := []struct {
			name, to string
			params   url.Values
		}{
			{"coding=1", "15550003001", url.Values{"text": {"\xff\x00\x80\x01"}, "coding": {"1"}}},
			{"coding=1 long", "15550003002", url.Values{"text": {strings.Repeat("\x01\xfe", 100)}, "coding": {"1"}}},
			{"udh", "15550003003", url.Values{"text": {"\x01\x02\xfa"}, "udh": {wap}}},
			{"udh coding=0", "15550003004", url.Values{"text": {"hi"}, "coding": {"0"}, "udh": {wap}}},
			{"mclass 0", "15550003005", url.Values{"text": {"flash"}, "mclass": {"0"}}},
			{"mclass 2", "15550003006", url.Values{"text": {"sim"}, "mclass": {"2"}}},
			{"mclass ucs2", "15550003007", url.Values{"text": {"\x00h\x26\x3a"}, "coding": {"2"}, "mclass": {"1"}}},
			{"mclass 8-bit", "15550003008", url.Values{"text": {"\x7f"}, "coding": {"1"}, "mclass": {"3"}}},
			{"alt-dcs", "15550003009", url.Values{"text": {"alt"}, "alt-dcs": {"1"}}},
			{"alt-dcs 8-bit", "15550003010", url.Values{"text": {"\x80"}, "coding": {"1"}, "alt-dcs": {"1"}}},
			{"pid rpi", "15550003011", url.Values{"text": {"pid"}, "pid": {"65"}, "rpi": {"1"}}},
			{"rpi 2", "15550003012", url.Values{"text": {"rpi"}, "rpi": {"2"}}},
			{"mwi", "15550003013", url.Values{"text": {"mwi"}, "mwi": {"1"}, "account": {"a"}}},
			{"mwi ucs2", "15550003014", url.Values{"text": {"\x26\x3a"}, "coding": {"2"}, "mwi": {"2"}}},
			{"mwi inactive", "15550003015", url.Values{"text": {"off"}, "mwi": {"5"}, "mclass": {"1"}}},
			{"compress", "15550003016", url.Values{"text": {"cmp"}, "compress": {"1"}}},
			{"udh long 8-bit", "15550003017", url.Values{"text": {strings.Repeat("\x41\xc3", 100)}, "udh": {wap}}},
			{"udh long 7-bit", "15550003018", url.Values{"text": {strings.Repeat("a", 200)}, "coding": {"0"}, "udh": {wap}}},
			{"udh long ucs2", "15550003019", url.Values{"text": {strings.Repeat("\x26\x3a", 70)}, "coding": {"2"}, "udh": {wap}}},
		}
		for _, c := range cases {
			q := url.Values{"username": {"u"}, "password": {"p"}, "from": {ourNumber}, "to": {c.to}}
			for k, v := range c.params {
				q[k] = v
			}
			for _, base := range []string{kBase, bBase} {
				if r := doSendsms(t, "GET", base, q.Encode(), nil, ""); r.code != 202 {
					t.Errorf("%s: %s: %v", c.name, base, r)
				}
			}
		}
		type key struct{ who, to string }
		var got map[key][]*pdu.ShortMessage
		want := 2 * (len(cases) + 4) // the long ones in two parts each
		for deadline := time.Now().Add(waitLong); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			got = map[key][]*pdu.ShortMessage{}
			n := 0
			for _, s := range srv.Submits() {
				if strings.HasPrefix(s.SM.DestAddr, "15550003") || strings.HasPrefix(s.SM.DestAddr, "+15550003") {
					k := key{s.SystemID, strings.TrimPrefix(s.SM.DestAddr, "+")}
					got[k] = append(got[k], s.SM)
					n++
				}
			}
			if n >= want {
				break
			}
		}
		show := func(sms []*pdu.ShortMessage) string {
			var b strings.Builder
			for _, sm := range sms {
				fmt.Fprintf(&b, "[data_coding 0x%02X esm_class 0x%02X protocol_id %d message %x] ", sm.DataCoding, sm.ESMClass, sm.ProtocolID, sm.Message)
			}
			return b.String()
		}
		for _, c := range cases {
			k, b := got[key{"kannel", c.to}], got[key{"bridge", c.to}]
			same := len(k) == len(b) && len(k) > 0
			for i := 0; same && i < len(k); i++ {
				km, bm := slices.Clone(k[i].Message), slices.Clone(b[i].Message)
				if len(k) > 1 && len(km) > 9 && len(bm) > 9 { // the concatenation reference
					at := 3
					if km[1] != 0 { // after the platform's UDH
						at = int(km[0]) - 2
					}
					km[at], bm[at] = 0, 0
				}
				// esm_class: Kannel writes messaging mode 3 (store and
				// forward), the bridge the default mode 0; UDHI and reply
				// path must agree.
				same = k[i].DataCoding == b[i].DataCoding && k[i].ESMClass&0xC0 == b[i].ESMClass&0xC0 && k[i].ProtocolID == b[i].ProtocolID && bytes.Equal(km, bm)
			}
			if c.name == "compress" && len(k) == 1 && len(b) == 1 {
				// Kannel marks the text compressed (data_coding 0x20) but
				// sends it as it is; the bridge leaves compress out.
				if k[0].DataCoding != 0x20 || b[0].DataCoding != 0x00 || !bytes.Equal(k[0].Message, b[0].Message) {
					t.Errorf("compress: Kannel %s, bridge %s; want 0x20 and 0x00 with the same text", show(k), show(b))
				}
				continue
			}
			if !same {
				t.Errorf("%s differ:\n  Kannel  %s\n  bridge  %s", c.name, show(k), show(b))
			} else {
				t.Logf("%s: both %s", c.name, show(k))
			}
		}
	})

	t.Run("dlr-url", func(t *testing.T) {
		esc := "&v=%v&M=%M&O=%O&type=%d&reply=%A&to=%p&from=%P&q=%q&Q=%Q&smsc=%i&user=%n&coding=%c&mclass=%m&udh=%u&b=%b&k=%k&f=%f&V=%V&pct=%%&unk=%z&F=%F&o=%o&B=%B&D=%D&T=%T&t=%t&I=%I&R=%R"
		for _, c := range []struct {
			tag, to string
			types   []string
		}{
			{"ok", "+15550002001", []string{"8", "1"}},
			{"undeliv", "+15550009995", []string{"8", "2"}},
			{"reject", "+15550009990", []string{"16"}},
			{"buffered", "+15550009994", []string{"8", "4", "1"}},
			{"class", "+15550002002", []string{"8", "1"}},
			{"nofrom", "+15550002003", []string{"8"}}, // the sender: Kannel's global-sender, the channel's number
		} {
			for who, base := range map[string]string{"kannel": kBase, "bridge": bBase} {
				q := url.Values{"username": {"u"}, "password": {"p"}, "from": {ourNumber}, "to": {c.to}, "text": {"dlr " + c.tag},
					"dlr-mask": {"31"}, "dlr-url": {d.srv.URL + "/dlr?who=" + who + "&tag=" + c.tag + esc}}
				if c.tag == "nofrom" {
					q.Del("from")
				}
				if c.tag == "class" { // a UCS-2 flash message: class and coding in %m, %c, %O
					q.Set("mclass", "1")
					q.Set("coding", "2")
					q.Set("charset", "utf-8")
					q.Set("text", "clase ☺ ok")
					q.Set("validity", "60")
					q.Set("deferred", "1")
					q.Set("binfo", "bi")
					q.Set("account", "acct")
					q.Set("meta-data", "?smpp?x=1&")
				}
				if r := doSendsms(t, "GET", base, q.Encode(), nil, ""); r.code != 202 {
					t.Fatalf("%s %s: %v", who, c.tag, r)
				}
			}
			for _, typ := range c.types {
				if typ == "1" && c.tag == "buffered" {
					// the final receipt after the ENROUTE one, to each
					for _, sub := range srv.Submits() {
						if strings.HasSuffix(sub.SM.DestAddr, "15550009994") {
							if st, err := srv.SendReceipt(ctx, sub, smsctest.Receipt{Stat: "DELIVRD"}); err != nil || st != pdu.StatusOK {
								t.Fatalf("DELIVRD receipt to %s: %v %v", sub.SystemID, st, err)
							}
						}
					}
				}
				kq := d.wait(t, "kannel "+c.tag+" "+typ, dlrMatch("kannel", c.tag, typ))
				bq := d.wait(t, "bridge "+c.tag+" "+typ, dlrMatch("bridge", c.tag, typ))
				kn, bn := normDLR(kq), normDLR(bq)
				if kn != bn {
					t.Errorf("%s type %s:\n  Kannel  %s\n  bridge  %s", c.tag, typ, kn, bn)
				} else {
					t.Logf("%s type %s: both %s", c.tag, typ, kn)
				}
			}
		}
	})

	t.Run("mo", func(t *testing.T) {
		for _, s := range srv.BoundSessions() {
			who := map[string]string{"kannel": "/mo-kannel", "bridge": "/mo-bridge"}[s.SystemID()]
			st, err := s.Deliver(ctx, &pdu.ShortMessage{SourceTON: 1, SourceNPI: 1, SourceAddr: "15550003001",
				DestAddr: ourNumber, Message: []byte("MO words *here* now: 50% (a+b) ~x! 'q' \"d\" _.-,;/?")})
			if err != nil || st != pdu.StatusOK {
				t.Fatalf("deliver to %s: %v %v", who, st, err)
			}
		}
		kq := d.wait(t, "kannel MO", func(q url.Values) bool { return q.Get("path") == "/mo-kannel" })
		bq := d.wait(t, "bridge MO", func(q url.Values) bool { return q.Get("path") == "/mo-bridge" })
		// The raw query strings too (Kannel's URL encoding), but for the
		// id and times.
		vary := regexp.MustCompile(`\b(I|T|t|o)=[^&]*`) // o: each its own system_id
		if kr, br := vary.ReplaceAllString(kq.Get("raw"), "$1=X"), vary.ReplaceAllString(bq.Get("raw"), "$1=X"); kr != br {
			t.Errorf("MO raw query:\n  Kannel  %s\n  bridge  %s", kr, br)
		}
		for _, q := range []url.Values{kq, bq} {
			q.Del("path")
			q.Del("raw")
			q.Set("I", strconv.FormatBool(q.Get("I") != ""))
			q.Set("o", strings.NewReplacer("kannel", "SYSTEM_ID", "bridge", "SYSTEM_ID").Replace(q.Get("o")))
			for _, k := range []string{"T", "t"} {
				q.Set(k, regexp.MustCompile(`[0-9]`).ReplaceAllString(q.Get(k), "9"))
			}
		}
		if kq.Encode() != bq.Encode() {
			t.Errorf("MO:\n  Kannel  %s\n  bridge  %s", kq.Encode(), bq.Encode())
		} else {
			t.Logf("MO: both %s", kq.Encode())
		}
	})
	k.shutdown()
}

func dlrMatch(who, tag, typ string) func(url.Values) bool {
	return func(q url.Values) bool {
		return q.Get("path") == "/dlr" && q.Get("who") == who && q.Get("tag") == tag && q.Get("type") == typ
	}
}

var receiptVarying = regexp.MustCompile(`(id:|date:)\S+`)

// normDLR is a dlr-url fetch without what must differ between two
// messages: who asked, the SMSC's message ids and the receipt dates.
func normDLR(q url.Values) string {
	n := url.Values{}
	for k, v := range q {
		switch k {
		case "who", "R", "raw":
			continue
		case "o": // the account: each binds with its own system_id
			n[k] = []string{strings.NewReplacer(q.Get("who"), "SYSTEM_ID").Replace(v[0])}
			continue
		case "F", "I": // differ between two messages: only whether set
			n[k] = []string{strconv.FormatBool(v[0] != "")}
			continue
		case "T", "t": // times: their shape (every digit a 9)
			n[k] = []string{regexp.MustCompile(`[0-9]`).ReplaceAllString(v[0], "9")}
			continue
		}
		n[k] = []string{receiptVarying.ReplaceAllString(v[0], "${1}X")}
	}
	return n.Encode()
}

// smppDuration reads an SMPP time (SMPP 3.4 §7.1.1): a relative one
// (YYMMDDhhmmss000R, years and months not used here) as it is, an absolute
// one (YYMMDDhhmmsstnn+/-) as the time from at.
func smppDuration(v string, at time.Time) (time.Duration, error) {
	if len(v) != 16 {
		return 0, fmt.Errorf("%q: not 16 characters", v)
	}
	n := func(i int) int { x, _ := strconv.Atoi(v[i : i+2]); return x }
	switch v[15] {
	case 'R':
		return time.Duration(n(4))*24*time.Hour + time.Duration(n(6))*time.Hour + time.Duration(n(8))*time.Minute + time.Duration(n(10))*time.Second, nil
	case '+', '-':
		off := time.Duration(n(13)) * 15 * time.Minute
		if v[15] == '-' {
			off = -off
		}
		t := time.Date(2000+n(0), time.Month(n(2)), n(4), n(6), n(8), n(10), 0, time.UTC).Add(-off)
		return t.Sub(at.Truncate(time.Second)), nil
	}
	return 0, fmt.Errorf("%q: bad last character", v)
}
