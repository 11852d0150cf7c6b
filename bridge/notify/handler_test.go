package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smscbridge/smscbridge/bridge"
	"github.com/smscbridge/smscbridge/conf"
)

const (
	testWebsite = "64652663e65219005dc61bd6"
	testKey     = "k3y-of-the-company"
)

// fakeAccepter records the MTs it accepts, or fails with err.
type fakeAccepter struct {
	mu  sync.Mutex
	mts []bridge.MT
	err error
}

func (f *fakeAccepter) Accept(_ context.Context, mt bridge.MT) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return "", f.err
	}
	f.mts = append(f.mts, mt)
	return fmt.Sprintf("019a0000-0000-7000-8000-00000000000%d", len(f.mts)), nil
}

func (f *fakeAccepter) accepted() []bridge.MT {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]bridge.MT(nil), f.mts...)
}

func testConfig() Config {
	return Config{
		Channel: "events", WebsiteID: testWebsite, APIKey: testKey, From: "MyBrand",
		AllowPrivateMedia: true, // httptest media servers are on loopback
		Templates: []conf.Template{
			{ID: "7", Type: "text", Text: "Hola {{name}}, tu pedido {{order}} está listo."},
			{ID: "1", Type: "text", Text: "Hola {{name}}"},
			{ID: "img", Type: "image", Text: "Mira esto, {{name}}:"},
			{ID: "vid", Type: "video", Text: "Video"},
			{ID: "doc", Type: "document", Text: "Tu factura"},
			{ID: "doc-stored", Type: "document", Text: "Catálogo", URL: "https://files.example.com/catalogo.pdf"},
			{ID: "plain", Type: "text", Text: "Sin variables"},
		},
	}
}

func newAdapter(t *testing.T, cfg Config, acc bridge.Accepter) *Adapter {
	t.Helper()
	a, err := New(cfg, acc, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return a
}

func post(h http.Handler, apikey, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/website/"+testWebsite+"/hsm/notifications", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if apikey != "" {
		req.Header.Set("apikey", apikey)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// sameJSON fails unless got and want are the same JSON value.
func sameJSON(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("answer is not JSON: %v: %s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want: %v", err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if !bytes.Equal(gb, wb) {
		t.Errorf("answer\n got %s\nwant %s", gb, wb)
	}
}

func TestSuccessTextTemplate(t *testing.T) {
	acc := &fakeAccepter{}
	a := newAdapter(t, testConfig(), acc)
	w := post(a, testKey, `{"templateId":"7","destination":"542994843975","params":{"name":"Julieta","order":"A-12","extra":"ignored"}}`)
	if w.Code != 200 {
		t.Fatalf("status %d %s", w.Code, w.Body)
	}
	// Byte for byte the seed's SUCCESS body.
	if got, want := w.Body.String(), `{"code":"SUCCESS","statusCode":200,"description":"Resource successfully created","result":"HSM notification sent to 542994843975."}`; got != want {
		t.Errorf("body\n got %s\nwant %s", got, want)
	}
	mts := acc.accepted()
	if len(mts) != 1 {
		t.Fatalf("accepted %d MTs", len(mts))
	}
	mt := mts[0]
	if mt.To != "+542994843975" || mt.From != "MyBrand" || mt.Channel != "events" || mt.Text != "Hola Julieta, tu pedido A-12 está listo." {
		t.Errorf("MT = %+v", mt)
	}
	if w.Header().Get(IDHeader) != "019a0000-0000-7000-8000-000000000001" {
		t.Errorf("%s = %q, want the bridge id", IDHeader, w.Header().Get(IDHeader))
	}
}

func TestTemplateIDNumberAndNumericParams(t *testing.T) {
	acc := &fakeAccepter{}
	a := newAdapter(t, testConfig(), acc)
	w := post(a, testKey, `{"templateId":1,"destination":"542994843975","params":{"name":42}}`)
	if w.Code != 200 {
		t.Fatalf("status %d %s", w.Code, w.Body)
	}
	if mts := acc.accepted(); len(mts) != 1 || mts[0].Text != "Hola 42" {
		t.Errorf("MTs = %+v", mts)
	}
	w = post(a, testKey, `{"templateId":"plain","destination":"542994843975","params":{}}`)
	if w.Code != 200 {
		t.Fatalf("template without variables, params {}: status %d %s", w.Code, w.Body)
	}
}

// TestInvalidBodyMissingEverything: the seed's INVALID_BODY example.
func TestInvalidBodyMissingEverything(t *testing.T) {
	acc := &fakeAccepter{}
	a := newAdapter(t, testConfig(), acc)
	w := post(a, testKey, `{}`)
	if w.Code != 400 {
		t.Fatalf("status %d", w.Code)
	}
	sameJSON(t, w.Body.Bytes(), `{"code":"INVALID_BODY","statusCode":400,"description":"Invalid body, query or params","result":[
		{"message":"\"templateId\" is required","path":["templateId"],"type":"any.required","context":{"label":"templateId","key":"templateId"}},
		{"message":"\"destination\" is required","path":["destination"],"type":"any.required","context":{"label":"destination","key":"destination"}},
		{"message":"\"params\" is required","path":["params"],"type":"any.required","context":{"label":"params","key":"params"}}]}`)
	// The body is checked before the apikey (D.2's order).
	if w := post(a, "", `{}`); w.Code != 400 {
		t.Errorf("no apikey and an empty body: status %d, want 400", w.Code)
	}
	if len(acc.accepted()) != 0 {
		t.Error("an invalid request was queued")
	}
}

func TestInvalidBodyMissingParamsNamesEach(t *testing.T) {
	acc := &fakeAccepter{}
	a := newAdapter(t, testConfig(), acc)
	w := post(a, testKey, `{"templateId":"7","destination":"542994843975","params":{"other":"x"}}`)
	if w.Code != 400 {
		t.Fatalf("status %d %s", w.Code, w.Body)
	}
	sameJSON(t, w.Body.Bytes(), `{"code":"INVALID_BODY","statusCode":400,"description":"Invalid body, query or params","result":[
		{"message":"\"params.name\" is required","path":["params","name"],"type":"any.required","context":{"label":"params.name","key":"name"}},
		{"message":"\"params.order\" is required","path":["params","order"],"type":"any.required","context":{"label":"params.order","key":"order"}}]}`)
	if len(acc.accepted()) != 0 {
		t.Error("queued despite missing params")
	}
}

func TestInvalidBodyShapes(t *testing.T) {
	a := newAdapter(t, testConfig(), &fakeAccepter{})
	for _, tc := range []struct {
		body string
		want []string // "path:type" of each item
	}{
		{`not json`, []string{":object.base"}},
		{`[1,2]`, []string{":object.base"}},
		{`{"templateId":true,"destination":"+542994843975","params":[]}`,
			[]string{"templateId:alternatives.types", "destination:string.pattern.base", "params:object.base"}},
		{`{"templateId":"","destination":542994843975,"params":"x"}`,
			[]string{"templateId:string.empty", "destination:string.base", "params:object.base"}},
		{`{"templateId":"img","destination":"54 299","params":{},"media":{"filename":3}}`,
			[]string{"destination:string.pattern.base", "media.link:any.required", "media.filename:string.base"}},
		{`{"templateId":"img","destination":"542994843975","params":{},"media":{"link":"ftp://x/y.png"}}`,
			[]string{"media.link:string.uri"}},
		{`{"templateId":"img","destination":"542994843975","params":{},"media":"https://x/y.png"}`,
			[]string{"media:object.base"}},
		{`{"templateId":"1","destination":"542994843975","params":{"name":{"first":"a"}}}`,
			[]string{"params.name:string.base"}},
		{`{"templateId":"img","destination":"542994843975","params":{"name":"a"}}`, // media template, no media, none stored
			[]string{"media:any.required"}},
	} {
		w := post(a, testKey, tc.body)
		var resp struct {
			Code       string
			StatusCode int
			Result     []joiItem
		}
		if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
			t.Fatalf("%s: %v: %s", tc.body, err, w.Body)
		}
		var got []string
		for _, it := range resp.Result {
			got = append(got, label(it.Path)+":"+it.Type)
			if it.Context.Label != label(it.Path) && len(it.Path) > 0 {
				t.Errorf("%s: item %+v: label is not the path", tc.body, it)
			}
		}
		if w.Code != 400 || resp.Code != "INVALID_BODY" || resp.StatusCode != 400 || strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("%s: %d %s %v, want 400 INVALID_BODY %v", tc.body, w.Code, resp.Code, got, tc.want)
		}
	}
}

func TestUnauthorized(t *testing.T) {
	acc := &fakeAccepter{}
	a := newAdapter(t, testConfig(), acc)
	body := `{"templateId":"7","destination":"542994843975","params":{"name":"a","order":"b"}}`
	for _, key := range []string{"", "wrong", testKey + "x", strings.ToUpper(testKey)} {
		w := post(a, key, body)
		if w.Code != 401 {
			t.Errorf("apikey %q: status %d", key, w.Code)
		}
		if got, want := w.Body.String(), `{"code":"UNAUTHORIZED","statusCode":401,"description":"Invalid ApiKey","result":{"websiteId":"64652663e65219005dc61bd6"}}`; got != want {
			t.Errorf("apikey %q: body\n got %s\nwant %s", key, got, want)
		}
	}
	if len(acc.accepted()) != 0 {
		t.Error("queued without a valid apikey")
	}
}

func TestNotFound(t *testing.T) {
	a := newAdapter(t, testConfig(), &fakeAccepter{})
	for _, id := range []string{`"5"`, `5`} {
		w := post(a, testKey, `{"templateId":`+id+`,"destination":"542994843975","params":{}}`)
		if w.Code != 404 {
			t.Fatalf("status %d", w.Code)
		}
		want := `{"code":"NOT_FOUND","statusCode":404,"description":"Cant find requested template 5 for website 64652663e65219005dc61bd6","result":{"templateId":"5","websiteId":"64652663e65219005dc61bd6"}}`
		if got := w.Body.String(); got != want {
			t.Errorf("templateId %s: body\n got %s\nwant %s", id, got, want)
		}
	}
}

func TestAcceptErrors(t *testing.T) {
	body := `{"templateId":"1","destination":"542994843975","params":{"name":"a"}}`
	for _, tc := range []struct {
		err  error
		code int
		want string
	}{
		{fmt.Errorf("%w: disk full", bridge.ErrUnavailable), 503, "SERVICE_UNAVAILABLE"},
		{fmt.Errorf("%w: +542994843975", bridge.ErrNoRoute), 400, "INVALID_BODY"},
		{&bridge.InvalidError{Field: "text", Msg: "needs 300 SMS parts"}, 400, "INVALID_BODY"},
	} {
		a := newAdapter(t, testConfig(), &fakeAccepter{err: tc.err})
		w := post(a, testKey, body)
		var resp struct{ Code string }
		_ = json.Unmarshal(w.Body.Bytes(), &resp)
		if w.Code != tc.code || resp.Code != tc.want {
			t.Errorf("%v: %d %s, want %d %s", tc.err, w.Code, w.Body, tc.code, tc.want)
		}
		if strings.Contains(w.Body.String(), "disk full") {
			t.Errorf("internal error text leaked: %s", w.Body)
		}
	}
}

func TestDedupKey(t *testing.T) {
	cfg := testConfig()
	cfg.DedupWindow = 10 * time.Second
	acc := &fakeAccepter{}
	a := newAdapter(t, cfg, acc)
	body := `{"templateId":"1","destination":"542994843975","params":{"name":"a"}}`
	post(a, testKey, body)
	post(a, testKey, body)
	post(a, testKey, `{"templateId":"1","destination":"542994843975","params":{"name":"b"}}`)
	mts := acc.accepted()
	if len(mts) != 3 || mts[0].DedupKey == "" || mts[0].DedupKey != mts[1].DedupKey || mts[0].DedupKey == mts[2].DedupKey ||
		mts[0].DedupWindow != 10*time.Second {
		t.Errorf("dedup keys: %+v", mts)
	}
}

// mediaServer answers HEAD (and GET) with the given headers; hits counts
// the requests it saw.
type mediaServer struct {
	*httptest.Server
	hits atomic.Int64
}

func newMediaServer(t *testing.T, h http.HandlerFunc) *mediaServer {
	m := &mediaServer{}
	m.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.hits.Add(1)
		h(w, r)
	}))
	t.Cleanup(m.Close)
	return m
}

// file answers HEAD like a static file server: the given content-type
// ("" = none) and content-length (< 0 = none).
func file(ct string, length int64) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if ct != "" {
			w.Header().Set("Content-Type", ct)
		} else {
			w.Header()["Content-Type"] = nil // no sniffing either
		}
		if length >= 0 {
			w.Header().Set("Content-Length", strconv.FormatInt(length, 10))
		}
		w.WriteHeader(200)
	}
}

func mediaBody(templateID, link string) string {
	return `{"templateId":"` + templateID + `","destination":"542994843975","params":{"name":"Santiago"},"media":{"link":"` + link + `","filename":"PDF name here"}}`
}

func TestMediaSuccess(t *testing.T) {
	for _, tc := range []struct {
		template, ct string
		length       int64
	}{
		{"img", "image/png", 1570024},
		{"img", "image/jpeg", 1999999}, // strictly smaller than 2,000,000
		{"img", "IMAGE/PNG; charset=binary", 10},
		{"vid", "audio/mpeg", 19999999}, // VIDEO allows audio/mpeg (sic, D.2)
		{"vid", "video/mp4", 0},
		{"doc", "application/pdf", 1000},
		{"doc", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", 1000},
		{"doc", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", 1000},
	} {
		srv := newMediaServer(t, file(tc.ct, tc.length))
		acc := &fakeAccepter{}
		a := newAdapter(t, testConfig(), acc)
		link := srv.URL + "/files/x?sig=1"
		w := post(a, testKey, mediaBody(tc.template, link))
		if w.Code != 200 {
			t.Errorf("%s %s %d: %d %s", tc.template, tc.ct, tc.length, w.Code, w.Body)
			continue
		}
		mts := acc.accepted()
		if len(mts) != 1 || !strings.HasSuffix(mts[0].Text, "\n"+link) {
			t.Errorf("%s: MT text %q, want the link appended", tc.template, mts[0].Text)
		}
	}
}

func TestMediaStoredWithTemplate(t *testing.T) {
	acc := &fakeAccepter{}
	a := newAdapter(t, testConfig(), acc)
	w := post(a, testKey, `{"templateId":"doc-stored","destination":"542994843975","params":{}}`)
	if w.Code != 200 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if mts := acc.accepted(); len(mts) != 1 || mts[0].Text != "Catálogo\nhttps://files.example.com/catalogo.pdf" {
		t.Errorf("MTs %+v", mts)
	}
}

func TestMediaErrors(t *testing.T) {
	for _, tc := range []struct {
		name     string
		template string
		h        http.HandlerFunc
		code     int
		want     string // body with LINK for the link
	}{
		{"no content-length", "doc", file("application/pdf", -1), 400,
			`{"code":"INVALID_CONTENT_LENGTH","statusCode":400,"description":"Cant get content-lenght header","result":{"link":"LINK","contentLength":null,"contentType":"application/pdf","templateType":"DOCUMENT","maxFileSize":2000000}}`},
		{"video on an image template", "img", file("video/mp4", 1570024), 400,
			`{"code":"INVALID_CONTENT_TYPE","statusCode":400,"description":"content-type does not match valid values.","result":{"link":"LINK","contentLength":1570024,"contentType":"video/mp4","templateType":"IMAGE","allowedMimeTypes":["image/png","image/jpeg"]}}`},
		{"no content-type", "vid", file("", 10), 400,
			`{"code":"INVALID_CONTENT_TYPE","statusCode":400,"description":"content-type does not match valid values.","result":{"link":"LINK","contentLength":10,"contentType":null,"templateType":"VIDEO","allowedMimeTypes":["audio/mpeg","video/mp4"]}}`},
		{"pdf on a video template", "vid", file("application/pdf", 10), 400,
			`{"code":"INVALID_CONTENT_TYPE","statusCode":400,"description":"content-type does not match valid values.","result":{"link":"LINK","contentLength":10,"contentType":"application/pdf","templateType":"VIDEO","allowedMimeTypes":["audio/mpeg","video/mp4"]}}`},
		{"png on a document template", "doc", file("image/png", 10), 400,
			`{"code":"INVALID_CONTENT_TYPE","statusCode":400,"description":"content-type does not match valid values.","result":{"link":"LINK","contentLength":10,"contentType":"image/png","templateType":"DOCUMENT","allowedMimeTypes":["application/pdf","application/vnd.openxmlformats-officedocument.wordprocessingml.document","application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"]}}`},
		{"image too big", "img", file("image/jpeg", 5245329), 409,
			`{"code":"FILE_SIZE_EXCEEDED","statusCode":409,"description":"File size exeeded for template type","result":{"link":"LINK","contentLength":5245329,"contentType":"image/jpeg","templateType":"IMAGE","maxFileSize":2000000}}`},
		{"image exactly the maximum", "img", file("image/png", 2000000), 409,
			`{"code":"FILE_SIZE_EXCEEDED","statusCode":409,"description":"File size exeeded for template type","result":{"link":"LINK","contentLength":2000000,"contentType":"image/png","templateType":"IMAGE","maxFileSize":2000000}}`},
		{"video exactly the maximum", "vid", file("video/mp4", 20000000), 409,
			`{"code":"FILE_SIZE_EXCEEDED","statusCode":409,"description":"File size exeeded for template type","result":{"link":"LINK","contentLength":20000000,"contentType":"video/mp4","templateType":"VIDEO","maxFileSize":20000000}}`},
		{"HEAD not allowed", "img", func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet {
				w.Header().Set("Allow", "GET")
				w.WriteHeader(405)
				return
			}
			file("image/png", 10)(w, r)
		}, 400, `{"code":"HEAD_METHOD_NOT_ALLOWED","statusCode":400,"description":"The link does not support method HEAD.","result":{"link":"LINK"}}`},
		{"HEAD answers 404", "img", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(404) }, 400,
			`{"code":"HEAD_METHOD_NOT_ALLOWED","statusCode":400,"description":"The link does not support method HEAD.","result":{"link":"LINK"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newMediaServer(t, tc.h)
			acc := &fakeAccepter{}
			a := newAdapter(t, testConfig(), acc)
			link := srv.URL + "/media/file"
			w := post(a, testKey, mediaBody(tc.template, link))
			if w.Code != tc.code {
				t.Errorf("status %d, want %d: %s", w.Code, tc.code, w.Body)
			}
			if want := strings.ReplaceAll(tc.want, "LINK", link); w.Body.String() != want {
				t.Errorf("body\n got %s\nwant %s", w.Body, want)
			}
			if srv.hits.Load() == 0 {
				t.Error("the media server saw no request")
			}
			if len(acc.accepted()) != 0 {
				t.Error("queued despite a bad media link")
			}
		})
	}
}

func TestMediaHeadTimeoutAndRedirects(t *testing.T) {
	release := make(chan struct{})
	slow := newMediaServer(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	cfg := testConfig()
	cfg.HeadTimeout = 200 * time.Millisecond
	a := newAdapter(t, cfg, &fakeAccepter{})
	if w := post(a, testKey, mediaBody("img", slow.URL+"/x")); w.Code != 400 || !strings.Contains(w.Body.String(), "HEAD_METHOD_NOT_ALLOWED") {
		t.Errorf("a link that never answers: %d %s", w.Code, w.Body)
	}

	target := newMediaServer(t, file("image/png", 10))
	var chain *mediaServer
	chain = newMediaServer(t, func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/r/"))
		if n == 0 {
			http.Redirect(w, r, target.URL+"/img.png", http.StatusFound)
			return
		}
		http.Redirect(w, r, chain.URL+"/r/"+strconv.Itoa(n-1), http.StatusFound)
	})
	a = newAdapter(t, testConfig(), &fakeAccepter{})
	// DefaultMaxRedirects redirects are followed: /r/4 … /r/0 → target.
	if w := post(a, testKey, mediaBody("img", chain.URL+"/r/"+strconv.Itoa(DefaultMaxRedirects-1))); w.Code != 200 {
		t.Errorf("%d redirects: %d %s", DefaultMaxRedirects, w.Code, w.Body)
	}
	if w := post(a, testKey, mediaBody("img", chain.URL+"/r/"+strconv.Itoa(DefaultMaxRedirects))); w.Code != 400 || !strings.Contains(w.Body.String(), "HEAD_METHOD_NOT_ALLOWED") {
		t.Errorf("%d redirects: %d %s", DefaultMaxRedirects+1, w.Code, w.Body)
	}
}

// TestPrivateMediaRefused: without allow_private_media, loopback links are
// refused, also by a name ("localhost") that resolves to loopback: the
// check is on the resolved address, before anything is sent.
func TestPrivateMediaRefused(t *testing.T) {
	srv := newMediaServer(t, file("image/png", 10))
	cfg := testConfig()
	cfg.AllowPrivateMedia = false
	acc := &fakeAccepter{}
	a := newAdapter(t, cfg, acc)
	_, port, _ := strings.Cut(strings.TrimPrefix(srv.URL, "http://"), ":")
	for _, link := range []string{
		srv.URL + "/img.png",                       // 127.0.0.1
		"http://localhost:" + port + "/img.png",    // a name resolving to 127.0.0.1 (or ::1)
		"http://[::ffff:127.0.0.1]:" + port + "/x", // IPv4-mapped loopback
		"http://127.1:" + port + "/x",              // short form
	} {
		w := post(a, testKey, mediaBody("img", link))
		if w.Code != 400 || !strings.Contains(w.Body.String(), `"code":"HEAD_METHOD_NOT_ALLOWED"`) {
			t.Errorf("%s: %d %s, want HEAD_METHOD_NOT_ALLOWED", link, w.Code, w.Body)
		}
	}
	if n := srv.hits.Load(); n != 0 {
		t.Errorf("the loopback media server got %d requests, want none", n)
	}
	if len(acc.accepted()) != 0 {
		t.Error("queued with a private media link")
	}
}

// TestRedirectHopChecked: the address check runs on every hop. The first
// hop (127.0.0.1) is allowed by the test's policy, the redirect target
// (127.0.0.2) is not, and must never be contacted.
func TestRedirectHopChecked(t *testing.T) {
	var targetHits atomic.Int64
	target := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		targetHits.Add(1)
		file("image/png", 10)(w, r)
	}))
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("no 127.0.0.2 on this host: %v", err)
	}
	target.Listener = ln
	target.Start()
	defer target.Close()
	first := newMediaServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/img.png", http.StatusFound)
	})
	a := newAdapter(t, testConfig(), &fakeAccepter{})
	only1 := netip.MustParseAddr("127.0.0.1")
	a.media = newMediaClient(func(ip netip.Addr) bool { return ip.Unmap() == only1 }, time.Second, 5)
	w := post(a, testKey, mediaBody("img", first.URL+"/start"))
	if w.Code != 400 || !strings.Contains(w.Body.String(), "HEAD_METHOD_NOT_ALLOWED") {
		t.Errorf("redirect to a refused address: %d %s", w.Code, w.Body)
	}
	if first.hits.Load() != 1 || targetHits.Load() != 0 {
		t.Errorf("hits: first %d (want 1), refused target %d (want 0)", first.hits.Load(), targetHits.Load())
	}
	// The same redirect with the target allowed goes through.
	a.media = newMediaClient(nil, time.Second, 5)
	if w := post(a, testKey, mediaBody("img", first.URL+"/start")); w.Code != 200 {
		t.Errorf("redirect to an allowed address: %d %s", w.Code, w.Body)
	}
}

func TestPublicAddr(t *testing.T) {
	for s, want := range map[string]bool{
		"8.8.8.8": true, "2606:4700:4700::1111": true, "151.101.1.69": true,
		"127.0.0.1": false, "127.8.9.1": false, "::1": false, "10.1.2.3": false, "172.16.0.1": false,
		"192.168.1.1": false, "169.254.169.254": false, "0.0.0.0": false, "::": false, "100.64.0.1": false,
		"fd00::1": false, "fe80::1": false, "::ffff:10.0.0.1": false, "::ffff:8.8.8.8": true, "224.0.0.1": false,
		"255.255.255.255": false, "198.18.0.1": false,
	} {
		if got := publicAddr(netip.MustParseAddr(s)); got != want {
			t.Errorf("publicAddr(%s) = %v, want %v", s, got, want)
		}
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	cfg := testConfig()
	cfg.APIKey, cfg.WebsiteID = "", ""
	cfg.Templates = append(cfg.Templates, conf.Template{ID: "7", Type: "audio", Text: "{{x"})
	if _, err := New(cfg, &fakeAccepter{}, nil); err == nil {
		t.Fatal("New accepted a bad config")
	} else {
		for _, want := range []string{"apikey", "website_id", `template "7"`, "audio"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not mention %s", err, want)
			}
		}
	}
	if strings.Contains(fmt.Sprint(New(testConfig(), nil, nil)), testKey) {
		t.Error("secret in error")
	}
}

func TestBodyTooLargeAndMethod(t *testing.T) {
	acc := &fakeAccepter{}
	a := newAdapter(t, testConfig(), acc)
	req := httptest.NewRequest(http.MethodPost, "/website/"+testWebsite+"/hsm/notifications",
		strings.NewReader(`{"templateId":"1","destination":"542994843975","params":{"name":"`+strings.Repeat("a", 100)+`"}}`))
	req.Header.Set("apikey", testKey)
	w := httptest.NewRecorder()
	req.Body = http.MaxBytesReader(w, req.Body, 64) // as the core limits it (max_body)
	a.ServeHTTP(w, req)
	if w.Code != 413 || w.Body.String() != `{"code":"PAYLOAD_TOO_LARGE","statusCode":413,"description":"Request body too large","result":{"maxBody":64}}` {
		t.Errorf("over max_body: %d %s", w.Code, w.Body)
	}
	req = httptest.NewRequest(http.MethodGet, "/website/"+testWebsite+"/hsm/notifications", nil)
	w = httptest.NewRecorder()
	a.ServeHTTP(w, req)
	if w.Code != 405 || w.Header().Get("Allow") != "POST" || !strings.Contains(w.Body.String(), `"code":"METHOD_NOT_ALLOWED"`) {
		t.Errorf("GET: %d %s", w.Code, w.Body)
	}
	if len(acc.accepted()) != 0 {
		t.Error("queued")
	}
}
