package main

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smscbridge/smscbridge/smsc/coding"
	"github.com/smscbridge/smscbridge/smsc/pdu"
	"github.com/smscbridge/smscbridge/smsc/smsctest"
)

// Order per contact, parallel across contacts (design.md invariant 6), end
// to end: the whole daemon between smsctest and a stand-in platform.

// submittedTexts decodes the texts the SMSC received for one destination,
// in the order it received them.
func submittedTexts(subs []smsctest.Submit, dest string) []string {
	var out []string
	for _, s := range subs {
		if s.SM.DestAddr != dest {
			continue
		}
		msg := s.SM.Message
		if s.SM.ESMClass&pdu.ESMClassUDHI != 0 {
			if _, rest, err := coding.ParseUDH(msg); err == nil {
				msg = rest
			}
		}
		t, _ := coding.Decode(s.SM.DataCoding, msg)
		out = append(out, t)
	}
	return out
}

// receivedTexts returns the texts of the RapidPro MO the platform accepted
// (2xx) from one sender, in the order it accepted them.
func receivedTexts(t testing.TB, reqs []platformReq, from string) []string {
	var out []string
	for _, r := range withPath(reqs, "/receive") {
		if f := r.form(t); r.Code < 300 && f.Get("from") == from {
			out = append(out, f.Get("text"))
		}
	}
	return out
}

// holdSMSC takes the SMSC's bind away until the returned func is called, so
// that MT pile up in the queue and leave it together.
func holdSMSC(t *testing.T, h *harness) (release func()) {
	t.Helper()
	h.smsc.RefuseBinds(pdu.StatusBindFail)
	h.smsc.DropConnections()
	deadline := time.Now().Add(5 * time.Second)
	for h.d.client("agg-a").Bound() {
		if time.Now().After(deadline) {
			t.Fatal("client still bound 5 s after the SMSC dropped it")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return func() { h.smsc.RefuseBinds(pdu.StatusOK) }
}

// TestCourierChunksReachSMSCInOrder: courier splits a long message into
// chunks and sends each as its own /send; all chunks of both messages, to
// one contact, must reach the SMSC in the order they were accepted, even
// when they leave the queue together (here: after the bind comes back).
func TestCourierChunksReachSMSCInOrder(t *testing.T) {
	h := newHarness(t)
	h.waitBound()
	release := holdSMSC(t, h)
	var want []string
	for m := 1; m <= 2; m++ {
		for c := 1; c <= 4; c++ {
			text := fmt.Sprintf("message %d chunk %d of 4", m, c)
			want = append(want, text)
			body := url.Values{"id": {fmt.Sprint(100*m + c)}, "text": {text}, "to": {"+250788123123"}, "from": {rpNumber}}.Encode()
			if code, resp := h.post("/rapidpro/rp-main/send", "application/x-www-form-urlencoded", "", body); code != 200 {
				t.Fatalf("send %q = %d %s", text, code, resp)
			}
		}
	}
	release()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	subs, err := h.smsc.WaitSubmits(ctx, len(want))
	if err != nil {
		t.Fatalf("submits: %v", err)
	}
	if got := submittedTexts(subs, "250788123123"); !slices.Equal(got, want) {
		t.Errorf("the SMSC got the chunks in this order:\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// TestQuickCustomMessagesKeepOrder: eight custom-channel messages to one
// contact, sent one after another while the SMSC answers slowly (so they
// queue up behind each other), reach the SMSC in the order sent.
func TestQuickCustomMessagesKeepOrder(t *testing.T) {
	h := newHarness(t)
	h.waitBound()
	h.smsc.SetDelay(20 * time.Millisecond)
	var want []string
	for i := 1; i <= 8; i++ {
		text := fmt.Sprintf("quick %d", i)
		want = append(want, text)
		msg := `{"channelId":"` + customChanID + `","contactId":"+60123456789","message":{"type":"text","text":"` + text + `"}}`
		if code, resp := h.post("/custom/telenet/message", "application/json", "Bearer "+customToken, msg); code != 200 {
			t.Fatalf("message %d = %d %s", i, code, resp)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	subs, err := h.smsc.WaitSubmits(ctx, len(want))
	if err != nil {
		t.Fatalf("submits: %v", err)
	}
	if got := submittedTexts(subs, "60123456789"); !slices.Equal(got, want) {
		t.Errorf("the SMSC got %q, want %q", got, want)
	}
}

// TestRetriedMOIsNotOvertaken: the platform answers 503 once to MO 1; MO 2
// from the same sender must not reach it before MO 1 does.
func TestRetriedMOIsNotOvertaken(t *testing.T) {
	h := newHarness(t)
	h.waitBound()
	var failed atomic.Bool
	h.plat.setAnswer(func(r platformReq) int {
		if strings.HasSuffix(r.Path, "/receive") && r.form(t).Get("text") == "mo 1" && failed.CompareAndSwap(false, true) {
			return 503
		}
		return 0
	})
	const from = "+2349067554729"
	h.deliverMO(from, rpNumber, "mo 1")
	h.deliverMO(from, rpNumber, "mo 2")
	h.deliverMO(from, rpNumber, "mo 3")
	reqs := h.plat.wait(t, "all three MO accepted", func(r []platformReq) bool { return len(receivedTexts(t, r, from)) >= 3 })
	if got, want := receivedTexts(t, reqs, from), []string{"mo 1", "mo 2", "mo 3"}; !slices.Equal(got, want) {
		t.Errorf("the platform accepted %q, want %q (a retried MO must not be overtaken):%s", got, want, describe(reqs))
	}
}

// TestContactsProceedInParallel: one contact's callback hanging in flight,
// or failing again and again, does not hold back another contact's MO.
func TestContactsProceedInParallel(t *testing.T) {
	h := newHarness(t)
	h.waitBound()
	const stuck, failing, other = "+2349067554729", "+2349067554730", "+2349067554731"
	inFlight, release := make(chan struct{}, 1), make(chan struct{})
	t.Cleanup(func() { close(release) }) // runs before the daemon and the platform stop
	h.plat.setAnswer(func(r platformReq) int {
		switch r.form(t).Get("from") {
		case stuck:
			select {
			case inFlight <- struct{}{}:
			default:
			}
			<-release
		case failing:
			return 503
		}
		return 0
	})
	h.deliverMO(stuck, rpNumber, "hangs")
	select {
	case <-inFlight:
	case <-time.After(10 * time.Second):
		t.Fatal("the first MO never reached the platform")
	}
	h.deliverMO(failing, rpNumber, "fails")
	h.deliverMO(other, rpNumber, "goes through")
	h.plat.wait(t, "the other contact's MO while one hangs and one fails", func(r []platformReq) bool {
		return slices.Equal(receivedTexts(t, r, other), []string{"goes through"})
	})
}

// TestLongAndShortMOKeepOrder: a long MO (two parts) and then a short one
// from the same sender reach the platform in that order, even when the
// platform answers 503 once to the long one.
func TestLongAndShortMOKeepOrder(t *testing.T) {
	h := newHarness(t)
	h.waitBound()
	long := strings.Repeat("long message ", 20) // 260 characters: two parts
	var failed atomic.Bool
	h.plat.setAnswer(func(r platformReq) int {
		if strings.HasSuffix(r.Path, "/receive") && r.form(t).Get("text") == long && failed.CompareAndSwap(false, true) {
			return 503
		}
		return 0
	})
	const from = "+2349067554729"
	h.deliverMO(from, rpNumber, long)
	h.deliverMO(from, rpNumber, "short")
	reqs := h.plat.wait(t, "both MO accepted", func(r []platformReq) bool { return len(receivedTexts(t, r, from)) >= 2 })
	if got, want := receivedTexts(t, reqs, from), []string{long, "short"}; !slices.Equal(got, want) {
		t.Errorf("the platform accepted %q, want %q", got, want)
	}
}

// TestRetriedMTHoldsOnlyItsRecipient: while the SMSC keeps answering a
// temporary error to one recipient's first MT, that recipient's second MT
// waits behind it, and another recipient's MT go out meanwhile.
func TestRetriedMTHoldsOnlyItsRecipient(t *testing.T) {
	h := newHarness(t)
	var holding atomic.Bool
	holding.Store(true)
	h.smsc.SetHandler(smsctest.HandlerFunc(func(s *smsctest.Session, p *pdu.PDU) *pdu.PDU {
		if sm, ok := p.Body.(*pdu.ShortMessage); ok && p.ID == pdu.SubmitSM && holding.Load() {
			if text, _ := coding.Decode(sm.DataCoding, sm.Message); text == "a 1" {
				return pdu.NewResponse(p, pdu.StatusSysErr, nil) // temporary: the bridge retries
			}
		}
		return h.smsc.Default(s, p)
	}))
	h.waitBound()
	send := func(to, text string, id int) {
		t.Helper()
		body := url.Values{"id": {fmt.Sprint(id)}, "text": {text}, "to": {to}}.Encode()
		if code, resp := h.post("/rapidpro/rp-main/send", "application/x-www-form-urlencoded", "", body); code != 200 {
			t.Fatalf("send %q = %d %s", text, code, resp)
		}
	}
	send("+250788123100", "a 1", 1)
	send("+250788123100", "a 2", 2)
	send("+250788123101", "b 1", 3)
	send("+250788123101", "b 2", 4)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.smsc.WaitStats(ctx, func(st smsctest.Stats) bool { return st.Submits-st.SubmitErrors >= 2 }); err != nil {
		t.Fatalf("the other recipient's MT did not go out while the first one was retried: %v", err)
	}
	if got := submittedTexts(h.smsc.Submits(), "250788123101"); !slices.Equal(got, []string{"b 1", "b 2"}) {
		t.Errorf("recipient b got %q, want [b 1 b 2]", got)
	}
	holding.Store(false)
	if err := h.smsc.WaitStats(ctx, func(st smsctest.Stats) bool { return st.Submits-st.SubmitErrors >= 4 }); err != nil {
		t.Fatalf("recipient a's MT never went out: %v", err)
	}
	var okA []string
	for _, s := range h.smsc.Submits() {
		if s.SM.DestAddr == "250788123100" {
			text, _ := coding.Decode(s.SM.DataCoding, s.SM.Message)
			if s.Status == pdu.StatusOK {
				okA = append(okA, text)
			} else if len(okA) > 0 || text != "a 1" {
				t.Errorf("%q was refused after %q went out", text, okA)
			}
		}
	}
	if !slices.Equal(okA, []string{"a 1", "a 2"}) {
		t.Errorf("recipient a got %q, want [a 1 a 2] (a 2 must wait for a 1's retries)", okA)
	}
}

// TestOrderHoldsAcrossRestart: MO 1 is being retried when the daemon stops;
// after the restart MO 1 still goes before MO 2 (order is the store's).
func TestOrderHoldsAcrossRestart(t *testing.T) {
	h := newHarness(t)
	h.waitBound()
	h.plat.setAnswer(func(r platformReq) int {
		if strings.HasSuffix(r.Path, "/receive") && r.form(t).Get("text") == "first" {
			return 503
		}
		return 0
	})
	const from = "+2349067554729"
	h.deliverMO(from, rpNumber, "first")
	h.deliverMO(from, rpNumber, "second")
	h.plat.wait(t, "a failed attempt of the first MO", func(r []platformReq) bool { return len(withPath(r, "/receive")) >= 1 })
	h.shutdown()
	h.plat.setAnswer(nil)
	h.start()
	reqs := h.plat.wait(t, "both MO after the restart", func(r []platformReq) bool { return len(receivedTexts(t, r, from)) >= 2 })
	if got, want := receivedTexts(t, reqs, from), []string{"first", "second"}; !slices.Equal(got, want) {
		t.Errorf("the platform accepted %q, want %q:%s", got, want, describe(reqs))
	}
}
