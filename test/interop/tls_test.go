//go:build interop

package interop

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/smscbridge/smscbridge/smsc"
	"github.com/smscbridge/smscbridge/smsc/dlr"
)

// mustSelfSigned writes a fresh self-signed certificate for 127.0.0.1 and
// its key as PEM files and returns their paths and a pool trusting it.
func mustSelfSigned(t *testing.T) (keyFile, certFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "node-smsc interop"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	keyFile, certFile = filepath.Join(dir, "key.pem"), filepath.Join(dir, "cert.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	return keyFile, certFile, pool
}

// TestTLS binds over TLS to the npm smpp library's TLS server (Node's TLS
// stack), verifying its certificate by IP, and runs a submit with a receipt,
// an MO and a graceful unbind over it.
func TestTLS(t *testing.T) {
	keyFile, certFile, pool := mustSelfSigned(t)
	s := startNodeSMSC(t, "--tls-key", keyFile, "--tls-cert", certFile)
	e := startESMEWith(t, s.Addr, smsc.Transceiver, nil, func(o *smsc.Options) {
		o.TLS = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	})
	mustBound(t, e)
	c := submitCase{dst: "15550000021", text: shortUCS2, dc: 0x08, parts: 1}
	_, ids := submitText(t, e, c, 0, true)
	checkPeerView(t, s, c, ids)
	got := receipts(t, e.waitInbound(t, 1))
	if r, ok := got[ids[0]]; !ok || r.State != dlr.Delivered {
		t.Errorf("receipt over TLS for %s: %+v (have %v)", ids[0], r, keys(got))
	}
	s.command(map[string]any{"cmd": "mo", "text": "MO over TLS"})
	if txt, err := mustInbound(t, e.waitInbound(t, 2)[1]).Text(); err != nil || txt != "MO over TLS" {
		t.Errorf("MO over TLS = %q, %v", txt, err)
	}
	e.stop(t)
	s.wait("unbind over TLS", waitLong, inbound("unbind"))
	checkPeerClean(t, s, nil)
}

// TestTLSUntrusted checks the client refuses a server certificate it does
// not trust: nothing binds, and the peer never sees a bind.
func TestTLSUntrusted(t *testing.T) {
	keyFile, certFile, _ := mustSelfSigned(t)
	_, _, otherPool := mustSelfSigned(t)
	s := startNodeSMSC(t, "--tls-key", keyFile, "--tls-cert", certFile)
	e := startESMEWith(t, s.Addr, smsc.Transceiver, nil, func(o *smsc.Options) {
		o.TLS = &tls.Config{RootCAs: otherPool}
	})
	waitFor(t, "a failed TLS handshake in the session stats", waitLong, func() error {
		if st := e.c.Stats().Sessions[0]; st.LastError == "" {
			return errorf("stats %+v", st)
		}
		return nil
	})
	if st := e.c.Stats().Sessions[0]; e.c.Bound() || !containsAny(st.LastError, "certificate", "x509", "tls") {
		t.Errorf("session %+v, want unbound with a certificate error", st)
	}
	if n := len(s.find(func(e event) bool { return e.Ev == "bind" })); n != 0 {
		t.Errorf("peer saw %d binds through an untrusted TLS link", n)
	}
}
