package conf

import (
	"strconv"
	"strings"
)

// lineIndex maps key paths to the line they are written on. A path joins
// keys with "." and numbers array-of-table entries from 0: "http.listen",
// "smsc.0.port", "channel.2.template.0.text". Table headers are indexed
// too ("smsc.0" is the line of the first [[smsc]]), so a missing key can be
// reported at its table.
//
// BurntSushi/toml keeps one position per key name, not per array entry, so
// it cannot tell the port of the first [[smsc]] from that of the second;
// this small scanner can. It runs only on text the TOML parser accepted.
type lineIndex struct {
	lines  map[string]int
	arrays map[string]int // array-of-tables path → entries seen so far
}

// line returns the line of path, or of its nearest indexed parent, or 0.
func (x *lineIndex) line(path string) int {
	if x == nil {
		return 0
	}
	for path != "" {
		if l, ok := x.lines[path]; ok {
			return l
		}
		i := strings.LastIndexByte(path, '.')
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}

// indexLines scans TOML source (already known to parse) for table headers
// and key/value lines.
func indexLines(src []byte) *lineIndex {
	s := &lineScanner{src: src, line: 1, x: &lineIndex{lines: map[string]int{}, arrays: map[string]int{}}}
	s.run()
	return s.x
}

type lineScanner struct {
	src     []byte
	i, line int
	table   string // resolved path of the current table
	x       *lineIndex
}

func (s *lineScanner) peek(off int) byte {
	if s.i+off < len(s.src) {
		return s.src[s.i+off]
	}
	return 0
}

func (s *lineScanner) run() {
	for s.i < len(s.src) {
		s.skipBlank()
		if s.i >= len(s.src) {
			return
		}
		start := s.line
		switch s.peek(0) {
		case '[':
			s.header(start)
		default:
			keys := s.keys()
			if len(keys) == 0 || s.peek(0) != '=' {
				s.skipLine() // not something we understand; move on
				continue
			}
			s.i++
			s.set(s.resolve(s.table, keys), start)
			s.skipValue()
		}
		s.skipLine()
	}
}

// header handles [a.b] and [[a.b]].
func (s *lineScanner) header(line int) {
	array := s.peek(1) == '['
	s.i++
	if array {
		s.i++
	}
	keys := s.keys()
	if len(keys) == 0 {
		return
	}
	if !array {
		s.table = s.resolve("", keys)
		s.set(s.table, line)
		return
	}
	p := s.resolve("", keys[:len(keys)-1])
	p = join(p, keys[len(keys)-1])
	n := s.x.arrays[p]
	s.x.arrays[p] = n + 1
	s.table = p + "." + strconv.Itoa(n)
	s.set(s.table, line)
}

// resolve appends keys to base, entering the latest entry of any array of
// tables on the way.
func (s *lineScanner) resolve(base string, keys []string) string {
	p := base
	for _, k := range keys {
		p = join(p, k)
		if n, ok := s.x.arrays[p]; ok && n > 0 {
			p += "." + strconv.Itoa(n-1)
		}
	}
	return p
}

func (s *lineScanner) set(path string, line int) {
	if _, ok := s.x.lines[path]; !ok {
		s.x.lines[path] = line
	}
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}

// keys reads a dotted key (bare or quoted parts) and the blanks after it.
func (s *lineScanner) keys() []string {
	var keys []string
	for {
		s.skipSpace()
		var k string
		switch c := s.peek(0); {
		case c == '"' || c == '\'':
			k = s.quotedKey(c)
		case isBare(c):
			st := s.i
			for s.i < len(s.src) && isBare(s.src[s.i]) {
				s.i++
			}
			k = string(s.src[st:s.i])
		default:
			return keys
		}
		keys = append(keys, k)
		s.skipSpace()
		if s.peek(0) != '.' {
			return keys
		}
		s.i++
	}
}

func isBare(c byte) bool {
	return c == '_' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func (s *lineScanner) quotedKey(q byte) string {
	st := s.i
	s.skipString()
	raw := string(s.src[st:s.i])
	if q == '\'' {
		return strings.Trim(raw, "'")
	}
	if u, err := strconv.Unquote(raw); err == nil {
		return u
	}
	return strings.Trim(raw, `"`)
}

// skipString skips a basic, literal or multi-line string at s.i.
func (s *lineScanner) skipString() {
	q := s.peek(0)
	if s.peek(1) == q && s.peek(2) == q {
		s.i += 3
		for s.i < len(s.src) {
			c := s.src[s.i]
			switch {
			case c == '\\' && q == '"':
				s.i++
				if s.peek(0) == '\n' {
					s.line++
				}
			case c == '\n':
				s.line++
			case c == q && s.peek(1) == q && s.peek(2) == q:
				s.i += 3
				for n := 0; n < 2 && s.peek(0) == q; n++ { // """a"""" ends on the last three
					s.i++
				}
				return
			}
			s.i++
		}
		return
	}
	s.i++
	for s.i < len(s.src) && s.src[s.i] != '\n' {
		c := s.src[s.i]
		s.i++
		if c == '\\' && q == '"' {
			s.i++
		} else if c == q {
			return
		}
	}
}

// skipValue skips one value, including arrays and inline tables that span
// lines.
func (s *lineScanner) skipValue() {
	s.skipSpace()
	depth := 0
	for s.i < len(s.src) {
		switch c := s.src[s.i]; c {
		case '"', '\'':
			s.skipString()
			if depth == 0 {
				return
			}
			continue
		case '#':
			if depth == 0 {
				return
			}
			for s.i < len(s.src) && s.src[s.i] != '\n' {
				s.i++
			}
			continue
		case '\n':
			if depth == 0 {
				return
			}
			s.line++
		case '[', '{':
			depth++
		case ']', '}':
			depth--
			if depth <= 0 {
				s.i++
				return
			}
		}
		s.i++
	}
}

func (s *lineScanner) skipSpace() {
	for s.i < len(s.src) && (s.src[s.i] == ' ' || s.src[s.i] == '\t') {
		s.i++
	}
}

// skipBlank skips blanks, newlines and comments between statements.
func (s *lineScanner) skipBlank() {
	for s.i < len(s.src) {
		switch s.src[s.i] {
		case ' ', '\t', '\r':
		case '\n':
			s.line++
		case '#':
			for s.i < len(s.src) && s.src[s.i] != '\n' {
				s.i++
			}
			continue
		default:
			return
		}
		s.i++
	}
}

// skipLine skips the rest of the current line (a trailing comment, a "]]").
func (s *lineScanner) skipLine() {
	for s.i < len(s.src) && s.src[s.i] != '\n' {
		if c := s.src[s.i]; c == '"' || c == '\'' {
			s.skipString()
			continue
		}
		s.i++
	}
}
