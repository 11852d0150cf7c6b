package dlr

import "strings"

// field identifies a receipt text field.
type field int

const (
	fID field = iota
	fSub
	fDlvrd
	fSubmitDate
	fDoneDate
	fStat
	fErr
	fText
)

// keys lists the receipt keys in lower case with their colon; longer
// spellings first so that "submit date:" is not read as an unknown "submit".
var keys = []struct {
	key string
	f   field
}{
	{"submit date:", fSubmitDate},
	{"submit_date:", fSubmitDate},
	{"submitdate:", fSubmitDate},
	{"done date:", fDoneDate},
	{"done_date:", fDoneDate},
	{"donedate:", fDoneDate},
	{"dlvrd:", fDlvrd},
	{"stat:", fStat},
	{"text:", fText},
	{"sub:", fSub},
	{"err:", fErr},
	{"id:", fID},
}

// matchKey returns the field whose key starts lower (already ASCII
// lower-cased) and the key length, or ok false.
func matchKey(lower string) (f field, n int, ok bool) {
	for _, k := range keys {
		if strings.HasPrefix(lower, k.key) {
			return k.f, len(k.key), true
		}
	}
	return 0, 0, false
}

// parseText fills r from the receipt text s: whitespace-separated key:value
// tokens with case-insensitive keys, in any order, any of them missing; the
// first occurrence of a key wins; "text:" takes the rest of s. A key whose
// value is empty takes the next token as its value when that token is not a
// key itself ("id: 123"). Unknown tokens are skipped.
func parseText(r *Receipt, s string) {
	lower := asciiLower(s)
	seen := map[field]bool{}
	for i := skipSpace(s, 0); i < len(s); i = skipSpace(s, i) {
		f, n, ok := matchKey(lower[i:])
		if !ok {
			i = tokenEnd(s, i)
			continue
		}
		i += n
		if f == fText {
			if !seen[fText] {
				r.Text = s[i:]
			}
			return
		}
		end := tokenEnd(s, i)
		if end == i { // empty value: maybe "key: value"
			next := skipSpace(s, i)
			if _, _, isKey := matchKey(lower[next:]); next < len(s) && !isKey {
				i, end = next, tokenEnd(s, next)
			}
		}
		if !seen[f] {
			seen[f] = true
			setField(r, f, s[i:end])
		}
		i = end
	}
}

// setField stores a text value in r.
func setField(r *Receipt, f field, v string) {
	switch f {
	case fID:
		r.ID = v
	case fSub:
		r.Sub = v
	case fDlvrd:
		r.Dlvrd = v
	case fSubmitDate:
		r.SubmitDate = v
	case fDoneDate:
		r.DoneDate = v
	case fStat:
		r.Stat = v
	case fErr:
		r.Err = v
	}
}

// isSpace reports whether c separates receipt tokens.
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == 0 }

// skipSpace returns the index of the first non-separator at or after i.
func skipSpace(s string, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}

// tokenEnd returns the index of the first separator at or after i.
func tokenEnd(s string, i int) int {
	for i < len(s) && !isSpace(s[i]) {
		i++
	}
	return i
}

// asciiLower lower-cases ASCII letters only, so byte offsets stay valid.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
