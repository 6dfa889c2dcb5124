package gcptest

import (
	"reflect"
	"strings"
	"testing"
)

// FuzzParseFilter checks that any list filter either is refused or parses
// into conditions on fields the emulator knows that, written back in
// Compute Engine's syntax, parse to the same conditions — and that matching
// never panics. The seeds run in plain go test; go test
// -fuzz=FuzzParseFilter ./providers/gcp/gcptest searches further.
func FuzzParseFilter(f *testing.F) {
	for _, seed := range []string{
		`labels.cloudswitch-owner = "pt-1a2b"`, `labels.a = x`, `labels.a="x y"`, `labels.a = "say \"hi\""`,
		`labels.a != ""`, `(labels.a = "1") AND (status = RUNNING)`, `(labels.a = "1") (name != vm-2)`,
		`labels.a = "x" OR labels.b = "y"`, `NOT labels.a = "x"`, `((`, `labels.a = "unterminated`, `"\`, ``,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		conds, err := parseFilter(s)
		if err != nil {
			return
		}
		v := &vm{name: "vm-1", status: StatusRunning, labels: map[string]string{"a": "1"}}
		v.matches(conds)
		var parts []string
		for _, c := range conds {
			if strings.Contains(c.value, `\`) {
				return // the rendering below does not escape backslashes
			}
			if !validField(c.field) {
				t.Fatalf("parseFilter(%q) accepted the field %q", s, c.field)
			}
			op := " = "
			if c.negate {
				op = " != "
			}
			parts = append(parts, "("+c.field+op+`"`+strings.ReplaceAll(c.value, `"`, `\"`)+`")`)
		}
		again, err := parseFilter(strings.Join(parts, " AND "))
		if err != nil || (len(conds) > 0 && !reflect.DeepEqual(again, conds)) {
			t.Fatalf("parseFilter(%q) = %+v, but its rendering %q parses to %+v, %v", s, conds, strings.Join(parts, " AND "), again, err)
		}
	})
}
