package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckConfigCmd(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.toml")
	bad := filepath.Join(dir, "bad.toml")
	mustWrite(t, good, `
[[smsc]]
id = "agg-a"
host = "10.8.0.1"
system_id = "bridge"

[[channel]]
id = "rp"
kind = "rapidpro"
smsc = ["agg-a"]
receive_url = "https://rp.example/c/ex/a86f686f-9168-4dd9-a03e-77f11b265b56/receive"
`)
	mustWrite(t, bad, `[[smsc]]
id = "agg-a"
host = "10.8.0.1"
system_id = "bridge"
port = 0
windw = 5

[[channel]]
id = "rp"
kind = "rapidpro"
smsc = ["agg-b"]
receive_url = "https://rp.example/c/ex/a86f686f-9168-4dd9-a03e-77f11b265b56/receive"
`)
	tests := []struct {
		name      string
		args      []string
		code      int
		out, errs string
	}{
		{"good", []string{good}, 0, good + ": OK\n", ""},
		{"good via -config", []string{"-config", good}, 0, good + ": OK\n", ""},
		{"bad: every error, one per line, with its line", []string{bad}, 1, "",
			bad + `:5: smsc "agg-a": port 0: must be 1..65535` + "\n" +
				bad + `:6: smsc "agg-a": windw: unknown key (did you mean "window"?)` + "\n" +
				bad + `:11: channel "rp": smsc "agg-b": must be the id of an [[smsc]] (known: "agg-a")` + "\n"},
		{"good and bad", []string{good, bad}, 1, good + ": OK\n", "*"},
		{"missing file", []string{filepath.Join(dir, "nope.toml")}, 1, "",
			filepath.Join(dir, "nope.toml") + ": cannot read the configuration: no such file or directory\n"},
		{"no file", nil, 2, "", "*"},
		{"bad flag", []string{"-x"}, 2, "", "*"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errs bytes.Buffer
			code := checkConfigCmd(tt.args, &out, &errs)
			if code != tt.code {
				t.Errorf("checkConfigCmd(%q) = %d, want %d (stderr %q)", tt.args, code, tt.code, errs.String())
			}
			if out.String() != tt.out {
				t.Errorf("stdout = %q, want %q", out.String(), tt.out)
			}
			if tt.errs == "*" {
				if errs.Len() == 0 {
					t.Error("stderr is empty, want a message")
				}
			} else if errs.String() != tt.errs {
				t.Errorf("stderr = %q, want %q", errs.String(), tt.errs)
			}
		})
	}
}

// TestCheckConfigSamples runs check-config on every sample config, as CI does.
func TestCheckConfigSamples(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/*.toml")
	if len(files) == 0 {
		t.Fatal("no sample configs in testdata/")
	}
	var out, errs bytes.Buffer
	if code := checkConfigCmd(files, &out, &errs); code != 0 {
		t.Fatalf("check-config samples = %d:\n%s", code, errs.String())
	}
	if got := strings.Count(out.String(), ": OK\n"); got != len(files) {
		t.Errorf("check-config printed %d OK lines for %d files: %q", got, len(files), out.String())
	}
}

func mustWrite(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}
