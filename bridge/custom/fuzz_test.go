package custom

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseSend feeds arbitrary bodies to the /message parser: it must not
// panic, every rejection must be a fieldError naming a field, and every
// accepted body must give a valid recipient and a non-empty UTF-8 SMS text
// within the limits.
func FuzzParseSend(f *testing.F) {
	seeds := []string{
		textMsg("Hello World"),
		textMsg(`Tu turno es mañana \ud83d\ude00`),
		msg("+60177872890", `{"type":"attachment","attachment":{"type":"image","url":"https://abc/japan.png","mimeType":"image/png","fileName":"company logo.png","description":"latest company logo"}}`),
		msg("+60177872890", `{"type":"location","latitude":3.139,"longitude":101.6869,"address":"Kuala Lumpur"}`),
		msg("+60177872890", `{"type":"quick_reply","title":"Choose","replies":["Malay","English"]}`),
		msg("user_42", `{"type":"text","text":"hi"}`),
		`{"channelId":"gfd8g7fd89dgfd","contactId":"+60177872890","message":{"type":"text","text":"Welcome to telenet",}}`,
		`{"channelId":5}`, `null`, `[]`, ``, `{`, `{"message":{"type":"location","latitude":1e400}}`,
		msg("+60177872890", `{"type":"quick_reply","title":"t","replies":["a",2]}`),
	}
	for _, s := range seeds {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, body []byte, custom bool) {
		idType := IDTypePhone
		if custom {
			idType = IDTypeCustom
		}
		s, err := parseSend(body, testChannelID, idType)
		if err != nil {
			var fe *fieldError
			if !errors.As(err, &fe) || fe.field == "" || fe.msg == "" {
				t.Fatalf("parseSend(%q) error %#v is not a fieldError naming a field", body, err)
			}
			return
		}
		if err := checkContactID(s.contactID, idType); err != nil {
			t.Errorf("parseSend(%q) accepted contactId %q: %v", body, s.contactID, err)
		}
		if strings.TrimSpace(s.text) == "" || !utf8.ValidString(s.text) || utf8.RuneCountInString(s.text) > maxText {
			t.Errorf("parseSend(%q) accepted text %q: empty, invalid UTF-8 or over %d characters", body, s.text, maxText)
		}
		again, err := parseSend(body, testChannelID, idType)
		if err != nil || again != s {
			t.Errorf("parseSend(%q) is not deterministic: %+v then %+v, %v", body, s, again, err)
		}
	})
}
