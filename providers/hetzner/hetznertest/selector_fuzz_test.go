package hetznertest

import (
	"reflect"
	"strings"
	"testing"
)

// FuzzParseSelector checks that any label_selector either is refused or
// parses into requirements with valid keys and values that, written back
// in the API's syntax, parse to the same requirements — and that matching
// never panics. The seeds run in plain go test; go test
// -fuzz=FuzzParseSelector ./providers/hetzner/hetznertest searches further.
func FuzzParseSelector(f *testing.F) {
	for _, seed := range []string{
		"", "env=prod", " env = prod ", "env==prod", "env!=dev", "env", "!env",
		"env in (dev, prod)", "env notin (dev)", "example.com/team=blue_1",
		"env in (prod),!missing,env", "cloudswitch-owner=cloudswitch,cloudswitch-workspace=ws-1",
		"a in ((b)", "a=b=c", "!", ",", "a in ()", "a notin (,)",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sel, err := parseSelector(s)
		if err != nil {
			return
		}
		labels := map[string]string{"env": "prod", "a": "", "example.com/team": "blue_1"}
		var terms []string
		for _, r := range sel {
			sel.matches(labels)
			if !labelKey.MatchString(r.key) {
				t.Fatalf("parseSelector(%q) accepted the key %q", s, r.key)
			}
			for _, v := range r.values {
				if !labelValue.MatchString(v) {
					t.Fatalf("parseSelector(%q) accepted the value %q", s, v)
				}
			}
			switch r.op {
			case "exists":
				terms = append(terms, r.key)
			case "!exists":
				terms = append(terms, "!"+r.key)
			case "=", "!=":
				terms = append(terms, r.key+r.op+r.values[0])
			case "in", "notin":
				terms = append(terms, r.key+" "+r.op+" ("+strings.Join(r.values, ",")+")")
			default:
				t.Fatalf("parseSelector(%q): unknown operator %q", s, r.op)
			}
		}
		again, err := parseSelector(strings.Join(terms, ","))
		if err != nil || (len(sel) > 0 && !reflect.DeepEqual(again, sel)) {
			t.Fatalf("parseSelector(%q) = %+v, but its rendering %q parses to %+v, %v", s, sel, strings.Join(terms, ","), again, err)
		}
	})
}
