package conf

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Placeholders returns the names of the template's {{name}} placeholders in
// order of first appearance, each once. A name is letters, digits, '_' or
// '-', optionally padded with spaces inside the braces ("{{ name }}"). An
// unclosed "{{", a "}}" with no "{{", or a bad name is an error.
func (t *Template) Placeholders() ([]string, error) {
	var names []string
	err := scanPlaceholders(t.Text, func(name string) string {
		for _, n := range names {
			if n == name {
				return ""
			}
		}
		names = append(names, name)
		return ""
	}, nil)
	return names, err
}

// Render replaces every {{name}} by params[name]. It returns the text and
// the names missing from params (each once, in order); missing placeholders
// are left empty. Call it only on a validated template.
func (t *Template) Render(params map[string]string) (text string, missing []string) {
	var b strings.Builder
	_ = scanPlaceholders(t.Text, func(name string) string {
		v, ok := params[name]
		if !ok && !contains(missing, name) {
			missing = append(missing, name)
		}
		return v
	}, &b)
	return b.String(), missing
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// scanPlaceholders walks text, calling repl for each placeholder and
// writing the result (literal text and replacements) to out if not nil.
func scanPlaceholders(text string, repl func(string) string, out *strings.Builder) error {
	at := func(off int) int { return utf8.RuneCountInString(text[:off]) + 1 }
	write := func(s string) {
		if out != nil {
			out.WriteString(s)
		}
	}
	for rest, off := text, 0; ; {
		open, close := strings.Index(rest, "{{"), strings.Index(rest, "}}")
		if open < 0 {
			if close >= 0 {
				return fmt.Errorf(`"}}" without "{{" at character %d`, at(off+close))
			}
			write(rest)
			return nil
		}
		if close >= 0 && close < open {
			return fmt.Errorf(`"}}" without "{{" at character %d`, at(off+close))
		}
		write(rest[:open])
		body := rest[open+2:]
		end := strings.Index(body, "}}")
		if end < 0 {
			return fmt.Errorf(`"{{" at character %d is never closed with "}}"`, at(off+open))
		}
		if strings.Contains(body[:end], "{{") {
			return fmt.Errorf(`"{{" at character %d is never closed with "}}"`, at(off+open))
		}
		name := strings.TrimSpace(body[:end])
		if !validPlaceholder(name) {
			return fmt.Errorf(`placeholder {{%s}} at character %d: a name must be letters, digits, '_' or '-'`, body[:end], at(off+open))
		}
		write(repl(name))
		consumed := open + 2 + end + 2
		rest, off = rest[consumed:], off+consumed
	}
}

func validPlaceholder(name string) bool {
	if name == "" {
		return false
	}
	for _, r := range name {
		if !(r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}
