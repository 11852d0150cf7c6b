package main

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/smscbridge/smscbridge/smsc/smsctest"
	"github.com/smscbridge/smscbridge/store/pgstore/pgtest"
)

// pgNodes starts n daemons sharing one PostgreSQL schema, each with its
// own bind to the same simulated SMSC and its own HTTP listener. The
// test skips without PostgreSQL (see package pgtest).
func pgNodes(t testing.TB, n int, opts ...smsctest.Option) []*harness {
	dsn := pgtest.DSN(t)
	schema := pgtest.Schema(t, dsn)
	opts = append([]smsctest.Option{smsctest.WithTB(t), smsctest.WithAccount("bridge", "secret")}, opts...)
	srv := smsctest.NewServer(opts...)
	t.Cleanup(srv.Close)
	plat := newPlatform(t)
	var nodes []*harness
	for i := range n {
		cfg := testConfig(t, srv.Addr(), plat.srv.URL, "")
		cfg.Store.Backend, cfg.Store.DSN, cfg.Store.Schema = "postgres", dsn, schema
		cfg.Store.Node = fmt.Sprint("node", i+1)
		cfg.Store.LeaseTime.Duration = 2 * time.Second
		h := &harness{t: t, smsc: srv, plat: plat, cfg: cfg}
		h.start()
		nodes = append(nodes, h)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.WaitBound(ctx, n); err != nil {
		t.Fatalf("%d nodes never bound: %v", n, err)
	}
	for _, h := range nodes {
		h.waitBound()
	}
	return nodes
}

// Two nodes on one PostgreSQL database: MTs sent through either node's
// HTTP API are submitted once each and get their final status; MOs
// delivered on either bind reach the platform once each.
func TestPostgresTwoNodes(t *testing.T) {
	nodes := pgNodes(t, 2, smsctest.WithReceipts(10*time.Millisecond, nil))
	const mts, mos = 20, 10
	for i := range mts {
		h := nodes[i%2]
		body, _ := json.Marshal(map[string]any{"uuid": fmt.Sprintf("0191e180-7d60-7000-aded-%012d", i), "text": fmt.Sprint("mt ", i),
			"to": fmt.Sprintf("+25078812%04d", i), "from": rpNumber})
		if code, resp := h.post("/rapidpro/rp-main/send", "application/json", "", string(body)); code != 200 {
			t.Fatalf("send %d via node %d = %d %s", i, i%2+1, code, resp)
		}
	}
	for i := range mos {
		nodes[0].deliverMO(fmt.Sprintf("+23490675%05d", i), rpNumber, fmt.Sprint("mo ", i))
	}
	reqs := nodes[0].plat.wait(t, "every MT sent and delivered, every MO received", func(r []platformReq) bool {
		return len(withPath(r, "/sent")) >= mts && len(withPath(r, "/delivered")) >= mts && len(withPath(r, "/receive")) >= mos
	})
	uuids := map[string]int{}
	for _, r := range withPath(reqs, "/delivered") {
		uuids[r.form(t).Get("uuid")]++
	}
	if len(uuids) != mts {
		t.Errorf("delivered callbacks for %d distinct MTs, want %d", len(uuids), mts)
	}
	texts := map[string]int{}
	for _, r := range withPath(reqs, "/receive") {
		texts[r.form(t).Get("text")]++
	}
	if len(texts) != mos {
		t.Errorf("MO posts for %d distinct texts, want %d: %v", len(texts), mos, texts)
	}
	// /status names the node and shows what every node holds leased.
	code, body := nodes[1].adminCall("GET", "/status")
	var st map[string]any
	if err := json.Unmarshal(body, &st); code != 200 || err != nil {
		t.Fatalf("/status = %d %s", code, body)
	}
	if l, ok := st["leases"]; st["node"] != "node2" || (ok && l != nil && fmt.Sprintf("%T", l) != "map[string]interface {}") {
		t.Errorf("/status node = %v, leases = %v; want node2 (and leases per node, when any)", st["node"], st["leases"])
	}
}
