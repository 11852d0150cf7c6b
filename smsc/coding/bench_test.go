package coding

import (
	"strings"
	"testing"
)

var benchText160 = strings.Repeat("Hello, world! Your code is 1234. ", 5)[:160]

func BenchmarkEncodeGSM7_160(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Encode(GSM7, benchText160); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeGSM7_160(b *testing.B) {
	septets, err := Encode(GSM7, benchText160)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(0x00, septets); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSplit1000(b *testing.B) {
	text := strings.Repeat("Lorem ipsum {dolor} sit amet € ", 40)[:1000]
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Split(text, GSM7, 153); err != nil {
			b.Fatal(err)
		}
	}
}

// benchMixed160 is 160 septets needing the tables: @, £, é, Δ and escapes.
var benchMixed160 = mixed160()

func mixed160() string {
	s := strings.Repeat("Pay £5 @ café Δ {ok} € ", 10)
	for Units(s, GSM7) > 160 {
		s = s[:len(s)-1]
	}
	return strings.ToValidUTF8(s, "")
}

func BenchmarkEncodeGSM7_160Mixed(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Encode(GSM7, benchMixed160); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeGSM7_160Mixed(b *testing.B) {
	septets, err := Encode(GSM7, benchMixed160)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(0x00, septets); err != nil {
			b.Fatal(err)
		}
	}
}
