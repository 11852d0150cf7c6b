package kannel

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Answers of Kannel's smsbox to sendsms (platforms.md C.1.2), exactly.
const (
	answerAccepted    = "0: Accepted for delivery"
	answerAuth        = "Authorization failed for sendsms"
	answerNoTo        = "Missing receiver number, rejected"
	answerEmptyTo     = "Empty receiver number not allowed, rejected"
	answerCharset     = "Charset or body misformed, rejected"
	answerUDH         = "UDH field misformed, rejected"
	answerUDHLong     = "UDH field is too long, rejected"
	answerDenied      = "Number(s) has/have been denied by white- and/or black-lists."
	answerNotRoutable = "Not routable. Do not try again."
	answerTemporary   = "Temporal failure, try again later."
	maxUDH            = 140
	misformedSuffix   = " field misformed, rejected"
)

// request is one sendsms call with its parameters read: from the query
// string (GET, and POST with a form body: Kannel reads both), or for a POST
// with any other body from the X-Kannel-* headers, the body being the text.
type request struct {
	user, pass                   string
	from                         string
	to                           *string // nil: parameter absent
	text                         []byte
	charset                      string
	coding, mclass, mwi, altDCS  int // -1: absent
	compress, pid, rpi           int
	validity, deferred, priority int
	dlrMask                      int
	dlrURL, udh, smsc, account   string
	binfo, meta                  string
}

// header names of the POST form (Kannel's X-Kannel-*), by parameter.
var postHeader = map[string]string{
	"username": "X-Kannel-Username", "password": "X-Kannel-Password", "from": "X-Kannel-From",
	"to": "X-Kannel-To", "udh": "X-Kannel-UDH", "smsc": "X-Kannel-SMSC", "mclass": "X-Kannel-MClass",
	"mwi": "X-Kannel-MWI", "coding": "X-Kannel-Coding", "charset": "X-Kannel-Charset", "compress": "X-Kannel-Compress",
	"validity": "X-Kannel-Validity", "deferred": "X-Kannel-Deferred", "dlr-mask": "X-Kannel-DLR-Mask",
	"dlr-url": "X-Kannel-DLR-URL", "account": "X-Kannel-Account", "pid": "X-Kannel-PID",
	"alt-dcs": "X-Kannel-Alt-DCS", "rpi": "X-Kannel-RPI", "binfo": "X-Kannel-BInfo",
	"priority": "X-Kannel-Priority", "meta-data": "X-Kannel-Meta-Data",
}

// aliases are the other names Kannel accepts for a parameter.
var aliases = map[string]string{"username": "user", "password": "pass", "dlr-mask": "dlrmask", "dlr-url": "dlrurl"}

func formValue(r *http.Request, name string) (string, bool) {
	if vs, ok := r.Form[name]; ok && len(vs) > 0 {
		return vs[0], true
	}
	if a := aliases[name]; a != "" {
		if vs, ok := r.Form[a]; ok && len(vs) > 0 {
			return vs[0], true
		}
	}
	return "", false
}

// isForm reports whether r carries its parameters as a form (GET, or a POST
// whose body is application/x-www-form-urlencoded).
func isForm(r *http.Request) bool {
	if r.Method != http.MethodPost {
		return true
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return ct == "application/x-www-form-urlencoded"
}

// answer is a Kannel reply: status and body.
type answer struct {
	code int
	body string
}

func (a *answer) Error() string { return a.body }

func misformed(field string) *answer {
	return &answer{http.StatusBadRequest, field + misformedSuffix}
}

// parse reads a sendsms request; r's form must be parsed. A bad parameter
// returns the answer Kannel gives for it.
func parse(r *http.Request) (*request, *answer) {
	form := isForm(r)
	get := func(name string) (string, bool) {
		if v, ok := formValue(r, name); ok {
			return v, true
		}
		if !form {
			if vs := r.Header.Values(postHeader[name]); len(vs) > 0 {
				return vs[0], true
			}
		}
		return "", false
	}
	q := &request{}
	q.user, _ = get("username")
	q.pass, _ = get("password")
	q.from, _ = get("from")
	if to, ok := get("to"); ok {
		q.to = &to
	}
	if form {
		t, _ := get("text")
		q.text = []byte(t)
		q.charset, _ = get("charset")
	} else {
		body, err := io.ReadAll(r.Body)
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &answer{http.StatusRequestEntityTooLarge, answerCharset}
		} else if err != nil {
			return nil, &answer{http.StatusBadRequest, answerCharset}
		}
		q.text = body
		if _, params, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err == nil {
			q.charset = params["charset"]
		}
		if cs, ok := get("charset"); ok {
			q.charset = cs
		}
	}
	q.dlrURL, _ = get("dlr-url")
	q.smsc, _ = get("smsc")
	q.account, _ = get("account")
	q.binfo, _ = get("binfo")
	q.meta, _ = get("meta-data")
	if u, ok := get("udh"); ok {
		q.udh = u
	}
	ints := []struct {
		name string
		dst  *int
	}{
		{"coding", &q.coding}, {"mclass", &q.mclass}, {"mwi", &q.mwi}, {"alt-dcs", &q.altDCS},
		{"compress", &q.compress}, {"pid", &q.pid}, {"rpi", &q.rpi}, {"validity", &q.validity},
		{"deferred", &q.deferred}, {"priority", &q.priority}, {"dlr-mask", &q.dlrMask},
	}
	for _, f := range ints {
		*f.dst = -1
		v, ok := get(f.name)
		if !ok || v == "" {
			continue
		}
		*f.dst = atoi(v)
	}
	return q, nil
}

// check applies Kannel's checks of the optional parameters (smsbox.c
// smsbox_req_handle), in Kannel's order.
func (q *request) check() *answer {
	if q.udh != "" {
		if len(q.udh) != int(q.udh[0])+1 {
			return &answer{http.StatusBadRequest, answerUDH}
		}
		if len(q.udh) > maxUDH {
			return &answer{http.StatusBadRequest, answerUDHLong}
		}
	}
	for _, f := range []struct {
		label  string
		v, max int
	}{
		{"MClass", q.mclass, 3}, {"MWI", q.mwi, 7}, {"Coding", q.coding, 2}, {"Compress", q.compress, 1},
		{"Alt-DCS", q.altDCS, 1}, {"RPI", q.rpi, 2}, {"PID", q.pid, 255}, {"Priority", q.priority, 3},
	} {
		if f.v < -1 || f.v > f.max {
			return misformed(f.label)
		}
	}
	if q.dlrMask < -1 { // Kannel takes any larger mask (64 and up: no report type)
		return misformed("DLR-Mask")
	}
	if q.validity < -1 {
		return misformed("Validity")
	}
	if q.deferred < -1 {
		return misformed("Deferred")
	}
	return nil
}

// decodeText applies the decoding rule of platforms.md C.1 (Kannel's): a
// charset decodes text from it (utf8, utf-8, UTF-16BE, in any case; also
// latin1 / ISO-8859-1 and ASCII); else coding=2 means raw UTF-16BE; else
// UTF-8. It fails on octets that are not valid in the charset.
func decodeText(text []byte, charset string, coding int) (string, bool) {
	cs := strings.ToLower(strings.TrimSpace(charset))
	switch {
	case cs == "" && coding == 2, cs == "utf-16be", cs == "ucs-2", cs == "ucs2", cs == "utf16be":
		return utf16be(text)
	case cs == "", cs == "utf8", cs == "utf-8":
		return string(text), utf8.Valid(text)
	case cs == "iso-8859-1", cs == "latin1", cs == "iso8859-1", cs == "windows-1252" && allASCII(text):
		r := make([]rune, len(text))
		for i, c := range text {
			r[i] = rune(c)
		}
		return string(r), true
	case cs == "us-ascii", cs == "ascii":
		return string(text), allASCII(text)
	}
	return "", false
}

func utf16be(b []byte) (string, bool) {
	if len(b)%2 != 0 {
		return "", false
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
	}
	s := string(utf16.Decode(u))
	return s, !strings.ContainsRune(s, utf8.RuneError)
}

func allASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// atoi reads a number as Kannel does (C atoi): an optional sign and the
// leading digits; anything else reads as 0.
func atoi(s string) int {
	s = strings.TrimLeft(s, " \t\n")
	end := 0
	if end < len(s) && (s[0] == '-' || s[0] == '+') {
		end++
	}
	for end < len(s) && s[end] >= '0' && s[end] <= '9' && end < 10 {
		end++
	}
	n, err := strconv.Atoi(s[:end])
	if err != nil {
		return 0
	}
	return n
}

// receivers splits to as Kannel does: space-separated numbers, empty
// tokens skipped.
func receivers(to string) []string {
	return strings.Fields(to)
}
