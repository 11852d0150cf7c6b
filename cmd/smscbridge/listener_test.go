package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/smscbridge/smscbridge/conf"
)

// TestSlowClientsAreCutOff: a client trickling its headers one line at a
// time (slow-loris) is disconnected by the header timeout while
// well-behaved requests are served meanwhile, and an idle keep-alive
// connection is closed after the idle timeout (issue 15 item 9).
func TestSlowClientsAreCutOff(t *testing.T) {
	h, _ := newHarnessLogged(t, func(h *harness) {
		h.timeouts = listenerTimeouts{ReadHeader: 300 * time.Millisecond, Read: 2 * time.Second,
			Write: 2 * time.Second, Idle: 300 * time.Millisecond}
	})
	h.waitBound()
	slow, err := net.Dial("tcp", h.d.HTTPAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	closed := make(chan struct{})
	go func() {
		io.Copy(io.Discard, slow) // returns once the server closes the connection
		close(closed)
	}()
	io.WriteString(slow, "POST /rapidpro/rp-main/send HTTP/1.1\r\nHost: bridge\r\n")
	served, cut := 0, false
	for i := 0; i < 200 && !cut; i++ { // up to 10 s of trickling
		if _, err := io.WriteString(slow, "X-Slow-"+strconv.Itoa(i)+": x\r\n"); err != nil {
			cut = true
			break
		}
		if served < 3 {
			code, body := h.post("/rapidpro/rp-main/send", "application/x-www-form-urlencoded", "",
				"id="+strconv.Itoa(100+served)+"&text=meanwhile&to=%2B250788123123")
			if code != 200 {
				t.Fatalf("well-behaved send while a slow client trickles = %d %s", code, body)
			}
			served++
		}
		select {
		case <-closed:
			cut = true
		case <-time.After(50 * time.Millisecond):
		}
	}
	if !cut {
		t.Fatal("a client trickling headers for 10 s was never cut off")
	}
	if served == 0 {
		t.Error("no well-behaved request was served meanwhile")
	}

	// An idle keep-alive connection is closed by the server.
	idle, err := net.Dial("tcp", h.d.HTTPAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	io.WriteString(idle, "GET /nowhere HTTP/1.1\r\nHost: bridge\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(idle), nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	idle.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := idle.Read(make([]byte, 1)); n != 0 || err == nil || isTimeout(err) {
		t.Errorf("idle keep-alive connection: read %d, %v; want it closed by the server", n, err)
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// TestChannelRateLimit: over its max_requests_per_second a channel's
// endpoint (RapidPro, template notifications, Kannel sendsms) answers 503
// with Retry-After in the platform's error shape, never 429; other
// channels are not affected (issue 15 item 9).
func TestChannelRateLimit(t *testing.T) {
	h, _ := newHarnessLogged(t, func(h *harness) {
		h.cfg.Channel[0].MaxRequestsPerSecond = 0.01 // one now, the next in 100 s
		h.cfg.Channel = append(h.cfg.Channel, conf.Channel{ID: "events", Kind: conf.KindNotify, SMSC: []string{"agg-a"},
			WebsiteID: "64652663e65219005dc61bd6", APIKey: "k", From: "MyBrand", MaxRequestsPerSecond: 0.01,
			Template: []conf.Template{{ID: "7", Type: "text", Text: "Hola {{name}}"}}},
			conf.Channel{ID: "kn", Kind: conf.KindKannel, Numbers: []string{"12345"}, SMSC: []string{"agg-a"},
				Username: "rapidpro", Password: "kpw", MaxRequestsPerSecond: 0.01})
		h.cfg.Complete()
	})
	h.waitBound()
	send := func(id string) (*http.Response, string) {
		resp, err := http.Post(h.baseURL+"/rapidpro/rp-main/send", "application/x-www-form-urlencoded",
			strings.NewReader("id="+id+"&text=hi&to=%2B250788123123"))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	if resp, body := send("1"); resp.StatusCode != 200 {
		t.Fatalf("first send = %d %s", resp.StatusCode, body)
	}
	resp, body := send("2")
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("send over the limit = %d %s, want 503 (never 429)", resp.StatusCode, body)
	}
	if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 100 {
		t.Errorf("Retry-After = %q, want 1..100 seconds", resp.Header.Get("Retry-After"))
	}
	if m := decodeJSON(t, []byte(body)); m["status"] != "error" || !strings.Contains(m["error"].(string), "too many requests") {
		t.Errorf("503 body = %s, want RapidPro's error shape", body)
	}
	for i, want := range []int{200, http.StatusServiceUnavailable} {
		req, _ := http.NewRequest("POST", h.baseURL+"/website/64652663e65219005dc61bd6/hsm/notifications",
			strings.NewReader(`{"templateId":"7","destination":"542994843975","params":{"name":"Julieta"}}`))
		req.Header.Set("apikey", "k")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("notification %d = %d %s, want %d", i, resp.StatusCode, b, want)
		}
		if want == 503 && (resp.Header.Get("Retry-After") == "" || !strings.Contains(string(b), `"code":"SERVICE_UNAVAILABLE"`)) {
			t.Errorf("notification over the limit: Retry-After %q, body %s", resp.Header.Get("Retry-After"), b)
		}
	}
	for i, want := range []int{http.StatusAccepted, http.StatusServiceUnavailable} {
		resp, err := http.Get(h.baseURL + "/cgi-bin/sendsms?username=rapidpro&password=kpw&to=%2B250788123123&text=hi")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("sendsms %d = %d %s, want %d", i, resp.StatusCode, b, want)
		}
		if want == 503 && resp.Header.Get("Retry-After") == "" {
			t.Errorf("sendsms over the limit: no Retry-After")
		}
	}
	code, b := h.post("/custom/telenet/message", "application/json", "Bearer "+customToken,
		`{"channelId":"`+customChanID+`","contactId":"+60123456789","message":{"type":"text","text":"hi"}}`)
	if code != 200 {
		t.Errorf("the other channel = %d %s, want 200 (its own limit)", code, b)
	}
}
