package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smscbridge/smscbridge/conf"
	"github.com/smscbridge/smscbridge/store"
)

// waitItems polls the store until list returns n items or more (10 s).
func (h *harness) waitItems(what string, n int, list func(context.Context) ([]store.Item, error)) []store.Item {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		items, err := list(context.Background())
		if err != nil {
			h.t.Fatal(err)
		}
		if len(items) >= n {
			return items
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %d %s, have %d", n, what, len(items))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// DELETE /queue/dead/{id} drops dead letters only: a queued MO callback
// (the platform is down) answers 404, stays queued and is delivered once
// the platform is back; a dead letter answers 200 and is gone.
func TestAdminDropOnlyDeadLetters(t *testing.T) {
	h := newHarness(t)
	h.waitBound()
	h.plat.setFail(503)
	h.deliverMO("+2349067554729", rpNumber, "keep me")
	queued := h.waitItems("queued callbacks", 1, func(ctx context.Context) ([]store.Item, error) {
		return h.d.store.List(ctx, "http:rp-main", 0)
	})
	code, body := h.adminCall("DELETE", "/queue/dead/"+queued[0].ID)
	if code != http.StatusNotFound || !strings.Contains(string(body), "dead letter") {
		t.Errorf("DELETE of a queued item = %d %s, want 404 saying it is no dead letter", code, body)
	}
	if _, err := h.d.store.Get(context.Background(), queued[0].ID); err != nil {
		t.Fatalf("queued item gone after a refused DELETE: %v", err)
	}
	failed := len(withPath(h.plat.all(), "/receive"))
	h.plat.setFail(0)
	h.plat.wait(t, "the queued MO delivered", func(r []platformReq) bool {
		for _, q := range withPath(r, "/receive")[failed:] {
			if q.form(t).Get("text") == "keep me" {
				return true
			}
		}
		return false
	})
	for deadline := time.Now().Add(10 * time.Second); h.d.store.Stats()["http:rp-main"].Queued != 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("callback still queued after the platform came back: %+v", h.d.store.Stats())
		}
	}

	h.deliverMO("+2349067554729", "+15550001111", "to nobody") // no_route dead letter
	dead := h.waitItems("dead letters", 1, func(ctx context.Context) ([]store.Item, error) {
		return h.d.store.ListDead(ctx, "", 0)
	})
	if code, body := h.adminCall("DELETE", "/queue/dead/"+dead[0].ID); code != http.StatusOK {
		t.Errorf("DELETE of a dead letter = %d %s, want 200", code, body)
	}
	if _, err := h.d.store.Get(context.Background(), dead[0].ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("dead letter after DELETE: Get = %v, want ErrNotFound", err)
	}
	if code, _ := h.adminCall("DELETE", "/queue/dead/not-an-id"); code != http.StatusNotFound {
		t.Errorf("DELETE of a bad id = %d, want 404", code)
	}
}

// courier answers 400 for its own failures too (platforms.md B.2): such a
// 400 is retried until courier takes the MO; a 400 refusing the request
// itself ("not a possible number") dead-letters it at once.
func TestCourier400RetriedUnlessARefusal(t *testing.T) {
	h := newHarness(t)
	h.waitBound()
	courierErr := func(msg string) string {
		return `{"message":"Error","data":[{"type":"error","error":"` + msg + `"}]}`
	}
	h.plat.mu.Lock()
	h.plat.failCode, h.plat.failBody = 400, courierErr("unable to write message: dial tcp 10.0.0.5:5432: connection refused")
	h.plat.mu.Unlock()
	h.deliverMO("+2349067554729", rpNumber, "internal trouble")
	h.plat.wait(t, "the MO tried twice", func(r []platformReq) bool { return len(withPath(r, "/receive")) >= 2 })
	h.plat.setFail(0)
	h.plat.wait(t, "the MO taken", func(r []platformReq) bool {
		return h.d.store.Stats()["http:rp-main"].Queued == 0 && len(withPath(r, "/receive")) >= 3
	})
	if dead, _ := h.d.store.ListDead(context.Background(), "", 0); len(dead) != 0 {
		t.Fatalf("dead letters after an internal-failure 400: %+v", dead)
	}

	h.plat.mu.Lock()
	h.plat.failCode, h.plat.failBody = 400, courierErr("the phone number supplied is not a possible number")
	h.plat.mu.Unlock()
	before := len(withPath(h.plat.all(), "/receive"))
	h.deliverMO("+2349067554729", rpNumber, "bad sender")
	dead := h.waitItems("dead letters", 1, func(ctx context.Context) ([]store.Item, error) {
		return h.d.store.ListDead(ctx, "http:rp-main", 0)
	})
	if !strings.Contains(dead[0].DeadReason, "http 400") || !strings.Contains(dead[0].DeadReason, "not a possible number") {
		t.Errorf("dead reason = %q, want the 400 and courier's reason", dead[0].DeadReason)
	}
	if n := len(withPath(h.plat.all(), "/receive")) - before; n != 1 {
		t.Errorf("a refused MO was posted %d times, want once", n)
	}
}

// Each platform's send endpoint answers every error in one shape, without
// internal prefixes; a text over max_parts is a 400 naming both numbers.
func TestSendErrorsOneShapePerPlatform(t *testing.T) {
	h := newHarness(t)
	h.shutdown()
	h.cfg.SMSC[0].MaxParts = 2
	h.start()
	long := strings.Repeat("x", 400) // 3 GSM parts of 153
	rpSend := func(path, body string) (int, map[string]any) {
		code, b := h.post(path, "application/json", "", body)
		return code, decodeJSON(t, b)
	}
	for _, c := range []struct {
		path, body string
		code       int
		field, msg string
	}{
		{"/rapidpro/rp-main/send", `{"uuid":"0191e180-7d60-7000-aded-7d8b151cbd5b","text":"` + long + `","to":"+250788123123"}`,
			400, "text", `needs 3 SMS parts; smsc "agg-a" allows at most 2 (max_parts)`},
		{"/rapidpro/rp-main/send", `{"uuid":"0191e180-7d60-7000-aded-7d8b151cbd5b","text":"hi","to":"call me"}`,
			400, "to", ""},
		{"/rapidpro/nope/send", `{}`, 404, "", `unknown rapidpro channel "nope"`},
		{"/rapidpro/rp-main/sendx", `{}`, 404, "", "not found"},
	} {
		code, got := rpSend(c.path, c.body)
		field, _ := got["field"].(string)
		msg, _ := got["error"].(string)
		if code != c.code || got["status"] != "error" || field != c.field || !strings.Contains(msg, c.msg) {
			t.Errorf("POST %s = %d %v, want %d {status:error field:%q error:…%s…}", c.path, code, got, c.code, c.field, c.msg)
		}
		if b, _ := json.Marshal(got); strings.Contains(string(b), "bridge:") || strings.Contains(string(b), "invalid message") {
			t.Errorf("POST %s: answer leaks an internal prefix: %s", c.path, b)
		}
	}
	auth := "Bearer " + customToken
	for _, c := range []struct {
		path, body string
		code       int
		msg        string
	}{
		{"/custom/telenet/message", `{"channelId":"` + customChanID + `","contactId":"+60177872890","message":{"type":"text","text":"` + long + `"}}`,
			400, `message: needs 3 SMS parts; smsc "agg-a" allows at most 2 (max_parts)`},
		{"/custom/nope/message", `{}`, 404, `unknown custom channel "nope"`},
	} {
		code, b := h.post(c.path, "application/json", auth, c.body)
		var got struct {
			Error struct{ Message string } `json:"error"`
		}
		if err := json.Unmarshal(b, &got); err != nil || code != c.code || got.Error.Message != c.msg {
			t.Errorf("POST %s = %d %s, want %d {\"error\":{\"message\":%q}}", c.path, code, b, c.code, c.msg)
		}
	}
}

// check-config refuses every configuration the daemon refuses at start:
// each mutation below makes newDaemon fail (an adapter or the SMSC client
// refuses it), and Validate must refuse it too, naming the key.
func TestCheckConfigAgreesWithStart(t *testing.T) {
	junkCA := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(junkCA, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, key string
		mutate    func(cfg *conf.Config)
	}{
		{"ok", "", func(*conf.Config) {}},
		{"60-character channel_id", "channel_id", func(cfg *conf.Config) {
			cfg.Channel[1].ChannelID = strings.Repeat("c", 60)
		}},
		{"upper-case UUID in receive_url", "receive_url", func(cfg *conf.Config) {
			cfg.Channel[0].ReceiveURL = "https://rp.example/c/ex/" + strings.ToUpper(rpUUID) + "/receive"
		}},
		{"upper-case UUID in sent_url", "sent_url", func(cfg *conf.Config) {
			cfg.Channel[0].SentURL = "https://other.example/c/ex/" + strings.ToUpper(rpUUID) + "/sent"
		}},
		{"send_authorization with a leading space", "send_authorization", func(cfg *conf.Config) {
			cfg.Channel[0].SendAuthorization = " Bearer x"
		}},
		{"send_authorization with a line break", "send_authorization", func(cfg *conf.Config) {
			cfg.Channel[0].SendAuthorization = "Bearer x\r\nX-Evil: 1"
		}},
		{"webhook_url without a host", "webhook_url", func(cfg *conf.Config) {
			cfg.Channel[1].WebhookURL = "https:///custom/webhook"
		}},
		{"tls_ca that holds no certificate", "tls_ca", func(cfg *conf.Config) {
			cfg.SMSC[0].TLS, cfg.SMSC[0].TLSCA = true, junkCA
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := testConfig(t, "127.0.0.1:1", "http://127.0.0.1:1", filepath.Join(t.TempDir(), "bridge.db"))
			c.mutate(cfg)
			cfg.Complete()
			verr := cfg.Validate()
			d, derr := newDaemon(cfg, daemonOptions{})
			if d != nil {
				d.close()
			}
			if c.key == "" {
				if verr != nil || derr != nil {
					t.Fatalf("base config: Validate = %v, newDaemon = %v; want both to accept it", verr, derr)
				}
				return
			}
			if derr == nil {
				t.Errorf("newDaemon accepted it; this case no longer shows a start-time refusal")
			}
			if verr == nil || !strings.Contains(verr.Error(), c.key) {
				t.Errorf("Validate = %v, want a problem with %s (newDaemon refuses it: %v)", verr, c.key, derr)
			}
		})
	}
}

// With the default max_parts, the longest text either platform may send is
// accepted: the custom channel's 7,000 characters (105 UCS-2 parts, 213 if
// every character is an emoji) and a RapidPro chunk of max_length 6400
// bytes (96 UCS-2 parts at most).
func TestDefaultMaxPartsFitsPlatformLimits(t *testing.T) {
	h := newHarness(t)
	auth := "Bearer " + customToken
	for _, text := range []string{
		strings.Repeat("a", 7000),
		strings.Repeat("{", 7000),
		strings.Repeat("Ж", 7000),
		strings.Repeat("😀", 7000),
	} {
		body, _ := json.Marshal(map[string]any{"channelId": customChanID, "contactId": "+60177872890",
			"message": map[string]string{"type": "text", "text": text}})
		if code, b := h.post("/custom/telenet/message", "application/json", auth, string(body)); code != 200 {
			t.Errorf("custom text of 7000 %q = %d %s, want 200", []rune(text)[:1], code, b)
		}
	}
	for i, text := range []string{
		strings.Repeat("a", 6400),
		strings.Repeat("{", 6400),
		strings.Repeat("a", 6396) + "😀",
		strings.Repeat("Ж", 3200),
	} {
		body, _ := json.Marshal(map[string]string{"uuid": fmt.Sprintf("0191e180-7d60-7000-aded-7d8b151cbd%02d", i),
			"text": text, "to": "+250788123123"})
		if code, b := h.post("/rapidpro/rp-main/send", "application/json", "", string(body)); code != 200 {
			t.Errorf("RapidPro text of %d bytes = %d %s, want 200", len(text), code, b)
		}
	}
}
