package emulator

import "testing"

func TestCompletedFillsTheAnswerAFaultLeavesOut(t *testing.T) {
	code := func(status int) string {
		if status == 503 {
			return "Unavailable"
		}
		return "Invalid"
	}
	cases := []struct {
		name     string
		in, want Fault
	}{
		{"code without status answers 400", Fault{Code: "Throttling"}, Fault{Status: 400, Code: "Throttling", Message: "em: injected fault Throttling"}},
		{"status without code gets the cloud's code", Fault{Status: 503}, Fault{Status: 503, Code: "Unavailable", Message: "em: injected fault Unavailable"}},
		{"a message given stays", Fault{Status: 503, Message: "down"}, Fault{Status: 503, Code: "Unavailable", Message: "down"}},
		{"a fault that does not fail stays as it is", Fault{Op: "x", Drop: true}, Fault{Op: "x", Drop: true}},
	}
	for _, c := range cases {
		if got := c.in.Completed("em", code); got != c.want {
			t.Errorf("%s: Completed(%+v) = %+v; want %+v", c.name, c.in, got, c.want)
		}
	}
}
