package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smscbridge/smscbridge/conf"
	"github.com/smscbridge/smscbridge/smsc/pdu"
	"github.com/smscbridge/smscbridge/smsc/smsctest"
)

const (
	knNumber = "+250788000020"
	knUUID   = "8eb23e93-5ecb-45ba-b726-3b064e0c56ab"
)

// withKannel adds a kannel channel whose MO go to the stand-in courier's
// KN receive URL (POST, everything in the query string).
func withKannel(h *harness) {
	h.cfg.Channel = append(h.cfg.Channel, conf.Channel{ID: "rp-kannel", Kind: conf.KindKannel, Numbers: []string{knNumber},
		SMSC: []string{"agg-a"}, Username: "rapidpro", Password: "kn-secret", MOMethod: "POST",
		MOURL: h.plat.srv.URL + "/c/kn/" + knUUID + "/receive?backend=%i&sender=%p&message=%b&ts=%T&id=%I&to=%P"})
}

// sendsms makes a GET /cgi-bin/sendsms as courier's KN handler does.
func (h *harness) sendsms(q url.Values) (int, string) {
	h.t.Helper()
	resp, err := http.Get(h.baseURL + "/cgi-bin/sendsms?" + q.Encode())
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// courierSend is courier's current KN send: unicode as coding=2 with raw
// UTF-16BE text, dlr-url with the message uuid, dlr-mask 27.
func courierSend(uuid, text, to string) url.Values {
	q := url.Values{"username": {"rapidpro"}, "password": {"kn-secret"}, "from": {knNumber}, "to": {to}, "text": {text},
		"dlr-mask": {"27"}, "dlr-url": {"https://courier.example/c/kn/" + knUUID + "/status?uuid=" + uuid + "&status=%d"}}
	if strings.ContainsFunc(text, func(r rune) bool { return r > 0x7f }) {
		var b []byte
		for _, r := range text {
			b = append(b, byte(r>>8), byte(r))
		}
		q.Set("text", string(b))
		q.Set("coding", "2")
	}
	return q
}

// knGets returns the queries of the dlr-url fetches for uuid, in order.
func knGets(reqs []platformReq, uuid string) []url.Values {
	var out []url.Values
	for _, r := range reqs {
		if r.Method == http.MethodGet && strings.HasSuffix(r.Path, "/c/kn/"+knUUID+"/status") && r.Query.Get("uuid") == uuid {
			out = append(out, r.Query)
		}
	}
	return out
}

// TestKannelRoundTrip: a courier KN send (current generation, UCS-2) →
// 202 → submit_sm at the strict simulator with the text in UCS-2 →
// submit_sm_resp → dlr-url status=8 → DELIVRD receipt → status=1; and an
// MO → POST to the KN receive URL with everything in the query string.
func TestKannelRoundTrip(t *testing.T) {
	h := newHarnessWith(t, func(h *harness) { withKannel(h) }, smsctest.WithReceipts(10*time.Millisecond, nil))
	h.waitBound()
	uuid := "0191e180-7d60-7000-aff4-c8d3f7bcc9d3"
	q := courierSend(uuid, "Hola ☺", "+250788383383")
	q.Set("priority", "1") // courier: a reply to an MO
	q.Set("validity", "90")
	q.Set("binfo", "KN")
	q.Set("dlr-url", h.plat.srv.URL+"/c/kn/"+knUUID+"/status?uuid="+uuid+"&status=%d&fid=%F&smsc=%i")
	code, body := h.sendsms(q)
	if code != http.StatusAccepted || body != "0: Accepted for delivery" {
		t.Fatalf("sendsms = %d %q", code, body)
	}
	reqs := h.plat.wait(t, "status 8 then 1", func(r []platformReq) bool { return len(knGets(r, uuid)) >= 2 })
	got := knGets(reqs, uuid)
	if got[0].Get("status") != "8" || got[1].Get("status") != "1" {
		t.Fatalf("dlr statuses = %v, want 8 then 1", got)
	}
	subs := h.smsc.Submits()
	if len(subs) != 1 || string(subs[0].SM.Message) != "\x00H\x00o\x00l\x00a\x00 \x26\x3a" || subs[0].SM.DataCoding != 0x08 || subs[0].SM.DestAddr != "250788383383" || subs[0].SM.SourceAddr != "250788000020" {
		t.Fatalf("submits = %+v", subs)
	}
	if sm := subs[0].SM; sm.PriorityFlag != 1 || sm.ValidityPeriod != "000000013000000R" || sm.ServiceType != "KN" || sm.ScheduleDeliveryTime != "" {
		t.Errorf("submit_sm priority_flag %d validity_period %q service_type %q schedule %q; want 1, 90 minutes relative, KN, none",
			sm.PriorityFlag, sm.ValidityPeriod, sm.ServiceType, sm.ScheduleDeliveryTime)
	}
	if got[1].Get("fid") == "" || got[1].Get("smsc") != "agg-a" {
		t.Errorf("delivered report %v: want the SMSC message id and smsc agg-a", got[1])
	}
	quiet()
	if n := len(knGets(h.plat.all(), uuid)); n != 2 {
		t.Errorf("%d dlr-url fetches, want 2", n)
	}
	// The trace finds the message by courier's message uuid.
	if code, body := h.adminGet("/trace?q="+uuid, ""); code != 200 || !strings.Contains(string(body), `"http_in"`) ||
		!strings.Contains(string(body), `"submit_sm"`) || !strings.Contains(string(body), `"receipt"`) || strings.Contains(string(body), `"ref": "{`) {
		t.Errorf("trace by the courier uuid = %d %s", code, body)
	}

	h.deliverMO("+2349067554729", knNumber, "Join")
	reqs = h.plat.wait(t, "KN receive", func(r []platformReq) bool { return len(withPath(r, "/c/kn/"+knUUID+"/receive")) > 0 })
	mo := withPath(reqs, "/c/kn/"+knUUID+"/receive")[0]
	if mo.Method != http.MethodPost || len(mo.Body) != 0 {
		t.Errorf("MO %s with body %q, want POST with an empty body", mo.Method, mo.Body)
	}
	mq := mo.Query
	if mq.Get("sender") != "+2349067554729" || mq.Get("message") != "Join" || mq.Get("to") != knNumber ||
		mq.Get("backend") != "agg-a" || mq.Get("id") == "" || mq.Get("ts") == "" || mq.Get("ts") == "0" {
		t.Errorf("MO query %v", mq)
	}
}

// TestKannelResendAfterReject: a courier send refused by the SMSC is
// reported 16; courier then resends with the same dlr-url, and the resend
// must go out (platforms.md §0.1); a retry of the resend while it is
// pending or sent is a duplicate.
func TestKannelResendAfterReject(t *testing.T) {
	h := newHarnessWith(t, func(h *harness) { withKannel(h) })
	h.waitBound()
	uuid := "0191e180-7d60-7000-aff4-c8d3f7bcc9d4"
	q := courierSend(uuid, "try me twice", "+250788123123")
	q.Set("dlr-url", h.plat.srv.URL+"/c/kn/"+knUUID+"/status?uuid="+uuid+"&status=%d")
	h.smsc.SetStatus(pdu.StatusInvDstAdr, false) // permanent
	if code, body := h.sendsms(q); code != 202 {
		t.Fatalf("sendsms = %d %q", code, body)
	}
	h.plat.wait(t, "status 16", func(r []platformReq) bool { return len(knGets(r, uuid)) >= 1 })
	quiet() // the report has completed
	h.smsc.SetStatus(pdu.StatusOK, false)
	if code, body := h.sendsms(q); code != 202 { // courier's resend
		t.Fatalf("resend = %d %q", code, body)
	}
	reqs := h.plat.wait(t, "status 8 after the resend", func(r []platformReq) bool { return len(knGets(r, uuid)) >= 2 })
	if got := knGets(reqs, uuid); got[0].Get("status") != "16" || got[1].Get("status") != "8" {
		t.Errorf("statuses = %v, want 16 then 8", got)
	}
	if n := len(h.smsc.Submits()); n != 2 {
		t.Errorf("submits = %d, want 2", n)
	}
	h.sendsms(q) // a retry of the resend: a duplicate
	quiet()
	if n := len(h.smsc.Submits()); n != 2 {
		t.Errorf("submits after a duplicate = %d, want 2", n)
	}
}

// TestKannelAuthAcrossChannels: the username picks the channel; a wrong
// password or unknown user gets Kannel's 403 and queues nothing.
func TestKannelAuthAcrossChannels(t *testing.T) {
	h := newHarnessWith(t, func(h *harness) {
		withKannel(h)
		h.cfg.Channel = append(h.cfg.Channel, conf.Channel{ID: "kn-two", Kind: conf.KindKannel, Numbers: []string{"+250788000021"},
			SMSC: []string{"agg-a"}, Username: "second", Password: "two-secret", MOMethod: "POST"})
	})
	h.waitBound()
	resp, err := http.Get(h.baseURL + "/cgi-bin/nothing")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 404 || string(b) != "Unknown request." {
		t.Errorf("unknown /cgi-bin path: %d %q", resp.StatusCode, b)
	}
	// Each username reaches its own channel: the MT goes out from its number.
	for user, pass := range map[string]string{"rapidpro": "kn-secret", "second": "two-secret"} {
		if code, body := h.sendsms(url.Values{"username": {user}, "password": {pass}, "to": {"+250788555000"}, "text": {user}}); code != 202 {
			t.Fatalf("%s: %d %q", user, code, body)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	subs, err := h.smsc.WaitSubmits(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range subs {
		want := map[string]string{"rapidpro": "250788000020", "second": "250788000021"}[string(s.SM.Message)]
		if s.SM.SourceAddr != want {
			t.Errorf("MT %q from %s, want %s", s.SM.Message, s.SM.SourceAddr, want)
		}
	}
	for _, q := range []url.Values{
		{"username": {"rapidpro"}, "password": {"wrong"}, "to": {"123"}, "text": {"x"}},
		{"username": {"nobody"}, "password": {"kn-secret"}, "to": {"123"}, "text": {"x"}},
		{"to": {"123"}, "text": {"x"}},
	} {
		if code, body := h.sendsms(q); code != http.StatusForbidden || body != "Authorization failed for sendsms" {
			t.Errorf("%v: %d %q", q, code, body)
		}
	}
	quiet()
	if n := len(h.smsc.Submits()); n != 2 {
		t.Errorf("%d submits, want only the 2 authorised ones", n)
	}
}

// TestKannelFinalStatuses: every accepted MT ends with a final report at
// its dlr-url (design.md invariant 7): retries running out is 16 with
// "NACK/" (no SMPP status to name), a receipt saying UNDELIV is 2 with the
// receipt text, and dropping the dead letter of an MT with an unknown
// outcome from the admin API is 16.
func TestKannelFinalStatuses(t *testing.T) {
	h := newHarnessWith(t, func(h *harness) { withKannel(h); h.cfg.Retry.MaxAttempts = 2 },
		smsctest.WithReceipts(10*time.Millisecond, func(smsctest.Submit) smsctest.Receipt { return smsctest.Receipt{Stat: "UNDELIV", Err: "001"} }))
	h.waitBound()
	send := func(uuid, to string) {
		t.Helper()
		q := courierSend(uuid, "final "+uuid[len(uuid)-1:], to)
		q.Set("dlr-url", h.plat.srv.URL+"/c/kn/"+knUUID+"/status?uuid="+uuid+"&status=%d&reply=%A")
		if code, body := h.sendsms(q); code != 202 {
			t.Fatalf("sendsms = %d %q", code, body)
		}
	}
	h.smsc.SetStatus(pdu.StatusSysErr, false) // temporary, every time
	send("0191e180-7d60-7000-aff4-c8d3f7bcc9e1", "+250788123001")
	reqs := h.plat.wait(t, "16 after the last attempt", func(r []platformReq) bool { return len(knGets(r, "0191e180-7d60-7000-aff4-c8d3f7bcc9e1")) > 0 })
	if got := knGets(reqs, "0191e180-7d60-7000-aff4-c8d3f7bcc9e1")[0]; got.Get("status") != "16" || got.Get("reply") != "NACK/" {
		t.Errorf("exhausted: %v, want status 16 reply NACK/", got)
	}
	h.smsc.SetStatus(pdu.StatusOK, false)
	send("0191e180-7d60-7000-aff4-c8d3f7bcc9e2", "+250788123002")
	reqs = h.plat.wait(t, "8 then 2", func(r []platformReq) bool { return len(knGets(r, "0191e180-7d60-7000-aff4-c8d3f7bcc9e2")) >= 2 })
	got := knGets(reqs, "0191e180-7d60-7000-aff4-c8d3f7bcc9e2")
	if got[0].Get("status") != "8" || got[0].Get("reply") != "ACK/" || got[1].Get("status") != "2" ||
		!strings.Contains(got[1].Get("reply"), "stat:UNDELIV err:001") {
		t.Errorf("undelivered: %v, want 8 (ACK/) then 2 with the receipt text", got)
	}
	h.smsc.DropResponses(1) // sent, never answered: an operator decides
	send("0191e180-7d60-7000-aff4-c8d3f7bcc9e3", "+250788123003")
	dead := h.waitDead("mt:agg-a", "unknown_outcome", 1)
	h.smsc.DropResponses(0)
	if code, body := h.adminCall("DELETE", "/queue/dead/"+dead[0].ID); code != 200 {
		t.Fatalf("drop = %d %s", code, body)
	}
	reqs = h.plat.wait(t, "16 for the dropped MT", func(r []platformReq) bool { return len(knGets(r, "0191e180-7d60-7000-aff4-c8d3f7bcc9e3")) > 0 })
	if got := knGets(reqs, "0191e180-7d60-7000-aff4-c8d3f7bcc9e3")[0]; got.Get("status") != "16" {
		t.Errorf("dropped: %v, want status 16", got)
	}
}

// TestKannelBuffered: a receipt saying ENROUTE is reported as 4 when the
// dlr-mask asks for it, the final DELIVRD after it as 1; a buffered
// receipt after the final one is not reported (never backwards), and with
// a mask without 4 nothing is reported for it (platforms.md C.4.1).
func TestKannelBuffered(t *testing.T) {
	h := newHarnessWith(t, func(h *harness) { withKannel(h) })
	h.waitBound()
	send := func(uuid, to, mask string) smsctest.Submit {
		t.Helper()
		q := courierSend(uuid, "buffered "+uuid[len(uuid)-1:], to)
		q.Set("dlr-mask", mask)
		q.Set("dlr-url", h.plat.srv.URL+"/c/kn/"+knUUID+"/status?uuid="+uuid+"&status=%d&reply=%A")
		n := len(h.smsc.Submits())
		if code, body := h.sendsms(q); code != 202 {
			t.Fatalf("sendsms = %d %q", code, body)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		subs, err := h.smsc.WaitSubmits(ctx, n+1)
		if err != nil {
			t.Fatal(err)
		}
		return subs[n]
	}
	const u1, u2 = "0191e180-7d60-7000-aff4-c8d3f7bcc9f1", "0191e180-7d60-7000-aff4-c8d3f7bcc9f2"
	sub := send(u1, "+250788124001", "31")
	h.plat.wait(t, "8", func(r []platformReq) bool { return len(knGets(r, u1)) >= 1 })
	h.receipt(t, sub, "ENROUTE")
	h.plat.wait(t, "4", func(r []platformReq) bool { return len(knGets(r, u1)) >= 2 })
	h.receipt(t, sub, "DELIVRD")
	h.plat.wait(t, "1", func(r []platformReq) bool { return len(knGets(r, u1)) >= 3 })
	h.receipt(t, sub, "ACCEPTD")            // after the final report: dropped
	sub2 := send(u2, "+250788124002", "27") // 1+2+8+16: no 4
	h.receipt(t, sub2, "ENROUTE")
	h.receipt(t, sub2, "DELIVRD")
	h.plat.wait(t, "8 and 1 for the second", func(r []platformReq) bool { return len(knGets(r, u2)) >= 2 })
	quiet()
	var got []string
	for _, q := range knGets(h.plat.all(), u1) {
		got = append(got, q.Get("status"))
	}
	if strings.Join(got, " ") != "8 4 1" {
		t.Errorf("reports %v, want 8 4 1", got)
	}
	if b := knGets(h.plat.all(), u1); len(b) >= 2 && !strings.Contains(b[1].Get("reply"), "stat:ENROUTE") {
		t.Errorf("buffered report %v: want the receipt text", b[1])
	}
	got = nil
	for _, q := range knGets(h.plat.all(), u2) {
		got = append(got, q.Get("status"))
	}
	if strings.Join(got, " ") != "8 1" {
		t.Errorf("mask 27: reports %v, want 8 1", got)
	}
}

// TestKannelSMSCParameter: sendsms's smsc names the preferred link. An
// [[smsc]] of the channel's list takes the message (both bound); an
// unknown id is ignored, as the channel's list decides (Kannel answers
// 202 for it too, make interop).
func TestKannelSMSCParameter(t *testing.T) {
	simB := smsctest.NewServer(smsctest.WithAccount("bridge", "secret"))
	t.Cleanup(simB.Close)
	h := newHarnessWith(t, func(h *harness) {
		withKannel(h)
		b := h.cfg.SMSC[0]
		b.ID = "agg-b"
		_, port, _ := strings.Cut(simB.Addr(), ":")
		fmt.Sscan(port, &b.Port)
		h.cfg.SMSC = append(h.cfg.SMSC, b)
		for i := range h.cfg.Channel {
			h.cfg.Channel[i].SMSC = []string{"agg-a", "agg-b"}
		}
	})
	h.waitBound()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := simB.WaitBound(ctx, 1); err != nil {
		t.Fatal(err)
	}
	for !h.d.clients["agg-b"].Bound() && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	q := url.Values{"username": {"rapidpro"}, "password": {"kn-secret"}, "to": {"+250788126001"}, "text": {"via b"}, "smsc": {"agg-b"}}
	if code, body := h.sendsms(q); code != 202 {
		t.Fatalf("sendsms = %d %q", code, body)
	}
	if _, err := simB.WaitSubmits(ctx, 1); err != nil {
		t.Fatalf("agg-b got no submit_sm: %v", err)
	}
	q.Set("smsc", "nope")
	q.Set("text", "via a")
	if code, body := h.sendsms(q); code != 202 {
		t.Fatalf("sendsms = %d %q", code, body)
	}
	if _, err := h.smsc.WaitSubmits(ctx, 1); err != nil {
		t.Fatalf("agg-a (first of the list) got no submit_sm: %v", err)
	}
	quiet()
	if a, b := len(h.smsc.Submits()), len(simB.Submits()); a != 1 || b != 1 {
		t.Errorf("submits: agg-a %d, agg-b %d; want 1 and 1", a, b)
	}
}

// TestKannelDCSParams: sendsms with coding=1, udh, mclass, alt-dcs, mwi, pid
// and rpi → the submit_sm fields Kannel's SMPP driver writes for them, at the
// strict simulator (no violation); 8-bit data over 140 octets in 134-octet
// parts under a concatenation UDH; with a UDH, a long text split with a
// concatenation element appended to it, and refused at once when the UDH
// already holds one.
func TestKannelDCSParams(t *testing.T) {
	h := newHarnessWith(t, func(h *harness) { withKannel(h) }, smsctest.WithTB(t))
	h.waitBound()
	long := strings.Repeat("\x01\xfe", 100) // 200 octets
	wap := "\x06\x05\x04\x0b\x84\x23\xf0"
	cases := []struct {
		to     string
		params url.Values
		dc     uint8
		esm    uint8
		pid    uint8
		msgs   []string
	}{
		{"+250788100001", url.Values{"text": {"\xff\x00\x80"}, "coding": {"1"}}, 0x04, 0, 0, []string{"\xff\x00\x80"}},
		{"+250788100002", url.Values{"text": {long}, "coding": {"1"}}, 0x04, 0x40, 0, nil}, // checked below
		{"+250788100003", url.Values{"text": {"\x01\x02"}, "udh": {wap}}, 0x04, 0x40, 0, []string{wap + "\x01\x02"}},
		{"+250788100004", url.Values{"text": {"hi"}, "coding": {"0"}, "udh": {"\x05\x00\x03\x07\x02\x01"}}, 0x00, 0x40, 0, []string{"\x05\x00\x03\x07\x02\x01hi"}},
		{"+250788100005", url.Values{"text": {"flash"}, "mclass": {"0"}}, 0xF0, 0, 0, []string{"flash"}},
		{"+250788100006", url.Values{"text": {"sim"}, "mclass": {"2"}}, 0xF2, 0, 0, []string{"sim"}},
		{"+250788100007", url.Values{"text": {"\x00h\x26\x3a"}, "coding": {"2"}, "mclass": {"1"}}, 0x19, 0, 0, []string{"\x00h\x26\x3a"}},
		{"+250788100008", url.Values{"text": {"\x7f"}, "coding": {"1"}, "mclass": {"3"}}, 0xF7, 0, 0, []string{"\x7f"}},
		{"+250788100009", url.Values{"text": {"alt"}, "alt-dcs": {"1"}}, 0xF1, 0, 0, []string{"alt"}},
		{"+250788100010", url.Values{"text": {"pid"}, "pid": {"65"}, "rpi": {"1"}}, 0x00, 0x80, 65, []string{"pid"}},
		{"+250788100011", url.Values{"text": {"mwi"}, "mwi": {"1"}, "mclass": {"1"}}, 0xD9, 0, 0, []string{"mwi"}},
		{"+250788100012", url.Values{"text": {"\x26\x3a"}, "coding": {"2"}, "mwi": {"2"}}, 0xEA, 0, 0, []string{"\x26\x3a"}},
		{"+250788100013", url.Values{"text": {"off"}, "mwi": {"5"}}, 0xC1, 0, 0, []string{"off"}},
		{"+250788100014", url.Values{"text": {"\x81"}, "coding": {"1"}, "mwi": {"0"}}, 0x04, 0, 0, []string{"\x81"}},
		{"+250788100015", url.Values{"text": {"cmp"}, "compress": {"1"}, "account": {"a"}}, 0x00, 0, 0, []string{"cmp"}},
	}
	for _, c := range cases {
		q := url.Values{"username": {"rapidpro"}, "password": {"kn-secret"}, "from": {knNumber}, "to": {c.to}}
		for k, v := range c.params {
			q[k] = v
		}
		if code, body := h.sendsms(q); code != http.StatusAccepted {
			t.Fatalf("%s: sendsms = %d %q", c.to, code, body)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for len(h.smsc.Submits()) < len(cases)+1 && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	byTo := map[string][]*pdu.ShortMessage{}
	for _, s := range h.smsc.Submits() {
		byTo["+"+s.SM.DestAddr] = append(byTo["+"+s.SM.DestAddr], s.SM)
	}
	for _, c := range cases {
		sms := byTo[c.to]
		if c.msgs == nil { // the long 8-bit message
			if len(sms) != 2 || len(sms[0].Message) != 140 || len(sms[1].Message) != 6+66 ||
				string(sms[0].Message[6:])+string(sms[1].Message[6:]) != long || sms[0].Message[4] != 2 || sms[1].Message[5] != 2 {
				t.Errorf("%s: long 8-bit parts %+v", c.to, sms)
			}
		} else if len(sms) != len(c.msgs) || string(sms[0].Message) != c.msgs[0] {
			t.Errorf("%s: submits %+v, want message %q", c.to, sms, c.msgs)
			continue
		}
		for _, sm := range sms {
			if sm.DataCoding != c.dc || sm.ESMClass != c.esm || sm.ProtocolID != c.pid {
				t.Errorf("%s: data_coding 0x%02X esm_class 0x%02X protocol_id %d, want 0x%02X 0x%02X %d", c.to, sm.DataCoding, sm.ESMClass, sm.ProtocolID, c.dc, c.esm, c.pid)
			}
		}
	}
	// With a UDH, a message too long for one SMS is split as Kannel
	// splits it: the UDH with a concatenation element appended in each
	// part (make interop compares it with Kannel's).
	q := url.Values{"username": {"rapidpro"}, "password": {"kn-secret"}, "from": {knNumber}, "to": {"+250788100020"},
		"text": {strings.Repeat("a", 200)}, "coding": {"0"}, "udh": {wap}}
	if code, body := h.sendsms(q); code != http.StatusAccepted {
		t.Fatalf("long with a UDH: %d %q", code, body)
	}
	var parts []*pdu.ShortMessage
	for ctx.Err() == nil && len(parts) < 2 {
		parts = parts[:0]
		for _, s := range h.smsc.Submits() {
			if s.SM.DestAddr == "250788100020" {
				parts = append(parts, s.SM)
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	udh := func(seq byte) string {
		return "\x0b\x05\x04\x0b\x84\x23\xf0\x00\x03" + string(parts[0].Message[9:10]) + "\x02" + string([]byte{seq})
	}
	if len(parts) != 2 || string(parts[0].Message) != udh(1)+strings.Repeat("a", 146) || string(parts[1].Message) != udh(2)+strings.Repeat("a", 54) ||
		parts[0].ESMClass != 0x40 || parts[1].DataCoding != 0 {
		t.Errorf("long with a UDH: parts %+v / %+v", parts[0], parts[len(parts)-1])
	}
	// A UDH that already holds a concatenation element cannot take a
	// second one: refused, nothing sent.
	q.Set("to", "+250788100021")
	q.Set("udh", "\x05\x00\x03\x07\x02\x01")
	if code, body := h.sendsms(q); code != http.StatusBadRequest {
		t.Errorf("too long with a concatenation UDH: %d %q, want 400", code, body)
	}
}
