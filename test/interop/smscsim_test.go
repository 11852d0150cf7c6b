//go:build interop

package interop

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// esmeEvent is one JSON line printed by node-esme.js.
type esmeEvent struct {
	Ev         string   `json:"ev"`
	Status     int      `json:"status"`
	Text       string   `json:"text"`
	MessageID  string   `json:"message_id"`
	ESMClass   int      `json:"esm_class"`
	DataCoding int      `json:"data_coding"`
	UDH        []string `json:"udh"`
	Receipted  string   `json:"receipted_message_id"`
	State      int      `json:"message_state"`
	OK         bool     `json:"ok"`
	Why        string   `json:"why"`
}

// smscsimMOTexts mirrors the first texts of cmd/smscsim's MO generator
// (moTexts in cmd/smscsim/sim.go): update both together.
var smscsimMOTexts = []string{
	"Hello from smscsim",
	"Price: 10€ [promo] {ok} ~ ^ | \\",
	strings.Repeat("This is a long multipart message from the simulator. ", 5),
	"Olá 👋 ça va? 你好",
}

// TestNodeESMESmscsim drives bin/smscsim with the npm smpp library as the
// ESME (binding with its default interface_version 0x50 and letting it pick
// data_coding): submits are answered, a receipt arrives for each id, and the
// simulator's MO — GSM with extension characters, multipart, UCS-2 with
// emoji — decode in the library to the generator's texts.
func TestNodeESMESmscsim(t *testing.T) {
	bin := mustTool(t, "SMSCSIM", "bin/smscsim")
	node := mustTool(t, "NODE", "node")
	port := freePort(t)
	simOut := &lockedBuffer{}
	sim := mustStart(t, exec.Command(bin, "-listen", fmt.Sprintf("127.0.0.1:%d", port),
		"-system-id", "esme", "-password", "secret", "-dlr", "-dlr-delay", "100ms",
		"-mo-count", fmt.Sprint(len(smscsimMOTexts)), "-mo-rate", "20", "-json"), simOut)
	waitFor(t, "smscsim listening", waitLong, dialable(fmt.Sprintf("127.0.0.1:%d", port)))

	texts := []string{"Hello {x} € from node", "Привет 😀 from node"}
	mos := 5 // PDUs: the third text is two parts
	esmeOut := &lockedBuffer{}
	cmd := exec.Command(node, append([]string{filepath.Join(repoRoot(t), "test", "interop", "node-esme.js"),
		"--port", fmt.Sprint(port), "--mo", fmt.Sprint(mos), "--timeout-ms", "20000"}, texts...)...)
	cmd.Dir = filepath.Join(repoRoot(t), "test", "interop")
	esme := mustStart(t, cmd, esmeOut)
	select {
	case <-esme.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("node-esme.js did not finish in 30s")
	}
	var evs []esmeEvent
	for _, line := range strings.Split(strings.TrimSpace(esmeOut.String()), "\n") {
		var e esmeEvent
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("node-esme.js printed %q: %v", line, err)
		}
		evs = append(evs, e)
	}
	if last := evs[len(evs)-1]; last.Ev != "end" || !last.OK {
		t.Fatalf("node-esme.js ended with %+v\n%s", last, esmeOut.String())
	}
	ids := map[string]bool{}
	parts := map[string][]string{} // UDH ref+total → parts in seq order
	var singles []string
	for _, e := range evs {
		switch {
		case e.Ev == "bind" && e.Status != 0, e.Ev == "submit" && e.Status != 0, e.Ev == "unbind" && e.Status != 0:
			t.Errorf("node-esme.js: %+v", e)
		case e.Ev == "submit":
			ids[e.MessageID] = true
		case e.Ev == "deliver" && e.ESMClass&0x3c == 0x04:
			if !ids[e.Receipted] || e.State != 2 || !strings.Contains(e.Text, "stat:DELIVRD") {
				t.Errorf("receipt %+v, want DELIVRD for one of %v", e, ids)
			}
		case e.Ev == "deliver" && len(e.UDH) == 1:
			// The library lists the IE: 00 03 ref total seq.
			ie := e.UDH[0]
			seq, err := strconv.ParseUint(ie[min(8, len(ie)):], 16, 8)
			if len(ie) != 10 || !strings.HasPrefix(ie, "0003") || err != nil || seq == 0 {
				t.Fatalf("MO part with UDH IE %q", ie)
			}
			key := ie[:8]
			for len(parts[key]) < int(seq) {
				parts[key] = append(parts[key], "")
			}
			parts[key][seq-1] = e.Text
		case e.Ev == "deliver":
			singles = append(singles, e.Text)
		}
	}
	got := singles
	for _, p := range parts {
		got = append(got, strings.Join(p, ""))
	}
	want := append([]string(nil), smscsimMOTexts...)
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("the npm smpp library decoded smscsim's MO as\n%q\nwant\n%q", got, want)
	}

	sim.stop(10 * time.Second)
	var rep simReport
	lines := strings.Split(strings.TrimSpace(simOut.String()), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &rep); err != nil {
		t.Fatalf("smscsim -json report %q: %v", simOut.String(), err)
	}
	t.Logf("smscsim report: %+v", rep)
	if rep.Binds != 1 || rep.Unbinds != 1 || rep.Submits != int64(len(texts)) || rep.ReceiptsSent != len(texts) || rep.MOSent != mos || rep.Errors != 0 {
		t.Errorf("smscsim report %+v, want 1 bind and unbind, %d submits and receipts, %d MO, no errors", rep, len(texts), mos)
	}
	// The strict simulator binds the library's interface_version 0x50
	// (as SMPP 3.4, sc_interface_version 0x34) and records it; nothing
	// else the library sends breaks SMPP 3.4.
	if v := rep.Violations; len(v) != 1 || v[0].Rule != "interface_version" || v[0].Command != "bind_transceiver" || !strings.Contains(v[0].Detail, "0x50") {
		t.Errorf("smscsim violations %+v, want only the bind's interface_version 0x50", v)
	}
}
