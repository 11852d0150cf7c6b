package pdu

import (
	"bytes"
	"path/filepath"
	"testing"
)

// captureFiles lists testdata/captures/*.hex (real-peer captures).
func captureFiles(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob("testdata/captures/*.hex")
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestCaptures(t *testing.T) {
	for _, path := range captureFiles(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			raw := MustReadHex(t, path)
			p, err := Decode(raw)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			enc, err := p.MarshalBinary()
			if err != nil {
				t.Fatalf("MarshalBinary(%s): %v", describe(p), err)
			}
			if !bytes.Equal(enc, raw) && !lenient(p, raw, enc) {
				t.Errorf("re-encoding differs:\n in  % x\n out % x", raw, enc)
			}
		})
	}
}
