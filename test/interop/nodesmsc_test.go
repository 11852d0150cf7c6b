//go:build interop

package interop

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// event is one JSON line printed by node-smsc.js.
type event struct {
	Ev        string   `json:"ev"`
	ID        int      `json:"id"`
	Cmd       string   `json:"cmd"`
	Port      int      `json:"port"`
	Session   int      `json:"session"`
	Sessions  []int    `json:"sessions"`
	Mode      string   `json:"mode"`
	SystemID  string   `json:"system_id"`
	OK        bool     `json:"ok"`
	Version   int      `json:"interface_version"`
	Dir       string   `json:"dir"`
	Command   string   `json:"command"`
	Seq       uint32   `json:"seq"`
	Seqs      []uint32 `json:"seqs"`
	Parts     int      `json:"parts"`
	Status    uint32   `json:"status"`
	Hex       string   `json:"hex"`
	MessageID string   `json:"message_id"`
	Error     string   `json:"error"`
	MS        int      `json:"ms"`
	Lib       libView  `json:"lib"`
	Raw       *rawView `json:"raw"`
}

// libView is what the npm smpp package decoded.
type libView struct {
	SystemID         string   `json:"system_id"`
	InterfaceVersion int      `json:"interface_version"`
	Text             string   `json:"text"`
	UDH              []string `json:"udh"`
	PayloadText      string   `json:"payload_text"` // message_payload decoded by the library
	SARRef           *int     `json:"sar_msg_ref_num"`
	SARTotal         *int     `json:"sar_total_segments"`
	SARSeq           *int     `json:"sar_segment_seqnum"`
}

// rawView is what node-smsc.js parsed from the octets itself.
type rawView struct {
	SourceAddr         string `json:"source_addr"`
	DestinationAddr    string `json:"destination_addr"`
	SourceTON          uint8  `json:"source_addr_ton"`
	DestTON            uint8  `json:"dest_addr_ton"`
	ESMClass           uint8  `json:"esm_class"`
	RegisteredDelivery uint8  `json:"registered_delivery"`
	DataCoding         uint8  `json:"data_coding"`
	SMLength           int    `json:"sm_length"`
	ShortMessage       string `json:"short_message"`
	ValidityPeriod     string `json:"validity_period"`
	ScheduleDelivery   string `json:"schedule_delivery_time"`
	TLVs               []struct {
		Tag uint16 `json:"tag"`
		Hex string `json:"hex"`
	} `json:"tlvs"`
	Trailing int `json:"trailing"`
}

// sm returns the raw short_message octets.
func (r *rawView) sm() []byte {
	b, _ := hex.DecodeString(r.ShortMessage)
	return b
}

// nodeSMSC drives one node-smsc.js process: commands go to its stdin, its
// stdout events are collected for the assertions.
type nodeSMSC struct {
	t      *testing.T
	p      *proc
	stdin  io.WriteCloser
	mu     sync.Mutex
	events []event
	more   chan struct{} // closed and replaced on every new event
	nextID int
	Addr   string
}

// startNodeSMSC runs node-smsc.js with args and waits until it listens.
func startNodeSMSC(t *testing.T, args ...string) *nodeSMSC {
	t.Helper()
	node := mustTool(t, "NODE", "node")
	dir := filepath.Join(repoRoot(t), "test", "interop")
	cmd := exec.Command(node, append([]string{filepath.Join(dir, "node-smsc.js")}, args...)...)
	cmd.Dir = dir
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	s := &nodeSMSC{t: t, stdin: stdin, more: make(chan struct{})}
	var out io.Writer = pw
	if dir := os.Getenv("INTEROP_LOGDIR"); dir != "" {
		// Keep the peer's full record next to run.sh's logs.
		name := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
		if f, err := os.Create(filepath.Join(dir, "node-smsc-"+name+".jsonl")); err == nil {
			t.Cleanup(func() { f.Close() })
			out = io.MultiWriter(pw, f)
		}
	}
	s.p = mustStart(t, cmd, out)
	go s.read(pr)
	t.Cleanup(func() {
		stdin.Close()
		pw.Close()
		if t.Failed() {
			t.Logf("--- node-smsc events:\n%s", s.dump())
		}
	})
	ev := s.wait("listening", 10*time.Second, func(e event) bool { return e.Ev == "listening" })
	s.Addr = fmt.Sprintf("127.0.0.1:%d", ev.Port)
	return s
}

func (s *nodeSMSC) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			e = event{Ev: "unparsed", Error: sc.Text()}
		}
		s.mu.Lock()
		s.events = append(s.events, e)
		close(s.more)
		s.more = make(chan struct{})
		s.mu.Unlock()
	}
}

// find returns every event so far that matches.
func (s *nodeSMSC) find(match func(event) bool) []event {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []event
	for _, e := range s.events {
		if match(e) {
			out = append(out, e)
		}
	}
	return out
}

// waitN waits until n events match and returns them.
func (s *nodeSMSC) waitN(what string, n int, timeout time.Duration, match func(event) bool) []event {
	s.t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		more := s.more
		s.mu.Unlock()
		if got := s.find(match); len(got) >= n {
			return got
		}
		select {
		case <-more:
		case <-s.p.done:
			s.t.Fatalf("node-smsc exited while waiting for %s: %v", what, s.p.err)
		case <-deadline.C:
			s.t.Fatalf("timeout (%s) waiting for %d× %s; got %d", timeout, n, what, len(s.find(match)))
		}
	}
}

func (s *nodeSMSC) wait(what string, timeout time.Duration, match func(event) bool) event {
	s.t.Helper()
	return s.waitN(what, 1, timeout, match)[0]
}

// command sends c (an object with "cmd") and waits for its done event.
func (s *nodeSMSC) command(c map[string]any) event {
	s.t.Helper()
	s.mu.Lock()
	s.nextID++
	id := s.nextID
	s.mu.Unlock()
	c["id"] = id
	b, _ := json.Marshal(c)
	if _, err := s.stdin.Write(append(b, '\n')); err != nil {
		s.t.Fatalf("node-smsc command: %v", err)
	}
	ev := s.wait(fmt.Sprintf("command %v", c["cmd"]), 10*time.Second, func(e event) bool {
		return (e.Ev == "done" || e.Ev == "error") && e.ID == id
	})
	if ev.Ev == "error" {
		s.t.Fatalf("node-smsc command %s: %s", b, ev.Error)
	}
	return ev
}

// inbound matches a PDU the peer received with the given command.
func inbound(command string) func(event) bool {
	return func(e event) bool { return e.Ev == "pdu" && e.Dir == "in" && e.Command == command }
}

// outbound matches a PDU the peer sent with the given command.
func outbound(command string) func(event) bool {
	return func(e event) bool { return e.Ev == "pdu" && e.Dir == "out" && e.Command == command }
}

func (s *nodeSMSC) dump() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	for _, e := range s.events {
		j, _ := json.Marshal(e)
		b.WriteString(tail(string(j), 600))
		b.WriteByte('\n')
	}
	return tail(b.String(), 20000)
}
