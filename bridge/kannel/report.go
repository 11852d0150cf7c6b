package kannel

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A report travels with its MT as the MT's ExternalID, a string the bridge
// stores inside the MT's JSON record and reads back for each of the MT's
// statuses. It used to be the report as JSON; decoding that with
// encoding/json cost 2-3% of the daemon's CPU under MT load, so it is now
// a compact text that decodes without reflection or allocation. MTs queued
// by older versions carry the JSON form (it starts with '{') and still
// decode.
//
// Form, version 1: the byte reportV1 (JSON never starts with it), the
// dlr-mask in decimal and ':', then the dlr-url, receiver, sender, sendsms
// user and meta-data, each as its length in bytes (decimal) and ':' and
// its bytes. Invalid UTF-8 in a field becomes U+FFFD, one for each bad
// byte, as the JSON form had it: the encoding is then valid UTF-8 and so
// survives the MT record's JSON round trip unchanged.
const reportV1 = '\x01'

func (r report) encode() string {
	url, to, from, user, meta := validUTF8(r.URL), validUTF8(r.To), validUTF8(r.From), validUTF8(r.User), validUTF8(r.Meta)
	b := make([]byte, 0, 1+4+5*4+len(url)+len(to)+len(from)+len(user)+len(meta))
	b = append(b, reportV1)
	b = strconv.AppendInt(b, int64(r.Mask), 10)
	b = append(b, ':')
	for _, s := range [...]string{url, to, from, user, meta} {
		b = strconv.AppendUint(b, uint64(len(s)), 10)
		b = append(b, ':')
		b = append(b, s...)
	}
	return string(b)
}

// validUTF8 replaces each byte of s that is not valid UTF-8 with U+FFFD,
// as encoding/json does.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for _, r := range s { // an invalid byte comes as RuneError, one byte wide
		b.WriteRune(r)
	}
	return b.String()
}

// decodeReport reads a report's data from an MT's ExternalID: the current
// form or (MTs queued by older versions) JSON. Its strings share s's
// memory.
func decodeReport(s string) (r report, ok bool) {
	if len(s) > 0 && s[0] == '{' {
		return decodeJSONReport(s)
	}
	if len(s) == 0 || s[0] != reportV1 {
		return r, false
	}
	i := strings.IndexByte(s, ':')
	if i < 0 {
		return r, false
	}
	mask, err := strconv.Atoi(s[1:i])
	if err != nil {
		return r, false
	}
	r.Mask = mask
	rest := s[i+1:]
	for _, f := range [...]*string{&r.URL, &r.To, &r.From, &r.User, &r.Meta} {
		if *f, rest, ok = cutField(rest); !ok {
			return report{}, false
		}
	}
	if rest != "" {
		return report{}, false
	}
	return r, true
}

// decodeJSONReport reads the older JSON form (apart, so that r of
// decodeReport stays off the heap).
func decodeJSONReport(s string) (r report, ok bool) {
	return r, json.Unmarshal([]byte(s), &r) == nil
}

// cutField cuts one "<length>:<bytes>" field off the front of s.
func cutField(s string) (field, rest string, ok bool) {
	n, i := 0, 0
	for ; i < len(s) && s[i] != ':'; i++ {
		c := s[i]
		if c < '0' || c > '9' || i >= 9 { // no field is 1 GB long
			return "", "", false
		}
		n = n*10 + int(c-'0')
	}
	if i == 0 || i == len(s) || n > len(s)-i-1 {
		return "", "", false
	}
	s = s[i+1:]
	return s[:n], s[n:], true
}
