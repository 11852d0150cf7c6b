package store

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func part(seq, total int, data string) Part {
	return Part{SMSC: "a", Source: "+5511", Dest: "12345", Ref: 7, Total: total, Seq: seq, Data: []byte(data), Lane: "in:a"}
}

func MustAddPart(t *testing.T, s *Store, p Part) (bool, string) {
	t.Helper()
	done, id, err := s.AddPart(context.Background(), p)
	if err != nil {
		t.Fatalf("AddPart(seq %d) = %v", p.Seq, err)
	}
	return done, id
}

func MustDecode(t *testing.T, payload []byte) Assembled {
	t.Helper()
	a, err := DecodeParts(payload)
	if err != nil {
		t.Fatalf("DecodeParts = %v", err)
	}
	return a
}

func TestReassembly(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	s := MustOpen(t, Options{Now: clk.Now})
	for _, p := range []Part{part(3, 3, "c"), part(1, 3, "a"), part(3, 3, "c"), func() Part { p := part(2, 3, "b"); p.Wide = true; return p }()} {
		if done, _ := MustAddPart(t, s, p); done {
			t.Fatalf("set complete after part %d", p.Seq)
		}
	}
	if st := s.Stats()["in:a"]; st.Queued != 0 {
		t.Fatalf("Queued = %d before the set is complete", st.Queued)
	}
	done, id := MustAddPart(t, s, part(2, 3, "b"))
	if !done || id == "" {
		t.Fatalf("last part: complete = %v, id %q", done, id)
	}
	it, err := s.Get(ctx, id)
	if err != nil || it.Lane != "in:a" {
		t.Fatalf("Get(%s) = %+v, %v", id, it, err)
	}
	a := MustDecode(t, it.Payload)
	if got := bytes.Join(a.Parts, nil); string(got) != "abc" || len(a.Missing) != 0 {
		t.Errorf("assembled = %q missing %v, want abc", got, a.Missing)
	}
	// A repeat of an already delivered part is ignored...
	if done, _ := MustAddPart(t, s, part(2, 3, "b")); done {
		t.Error("repeated part completed a set again")
	}
	// ...but a new message reusing the reference starts a new set.
	for i, d := range []string{"x", "y", "z"} {
		done, _ := MustAddPart(t, s, part(i+1, 3, d))
		if done != (i == 2) {
			t.Fatalf("reused ref, part %d: complete = %v", i+1, done)
		}
	}
	if n := s.Stats()["in:a"].Queued; n != 2 {
		t.Errorf("Queued = %d, want 2 messages", n)
	}
	// Tombstones go at the deadline; the wide part 2 alone is delivered partial.
	clk.Add(10 * time.Minute)
	if err := s.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if n := countKeys(t, s, bktGroups) + countKeys(t, s, bktGroupsX); n != 0 {
		t.Errorf("%d reassembly keys left after the sweep", n)
	}
	items, _ := s.List(ctx, "in:a", 0)
	if len(items) != 3 {
		t.Fatalf("%d items, want 3", len(items))
	}
	a = MustDecode(t, items[2].Payload)
	if !slices.Equal(a.Missing, []int{1, 3}) || string(a.Parts[1]) != "b" || a.Parts[0] != nil {
		t.Errorf("partial = %q missing %v, want [nil b nil] missing [1 3]", a.Parts, a.Missing)
	}
}

func TestReassemblyDeadPartial(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	s := MustOpen(t, Options{Now: clk.Now, PartialMO: DeadPartial, ReassemblyTimeout: time.Minute})
	MustAddPart(t, s, part(2, 4, "b"))
	clk.Add(59 * time.Second)
	s.Sweep(ctx)
	if n := countKeys(t, s, bktGroups); n != 1 {
		t.Fatalf("set expired before ReassemblyTimeout")
	}
	clk.Add(time.Second)
	if err := s.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	dead, _ := s.ListDead(ctx, "in:a", 0)
	if len(dead) != 1 || !strings.HasPrefix(dead[0].DeadReason, "incomplete: missing parts 1,3,4 of 4") {
		t.Fatalf("dead letters = %+v", dead)
	}
	if a := MustDecode(t, dead[0].Payload); string(a.Parts[1]) != "b" {
		t.Errorf("dead partial parts = %q", a.Parts)
	}
	if st := s.Stats()["in:a"]; st != (LaneStats{Dead: 1}) {
		t.Errorf("Stats = %+v", st)
	}
}

// Parts survive a restart: they are durable before AddPart returns.
func TestReassemblyRestart(t *testing.T) {
	o := Options{Path: t.TempDir() + "/q.db"}
	s := MustOpen(t, o)
	MustAddPart(t, s, part(1, 2, "a"))
	s.Close()
	s = MustOpen(t, o)
	if done, id := MustAddPart(t, s, part(2, 2, "b")); !done || id == "" {
		t.Fatal("set not completed after restart")
	}
}

func TestEncodeParts(t *testing.T) {
	for _, a := range []Assembled{
		{Parts: [][]byte{[]byte("a"), {}, []byte("c")}},
		{Parts: [][]byte{nil, []byte("b"), nil}, Missing: []int{1, 3}},
		{Parts: [][]byte{}},
	} {
		got := MustDecode(t, EncodeParts(a))
		if fmt.Sprintf("%q %v", got.Parts, got.Missing) != fmt.Sprintf("%q %v", a.Parts, a.Missing) {
			t.Errorf("DecodeParts(EncodeParts(%q)) = %q %v", a.Parts, got.Parts, got.Missing)
		}
		for i := range a.Parts {
			if (a.Parts[i] == nil) != (got.Parts[i] == nil) {
				t.Errorf("part %d: nil-ness not kept", i+1)
			}
		}
	}
	for _, bad := range []string{"", "P", "P\x01\x02\x01\x05a", "P\x01\x01\x07", "X\x01\x00", "P\x01\x00junk"} {
		if _, err := DecodeParts([]byte(bad)); err == nil {
			t.Errorf("DecodeParts(%q) = nil error", bad)
		}
	}
}

func FuzzDecodeParts(f *testing.F) {
	f.Add(EncodeParts(Assembled{Parts: [][]byte{[]byte("a"), nil}}))
	f.Add([]byte("P\x01\xff\xff\xff\xff\x0f"))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := DecodeParts(b)
		if err != nil {
			return
		}
		again, err := DecodeParts(EncodeParts(a))
		if err != nil || fmt.Sprintf("%q %v", again.Parts, again.Missing) != fmt.Sprintf("%q %v", a.Parts, a.Missing) {
			t.Fatalf("DecodeParts(EncodeParts(%q)) = %q, %v", a.Parts, again.Parts, err)
		}
	})
}

// A part whose seq is already held with different content means the
// reference was reused before the first set completed: the held set is
// closed (per PartialMO) and a new set starts with the part. Seen: A1, A2,
// B1, B2, B3 on one reference came out as A1 A2 B3. An identical repeat is
// still a duplicate.
func TestReassemblyReusedReference(t *testing.T) {
	for _, policy := range []PartialPolicy{DeliverPartial, DeadPartial} {
		t.Run(fmt.Sprint(policy), func(t *testing.T) {
			ctx := context.Background()
			s := MustOpen(t, Options{PartialMO: policy})
			for _, p := range []Part{part(1, 3, "A1"), part(2, 3, "A2"), part(1, 3, "A1")} {
				if done, _ := MustAddPart(t, s, p); done {
					t.Fatalf("complete after %s", p.Data)
				}
			}
			if st := s.Stats()["in:a"]; st.Queued+st.Dead != 0 {
				t.Fatalf("an identical repeat closed the set: %+v", st)
			}
			var id string
			for i, p := range []Part{part(1, 3, "B1"), part(2, 3, "B2"), part(3, 3, "B3")} {
				done, got := MustAddPart(t, s, p)
				if done != (i == 2) {
					t.Fatalf("after %s: complete = %v", p.Data, done)
				}
				id = got
			}
			it, err := s.Get(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if a := MustDecode(t, it.Payload); string(bytes.Join(a.Parts, []byte(" "))) != "B1 B2 B3" {
				t.Errorf("assembled = %q, want B1 B2 B3", a.Parts)
			}
			// The first set was not lost: delivered partial or dead-lettered.
			var old []Item
			if policy == DeliverPartial {
				old, _ = s.List(ctx, "in:a", 0)
			} else {
				old, _ = s.ListDead(ctx, "in:a", 0)
			}
			var found bool
			for _, o := range old {
				if a := MustDecode(t, o.Payload); string(bytes.Join(a.Parts, []byte(" "))) == "A1 A2 " && slices.Equal(a.Missing, []int{3}) {
					found = true
				}
			}
			if !found {
				t.Errorf("first set (A1 A2, 3 missing) not delivered or dead-lettered: %d items", len(old))
			}
		})
	}
}
