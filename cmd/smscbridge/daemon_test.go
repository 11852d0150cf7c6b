package main

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smscbridge/smscbridge/conf"
)

func TestSMSCOptionsTLSCA(t *testing.T) {
	s := conf.DefaultSMSC()
	s.ID, s.Host, s.TLS = "a", "smsc.example", true
	log := slog.New(slog.DiscardHandler)
	s.TLSCA = filepath.Join(t.TempDir(), "missing.pem")
	if _, err := smscOptions(s, nil, log); err == nil || !strings.Contains(err.Error(), "tls_ca") {
		t.Errorf("missing tls_ca: err = %v, want a tls_ca error", err)
	}
	junk := filepath.Join(t.TempDir(), "junk.pem")
	os.WriteFile(junk, []byte("not a certificate"), 0o600)
	s.TLSCA = junk
	if _, err := smscOptions(s, nil, log); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("junk tls_ca: err = %v, want a PEM error", err)
	}
	s.TLSCA = ""
	o, err := smscOptions(s, nil, log)
	if err != nil || o.TLS == nil || o.TLS.ServerName != "smsc.example" {
		t.Errorf("tls without CA = %+v, %v", o.TLS, err)
	}
}
