//go:build interop

package interop

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smscbridge/smscbridge/smsc"
	"github.com/smscbridge/smscbridge/smsc/coding"
	"github.com/smscbridge/smscbridge/smsc/dlr"
	"github.com/smscbridge/smscbridge/smsc/pdu"
)

const theirs = "15550002222"

// Texts sent by our ESME. longGSM has every GSM extension character and
// enough of them that a naive splitter would cut an escape pair;
// longUCS2 puts an emoji across each 67-unit boundary.
var (
	shortGSM  = "Hello from smscbridge @ £$ ÄÖÜ ñ è é"
	longGSM   = strings.Repeat("Ext {}[]~€ and \\^| in GSM-7: ", 8) + "end"
	shortUCS2 = "Emoji 😀 and ✓ ünïcödé — UCS-2"
	longUCS2  = strings.Repeat("x", 66) + "😀" + strings.Repeat("y", 65) + "🎉" + strings.Repeat("z", 10)
	moUCS2    = strings.Repeat("Привет, мир! 😀 ", 10) + "конец"
)

// esme is our smsc.Client bound to a node-smsc, with every inbound PDU the
// handler saw.
type esme struct {
	c      *smsc.Client
	cancel context.CancelFunc
	done   chan error

	mu      sync.Mutex
	in      []*pdu.ShortMessage
	data    []*pdu.DataSMBody
	arrived chan struct{}
	status  func(*pdu.ShortMessage) pdu.Status // handler's answer; nil = OK
}

// startESME runs a Client against addr in the given bind mode.
func startESME(t *testing.T, addr string, mode smsc.BindMode, status func(*pdu.ShortMessage) pdu.Status) *esme {
	t.Helper()
	return startESMEWith(t, addr, mode, status, nil)
}

// startESMEWith is startESME with a hook to change the Options.
func startESMEWith(t *testing.T, addr string, mode smsc.BindMode, status func(*pdu.ShortMessage) pdu.Status, edit func(*smsc.Options)) *esme {
	t.Helper()
	e := &esme{done: make(chan error, 1), arrived: make(chan struct{}, 100), status: status}
	var logger *slog.Logger
	if os.Getenv("INTEROP_DEBUG") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	o := smsc.Options{
		ID: "node", Addr: addr, SystemID: "esme", Password: "secret", Bind: mode,
		ReconnectDelay: 200 * time.Millisecond, ReconnectMax: time.Second,
		EnquireLink:     300 * time.Millisecond, // so every test also exercises ours
		ResponseTimeout: 5 * time.Second, UnbindTimeout: 3 * time.Second, ThrottlePause: 200 * time.Millisecond,
		ThrottleMax: time.Second, ThrottleTimeout: 2 * time.Second, // the "throttled" case is throttled for good
		Handler: smsc.HandlerFunc(e.handle), Logger: logger,
	}
	if edit != nil {
		edit(&o)
	}
	c, err := smsc.New(o)
	if err != nil {
		t.Fatalf("smsc.New: %v", err)
	}
	e.c = c
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	go func() { e.done <- c.Run(ctx) }()
	t.Cleanup(func() { e.stop(t) })
	return e
}

func (e *esme) handle(_ context.Context, p *pdu.PDU) pdu.Status {
	sm, ok := p.Body.(*pdu.ShortMessage)
	if !ok {
		if d, ok := p.Body.(*pdu.DataSMBody); ok {
			e.mu.Lock()
			e.data = append(e.data, d)
			e.mu.Unlock()
		}
		return pdu.StatusOK
	}
	st := pdu.StatusOK
	if e.status != nil {
		st = e.status(sm)
	}
	e.mu.Lock()
	e.in = append(e.in, sm)
	e.mu.Unlock()
	e.arrived <- struct{}{}
	return st
}

// waitInbound waits until the handler has seen n PDUs and returns them.
func (e *esme) waitInbound(t *testing.T, n int) []*pdu.ShortMessage {
	t.Helper()
	deadline := time.After(waitLong)
	for {
		e.mu.Lock()
		got := append([]*pdu.ShortMessage(nil), e.in...)
		e.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-e.arrived:
		case <-deadline:
			t.Fatalf("our handler got %d inbound PDUs, want %d", len(got), n)
		}
	}
}

// stop cancels Run and waits (bounded) for the graceful unbind.
func (e *esme) stop(t *testing.T) {
	e.cancel()
	select {
	case err := <-e.done:
		if err != nil {
			t.Errorf("Run returned %v", err)
		}
		e.done <- err // stop may be called again
	case <-time.After(10 * time.Second):
		t.Errorf("Run did not return within 10s of cancel")
	}
}

func mustBound(t *testing.T, e *esme) {
	t.Helper()
	waitFor(t, "client bound", waitLong, func() error {
		if e.c.Bound() {
			return nil
		}
		return fmt.Errorf("stats %+v", e.c.Stats())
	})
}

// submitText builds the submit_sm PDUs for text with smsc.BuildSubmits and
// submits them in order, returning the message ids.
func submitText(t *testing.T, e *esme, c submitCase, ref uint16, receipt bool) ([]*pdu.ShortMessage, []string) {
	t.Helper()
	dst, text := c.dst, c.text
	parts, err := smsc.BuildSubmits(smsc.Address{Addr: ourNumber}, smsc.Address{Addr: dst, TON: 1, NPI: 1}, text,
		smsc.SubmitOptions{Coding: coding.GSM7, Long: c.long, Ref: ref, RegisteredDelivery: receipt})
	if err != nil {
		t.Fatalf("BuildSubmits(%q): %v", text, err)
	}
	ids := make([]string, len(parts))
	for i, sm := range parts {
		ctx, cancel := context.WithTimeout(context.Background(), waitLong)
		ids[i], err = e.c.Submit(ctx, sm)
		cancel()
		if err != nil {
			t.Fatalf("Submit part %d/%d of %q: %v", i+1, len(parts), text, err)
		}
	}
	return parts, ids
}

// peerSubmits returns the submit_sm events the peer recorded for dst.
func peerSubmits(s *nodeSMSC, dst string, n int) []event {
	return s.waitN("submit_sm to "+dst, n, waitLong, func(e event) bool {
		return e.Ev == "pdu" && e.Dir == "in" && e.Command == "submit_sm" && e.Raw != nil && e.Raw.DestinationAddr == dst
	})
}

// submitCase is one text our ESME sends, with what the peer must see.
type submitCase struct {
	name  string
	dst   string // unique per case, to find the peer's record
	text  string
	long  smsc.LongMode
	dc    uint8 // data_coding of every part
	parts int   // submit_sm PDUs
}

// checkPeerView asserts what the peer decoded from our submit_sm PDUs: one
// PDU per part with the right data_coding, the concatenation data (UDH with
// esm_class 0x40, or SAR TLVs, or one message_payload), GSM escape pairs and
// surrogate pairs kept whole, the text re-joined by the peer's own decoder
// equal to the original, and the id Submit returned equal to the peer's.
func checkPeerView(t *testing.T, s *nodeSMSC, c submitCase, ids []string) {
	t.Helper()
	evs := peerSubmits(s, c.dst, c.parts)
	if len(evs) != c.parts || len(ids) != c.parts {
		t.Fatalf("peer saw %d submit_sm to %s, we sent %d, want %d", len(evs), c.dst, len(ids), c.parts)
	}
	var joined strings.Builder
	ref := -1
	for i, ev := range evs {
		r := ev.Raw
		sm := r.sm()
		if r.DataCoding != c.dc {
			t.Errorf("part %d: peer saw data_coding 0x%02x, want 0x%02x (hex %s)", i+1, r.DataCoding, c.dc, ev.Hex)
		}
		if r.Trailing != 0 || r.SMLength != len(sm) {
			t.Errorf("part %d: malformed body: sm_length %d, %d octets, %d trailing (hex %s)", i+1, r.SMLength, len(sm), r.Trailing, ev.Hex)
		}
		if r.ValidityPeriod != "" || r.ScheduleDelivery != "" {
			t.Errorf("part %d: time fields set (validity %q, schedule %q); smpp.md pitfall 24 says send them empty", i+1, r.ValidityPeriod, r.ScheduleDelivery)
		}
		udhi := r.ESMClass&0x40 != 0
		payload, gotRef := sm, -1
		switch {
		case c.long == smsc.LongPayload && c.parts == 1 && r.SMLength == 0:
			if udhi || ev.Lib.PayloadText != c.text {
				t.Errorf("message_payload: esm_class 0x%02x, peer decoded %q, want %q", r.ESMClass, ev.Lib.PayloadText, c.text)
			}
			joined.WriteString(ev.Lib.PayloadText)
			continue
		case c.parts == 1:
			if udhi || len(ev.Lib.UDH) != 0 || ev.Lib.SARTotal != nil {
				t.Errorf("single part with concatenation data (esm_class 0x%02x, udh %v, sar %v)", r.ESMClass, ev.Lib.UDH, ev.Lib.SARTotal)
			}
		case c.long == smsc.LongSAR:
			if udhi || ev.Lib.SARRef == nil || ev.Lib.SARTotal == nil || ev.Lib.SARSeq == nil {
				t.Fatalf("part %d: esm_class 0x%02x, SAR TLVs %v; want no UDHI and all three SAR TLVs (hex %s)", i+1, r.ESMClass, ev.Lib, ev.Hex)
			}
			if *ev.Lib.SARTotal != c.parts || *ev.Lib.SARSeq != i+1 {
				t.Errorf("part %d: sar total %d seq %d, want %d %d", i+1, *ev.Lib.SARTotal, *ev.Lib.SARSeq, c.parts, i+1)
			}
			gotRef = *ev.Lib.SARRef
		default: // UDH, 8- or 16-bit reference
			want := []byte{5, 0, 3}
			if c.long == smsc.LongUDH16 {
				want = []byte{6, 8, 4}
			}
			n := int(want[0]) + 1
			if !udhi || len(sm) < n || !bytes.Equal(sm[:3], want) || int(sm[n-2]) != c.parts || int(sm[n-1]) != i+1 {
				t.Fatalf("part %d: esm_class 0x%02x UDH %x, want UDHI and %x … %02x %02x", i+1, r.ESMClass, sm[:min(n, len(sm))], want, c.parts, i+1)
			}
			// The library lists the UDH's information elements.
			if ie := hex.EncodeToString(sm[1:n]); len(ev.Lib.UDH) != 1 || ev.Lib.UDH[0] != ie {
				t.Errorf("part %d: peer's UDH IEs %v, want [%s]", i+1, ev.Lib.UDH, ie)
			}
			gotRef = int(sm[3])
			if n == 7 {
				gotRef = int(sm[3])<<8 | int(sm[4])
			}
			payload = sm[n:]
		}
		if ref == -1 {
			ref = gotRef
		} else if gotRef != ref {
			t.Errorf("part %d: reference %d, part 1 had %d", i+1, gotRef, ref)
		}
		checkSegment(t, i+1, c, payload)
		joined.WriteString(ev.Lib.Text)
		resp := s.wait("submit_sm_resp", waitLong, func(o event) bool {
			return o.Ev == "pdu" && o.Dir == "out" && o.Command == "submit_sm_resp" && o.Session == ev.Session && o.Seq == ev.Seq
		})
		if resp.MessageID != ids[i] {
			t.Errorf("part %d: Submit returned id %q, peer sent %q", i+1, ids[i], resp.MessageID)
		}
	}
	if got := joined.String(); got != c.text {
		t.Errorf("peer decoded %q\n want %q", got, c.text)
	}
}

// checkSegment checks one part's user data against smpp.md §6.4.
func checkSegment(t *testing.T, part int, c submitCase, payload []byte) {
	t.Helper()
	udh := 0
	switch {
	case c.parts == 1 || c.long == smsc.LongSAR:
	case c.long == smsc.LongUDH16:
		udh = 7
	default:
		udh = 6
	}
	var limit int
	switch c.dc {
	case 0x00:
		limit = coding.Capacity(coding.GSM7, udh)
		if n := len(payload); n > 0 && payload[n-1] == 0x1b {
			t.Errorf("part %d ends with a lone ESC (escape pair split)", part)
		}
	case 0x08:
		limit = 2 * coding.Capacity(coding.UCS2, udh)
		if n := len(payload); n%2 != 0 || n >= 2 && payload[n-2] >= 0xd8 && payload[n-2] <= 0xdb {
			t.Errorf("part %d: %d octets of UCS-2 ending %x (odd, or a split surrogate pair)", part, n, payload[max(0, n-2):])
		}
	}
	if len(payload) > limit {
		t.Errorf("part %d: %d units of user data, max %d", part, len(payload), limit)
	}
}

// checkPeerClean asserts the peer never had to reject or nack anything of
// ours and never saw a framing error.
// allowed lists the error statuses a test provoked on purpose.
func checkPeerClean(t *testing.T, s *nodeSMSC, allowed map[string][]pdu.Status) {
	t.Helper()
	for _, e := range s.find(func(e event) bool { return true }) {
		switch {
		case e.Ev == "session_error" || e.Ev == "unparsed":
			t.Errorf("peer reported %s: %s", e.Ev, e.Error)
		case e.Ev != "pdu" || slices.Contains(allowed[e.Command], pdu.Status(e.Status)):
		case e.Command == "generic_nack" || e.Status != 0:
			t.Errorf("%s %s with status 0x%08x (hex %s)", e.Dir, e.Command, e.Status, e.Hex)
		}
	}
}

// checkSequences asserts every request we sent on a session had its own
// sequence number in 1..0x7FFFFFFF (smpp.md §1.3, pitfall 24), and every
// response we sent echoed a request of the peer.
func checkSequences(t *testing.T, s *nodeSMSC) {
	t.Helper()
	type key struct {
		session int
		seq     uint32
	}
	ours := map[key]string{}
	theirs := map[key]bool{}
	for _, e := range s.find(func(e event) bool { return e.Ev == "pdu" }) {
		k := key{e.Session, e.Seq}
		isResp := strings.HasSuffix(e.Command, "_resp") || e.Command == "generic_nack"
		switch {
		case e.Dir == "out" && !isResp:
			theirs[k] = true
		case e.Dir == "in" && !isResp:
			if e.Seq < 1 || e.Seq > 0x7FFFFFFF {
				t.Errorf("%s with sequence number %d", e.Command, e.Seq)
			}
			if prev, dup := ours[k]; dup {
				t.Errorf("session %d: %s reuses sequence number %d of %s", e.Session, e.Command, e.Seq, prev)
			}
			ours[k] = e.Command
		case e.Dir == "in" && isResp && !theirs[k]:
			t.Errorf("session %d: %s seq %d answers no request of the peer", e.Session, e.Command, e.Seq)
		}
	}
}

// receipts returns the receipts among ins, keyed by receipted id.
func receipts(t *testing.T, ins []*pdu.ShortMessage) map[string]*dlr.Receipt {
	t.Helper()
	out := map[string]*dlr.Receipt{}
	for _, sm := range ins {
		in, err := smsc.ParseInbound(sm, smsc.InboundOptions{})
		if err != nil {
			t.Errorf("ParseInbound(%x): %v", sm.Message, err)
			continue
		}
		if in.Receipt != nil {
			out[in.Receipt.ID] = in.Receipt
		}
	}
	return out
}

// TestTransceiver binds as transceiver and runs the whole exchange on one
// link: submits in every coding, receipts, MO single and concatenated, the
// handler's status in deliver_sm_resp, the SMSC's enquire_link and unbind.
func TestTransceiver(t *testing.T) {
	s := startNodeSMSC(t)
	e := startESME(t, s.Addr, smsc.Transceiver, func(sm *pdu.ShortMessage) pdu.Status {
		if bytes.Contains(sm.Message, []byte("reject me")) {
			return pdu.StatusRxTAppn
		}
		return pdu.StatusOK
	})
	mustBound(t, e)
	bind := s.wait("bind", waitLong, func(e event) bool { return e.Ev == "bind" })
	if !bind.OK || bind.Mode != "transceiver" || bind.Version != 0x34 {
		t.Errorf("peer saw bind %+v, want an accepted transceiver bind with interface_version 0x34", bind)
	}

	gsmParts := coding.Parts(longGSM, coding.GSM7, coding.UDHConcat8Len)
	if gsmParts < 2 {
		t.Fatalf("longGSM should need several parts, coding.Parts says %d", gsmParts)
	}
	cases := []submitCase{
		{"gsm7", "15550000001", shortGSM, smsc.LongUDH, 0x00, 1},
		{"gsm7-long-ext", "15550000002", longGSM, smsc.LongUDH, 0x00, gsmParts},
		{"ucs2-emoji", "15550000003", shortUCS2, smsc.LongUDH, 0x08, 1},
		{"ucs2-long", "15550000004", longUCS2, smsc.LongUDH, 0x08, 3},
		{"ucs2-long-udh16", "15550000007", longUCS2, smsc.LongUDH16, 0x08, 3},
		{"gsm7-long-sar", "15550000008", longGSM, smsc.LongSAR, 0x00, gsmParts},
		{"ucs2-long-payload", "15550000009", longUCS2, smsc.LongPayload, 0x08, 1},
	}
	var allIDs []string
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			parts, ids := submitText(t, e, tc, uint16(0x140+i), true)
			if len(parts) != tc.parts {
				t.Errorf("BuildSubmits made %d parts, want %d", len(parts), tc.parts)
			}
			checkPeerView(t, s, tc, ids)
			allIDs = append(allIDs, ids...)
		})
	}

	t.Run("concurrent-submits", func(t *testing.T) {
		// 40 submits from 8 goroutines share the window; each gets its own
		// id, and the peer sees each exactly once (checkSequences below
		// checks the sequence numbers).
		const n = 40
		ids := make([]string, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Go(func() {
				for i := w; i < n; i += 8 {
					sm := &pdu.ShortMessage{SourceAddr: ourNumber, DestAddr: fmt.Sprintf("1555010%04d", i), Message: []byte(fmt.Sprintf("burst %d", i))}
					ctx, cancel := context.WithTimeout(context.Background(), waitLong)
					ids[i], errs[i] = e.c.Submit(ctx, sm)
					cancel()
				}
			})
		}
		wg.Wait()
		seen := map[string]bool{}
		for i := range n {
			if errs[i] != nil || ids[i] == "" || seen[ids[i]] {
				t.Errorf("submit %d: id %q, %v (duplicate: %v)", i, ids[i], errs[i], seen[ids[i]])
			}
			seen[ids[i]] = true
		}
		got := s.waitN("burst submits", n, waitLong, func(e event) bool {
			return e.Ev == "pdu" && e.Dir == "in" && e.Command == "submit_sm" && e.Raw != nil && strings.HasPrefix(e.Raw.DestinationAddr, "1555010")
		})
		if len(got) != n {
			t.Errorf("peer saw %d burst submits, want %d", len(got), n)
		}
	})

	t.Run("receipts", func(t *testing.T) {
		got := receipts(t, e.waitInbound(t, len(allIDs)))
		for _, id := range allIDs {
			r, ok := got[id]
			if !ok {
				t.Errorf("no receipt for %s (got %v)", id, keys(got))
				continue
			}
			if r.State != dlr.Delivered || r.Stat != "DELIVRD" {
				t.Errorf("receipt %s: state %v stat %q, want Delivered/DELIVRD", id, r.State, r.Stat)
			}
		}
		s.waitN("deliver_sm_resp", len(allIDs), waitLong, inbound("deliver_sm_resp"))
	})

	t.Run("receipt-undeliverable", func(t *testing.T) {
		_, ids := submitText(t, e, submitCase{dst: "15550009995", text: "to an unreachable phone"}, 0, true)
		got := receipts(t, e.waitInbound(t, len(allIDs)+1))
		r, ok := got[ids[0]]
		if !ok || r.State != dlr.Failed || r.Stat != "UNDELIV" || r.MessageState != 5 {
			t.Errorf("receipt for %s = %+v, want Failed/UNDELIV with message_state 5", ids[0], r)
		}
		allIDs = append(allIDs, ids...)
	})

	t.Run("submit-refused", func(t *testing.T) {
		// The peer answers with a header-only error response (pitfall 1).
		sm := &pdu.ShortMessage{SourceAddr: ourNumber, DestAddr: "15550009999", Message: []byte("x")}
		_, err := e.c.Submit(context.Background(), sm)
		var st pdu.Status
		if !errors.As(err, &st) || st != pdu.StatusInvDstAdr {
			t.Errorf("Submit to a refused number = %v, want %v", err, pdu.StatusInvDstAdr)
		}
		if !e.c.Bound() {
			t.Errorf("an error response dropped the bind")
		}
	})

	t.Run("throttled", func(t *testing.T) {
		// The peer throttles this one every time: the client holds it,
		// resends it after each pause and hands the status back after
		// ThrottleTimeout.
		sm := &pdu.ShortMessage{SourceAddr: ourNumber, DestAddr: "15550009988", Message: []byte("x")}
		_, err := e.c.Submit(context.Background(), sm)
		var st pdu.Status
		if !errors.As(err, &st) || st != pdu.StatusThrottled {
			t.Fatalf("Submit throttled by the peer = %v, want %v", err, pdu.StatusThrottled)
		}
		// Held and resent after the pause: the peer throttled it more than once.
		s.waitN("the throttled submit_sm resent", 2, waitLong, func(e event) bool {
			return e.Ev == "pdu" && e.Dir == "out" && e.Command == "submit_sm_resp" && e.Status == uint32(pdu.StatusThrottled)
		})
		// The bind pauses, then takes traffic again.
		c := submitCase{dst: "15550000006", text: "after the throttle", parts: 1}
		_, ids := submitText(t, e, c, 0, false)
		checkPeerView(t, s, c, ids)
	})

	base := len(e.waitInbound(t, len(allIDs)))
	t.Run("deliver_sm_resp-body", func(t *testing.T) {
		// SMPP 3.4 §4.6.2: deliver_sm_resp carries message_id, unused and
		// set to NULL, so an OK answer is 17 octets ending in 00 (smpp.md
		// §1.6 shows the same). Regression: it used to be header-only.
		resps := s.waitN("deliver_sm_resp", 1, waitLong, func(e event) bool {
			return e.Ev == "pdu" && e.Dir == "in" && e.Command == "deliver_sm_resp" && e.Status == 0
		})
		for _, r := range resps {
			if len(r.Hex) != 34 || !strings.HasPrefix(r.Hex, "00000011") || !strings.HasSuffix(r.Hex, "00") {
				t.Errorf("deliver_sm_resp %s, want command_length 17 with a NULL message_id", r.Hex)
			}
		}
	})

	t.Run("mo-gsm7", func(t *testing.T) {
		text := "MO from node: {€} @ ÆØÅ"
		s.command(map[string]any{"cmd": "mo", "text": text})
		in := mustInbound(t, e.waitInbound(t, base+1)[base])
		if in.Receipt != nil || in.Concat != nil || in.DataCoding != 0 {
			t.Errorf("MO parsed as %+v, want a single GSM message", in)
		}
		if got, err := in.Text(); err != nil || got != text {
			t.Errorf("MO text = %q, %v; want %q", got, err, text)
		}
	})

	t.Run("mo-ucs2-concatenated", func(t *testing.T) {
		done := s.command(map[string]any{"cmd": "mo", "coding": "ucs2", "split": true, "text": moUCS2, "ref": 0x7b, "order": []int{2, 0, 1}})
		if done.Parts != 3 {
			t.Fatalf("peer split the MO into %d parts, want 3 (text too short?)", done.Parts)
		}
		ins := e.waitInbound(t, base+4)[base+1:]
		segs := map[int]string{}
		for _, sm := range ins {
			in := mustInbound(t, sm)
			if in.Concat == nil || in.Concat.Ref != 0x7b || in.Concat.Total != 3 || in.DataCoding != 8 {
				t.Fatalf("part parsed as %+v (concat %+v), want ref 0x7b of 3, UCS-2", in, in.Concat)
			}
			txt, err := in.Text()
			if err != nil {
				t.Fatalf("part %d: %v", in.Concat.Seq, err)
			}
			segs[in.Concat.Seq] = txt
		}
		if got := segs[1] + segs[2] + segs[3]; got != moUCS2 {
			t.Errorf("reassembled MO = %q\n want %q", got, moUCS2)
		}
	})

	t.Run("handler-status", func(t *testing.T) {
		done := s.command(map[string]any{"cmd": "mo", "text": "please reject me"})
		resp := s.wait("deliver_sm_resp", waitLong, func(ev event) bool {
			return ev.Ev == "pdu" && ev.Dir == "in" && ev.Command == "deliver_sm_resp" && ev.Seq == done.Seqs[0]
		})
		if pdu.Status(resp.Status) != pdu.StatusRxTAppn {
			t.Errorf("deliver_sm_resp status 0x%x, want the handler's %v", resp.Status, pdu.StatusRxTAppn)
		}
	})

	t.Run("mo-message-payload", func(t *testing.T) {
		n := len(e.waitInbound(t, 0))
		s.command(map[string]any{"cmd": "mo", "coding": "ucs2", "payload": true, "text": moUCS2})
		sm := e.waitInbound(t, n+1)[n]
		if len(sm.Message) != 0 {
			t.Errorf("short_message %x, want empty with the text in message_payload", sm.Message)
		}
		in := mustInbound(t, sm)
		if got, err := in.Text(); err != nil || got != moUCS2 {
			t.Errorf("message_payload MO = %q, %v; want %q", got, err, moUCS2)
		}
	})

	t.Run("mo-udh-in-message_payload", func(t *testing.T) {
		n := len(e.waitInbound(t, 0))
		done := s.command(map[string]any{"cmd": "mo", "coding": "ucs2", "payload": true, "split": true, "text": moUCS2, "ref": 0x2b})
		ins := e.waitInbound(t, n+done.Parts)[n:]
		segs := map[int]string{}
		for _, sm := range ins {
			in := mustInbound(t, sm)
			if len(sm.Message) != 0 || in.Concat == nil || in.Concat.Ref != 0x2b || in.Concat.Total != done.Parts {
				t.Fatalf("part parsed as %+v (concat %+v, short_message %x), want UDH ref 0x2b of %d from message_payload", in, in.Concat, sm.Message, done.Parts)
			}
			txt, err := in.Text()
			if err != nil {
				t.Fatal(err)
			}
			segs[in.Concat.Seq] = txt
		}
		var got strings.Builder
		for i := 1; i <= done.Parts; i++ {
			got.WriteString(segs[i])
		}
		if got.String() != moUCS2 {
			t.Errorf("reassembled = %q\n want %q", got.String(), moUCS2)
		}
	})

	t.Run("mo-data_sm", func(t *testing.T) {
		done := s.command(map[string]any{"cmd": "data_sm", "coding": "ucs2", "text": shortUCS2})
		resp := s.wait("data_sm_resp", waitLong, func(ev event) bool {
			return ev.Ev == "pdu" && ev.Dir == "in" && ev.Command == "data_sm_resp" && ev.Seq == done.Seqs[0]
		})
		if resp.Status != 0 {
			t.Errorf("data_sm_resp %s, want ESME_ROK", resp.Hex)
		}
		e.mu.Lock()
		data := append([]*pdu.DataSMBody(nil), e.data...)
		e.mu.Unlock()
		if len(data) != 1 {
			t.Fatalf("handler got %d data_sm, want 1", len(data))
		}
		payload, _ := data[0].TLVs.Get(pdu.TagMessagePayload)
		if got, err := coding.Decode(data[0].DataCoding, payload); err != nil || got != shortUCS2 {
			t.Errorf("data_sm payload = %q, %v; want %q", got, err, shortUCS2)
		}
		// data_sm_resp has a mandatory message_id (SMPP 3.4 §4.7.2).
		if len(resp.Hex) != 34 || !strings.HasSuffix(resp.Hex, "00") {
			t.Errorf("data_sm_resp %s, want command_length 17 with an empty message_id", resp.Hex)
		}
	})

	t.Run("unknown-command", func(t *testing.T) {
		// Answered with generic_nack ESME_RINVCMDID echoing the sequence
		// number (smpp.md §7.4), and the link stays up.
		s.command(map[string]any{"cmd": "raw", "command_id": 0x00000123})
		req := s.wait("raw request", waitLong, outbound("raw"))
		nack := s.wait("generic_nack", waitLong, inbound("generic_nack"))
		if pdu.Status(nack.Status) != pdu.StatusInvCmdID || nack.Seq != req.Seq {
			t.Errorf("answer to command 0x123 = %s, want generic_nack ESME_RINVCMDID seq %d", nack.Hex, req.Seq)
		}
	})

	t.Run("our-enquire-link", func(t *testing.T) {
		req := s.wait("enquire_link from us", waitLong, inbound("enquire_link"))
		resp := s.wait("its response", waitLong, outbound("enquire_link_resp"))
		if resp.Seq != req.Seq || len(req.Hex) != 32 {
			t.Errorf("enquire_link %s answered by %s", req.Hex, resp.Hex)
		}
	})

	t.Run("smsc-enquire-link", func(t *testing.T) {
		before := len(s.find(inbound("enquire_link_resp")))
		s.command(map[string]any{"cmd": "enquire_link"})
		resp := s.waitN("enquire_link_resp", before+1, waitLong, inbound("enquire_link_resp"))[before]
		req := s.find(outbound("enquire_link"))
		if resp.Seq != req[len(req)-1].Seq {
			t.Errorf("enquire_link_resp seq %d, request had %d (pitfall 5)", resp.Seq, req[len(req)-1].Seq)
		}
	})

	t.Run("smsc-unbind-then-rebind", func(t *testing.T) {
		s.command(map[string]any{"cmd": "unbind"})
		s.wait("unbind_resp", waitLong, inbound("unbind_resp"))
		s.waitN("second bind", 2, waitLong, func(e event) bool { return e.Ev == "bind" && e.OK })
		mustBound(t, e)
		c := submitCase{dst: "15550000005", text: "after rebind", parts: 1}
		_, ids := submitText(t, e, c, 0, false)
		checkPeerView(t, s, c, ids)
	})

	t.Run("graceful-unbind", func(t *testing.T) {
		e.stop(t)
		s.wait("unbind from us", waitLong, inbound("unbind"))
	})
	checkPeerClean(t, s, map[string][]pdu.Status{
		"submit_sm_resp":  {pdu.StatusInvDstAdr, pdu.StatusThrottled},
		"deliver_sm_resp": {pdu.StatusRxTAppn},
		"generic_nack":    {pdu.StatusInvCmdID},
	})
	checkSequences(t, s)
}

// TestPair binds one transmitter and one receiver: submits go out on the
// transmitter, receipts and MO come back on the receiver. The peer answers
// with hex ids and reports them decimal in receipts (pitfall 15), which the
// hex msg_id_type must match.
func TestPair(t *testing.T) {
	s := startNodeSMSC(t, "--id-format", "hex")
	e := startESME(t, s.Addr, smsc.Pair, nil)
	mustBound(t, e)
	binds := s.waitN("two binds", 2, waitLong, func(e event) bool { return e.Ev == "bind" && e.OK })
	modes := map[string]int{}
	for _, b := range binds {
		modes[b.Mode] = b.Session
	}
	tx, txOK := modes["transmitter"]
	rx, rxOK := modes["receiver"]
	if !txOK || !rxOK {
		t.Fatalf("peer saw binds %v, want one transmitter and one receiver", modes)
	}
	// Receipts need the receiver bound too.
	waitFor(t, "receiver bound", waitLong, func() error {
		for _, ss := range e.c.Stats().Sessions {
			if ss.Mode == "receiver" && ss.State != smsc.StateBound {
				return fmt.Errorf("receiver %s", ss.State)
			}
		}
		return nil
	})

	c := submitCase{dst: "15550000011", text: shortGSM, parts: 1}
	_, ids := submitText(t, e, c, 1, true)
	checkPeerView(t, s, c, ids)
	if ev := peerSubmits(s, "15550000011", 1)[0]; ev.Session != tx {
		t.Errorf("submit_sm arrived on session %d, the transmitter is %d", ev.Session, tx)
	}
	ins := e.waitInbound(t, 1)
	if dl := s.wait("receipt", waitLong, outbound("deliver_sm")); dl.Session != rx {
		t.Errorf("receipt sent on session %d, want the receiver %d", dl.Session, rx)
	}
	got := receipts(t, ins)
	idType, err := dlr.ParseIDType("hex")
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for rid, r := range got {
		if idType.ReceiptKey(rid) == idType.SubmitKey(ids[0]) {
			found = true
			if r.State != dlr.Delivered {
				t.Errorf("receipt state %v, want Delivered", r.State)
			}
		}
	}
	if len(ids[0]) != 8 || strings.Trim(ids[0], "0123456789ABCDEF") != "" {
		t.Errorf("peer in hex mode returned id %q, want 8 hex digits", ids[0])
	}
	if !found {
		t.Errorf("hex id %q not matched to receipts %v by msg_id_type hex", ids[0], keys(got))
	}

	s.command(map[string]any{"cmd": "mo", "text": "MO on the receiver"})
	in := mustInbound(t, e.waitInbound(t, 2)[1])
	if txt, _ := in.Text(); txt != "MO on the receiver" {
		t.Errorf("MO text %q", txt)
	}
	e.stop(t)
	s.waitN("unbind from both binds", 2, waitLong, inbound("unbind"))
	checkPeerClean(t, s, nil)
}

// TestReceiver binds as receiver only: MO arrives, and Submit fails with
// ErrNotBound without writing anything.
func TestReceiver(t *testing.T) {
	s := startNodeSMSC(t)
	e := startESME(t, s.Addr, smsc.Receiver, nil)
	b := s.wait("bind", waitLong, func(e event) bool { return e.Ev == "bind" })
	if !b.OK || b.Mode != "receiver" {
		t.Fatalf("peer saw bind %+v, want an accepted receiver bind", b)
	}
	s.command(map[string]any{"cmd": "mo", "coding": "ucs2", "text": shortUCS2})
	in := mustInbound(t, e.waitInbound(t, 1)[0])
	if txt, err := in.Text(); err != nil || txt != shortUCS2 || in.DataCoding != 8 {
		t.Errorf("MO = %q (dc %d), %v; want %q", txt, in.DataCoding, err, shortUCS2)
	}
	if _, err := e.c.Submit(context.Background(), &pdu.ShortMessage{DestAddr: theirs, Message: []byte("no")}); !errors.Is(err, smsc.ErrNotBound) {
		t.Errorf("Submit on a receiver = %v, want ErrNotBound", err)
	}
	e.stop(t)
	s.wait("unbind", waitLong, inbound("unbind"))
	if n := len(s.find(inbound("submit_sm"))); n != 0 {
		t.Errorf("peer saw %d submit_sm from a receiver bind", n)
	}
	checkPeerClean(t, s, nil)
}

// TestBindRefused binds with a wrong password: the peer answers with a
// header-only bind_transceiver_resp ESME_RINVPASWD (pitfalls 1, 2); the
// client stays unbound, backs off and tries again, and Submit says
// ErrNotBound.
func TestBindRefused(t *testing.T) {
	s := startNodeSMSC(t, "--password", "other")
	e := startESME(t, s.Addr, smsc.Transceiver, nil)
	refused := s.waitN("two refused binds", 2, waitLong, func(e event) bool { return e.Ev == "bind" && !e.OK })
	for _, b := range refused {
		if pdu.Status(b.Status) != pdu.StatusInvPaswd {
			t.Errorf("peer refused with 0x%x, want ESME_RINVPASWD", b.Status)
		}
	}
	if e.c.Bound() {
		t.Errorf("Bound() after refused binds")
	}
	if _, err := e.c.Submit(context.Background(), &pdu.ShortMessage{DestAddr: theirs, Message: []byte("x")}); !errors.Is(err, smsc.ErrNotBound) {
		t.Errorf("Submit while refused = %v, want ErrNotBound", err)
	}
	st := e.c.Stats().Sessions[0]
	if st.State == smsc.StateBound || !strings.Contains(st.LastError, "RINVPASWD") {
		t.Errorf("session stats %+v, want not bound with the refusal as last error", st)
	}
	checkPeerClean(t, s, map[string][]pdu.Status{"bind_transceiver_resp": {pdu.StatusInvPaswd}})
}

// TestLinkLoss checks what a submit without an answer becomes (smpp.md §8
// pitfall 12): after the response timeout, and when the peer cuts the TCP
// connection while the submit is pending, Submit reports ErrUnknownOutcome
// instead of resending; the client then binds again and submits normally.
func TestLinkLoss(t *testing.T) {
	s := startNodeSMSC(t)
	e := startESMEWith(t, s.Addr, smsc.Transceiver, nil, func(o *smsc.Options) { o.ResponseTimeout = time.Second })
	mustBound(t, e)
	withheld := func(n int) []event {
		return s.waitN("withheld submit", n, waitLong, func(e event) bool { return e.Ev == "withheld" })
	}
	submit := func(dst string) error {
		ctx, cancel := context.WithTimeout(context.Background(), waitLong)
		defer cancel()
		_, err := e.c.Submit(ctx, &pdu.ShortMessage{SourceAddr: ourNumber, DestAddr: dst, Message: []byte("pending")})
		return err
	}

	t.Run("response-timeout", func(t *testing.T) {
		if err := submit("15550009977"); !errors.Is(err, smsc.ErrUnknownOutcome) {
			t.Errorf("unanswered Submit = %v, want ErrUnknownOutcome", err)
		}
		withheld(1)
	})

	t.Run("connection-cut", func(t *testing.T) {
		mustBound(t, e)
		binds := len(s.find(func(e event) bool { return e.Ev == "bind" && e.OK }))
		errc := make(chan error, 1)
		go func() { errc <- submit("15550019977") }()
		withheld(2)
		s.command(map[string]any{"cmd": "drop"})
		select {
		case err := <-errc:
			if !errors.Is(err, smsc.ErrUnknownOutcome) {
				t.Errorf("Submit pending when the link was cut = %v, want ErrUnknownOutcome", err)
			}
		case <-time.After(waitLong):
			t.Fatalf("Submit still pending %s after the link was cut", waitLong)
		}
		s.waitN("a new bind", binds+1, waitLong, func(e event) bool { return e.Ev == "bind" && e.OK })
		mustBound(t, e)
		c := submitCase{dst: "15550000031", text: "after the cut", parts: 1}
		_, ids := submitText(t, e, c, 0, false)
		checkPeerView(t, s, c, ids)
	})
	// Each withheld submit went out exactly once: nothing was resent.
	if n := len(s.find(func(e event) bool { return e.Ev == "withheld" })); n != 2 {
		t.Errorf("peer saw %d unanswered submits, want 2 (no resend)", n)
	}
}

func mustInbound(t *testing.T, sm *pdu.ShortMessage) smsc.Inbound {
	t.Helper()
	in, err := smsc.ParseInbound(sm, smsc.InboundOptions{})
	if err != nil {
		t.Fatalf("ParseInbound(esm 0x%02x dc 0x%02x %x): %v", sm.ESMClass, sm.DataCoding, sm.Message, err)
	}
	return in
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(strings.ToLower(s), sub) {
			return true
		}
	}
	return false
}

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
