package main

import (
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/smscbridge/smscbridge/bridge"
	"github.com/smscbridge/smscbridge/conf"
	"github.com/smscbridge/smscbridge/smsc/smsctest"
)

// Distinctive values for every secret the configuration can hold.
const (
	secretSMSCPassword = "pw7Qx3z"
	secretAdminToken   = "adm-tok-5f8e2a71c9"
	secretRPAuth       = "Bearer rpauth-3c9d1e7b"
	secretCustomToken  = "custtok-8a2f6c4e1b"
	secretKannelPass   = "kanpw-2b7e9d4c"
	secretNotifyKey    = "notkey-6d1a8f3e"
	secretBadPassword  = "pw7Qx3z-in-a-bad-file" // a reload that fails on it
)

// TestNoSecretInAnyOutput runs traffic through every configured channel
// with every secret set — MO, MT, receipts, a platform outage and its
// retries, wrong credentials, admin calls, a reload that fails on a
// secret's value — with the log at DEBUG, and then looks for each secret
// in everything the daemon wrote or served: log lines, /status (HTML and
// JSON), /metrics, /healthz, /readyz and the error bodies of the listeners
// (issue 15 item 9), and the dead letter of a custom channel's callback as
// GET /queue/dead, the status page's dead-letter list and smscbridge queue
// show / ls -json give it, base64 runs decoded before the search.
func TestNoSecretInAnyOutput(t *testing.T) {
	h, logs := newHarnessLogged(t, func(h *harness) {
		h.cfg.Log.Level = "debug"
		h.cfg.Admin.Token = secretAdminToken
		h.cfg.SMSC[0].Password = secretSMSCPassword
		h.cfg.Channel[0].SendAuthorization = secretRPAuth
		h.cfg.Channel[1].APIToken = secretCustomToken
		h.cfg.Channel = append(h.cfg.Channel,
			conf.Channel{ID: "kn", Kind: conf.KindKannel, Numbers: []string{"12345"}, SMSC: []string{"agg-a"},
				Username: "rapidpro", Password: secretKannelPass, MOURL: h.plat.srv.URL + "/kannel?from=%p&text=%a", MOMethod: "GET"},
			conf.Channel{ID: "events", Kind: conf.KindNotify, SMSC: []string{"agg-a"}, WebsiteID: "64652663e65219005dc61bd6",
				APIKey: secretNotifyKey, From: "MyBrand",
				Template: []conf.Template{{ID: "7", Type: "text", Text: "Hola {{name}}"}}})
		h.cfg.Complete()
		if err := h.cfg.Validate(); err != nil {
			t.Fatalf("config: %v", err)
		}
	}, smsctest.WithAccount("bridge", secretSMSCPassword), smsctest.WithReceipts(10*time.Millisecond, func(smsctest.Submit) smsctest.Receipt {
		return smsctest.Receipt{}
	}))
	h.waitBound()
	var served strings.Builder // everything the listeners answered
	do := func(method, url, auth, ctype, body string) int {
		req, _ := http.NewRequest(method, url, strings.NewReader(body))
		if k, ok := strings.CutPrefix(auth, "apikey "); ok {
			req.Header.Set("apikey", k)
		} else if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, url, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		served.WriteString(resp.Status + "\n")
		for k, v := range resp.Header {
			served.WriteString(k + ": " + strings.Join(v, ",") + "\n")
		}
		served.Write(b)
		served.WriteString("\n")
		return resp.StatusCode
	}
	form := "application/x-www-form-urlencoded"
	// A platform outage first: callbacks fail and are retried.
	h.plat.setFail(503)
	h.deliverMO("+2349067554729", rpNumber, "hello rapidpro")
	h.deliverMO("+60123456789", customNumber, "hello custom")
	h.deliverMO("+2349067554730", "12345", "hello kannel")
	h.plat.wait(t, "failed attempts", func(r []platformReq) bool { return len(r) >= 4 })
	h.plat.setFail(0)
	do("POST", h.baseURL+"/rapidpro/rp-main/send", secretRPAuth, form, "id=1&text=hi&to=%2B250788123123")
	do("POST", h.baseURL+"/rapidpro/rp-main/send", "Bearer wrong", form, "id=2&text=hi&to=%2B250788123123")
	do("POST", h.baseURL+"/rapidpro/rp-main/send", secretRPAuth+"x", form, "id=3&text=hi&to=%2B250788123123")
	do("POST", h.baseURL+"/custom/telenet/message", "Bearer "+secretCustomToken, "application/json",
		`{"channelId":"`+customChanID+`","contactId":"+60123456789","message":{"type":"text","text":"hi"}}`)
	do("POST", h.baseURL+"/custom/telenet/message", "Bearer "+secretCustomToken+"x", "application/json", `{}`)
	do("GET", h.baseURL+"/cgi-bin/sendsms?username=rapidpro&password="+secretKannelPass+"&to=%2B250788123123&text=hi", "", "", "")
	notifyURL := h.baseURL + "/website/64652663e65219005dc61bd6/hsm/notifications"
	notification := `{"templateId":"7","destination":"542994843975","params":{"name":"Julieta"}}`
	if code := do("POST", notifyURL, "apikey "+secretNotifyKey, "application/json", notification); code != 200 {
		t.Errorf("notification = %d", code)
	}
	do("POST", notifyURL, "apikey "+secretNotifyKey+"x", "application/json", notification)
	do("POST", notifyURL, "apikey "+secretNotifyKey, "application/json", `{"apikey":"`+secretNotifyKey+`"}`)
	h.plat.wait(t, "callbacks after the outage", func(r []platformReq) bool {
		return len(withPath(r, "/receive")) >= 2 && len(withPath(r, "/custom/webhook")) >= 2
	})
	// A callback of the custom channel (Authorization: Bearer api_token)
	// that its platform refuses for good: a dead letter whose payload the
	// admin API, the status page and smscbridge queue show.
	h.plat.setAnswer(func(r platformReq) int {
		if strings.Contains(string(r.Body), "refuse me") {
			return http.StatusBadRequest
		}
		return 0
	})
	h.deliverMO("+60123456790", customNumber, "refuse me")
	deadCB := h.waitDead("http:telenet", "http 400", 1)[0]
	h.plat.setAnswer(nil)
	admin := "http://" + h.d.AdminAddr()
	do("GET", admin+"/status?dead="+url.QueryEscape(bridge.DeadClass(deadCB.DeadReason)), "", "", "")
	do("GET", admin+"/status?format=json&dead="+url.QueryEscape(bridge.DeadClass(deadCB.DeadReason)), "", "", "")
	do("GET", admin+"/status?trace=%2B60123456790", "", "", "")
	do("GET", admin+"/queue/dead?lane=http:telenet", "Bearer "+secretAdminToken, "", "")
	// Every open page, /metrics and the status page's JSON included (404
	// where a build does not serve one: then there is nothing to leak).
	for _, p := range []string{"/status", "/status?format=json", "/metrics", "/healthz", "/readyz"} {
		do("GET", admin+p, "", "", "")
	}
	reqJSON, _ := http.NewRequest("GET", admin+"/status", nil)
	reqJSON.Header.Set("Accept", "application/json")
	if resp, err := http.DefaultClient.Do(reqJSON); err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		served.Write(b)
	}
	do("GET", admin+"/queue/dead", "Bearer "+secretAdminToken, "", "")
	do("GET", admin+"/queue/dead", "Bearer "+secretAdminToken+"x", "", "")
	do("DELETE", admin+"/queue/dead/nonexistent", "Bearer "+secretAdminToken, "", "")
	// A reload of a file whose mistake is a secret's value.
	bad := filepath.Join(t.TempDir(), "bad.toml")
	mustWrite(t, bad, `[admin]
token = "`+secretAdminToken+`"
[[smsc]]
id = "agg-a"
host = "127.0.0.1"
system_id = "bridge"
password = "`+secretBadPassword+`"
[[channel]]
id = "cc"
kind = "custom"
numbers = ["+60177872890"]
smsc = ["agg-a"]
channel_id = "x"
api_token = "`+secretCustomToken+`"
webhook_url = "https://app.example/hook"
`)
	if err := h.d.Reload(bad); err == nil {
		t.Fatal("reload of a bad file succeeded")
	}
	h.shutdown()

	// smscbridge queue on the stopped daemon's store: what an operator
	// pastes into a ticket.
	var queueOut strings.Builder
	for _, args := range [][]string{
		{"show", "-db", h.cfg.Store.Path, deadCB.ID},
		{"show", "-json", "-db", h.cfg.Store.Path, deadCB.ID},
		{"ls", "-dead", "-json", "-db", h.cfg.Store.Path},
		{"ls", "-dead", "-db", h.cfg.Store.Path},
	} {
		code, stdout, stderr := runQueue(t, args...)
		if code != 0 {
			t.Errorf("queue %v = %d: %s", args, code, stderr)
		}
		queueOut.WriteString(stdout + stderr)
	}
	if !strings.Contains(queueOut.String(), deadCB.ID) || !strings.Contains(served.String(), deadCB.ID) {
		t.Fatalf("the dead callback %s is not in the output:\n%s\n%s", deadCB.ID, queueOut.String(), served.String())
	}
	// The dead callback is shown readable: its JSON body, not base64.
	if !strings.Contains(queueOut.String(), "refuse me") || !strings.Contains(served.String(), "refuse me") {
		t.Errorf("the dead callback's body is not shown readable:\n%s", queueOut.String())
	}

	out := map[string]string{"log": logs.String(), "served": served.String(), "queue": queueOut.String()}
	for name, text := range out {
		out[name] = text + "\n" + decodeBase64Runs(text)
	}
	if !strings.Contains(out["log"], "password") || !strings.Contains(out["served"], "smsc") {
		t.Fatalf("too little output to check:\n%s\n%s", out["log"], out["served"])
	}
	secrets := []string{secretSMSCPassword, secretAdminToken, secretRPAuth, strings.TrimPrefix(secretRPAuth, "Bearer "),
		secretCustomToken, secretKannelPass, secretNotifyKey, secretBadPassword}
	for name, text := range out {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%s output contains the secret %q:\n%s", name, s, excerptAround(text, s))
			}
			if b := base64.StdEncoding.EncodeToString([]byte(s)); strings.Contains(text, b) {
				t.Errorf("%s output contains the secret %q in base64", name, s)
			}
		}
	}
}

// excerptAround shows the text around the first occurrence of s.
func excerptAround(text, s string) string {
	i := strings.Index(text, s)
	lo, hi := max(0, i-300), min(len(text), i+len(s)+100)
	return text[lo:hi]
}

// decodeBase64Runs decodes every run of base64 in text (a payload served
// as a JSON []byte, or nested in one) and returns what they decode to, so a
// secret hidden in base64 is found by a plain search.
func decodeBase64Runs(text string) string {
	var b strings.Builder
	for range 3 { // base64 inside base64, a level or two deep
		var next strings.Builder
		for _, run := range base64Run.FindAllString(text, -1) {
			if d, err := base64.StdEncoding.DecodeString(run); err == nil {
				next.Write(d)
				next.WriteString("\n")
			}
		}
		if next.Len() == 0 {
			break
		}
		text = next.String()
		b.WriteString(text)
	}
	return b.String()
}

var base64Run = regexp.MustCompile(`[A-Za-z0-9+/]{16,}={0,2}`)
