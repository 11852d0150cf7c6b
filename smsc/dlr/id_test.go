package dlr

import "testing"

func TestCanonicalID(t *testing.T) {
	tests := []struct {
		id   string
		f    IDFormat
		want string
	}{
		{"00001000", FormatHex, "4096"},
		{"4096", FormatDec, "4096"},
		{"0000004096", FormatDec, "4096"},
		{"00B8BE19", FormatHex, "12107289"},
		{"b8be19", FormatHex, "12107289"},
		{"0xB8BE19", FormatHex, "12107289"},
		{"0", FormatDec, "0"},
		{"000", FormatHex, "0"},
		{"FFFFFFFFFFFFFFFF", FormatHex, "18446744073709551615"},
		{"10000000000000000", FormatHex, "18446744073709551616"},
		{"123456789012345678901234567890", FormatDec, "123456789012345678901234567890"},
		{"0123456789012345678901234567890", FormatDec, "123456789012345678901234567890"},
		{"ABC-123", FormatString, "abc-123"},
		{"ABC-123", FormatHex, "abc-123"}, // not hex: falls back to the folded string
		{"12a", FormatDec, "12a"},
		{" 42\x00", FormatDec, "42"},
		{"", FormatDec, ""},
	}
	for _, tt := range tests {
		if got := CanonicalID(tt.id, tt.f); got != tt.want {
			t.Errorf("CanonicalID(%q, %v) = %q, want %q", tt.id, tt.f, got, tt.want)
		}
	}
}

func TestIDTypeKeys(t *testing.T) {
	tests := []struct {
		name            string
		typ             IDType
		submit, receipt string
		match           bool
	}{
		{"auto identical", TypeAuto, "4097", "4097", true},
		{"auto case", TypeAuto, "00B8BE19", "b8be19", true},
		{"auto leading zeros", TypeAuto, "0000001234", "1234", true},
		{"auto all zeros", TypeAuto, "0000", "0", true},
		{"auto never converts bases", TypeAuto, "00001000", "4096", false},
		{"auto uuid keeps zeros", TypeAuto, "0a-1", "a-1", false},
		{"auto different", TypeAuto, "1234", "1235", false},
		{"hex resp, decimal receipt", TypeHex, "00001000", "4096", true},
		{"hex resp with letters", TypeHex, "1A2B", "6699", true},
		{"hex resp, zero-padded decimal receipt", TypeHex, "00B8BE19", "0012107289", true},
		{"hex: receipt with letters read as hex", TypeHex, "00B8BE19", "B8BE19", true},
		{"hex: decimal-looking receipt is decimal", TypeHex, "4096", "4096", false},
		{"hex beyond 64 bits", TypeHex, "10000000000000000", "18446744073709551616", true},
		{"decimal padded", TypeDecimal, "0000004097", "4097", true},
		{"decimal different", TypeDecimal, "4097", "4098", false},
		{"decimal beyond 64 bits", TypeDecimal, "000123456789012345678901234567890", "123456789012345678901234567890", true},
		{"decimal, opaque ids compare as strings", TypeDecimal, "MSG-1", "msg-1", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, r := tt.typ.SubmitKey(tt.submit), tt.typ.ReceiptKey(tt.receipt)
			if (s == r) != tt.match {
				t.Errorf("%v: SubmitKey(%q) = %q, ReceiptKey(%q) = %q; match %v, want %v", tt.typ, tt.submit, s, tt.receipt, r, s == r, tt.match)
			}
		})
	}
}

func TestParseIDTypeAndFormat(t *testing.T) {
	for _, typ := range []IDType{TypeAuto, TypeHex, TypeDecimal} {
		got, err := ParseIDType(typ.String())
		if err != nil || got != typ {
			t.Errorf("ParseIDType(%q) = %v, %v", typ.String(), got, err)
		}
	}
	for _, f := range []IDFormat{FormatString, FormatDec, FormatHex} {
		got, err := ParseIDFormat(f.String())
		if err != nil || got != f {
			t.Errorf("ParseIDFormat(%q) = %v, %v", f.String(), got, err)
		}
	}
	if _, err := ParseIDType("octal"); err == nil {
		t.Error("ParseIDType(\"octal\") succeeded, want an error")
	}
	if _, err := ParseIDFormat("octal"); err == nil {
		t.Error("ParseIDFormat(\"octal\") succeeded, want an error")
	}
}
