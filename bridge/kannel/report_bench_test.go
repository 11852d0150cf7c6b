package kannel

import (
	"testing"
	"time"

	"github.com/smscbridge/smscbridge/bridge"
)

// BenchmarkStatus is the hot path of the channel's reports: one status of
// an MT sent with courier's dlr-url (dlr-mask 27), its report data read
// back from the MT's ExternalID and the dlr-url request built.
func BenchmarkStatus(b *testing.B) {
	a, err := New(Config{Channel: "kn", Username: "Username", Password: "Password"}, &fakeAccepter{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	ext := report{URL: "https://rapidpro.example.org/c/kn/8eb23e93-5ecb-45ba-b726-3b064e0c56ab/status?uuid=0191e180-7d60-7000-aff4-c8d3f7bcc9d3&status=%d",
		Mask: 27, To: "+250788383383", From: "12345", User: "rapidpro"}.encode()
	st := bridge.Status{MTID: "01J9Z3K4V5W6X7Y8Z9A0B1C2D3", ExternalID: ext, To: "+250788383383", Channel: "kn",
		State: bridge.StateSent, SMSC: "agg-a", SMSCMsgID: "4f2a9c", At: time.Unix(1733350000, 0)}
	b.ReportAllocs()
	for b.Loop() {
		reqs, err := a.Status(st)
		if err != nil || len(reqs) != 1 {
			b.Fatal(reqs, err)
		}
	}
}
