package dlr

import (
	"errors"
	"testing"
	"unicode/utf8"
)

func FuzzParse(f *testing.F) {
	f.Add([]byte("id:4097 sub:001 dlvrd:001 submit date:2311221530 done date:2311221531 stat:DELIVRD err:000 text:Hi"), "", -1)
	f.Add([]byte("ID: 1 Text:"), "x", 2)
	f.Add([]byte{0, 'i', 0, 'd', 0, ':', 0, '1'}, "", 9)
	f.Fuzz(func(t *testing.T, text []byte, tlvID string, state int) {
		r, err := Parse(text, tlvID, state, nil)
		if err != nil && !errors.Is(err, ErrNoID) {
			t.Fatalf("Parse error %v is not ErrNoID", err)
		}
		if (err == nil) != (r.ID != "") {
			t.Fatalf("Parse = id %q with error %v", r.ID, err)
		}
		if !utf8.ValidString(r.Text) || !utf8.ValidString(r.ID) && tlvID == "" {
			t.Fatalf("Parse produced invalid UTF-8: %+v", r)
		}
		_ = LooksLikeReceipt(text)
		for _, typ := range []IDType{TypeAuto, TypeHex, TypeDecimal} {
			if typ.SubmitKey(r.ID) != typ.SubmitKey(typ.SubmitKey(r.ID)) && typ == TypeDecimal {
				t.Fatalf("%v.SubmitKey is not idempotent on %q", typ, r.ID)
			}
		}
	})
}
