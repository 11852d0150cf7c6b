package notify

import (
	"encoding/json"
	"testing"
)

// FuzzParseRequest: any body gets a request or validation items, never a
// panic, and items always serialise.
func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{
		`{"templateId":"7","destination":"542994843975","params":{"name":"Julieta"}}`,
		`{"templateId":1,"destination":"542994843975","params":{},"media":{"link":"https://x.example/a.pdf","filename":"a"}}`,
		`{}`, `null`, `[]`, `{"templateId":null,"media":null}`, `{"templateId":1e400}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, items := parseRequest(body)
		if _, err := json.Marshal(items); err != nil {
			t.Fatalf("items do not serialise: %v", err)
		}
		if len(items) == 0 && (req.templateID == "" || req.destination == "" || req.params == nil) {
			t.Fatalf("accepted %q as %+v", body, req)
		}
	})
}
