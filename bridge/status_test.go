package bridge

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/smscbridge/smscbridge/store"
)

// TestStatusMergeAcrossAttempts: statuses of one platform message are
// merged from the store; once failed is reported, statuses of that attempt
// (also of a chunk never seen before) are dropped, its dedup keys are
// forgotten, and an MT accepted afterwards (the platform's resend) starts
// afresh.
func TestStatusMergeAcrossAttempts(t *testing.T) {
	b, q := MustBridge(t)
	ctx := context.Background()
	newID := func() string {
		id, _, err := q.Enqueue(ctx, store.NewItem{Lane: "mt:x", Payload: []byte("{}")})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	// step merges one status and commits its completion as the callback
	// lane would (sent: the platform answered 2xx).
	step := func(mtid string, st State, dedup string) (sent, skipped bool, c store.Completion) {
		t.Helper()
		m, err := b.mergeStatus(ctx, &callback{statusOf: statusOf{MTID: mtid, State: st, Group: "g", Parts: 1, Dedup: dedup}})
		if err != nil {
			t.Fatal(err)
		}
		c = m.completion(m.send, time.Now())
		it, _, err := q.Enqueue(ctx, store.NewItem{Lane: "http:t", Payload: []byte("cb")})
		if err != nil {
			t.Fatal(err)
		}
		items, err := q.Lease(ctx, "http:t", 1)
		if err != nil || len(items) != 1 || items[0].ID != it {
			t.Fatalf("lease = %v, %v", items, err)
		}
		c.Lane, c.ID, c.Token = "http:t", it, items[0].Token
		if _, err := q.Complete(ctx, c); err != nil {
			t.Fatal(err)
		}
		return m.send, m.skip, c
	}
	chunk1, chunk2, unseen := newID(), newID(), newID()
	time.Sleep(2 * time.Millisecond) // failed is reported after they were accepted
	var got []string
	for _, s := range []struct {
		id string
		st State
	}{{chunk1, StateSent}, {chunk2, StateSent}, {chunk1, StateDelivered}, {chunk2, StateFailed}, {chunk1, StateFailed}, {unseen, StateSent}} {
		sent, skipped, c := step(s.id, s.st, "dd-"+s.id)
		got = append(got, fmt.Sprintf("%v:%v/%v", s.st, sent, skipped))
		if s.st == StateFailed && sent && !slices.Equal(c.DropDedup, []string{"dd-" + chunk1, "dd-" + chunk2}) {
			t.Errorf("failed reported: DropDedup = %q, want both chunks' keys", c.DropDedup)
		}
	}
	want := "[sent:true/false sent:false/false delivered:false/false failed:true/false failed:false/true sent:false/true]"
	if fmt.Sprint(got) != want {
		t.Errorf("merge steps = %v\nwant %v", got, want)
	}
	time.Sleep(2 * time.Millisecond) // the resend is accepted after failed was reported
	resend := newID()
	if sent, skipped, _ := step(resend, StateSent, ""); !sent || skipped {
		t.Errorf("resend's sent: sent %v skipped %v, want a new attempt reported", sent, skipped)
	}
	if sent, _, _ := step(resend, StateDelivered, ""); !sent {
		t.Errorf("resend's delivered not reported")
	}
}

func TestNextSMSC(t *testing.T) {
	b, _ := MustBridge(t) // "a" has no bind, "b" has one
	for _, c := range []struct {
		list []string
		cur  string
		want string
	}{
		{[]string{"a", "b"}, "a", "b"},
		{[]string{"b", "a"}, "a", "b"}, // wraps around
		{[]string{"b"}, "a", "b"},      // cur not in the list (config changed)
		{[]string{"a"}, "a", ""},       // nowhere to go
		{[]string{"a", "b"}, "b", ""},  // "a" has no bind either
	} {
		got := ""
		if s := b.nextSMSC(c.list, c.cur); s != nil {
			got = s.ID
		}
		if got != c.want {
			t.Errorf("nextSMSC(%v, %s) = %q, want %q", c.list, c.cur, got, c.want)
		}
	}
}

// Buffered ranks between sent and delivered: it moves a part forward from
// sent, a late sent does not move it back, and delivered or failed win.
func TestAdvanceBuffered(t *testing.T) {
	for _, c := range []struct{ old, st, want State }{
		{0, StateBuffered, StateBuffered},
		{StateSent, StateBuffered, StateBuffered},
		{StateBuffered, StateSent, StateBuffered},
		{StateBuffered, StateDelivered, StateDelivered},
		{StateDelivered, StateBuffered, StateDelivered},
		{StateFailed, StateBuffered, StateFailed},
	} {
		if got := advance(c.old, c.st); got != c.want {
			t.Errorf("advance(%v, %v) = %v, want %v", c.old, c.st, got, c.want)
		}
	}
	m := statusMark{MT: map[string][]State{"a": {StateBuffered, StateSent}}}
	if got := m.merged(); got != StateSent {
		t.Errorf("merged of buffered and sent parts = %v, want sent", got)
	}
}
