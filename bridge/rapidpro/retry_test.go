package rapidpro

import (
	"strings"
	"testing"
)

// courier answers 400 for its own failures too (platforms.md B.2): only its
// refusals of the request itself are final.
func TestRetryableCourierAnswers(t *testing.T) {
	courierErr := func(msg string) string {
		return `{"message":"Error","data":[{"type":"error","error":"` + msg + `"}]}`
	}
	a := MustAdapter(t, &fakeAccepter{}, nil, nil)
	for _, c := range []struct {
		code  int
		body  string
		retry bool
	}{
		{400, courierErr("must have one of 'sender' or 'from' set"), false},
		{400, courierErr("the phone number supplied is not a possible number"), false},
		{400, courierErr("invalid date format, must be RFC 3339"), false},
		{400, courierErr("parameters id or uuid should not be empty"), false},
		{400, courierErr("parameters id or uuid are not valid UUIDs"), false},
		{400, courierErr("channel not found"), false},
		{400, courierErr("dial tcp 10.0.0.5:5432: connect: connection refused"), true},
		{400, courierErr("error writing message to db: context deadline exceeded"), true},
		{400, `{"message":"Error","data":[{"type":"error","error":"unable to queue` + strings.Repeat("x", 600), true}, // cut short
		{400, `<html>Bad Request</html>`, true},                                                                       // a proxy's answer, not courier's
		{400, ``, true},
		{404, courierErr("not found: /c/ex/x/bogus"), false},
		{401, ``, false},
		{403, ``, false},
		{408, ``, true},
		{429, ``, true},
		{500, ``, true},
		{503, courierErr("channel not found"), true},
	} {
		if got := a.Retryable(c.code, []byte(c.body)); got != c.retry {
			t.Errorf("Retryable(%d, %.60q) = %v, want %v", c.code, c.body, got, c.retry)
		}
	}
}
