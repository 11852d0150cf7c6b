package conf

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds arbitrary text to the loader: it must never panic, and
// whatever it accepts must validate again unchanged.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.toml")
	samples, _ := filepath.Glob("../testdata/*.toml")
	for _, name := range append(files, samples...) {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		indexLines(src) // also on text the TOML parser would reject
		cfg, err := parse("fuzz.toml", src)
		if err != nil {
			if cfg != nil {
				t.Fatalf("parse returned a Config and an error")
			}
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("parse accepted a config that Validate rejects: %v", err)
		}
		_ = cfg.String()
	})
}
