package main

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

func TestSMSCOptionsFlowControlAndLocalAddr(t *testing.T) {
	s := conf.DefaultSMSC()
	s.ID, s.Host, s.LocalAddr, s.MaxInbound = "a", "smsc.example", "10.8.0.2:40000", 300
	s.ThrottlePause, s.ThrottleMax, s.ThrottleTimeout = conf.Duration{Duration: 2 * time.Second}, conf.Duration{Duration: time.Minute}, conf.Duration{Duration: 5 * time.Minute}
	o, err := smscOptions(s, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if o.LocalAddr != "10.8.0.2:40000" || o.MaxInbound != 300 || o.ThrottlePause != 2*time.Second ||
		o.ThrottleMax != time.Minute || o.ThrottleTimeout != 5*time.Minute {
		t.Errorf("smscOptions = local %q, max_inbound %d, throttle %s/%s/%s; want the configured values",
			o.LocalAddr, o.MaxInbound, o.ThrottlePause, o.ThrottleMax, o.ThrottleTimeout)
	}
}
