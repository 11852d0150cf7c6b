package kannel

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// vars are the values of Kannel's escape codes (platforms.md C.4.2) for one
// MO or one delivery report.
type vars struct {
	typ      int    // %d: DLR type (0 for MO)
	reply    string // %A: SMSC reply text (DLR)
	foreign  string // %F: SMSC message id
	sender   string // %p
	receiver string // %P
	smsc     string // %i
	id       string // %I
	at       time.Time
	body     string // %b, and the words of %a %k %s %S %r
	coding   int    // %c
	charset  string // %C
	mclass   string // %m
	mwi      string // %M
	dcs      string // %O
	udh      string // %u
	billing  string // %B
	account  string // %o
	user     string // %n
	dlrURL   string // %R
	meta     string // %D
	validity string // %v
	deferred string // %V
}

// expand substitutes Kannel's escape codes in tmpl as Kannel's urltrans.c
// does: values are URL-encoded except %S, %T, %t, %c, %I, %O, %v, %V (and %C,
// a charset name); %% is a literal %; an unknown code is left as it is.
func expand(tmpl string, v vars) string {
	var b strings.Builder
	words := strings.Fields(v.body)
	next := 1 // the word %s / %S take next; %k is word 0
	for i := 0; i < len(tmpl); i++ {
		c := tmpl[i]
		if c != '%' || i+1 >= len(tmpl) {
			b.WriteByte(c)
			continue
		}
		i++
		switch tmpl[i] {
		case '%':
			b.WriteByte('%')
		case 'd':
			b.WriteString(strconv.Itoa(v.typ))
		case 'A':
			b.WriteString(escape(v.reply))
		case 'F':
			b.WriteString(escape(v.foreign))
		case 'p':
			b.WriteString(escape(v.sender))
		case 'P':
			b.WriteString(escape(v.receiver))
		case 'q':
			b.WriteString(escape(plus00(v.sender)))
		case 'Q':
			b.WriteString(escape(plus00(v.receiver)))
		case 'i':
			b.WriteString(escape(v.smsc))
		case 'I':
			b.WriteString(v.id)
		case 'T':
			b.WriteString(strconv.FormatInt(v.at.Unix(), 10))
		case 't':
			b.WriteString(v.at.UTC().Format("2006-01-02+15:04:05"))
		case 'b':
			b.WriteString(escape(v.body))
		case 'a':
			b.WriteString(escape(strings.Join(words, " ")))
		case 'k':
			if len(words) > 0 {
				b.WriteString(escape(words[0]))
			}
		case 's':
			if next < len(words) {
				b.WriteString(escape(words[next]))
				next++
			}
		case 'S':
			if next < len(words) {
				b.WriteString(strings.ReplaceAll(words[next], "*", "~"))
				next++
			}
		case 'r':
			if next < len(words) {
				b.WriteString(escape(strings.Join(words[next:], " ")))
			}
		case 'c':
			b.WriteString(strconv.Itoa(v.coding))
		case 'C':
			b.WriteString(v.charset)
		case 'm':
			b.WriteString(escape(v.mclass))
		case 'M':
			b.WriteString(escape(v.mwi))
		case 'O':
			// Kannel works the DCS out of coding, class and MWI here, and
			// an undefined coding becomes 7-bit for the codes after it.
			if v.dcs == "" {
				v.dcs = dcs(v.coding, v.mclass)
			}
			b.WriteString(v.dcs)
			v.coding = max(v.coding, 0)
		case 'u':
			b.WriteString(escape(v.udh))
		case 'B':
			b.WriteString(escape(v.billing))
		case 'o':
			b.WriteString(escape(v.account))
		case 'n':
			b.WriteString(escape(v.user))
		case 'R':
			b.WriteString(escape(v.dlrURL))
		case 'D':
			b.WriteString(escape(v.meta))
		case 'v':
			b.WriteString(v.validity)
		case 'V':
			b.WriteString(v.deferred)
		case 'f':
			// originating SMSC number: AT modems only, empty for SMPP
		default:
			b.WriteByte('%')
			b.WriteByte(tmpl[i])
		}
	}
	return b.String()
}

// escape URL-encodes s as Kannel does (octstr_url_encode): letters,
// digits and the marks - _ . ! ~ * ' ( ) stay, a space becomes +, every
// other octet %XX.
func escape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', strings.IndexByte("-_.!~*'()", c) >= 0:
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// plus00 is Kannel's %q / %Q: a leading 00 becomes +.
func plus00(n string) string {
	if strings.HasPrefix(n, "00") {
		return "+" + n[2:]
	}
	return n
}

// dcs is Kannel's data coding scheme of a message (its fields_to_dcs): the
// coding (0 7-bit, 1 8-bit, 2 UCS-2; undefined is 7-bit) in bits 2-3, with
// a message class (mclass "0".."3") the general coding group with class.
func dcs(coding int, mclass string) string {
	d := max(coding, 0) << 2
	if c, err := strconv.Atoi(mclass); err == nil && c >= 0 && c <= 3 { // decimal, as Kannel prints it
		d |= 0x10 | c
	}
	return fmt.Sprintf("%02d", d)
}
