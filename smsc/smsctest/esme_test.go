package smsctest_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/smscbridge/smscbridge/smsc"
	"github.com/smscbridge/smscbridge/smsc/coding"
	"github.com/smscbridge/smscbridge/smsc/pdu"
	"github.com/smscbridge/smscbridge/smsc/smsctest"
)

// sendBuilt submits what smsc.BuildSubmits makes of each text, for every
// long-message mode, to srv and returns the number of PDUs sent.
func sendBuilt(t *testing.T, srv *smsctest.Server, c coding.Coding, texts []string) int {
	t.Helper()
	e := dialESME(t, srv)
	e.bind(pdu.BindTransmitter, "esme", "secret")
	src := smsc.Address{Addr: "SenderName", TON: 5}
	n := 0
	for i, text := range texts {
		for _, long := range []smsc.LongMode{smsc.LongUDH, smsc.LongUDH16, smsc.LongSAR, smsc.LongPayload} {
			dst := smsc.Address{Addr: fmt.Sprint(15550000000 + i), TON: 1, NPI: 1}
			sms, err := smsc.BuildSubmits(src, dst, text, smsc.SubmitOptions{Coding: c, Long: long, Ref: uint16(i*4 + int(long)), RegisteredDelivery: true})
			if err != nil {
				t.Fatalf("BuildSubmits(%q, %v): %v", text, long, err)
			}
			for _, sm := range sms {
				if resp := e.call(pdu.SubmitSM, sm); resp.Status != pdu.StatusOK {
					t.Errorf("%v text %d (%d characters) %v: part answered %v", c, i, len([]rune(text)), long, resp.Status)
				}
				n++
			}
		}
	}
	return n
}

// boundaryTexts puts extension characters, emoji and accents right at the
// single-SMS and segment boundaries, where splitters go wrong.
func boundaryTexts() []string {
	a := func(n int) string { return strings.Repeat("a", n) }
	return []string{
		"Hello {x} € @ £",
		a(160), a(161), a(159) + "{", a(158) + "€", a(152) + "[" + a(200), a(153) + "]" + a(200),
		a(151) + "~~" + a(300), strings.Repeat("{€}", 200),
		strings.Repeat("Привет 😀 ", 30), a(69) + "😀", a(66) + "😀" + a(100), a(65) + "😀😀" + a(200),
		strings.Repeat("é", 200), strings.Repeat("Ü€", 80),
	}
}

// TestBuildSubmitsKeepToSMPP34: every submit_sm our ESME builds for GSM
// 03.38 / UCS-2 text, in every long-message mode, passes the strict SMSC.
func TestBuildSubmitsKeepToSMPP34(t *testing.T) {
	srv := newServer(t, smsctest.WithTB(t))
	if n := sendBuilt(t, srv, coding.GSM7, boundaryTexts()); n < 100 {
		t.Errorf("only %d PDUs sent", n)
	}
}

// TestBuildSubmitsLatin1SizedAsGSM: a latin1/ascii SMSC transcodes to GSM
// on air, so data_coding 1/3 (and 0 on such an SMSC) must be sized in GSM
// septets (160 / 153), as issue 11 item 8 says.
func TestBuildSubmitsLatin1SizedAsGSM(t *testing.T) {
	for _, c := range []coding.Coding{coding.Latin1, coding.ASCII} {
		t.Run(c.String(), func(t *testing.T) {
			srv := newServer(t, smsctest.WithTB(t))
			texts := []string{strings.Repeat("{", 100), strings.Repeat("a", 130) + strings.Repeat("[", 20), strings.Repeat("x{", 200)}
			sendBuilt(t, srv, c, texts)
		})
	}
}
