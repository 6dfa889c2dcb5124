package hetznertest

import "testing"

func TestSelectorParsesEveryForm(t *testing.T) {
	labels := map[string]string{"env": "prod", "example.com/team": "blue_1"}
	for sel, want := range map[string]bool{
		"":                               true,
		"env=prod":                       true,
		" env = prod ":                   true,
		"env==prod":                      true,
		"env!=prod":                      false,
		"env!=dev":                       true,
		"missing!=x":                     true,
		"env":                            true,
		"!env":                           false,
		"!missing":                       true,
		"env in (dev, prod)":             true,
		"env in (dev)":                   false,
		"env notin (dev)":                true,
		"missing notin (dev)":            true,
		"missing in (dev)":               false,
		"example.com/team=blue_1":        true,
		"env=prod,example.com/team=blue": false,
		"env in (prod),!missing,env":     true,
	} {
		s, err := parseSelector(sel)
		if err != nil {
			t.Errorf("parseSelector(%q): %v", sel, err)
			continue
		}
		if got := s.matches(labels); got != want {
			t.Errorf("%q matches %v = %v; want %v", sel, labels, got, want)
		}
	}
	for _, bad := range []string{"=v", "k=v w", "k in (a b)", "k=v,", "-k=v", "k=-v"} {
		if _, err := parseSelector(bad); err == nil {
			t.Errorf("parseSelector(%q) succeeded", bad)
		}
	}
}
