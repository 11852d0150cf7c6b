package conf

import (
	"testing"
)

func TestLineIndex(t *testing.T) {
	src := `# comment with [[smsc]] and key = 1
title = """
[[smsc]]
id = "fake"
"""   # a multi-line string is not a table
[http]
listen = "a # not a comment"   # comment
"tls_cert" = 'c:\path'
http2.x = [
  "]",   # a ] inside a string
  "it\" ] s",
]

[[smsc]]
id = "a"
  port = 1
inline = { a = "}", b = [1, 2] }
[[smsc]]

id = "b"
text = '''
multi
'''
port = 2
[[channel]]
id = "c"
[[channel.template]]
id = "t0"
[[channel.template]]
text = """x\"""y"""" 
id = "t1"
[[channel]]
[[channel.template]]
id = "t2"
[store . "path"]
`
	x := indexLines([]byte(src))
	want := map[string]int{
		"title":                    2,
		"http":                     6,
		"http.listen":              7,
		"http.tls_cert":            8,
		"http.http2.x":             9,
		"smsc.0":                   14,
		"smsc.0.id":                15,
		"smsc.0.port":              16,
		"smsc.0.inline":            17,
		"smsc.0.inline.a":          17, // falls back to the key of the inline table
		"smsc.1":                   18,
		"smsc.1.id":                20,
		"smsc.1.text":              21,
		"smsc.1.port":              24,
		"smsc.1.window":            18, // missing key: its table's line
		"channel.0.id":             26,
		"channel.0.template.0.id":  28,
		"channel.0.template.1":     29,
		"channel.0.template.1.id":  31,
		"channel.1":                32,
		"channel.1.template.0.id":  34,
		"channel.1.template.0.url": 33,
		"store.path":               35,
		"retry.max_age":            0,
		"smsc.2":                   0,
	}
	for path, line := range want {
		if got := x.line(path); got != line {
			t.Errorf("line(%q) = %d, want %d", path, got, line)
		}
	}
	var nilIndex *lineIndex
	if got := nilIndex.line("http"); got != 0 {
		t.Errorf("nil index line = %d, want 0", got)
	}
}
