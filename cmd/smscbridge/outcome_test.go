package main

// End-to-end tests of design.md invariant 7: every accepted MT ends with a
// final status at its platform (platforms.md E, B.1.4, §0.1).

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/smscbridge/smscbridge/bridge"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smscbridge/smscbridge/smsc/coding"
	"github.com/smscbridge/smscbridge/smsc/pdu"
	"github.com/smscbridge/smscbridge/smsc/smsctest"
	"github.com/smscbridge/smscbridge/store"
)

// newHarnessWith is newHarness with a chance to change the harness (its
// config, its simulator) before the daemon starts.
func newHarnessWith(t testing.TB, mod func(h *harness), opts ...smsctest.Option) *harness {
	t.Helper()
	opts = append([]smsctest.Option{smsctest.WithAccount("bridge", "secret")}, opts...)
	h := &harness{t: t, smsc: smsctest.NewServer(opts...), plat: newPlatform(t)}
	t.Cleanup(h.smsc.Close)
	h.cfg = testConfig(t, h.smsc.Addr(), h.plat.srv.URL, filepath.Join(t.TempDir(), "bridge.db"))
	if mod != nil {
		mod(h)
	}
	h.start()
	return h
}

// sendRP posts a RapidPro EX send and fails the test unless it is accepted.
func (h *harness) sendRP(id, text, to string) string {
	h.t.Helper()
	body, _ := json.Marshal(map[string]any{"id": id, "text": text, "to": to, "from": rpNumber})
	code, resp := h.post("/rapidpro/rp-main/send", "application/json", "", string(body))
	if code != 200 {
		h.t.Fatalf("send %s = %d %s", id, code, resp)
	}
	var m struct{ ID string }
	_ = json.Unmarshal(resp, &m)
	return m.ID
}

// statuses lists, in arrival order, the RapidPro status callbacks
// (sent, delivered, failed) the platform got for the message id.
// receipt has the simulator send a receipt with stat for the submit sub,
// and fails the test unless the bridge answers ESME_ROK.
func (h *harness) receipt(t testing.TB, sub smsctest.Submit, stat string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if st, err := h.smsc.SendReceipt(ctx, sub, smsctest.Receipt{Stat: stat}); err != nil || st != pdu.StatusOK {
		t.Fatalf("receipt %s: %v %v", stat, st, err)
	}
}

func statuses(t testing.TB, reqs []platformReq, id string) []string {
	var out []string
	for _, r := range reqs {
		for _, st := range []string{"sent", "delivered", "failed"} {
			if strings.HasSuffix(r.Path, "/"+st) && r.form(t).Get("id") == id {
				out = append(out, st)
			}
		}
	}
	return out
}

func hasStatus(t testing.TB, id, st string) func([]platformReq) bool {
	return func(r []platformReq) bool {
		for _, s := range statuses(t, r, id) {
			if s == st {
				return true
			}
		}
		return false
	}
}

// adminCall makes an admin API request with the harness's admin token.
func (h *harness) adminCall(method, path string) (int, []byte) {
	h.t.Helper()
	req, _ := http.NewRequest(method, "http://"+h.d.AdminAddr()+path, nil)
	req.Header.Set("Authorization", "Bearer "+h.cfg.Admin.Token)
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// waitDead waits for n dead letters in lane whose reason starts with prefix.
func (h *harness) waitDead(lane, prefix string, n int) []store.Item {
	h.t.Helper()
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		dead, err := h.d.store.ListDead(context.Background(), lane, 100)
		if err != nil {
			h.t.Fatal(err)
		}
		var match []store.Item
		for _, it := range dead {
			if strings.HasPrefix(it.DeadReason, prefix) {
				match = append(match, it)
			}
		}
		if len(match) >= n {
			return match
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("waited for %d dead letters %q in %s; have %+v", n, prefix, lane, dead)
		}
	}
}

// quiet gives a wrong extra callback a chance to show up.
func quiet() { time.Sleep(400 * time.Millisecond) }

// Item 4: an MT whose retries run out is reported failed, in the same store
// call that dead-letters it.
func TestExhaustedMTReportsFailed(t *testing.T) {
	h := newHarnessWith(t, func(h *harness) { h.cfg.Retry.MaxAttempts = 3 })
	h.waitBound()
	h.smsc.SetStatus(pdu.StatusSysErr, false) // temporary, every time
	h.sendRP("5001", "never goes through", "+250788123123")
	reqs := h.plat.wait(t, "failed callback after the last attempt", hasStatus(t, "5001", "failed"))
	if got := statuses(t, reqs, "5001"); fmt.Sprint(got) != "[failed]" {
		t.Errorf("statuses = %v, want [failed]", got)
	}
	h.waitDead("mt:agg-a", "", 1)
	if n := len(h.smsc.Submits()); n != 3 {
		t.Errorf("submits = %d, want 3 (max_attempts)", n)
	}
	// The custom channel hears message_status failed the same way.
	msg := `{"channelId":"` + customChanID + `","contactId":"+60123456789","message":{"type":"text","text":"nope"}}`
	code, resp := h.post("/custom/telenet/message", "application/json", "Bearer "+customToken, msg)
	if code != 200 {
		t.Fatalf("custom message = %d %s", code, resp)
	}
	mid, _ := decodeJSON(t, resp)["mId"].(string)
	h.plat.wait(t, "message_status failed", func(r []platformReq) bool {
		for _, q := range withPath(r, "/custom/webhook") {
			if strings.Contains(string(q.Body), mid) && strings.Contains(string(q.Body), `"failed"`) {
				return true
			}
		}
		return false
	})
}

// unknownOutcomes makes n MT whose submit_sm get no response at all and
// returns their dead letters (reason unknown_outcome).
func (h *harness) unknownOutcomes(ids ...string) []store.Item {
	h.t.Helper()
	h.smsc.DropResponses(len(ids))
	for _, id := range ids {
		h.sendRP(id, "lost "+id, "+25078812300"+id[len(id)-1:])
	}
	dead := h.waitDead("mt:agg-a", "unknown_outcome", len(ids))
	h.smsc.DropResponses(0)
	return dead
}

func deadFor(t testing.TB, dead []store.Item, ext string) string {
	t.Helper()
	for _, it := range dead {
		if rec, _ := bridge.RedactPayload(it.Lane, it.Payload); strings.Contains(string(rec), `"ext":"`+ext+`"`) {
			return it.ID
		}
	}
	t.Fatalf("no dead letter for %s in %+v", ext, dead)
	return ""
}

// Item 4: dropping an MT dead letter through the admin API reports failed;
// requeueing it does not (it is sent again and reported sent).
func TestAdminDropMTReportsFailed(t *testing.T) {
	h := newHarness(t)
	h.waitBound()
	dead := h.unknownOutcomes("6001", "6002")
	if code, body := h.adminCall("DELETE", "/queue/dead/"+deadFor(t, dead, "6001")); code != 200 {
		t.Fatalf("drop = %d %s", code, body)
	}
	if code, body := h.adminCall("POST", "/queue/dead/"+deadFor(t, dead, "6002")+"/requeue"); code != 200 {
		t.Fatalf("requeue = %d %s", code, body)
	}
	reqs := h.plat.wait(t, "failed for the dropped, sent for the requeued", func(r []platformReq) bool {
		return hasStatus(t, "6001", "failed")(r) && hasStatus(t, "6002", "sent")(r)
	})
	quiet()
	reqs = h.plat.all()
	if got := statuses(t, reqs, "6001"); fmt.Sprint(got) != "[failed]" {
		t.Errorf("dropped MT statuses = %v, want [failed]", got)
	}
	if got := statuses(t, reqs, "6002"); fmt.Sprint(got) != "[sent]" {
		t.Errorf("requeued MT statuses = %v, want [sent]", got)
	}
}

// Item 4: `smscbridge queue drop` works offline on the file and still
// reports failed for an MT: the callback is queued with the drop and goes
// out when the daemon runs again.
func TestQueueDropMTReportsFailed(t *testing.T) {
	h := newHarness(t)
	h.waitBound()
	dead := h.unknownOutcomes("7001", "7002")
	h.shutdown()
	config := filepath.Join(t.TempDir(), "smscbridge.toml")
	toml := fmt.Sprintf(`
[store]
path = %q
[[smsc]]
id = "agg-a"
host = "127.0.0.1"
system_id = "bridge"
password = "secret"
[[channel]]
id = "rp-main"
kind = "rapidpro"
numbers = [%q]
smsc = ["agg-a"]
receive_url = "%s/c/ex/%s/receive"
`, h.cfg.Store.Path, rpNumber, h.plat.srv.URL, rpUUID)
	if err := os.WriteFile(config, []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	// Without the configuration it cannot build the callback: refused.
	if code, _, errs := runQueue(t, "drop", deadFor(t, dead, "7001"), "-db", h.cfg.Store.Path); code != 2 || !strings.Contains(errs, "-config") {
		t.Errorf("queue drop -db of an MT dead letter = %d %q, want a usage error asking for -config", code, errs)
	}
	if code, out, errs := runQueue(t, "drop", deadFor(t, dead, "7001"), "-config", config); code != 0 {
		t.Fatalf("queue drop = %d %s %s", code, out, errs)
	}
	if code, out, errs := runQueue(t, "drop", "-dead", "-lane", "mt:agg-a", "-config", config); code != 0 || !strings.Contains(out, "dropped 1 ") {
		t.Fatalf("queue drop -dead -lane = %d %s %s", code, out, errs)
	}
	h.start()
	h.plat.wait(t, "failed callbacks for the dropped MT", func(r []platformReq) bool {
		return hasStatus(t, "7001", "failed")(r) && hasStatus(t, "7002", "failed")(r)
	})
}

// Item 5: max_age applies while an MT waits for a bind that never comes.
func TestMTForDeadSMSCExpires(t *testing.T) {
	h := newHarnessWith(t, func(h *harness) {
		h.smsc.RefuseBinds(pdu.StatusBindFail)
		h.cfg.Retry.MaxAge.Duration = time.Second
	})
	h.sendRP("8001", "nobody will bind", "+250788123123")
	h.plat.wait(t, "failed callback after max_age", hasStatus(t, "8001", "failed"))
	h.waitDead("mt:agg-a", "", 1)
}

// Item 5: an MT whose SMSC has had no bind for failover_after moves to the
// next SMSC of its channel's list.
func TestMTFailsOverToNextSMSC(t *testing.T) {
	simB := smsctest.NewServer(smsctest.WithAccount("bridge", "secret"))
	t.Cleanup(simB.Close)
	h := newHarnessWith(t, func(h *harness) {
		h.smsc.RefuseBinds(pdu.StatusBindFail)
		simB.RefuseBinds(pdu.StatusBindFail)
		b := h.cfg.SMSC[0]
		b.ID = "agg-b"
		_, port, _ := strings.Cut(simB.Addr(), ":")
		fmt.Sscan(port, &b.Port)
		h.cfg.SMSC = append(h.cfg.SMSC, b)
		for i := range h.cfg.SMSC {
			h.cfg.SMSC[i].FailoverAfter.Duration = 500 * time.Millisecond
		}
		for i := range h.cfg.Channel {
			h.cfg.Channel[i].SMSC = []string{"agg-a", "agg-b"}
		}
	})
	h.sendRP("9001", "take the other road", "+250788123123") // both down: queued for agg-a
	simB.RefuseBinds(pdu.StatusOK)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	subs, err := simB.WaitSubmits(ctx, 1)
	if err != nil {
		t.Fatalf("MT never failed over to agg-b: %v", err)
	}
	if dec, _ := coding.Decode(subs[0].SM.DataCoding, subs[0].SM.Message); dec != "take the other road" {
		t.Errorf("agg-b got %q", dec)
	}
	reqs := h.plat.wait(t, "sent callback", hasStatus(t, "9001", "sent"))
	if got := statuses(t, reqs, "9001"); fmt.Sprint(got) != "[sent]" {
		t.Errorf("statuses = %v, want [sent]", got)
	}
	if n := len(h.smsc.Submits()); n != 0 {
		t.Errorf("agg-a got %d submits", n)
	}
}

// Item 5: work queued for an SMSC or channel no longer in the config is
// reported in /status, not silently orphaned.
func TestOrphanedLanesReported(t *testing.T) {
	h := newHarnessWith(t, func(h *harness) {
		s, err := store.Open(store.Options{Path: h.cfg.Store.Path})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		for _, lane := range []string{"mt:agg-gone", "http:old-channel", "in:agg-gone"} {
			if _, _, err := s.Enqueue(context.Background(), store.NewItem{Lane: lane, Payload: []byte("{}")}); err != nil {
				t.Fatal(err)
			}
		}
	})
	code, body := h.adminCall("GET", "/status")
	if code != 200 {
		t.Fatalf("status = %d %s", code, body)
	}
	var st struct {
		Orphaned map[string]laneCount `json:"orphaned_lanes"`
	}
	if err := json.Unmarshal(body, &st); err != nil {
		t.Fatal(err)
	}
	for _, lane := range []string{"mt:agg-gone", "http:old-channel", "in:agg-gone"} {
		if st.Orphaned[lane].Queued != 1 {
			t.Errorf("orphaned_lanes[%s] = %+v, want 1 queued; /status: %s", lane, st.Orphaned[lane], body)
		}
	}
	if _, ok := st.Orphaned["mt:agg-a"]; ok {
		t.Errorf("a configured lane is reported orphaned: %s", body)
	}
}

// Item 6: RapidPro's Resend (same id and text) after the bridge reported
// failed is a new attempt: sent to the SMSC and reported again.
func TestRapidProResendAfterFailed(t *testing.T) {
	h := newHarness(t)
	h.waitBound()
	h.smsc.SetStatus(pdu.StatusInvDstAdr, false) // permanent
	h.sendRP("1101", "try me twice", "+250788123123")
	h.plat.wait(t, "failed callback", hasStatus(t, "1101", "failed"))
	quiet() // the failed callback has completed
	h.smsc.SetStatus(pdu.StatusOK, false)
	h.sendRP("1101", "try me twice", "+250788123123") // Resend
	reqs := h.plat.wait(t, "sent after the resend", hasStatus(t, "1101", "sent"))
	if got := statuses(t, reqs, "1101"); fmt.Sprint(got) != "[failed sent]" {
		t.Errorf("statuses = %v, want [failed sent]", got)
	}
	if n := len(h.smsc.Submits()); n != 2 {
		t.Errorf("submits = %d, want 2", n)
	}
	// A platform retry of the resend (no failure reported since) is still
	// a duplicate.
	h.sendRP("1101", "try me twice", "+250788123123")
	quiet()
	if n := len(h.smsc.Submits()); n != 2 {
		t.Errorf("submits after a duplicate = %d, want 2", n)
	}
}

// Item 6 with courier chunks: every chunk of a message failed as a whole
// is sent again on Resend, also the chunks that had gone out.
func TestRapidProResendResendsEveryChunk(t *testing.T) {
	h := newHarness(t)
	h.waitBound()
	var mu sync.Mutex
	n := 0
	h.smsc.SetHandler(smsctest.HandlerFunc(func(s *smsctest.Session, p *pdu.PDU) *pdu.PDU {
		if p.ID == pdu.SubmitSM {
			mu.Lock()
			n++
			second := n == 2
			mu.Unlock()
			if second {
				return pdu.NewResponse(p, pdu.StatusInvDstAdr, nil)
			}
		}
		return h.smsc.Default(s, p)
	}))
	h.sendRP("1201", "chunk one", "+250788123123")
	h.sendRP("1201", "chunk two", "+250788123123")
	h.plat.wait(t, "failed callback", hasStatus(t, "1201", "failed"))
	quiet()
	h.sendRP("1201", "chunk one", "+250788123123")
	h.sendRP("1201", "chunk two", "+250788123123")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := h.smsc.WaitSubmits(ctx, 3); err != nil { // chunk two's refusal is not recorded
		t.Fatalf("resent chunks: %v (submits %d)", err, len(h.smsc.Submits()))
	}
	// First attempt: chunk one sent, chunk two failed; the resend: sent.
	reqs := h.plat.wait(t, "sent after the resend", func(r []platformReq) bool {
		return len(statuses(t, r, "1201")) >= 3
	})
	if got := statuses(t, reqs, "1201"); fmt.Sprint(got) != "[sent failed sent]" {
		t.Errorf("statuses = %v, want [sent failed sent]", got)
	}
}

// udhSeqRef returns the concatenation sequence number and reference of a
// submit's UDH.
func udhSeqRef(t testing.TB, s smsctest.Submit) (seq, ref int) {
	c, _, err := coding.ParseUDH(s.SM.Message)
	if err != nil || c == nil {
		t.Fatalf("part without UDH: %v", err)
	}
	return c.Seq, int(c.Ref)
}

// Item 7: a temporary error on part 2 of a 3-part MT retries part 2 and 3
// only, under the same concatenation reference, and part 1's receipt still
// matches.
func TestMultipartRetryResendsOnlyMissingParts(t *testing.T) {
	h := newHarness(t)
	h.waitBound()
	var mu sync.Mutex
	n := 0
	h.smsc.SetHandler(smsctest.HandlerFunc(func(s *smsctest.Session, p *pdu.PDU) *pdu.PDU {
		if p.ID == pdu.SubmitSM {
			mu.Lock()
			n++
			second := n == 2
			mu.Unlock()
			if second {
				return pdu.NewResponse(p, pdu.StatusSysErr, nil) // temporary, not a throttle
			}
		}
		return h.smsc.Default(s, p)
	}))
	text := strings.Repeat("part by part ", 30) // 390 GSM characters: 3 parts
	h.sendRP("1301", text, "+250788123123")
	h.plat.wait(t, "sent callback", hasStatus(t, "1301", "sent"))
	var seqs []int
	refs := map[int]bool{}
	var accepted []smsctest.Submit
	for _, s := range h.smsc.Submits() {
		if s.Status != pdu.StatusOK {
			continue
		}
		seq, ref := udhSeqRef(t, s)
		seqs, refs[ref] = append(seqs, seq), true
		accepted = append(accepted, s)
	}
	if fmt.Sprint(seqs) != "[1 2 3]" || len(refs) != 1 {
		t.Fatalf("accepted parts = %v with refs %v, want [1 2 3] under one reference", seqs, refs)
	}
	// Every part's receipt maps: all delivered → delivered.
	for _, s := range accepted {
		h.receipt(t, s, "DELIVRD")
	}
	reqs := h.plat.wait(t, "delivered callback", hasStatus(t, "1301", "delivered"))
	if got := statuses(t, reqs, "1301"); fmt.Sprint(got) != "[sent delivered]" {
		t.Errorf("statuses = %v, want [sent delivered]", got)
	}
}

// Item 7: courier's chunks of one message (same id) and the parts of one
// MT merge into one status: failed if any failed, else the least advanced.
func TestChunkStatusesMerge(t *testing.T) {
	h := newHarness(t)
	h.waitBound()
	for i := range 4 {
		h.sendRP("1401", fmt.Sprintf("chunk %d of a courier message", i+1), "+250788123123")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	subs, err := h.smsc.WaitSubmits(ctx, 4)
	if err != nil {
		t.Fatal(err)
	}
	h.plat.wait(t, "sent", hasStatus(t, "1401", "sent"))
	quiet()
	for i, stat := range []string{"DELIVRD", "UNDELIV", "UNDELIV", "DELIVRD"} {
		h.receipt(t, subs[i], stat)
	}
	h.plat.wait(t, "failed", hasStatus(t, "1401", "failed"))
	quiet()
	if got := statuses(t, h.plat.all(), "1401"); fmt.Sprint(got) != "[sent failed]" {
		t.Errorf("statuses = %v, want [sent failed]", got)
	}

	// A 2-part MT whose last part is delivered first is not delivered
	// until the first part is.
	h.sendRP("1402", strings.Repeat("two parts ", 20), "+250788123124")
	subs, err = h.smsc.WaitSubmits(ctx, 6)
	if err != nil {
		t.Fatal(err)
	}
	h.plat.wait(t, "sent", hasStatus(t, "1402", "sent"))
	h.smsc.SendReceipt(ctx, subs[5], smsctest.Receipt{Stat: "DELIVRD"})
	quiet()
	if got := statuses(t, h.plat.all(), "1402"); fmt.Sprint(got) != "[sent]" {
		t.Errorf("after part 2's receipt: statuses = %v, want [sent]", got)
	}
	h.smsc.SendReceipt(ctx, subs[4], smsctest.Receipt{Stat: "DELIVRD"})
	reqs := h.plat.wait(t, "delivered", hasStatus(t, "1402", "delivered"))
	if got := statuses(t, reqs, "1402"); fmt.Sprint(got) != "[sent delivered]" {
		t.Errorf("statuses = %v, want [sent delivered]", got)
	}
}

// Item 7: "never move backwards" survives a restart: a failed receipt
// repeated after delivered was reported, and after a restart, is ignored.
func TestStatusNeverBackwardsAcrossRestart(t *testing.T) {
	h := newHarness(t)
	h.waitBound()
	h.sendRP("1501", "delivered once", "+250788123123")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	subs, err := h.smsc.WaitSubmits(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	h.plat.wait(t, "sent", hasStatus(t, "1501", "sent"))
	h.smsc.SendReceipt(ctx, subs[0], smsctest.Receipt{Stat: "DELIVRD"})
	h.plat.wait(t, "delivered", hasStatus(t, "1501", "delivered"))
	h.shutdown()
	h.start()
	h.waitBound()
	h.receipt(t, subs[0], "UNDELIV")
	time.Sleep(time.Second)
	if got := statuses(t, h.plat.all(), "1501"); fmt.Sprint(got) != "[sent delivered]" {
		t.Errorf("statuses = %v, want [sent delivered]", got)
	}
}

// Item 8: a late submit_sm_resp with a temporary status puts the MT back
// in the queue: it is sent again and reported sent, never failed.
func TestLateTemporaryRespRetries(t *testing.T) {
	h := newHarness(t)
	h.waitBound()
	var mu sync.Mutex
	n := 0
	h.smsc.SetHandler(smsctest.HandlerFunc(func(s *smsctest.Session, p *pdu.PDU) *pdu.PDU {
		if p.ID != pdu.SubmitSM {
			return h.smsc.Default(s, p)
		}
		mu.Lock()
		n++
		first := n == 1
		mu.Unlock()
		if !first {
			return h.smsc.Default(s, p)
		}
		go func() {
			time.Sleep(2500 * time.Millisecond) // response_timeout is 2s in the harness
			s.Write(pdu.NewResponse(p, pdu.StatusSysErr, nil))
		}()
		return nil
	}))
	h.sendRP("1601", "late and temporary", "+250788123123")
	reqs := h.plat.wait(t, "sent after the late temporary error", hasStatus(t, "1601", "sent"))
	if got := statuses(t, reqs, "1601"); fmt.Sprint(got) != "[sent]" {
		t.Errorf("statuses = %v, want [sent]", got)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		dead, _ := h.d.store.ListDead(context.Background(), "", 10)
		if len(dead) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("dead letters = %+v, want none", dead)
		}
	}
}

// Item 8: a late response for a dead letter an operator has requeued
// meanwhile leaves the live item alone: it completes, and its receipt
// mapping is there.
func TestLateRespAfterRequeueKeepsLiveItem(t *testing.T) {
	h := newHarness(t)
	h.waitBound()
	var mu sync.Mutex
	n := 0
	h.smsc.SetHandler(smsctest.HandlerFunc(func(s *smsctest.Session, p *pdu.PDU) *pdu.PDU {
		if p.ID != pdu.SubmitSM {
			return h.smsc.Default(s, p)
		}
		resp := h.smsc.Default(s, p)
		mu.Lock()
		n++
		delay := map[int]time.Duration{1: 3 * time.Second, 2: 1500 * time.Millisecond}[n]
		mu.Unlock()
		go func() {
			time.Sleep(delay)
			s.Write(resp)
		}()
		return nil
	}))
	h.sendRP("1701", "requeued meanwhile", "+250788123123")
	dead := h.waitDead("mt:agg-a", "unknown_outcome", 1)
	if code, body := h.adminCall("POST", "/queue/dead/"+dead[0].ID+"/requeue"); code != 200 {
		t.Fatalf("requeue = %d %s", code, body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	subs, err := h.smsc.WaitSubmits(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	h.plat.wait(t, "sent", hasStatus(t, "1701", "sent"))
	time.Sleep(2 * time.Second) // both responses are in
	h.receipt(t, subs[1], "DELIVRD")
	reqs := h.plat.wait(t, "delivered for the requeued submit", hasStatus(t, "1701", "delivered"))
	if got := statuses(t, reqs, "1701"); fmt.Sprint(got) != "[sent delivered]" {
		t.Errorf("statuses = %v, want [sent delivered]", got)
	}
}

// Item 8 with a multi-part MT: a late OK for part 2 of 3 settles that part
// and sends part 3 under the same reference; the MT ends sent, not a dead
// letter.
func TestLateRespForPartResumes(t *testing.T) {
	h := newHarness(t)
	h.waitBound()
	var mu sync.Mutex
	n := 0
	h.smsc.SetHandler(smsctest.HandlerFunc(func(s *smsctest.Session, p *pdu.PDU) *pdu.PDU {
		resp := h.smsc.Default(s, p)
		if p.ID != pdu.SubmitSM {
			return resp
		}
		mu.Lock()
		n++
		second := n == 2
		mu.Unlock()
		if !second {
			return resp
		}
		go func() {
			time.Sleep(2500 * time.Millisecond) // response_timeout is 2s in the harness
			s.Write(resp)
		}()
		return nil
	}))
	h.sendRP("1801", strings.Repeat("late middle ", 30), "+250788123123") // 360 GSM characters: 3 parts
	reqs := h.plat.wait(t, "sent once every part is in", hasStatus(t, "1801", "sent"))
	var seqs []int
	refs := map[int]bool{}
	subs := h.smsc.Submits()
	for _, s := range subs {
		seq, ref := udhSeqRef(t, s)
		seqs, refs[ref] = append(seqs, seq), true
	}
	if fmt.Sprint(seqs) != "[1 2 3]" || len(refs) != 1 {
		t.Fatalf("parts submitted = %v with refs %v, want [1 2 3] under one reference", seqs, refs)
	}
	for _, s := range subs {
		h.receipt(t, s, "DELIVRD")
	}
	reqs = h.plat.wait(t, "delivered", hasStatus(t, "1801", "delivered"))
	if got := statuses(t, reqs, "1801"); fmt.Sprint(got) != "[sent delivered]" {
		t.Errorf("statuses = %v, want [sent delivered]", got)
	}
	if dead, _ := h.d.store.ListDead(context.Background(), "", 10); len(dead) != 0 {
		t.Errorf("dead letters = %+v, want none", dead)
	}
}
