package pgstore

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/smscbridge/smscbridge/store"
)

// A bbolt store's contents move to PostgreSQL with Export and Import:
// queued items in their keys' order (also a requeued dead letter, whose id
// is older than its place), leased items due again, dead letters, receipt
// mappings, marks, dedup keys and incomplete MO sets. Importing twice
// changes nothing.
func TestImportFromBbolt(t *testing.T) {
	ctx := context.Background()
	bb, err := store.Open(store.Options{Path: filepath.Join(t.TempDir(), "bridge.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer bb.Close()
	enq := func(key, p string) string {
		id, _, err := bb.Enqueue(ctx, store.NewItem{Lane: "l", Key: key, Payload: []byte(p)})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	r1 := enq("A", "r1")
	it, _ := bb.Lease(ctx, "l", 1)
	if err := bb.Dead(ctx, "l", r1, it[0].Token, "x"); err != nil {
		t.Fatal(err)
	}
	enq("A", "a1")
	enq("A", "a2")
	if err := bb.Requeue(ctx, r1); err != nil { // now after a2
		t.Fatal(err)
	}
	enq("", "solo")
	d1 := enq("B", "d1")
	leased, _ := bb.Lease(ctx, "l", 10) // a1, solo, d1 leased
	for _, it := range leased {
		if it.ID == d1 {
			if err := bb.Dead(ctx, "l", d1, it.Token, "permanent"); err != nil {
				t.Fatal(err)
			}
		}
	}
	dedupID, _, _ := bb.Enqueue(ctx, store.NewItem{Lane: "m", Payload: []byte("x"), DedupKey: "rp:1", DedupTTL: time.Hour})
	if err := bb.PutReceipt(ctx, store.Receipt{SMSC: "agg", MsgID: "M1", ItemID: "i", Channel: "rp", Part: 1, Parts: 2, Data: []byte("d")}); err != nil {
		t.Fatal(err)
	}
	if _, err := bb.Complete(ctx, store.Completion{Lane: "m", ID: dedupID, Marks: []store.Mark{{Key: "st:1", Value: []byte("sent")}}}); err != nil {
		t.Fatal(err)
	}
	part := func(seq int) store.Part {
		return store.Part{SMSC: "agg", Source: "+1", Dest: "2", Ref: 300, Wide: true, Total: 3, Seq: seq, Data: []byte(fmt.Sprint("p", seq)), Lane: "in", Key: "k"}
	}
	for _, seq := range []int{1, 3} {
		if _, _, err := bb.AddPart(ctx, part(seq)); err != nil {
			t.Fatal(err)
		}
	}
	var entries []store.Entry
	if err := bb.Export(ctx, func(e store.Entry) error { entries = append(entries, e); return nil }); err != nil {
		t.Fatal(err)
	}

	dsn := testDSN(t)
	pg := mustOpen(t, Options{DSN: dsn, Schema: testSchema(t, dsn)})
	for range 2 {
		if err := pg.Import(ctx, entries); err != nil {
			t.Fatal(err)
		}
	}
	var order []string
	for range 10 {
		items, err := pg.Lease(ctx, "l", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(items) == 0 {
			break
		}
		for _, it := range items {
			order = append(order, string(it.Payload))
			if err := pg.Ack(ctx, "l", it.ID, it.Token); err != nil {
				t.Fatal(err)
			}
		}
	}
	if fmt.Sprint(order) != "[a1 solo a2 r1]" {
		t.Errorf("imported queue worked in order %v, want [a1 solo a2 r1]", order)
	}
	dead, _ := pg.ListDead(ctx, "l", 0)
	if len(dead) != 1 || dead[0].ID != d1 || dead[0].DeadReason != "permanent" {
		t.Errorf("dead letters = %+v", dead)
	}
	if r, ok, _ := pg.MatchReceipt(ctx, "agg", "M1"); !ok || r.ItemID != "i" || r.Parts != 2 || string(r.Data) != "d" {
		t.Errorf("receipt = %+v, %v", r, ok)
	}
	if v, ok, _ := pg.GetMark(ctx, "st:1"); !ok || string(v) != "sent" {
		t.Errorf("mark = %q, %v", v, ok)
	}
	if id, dup, _ := pg.Enqueue(ctx, store.NewItem{Lane: "m", Payload: []byte("x"), DedupKey: "rp:1", DedupTTL: time.Hour}); !dup || id != dedupID {
		t.Errorf("dedup after import = %s, %v; want %s dup", id, dup, dedupID)
	}
	done, id, err := pg.AddPart(ctx, part(2))
	if err != nil || !done {
		t.Fatalf("last part after import = %v, %v", done, err)
	}
	items, _ := pg.Lease(ctx, "in", 1)
	a, err := store.DecodeParts(items[0].Payload)
	if items[0].ID != id || err != nil || fmt.Sprintf("%s", a.Parts) != "[p1 p2 p3]" || items[0].Key != "k" {
		t.Errorf("assembled after import: %s %v %v", a.Parts, err, items[0])
	}
}
