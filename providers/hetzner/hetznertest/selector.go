package hetznertest

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// selector is a parsed label_selector: every requirement must hold.
type selector []requirement

// requirement is one term of a label selector.
type requirement struct {
	key    string
	op     string // "=", "!=", "in", "notin", "exists", "!exists"
	values []string
}

var (
	labelKey   = regexp.MustCompile(`^([a-zA-Z0-9]([a-zA-Z0-9._-]{0,251}[a-zA-Z0-9])?/)?[a-zA-Z0-9]([a-zA-Z0-9._-]{0,61}[a-zA-Z0-9])?$`)
	labelValue = regexp.MustCompile(`^([a-zA-Z0-9]([a-zA-Z0-9._-]{0,61}[a-zA-Z0-9])?)?$`)
	setTerm    = regexp.MustCompile(`^(\S+)\s+(in|notin)\s*\((.*)\)$`)
)

// parseSelector parses the label selector syntax of the Hetzner API:
// comma-separated terms "k=v", "k==v", "k!=v", "k", "!k", "k in (a,b)" and
// "k notin (a,b)". An empty selector matches everything.
func parseSelector(s string) (selector, error) {
	var sel selector
	for _, term := range splitTerms(s) {
		term = strings.TrimSpace(term)
		if term == "" {
			if strings.TrimSpace(s) == "" {
				continue
			}
			return nil, fmt.Errorf("empty term in %q", s)
		}
		r, err := parseTerm(term)
		if err != nil {
			return nil, err
		}
		sel = append(sel, r)
	}
	return sel, nil
}

// splitTerms splits at the commas outside parentheses.
func splitTerms(s string) []string {
	var terms []string
	depth, start := 0, 0
	for i, c := range s {
		switch c {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				terms = append(terms, s[start:i])
				start = i + 1
			}
		}
	}
	return append(terms, s[start:])
}

func parseTerm(term string) (requirement, error) {
	var r requirement
	switch {
	case setTerm.MatchString(term):
		m := setTerm.FindStringSubmatch(term)
		r = requirement{key: m[1], op: m[2]}
		for _, v := range strings.Split(m[3], ",") {
			r.values = append(r.values, strings.TrimSpace(v))
		}
	case strings.Contains(term, "!="):
		k, v, _ := strings.Cut(term, "!=")
		r = requirement{key: strings.TrimSpace(k), op: "!=", values: []string{strings.TrimSpace(v)}}
	case strings.Contains(term, "=="):
		k, v, _ := strings.Cut(term, "==")
		r = requirement{key: strings.TrimSpace(k), op: "=", values: []string{strings.TrimSpace(v)}}
	case strings.Contains(term, "="):
		k, v, _ := strings.Cut(term, "=")
		r = requirement{key: strings.TrimSpace(k), op: "=", values: []string{strings.TrimSpace(v)}}
	case strings.HasPrefix(term, "!"):
		r = requirement{key: strings.TrimSpace(term[1:]), op: "!exists"}
	default:
		r = requirement{key: term, op: "exists"}
	}
	if !labelKey.MatchString(r.key) {
		return r, fmt.Errorf("invalid label key %q in %q", r.key, term)
	}
	for _, v := range r.values {
		if !labelValue.MatchString(v) {
			return r, fmt.Errorf("invalid label value %q in %q", v, term)
		}
	}
	return r, nil
}

// matches reports whether labels satisfy every requirement.
func (sel selector) matches(labels map[string]string) bool {
	for _, r := range sel {
		v, ok := labels[r.key]
		var hold bool
		switch r.op {
		case "exists":
			hold = ok
		case "!exists":
			hold = !ok
		case "=":
			hold = ok && v == r.values[0]
		case "!=":
			hold = !ok || v != r.values[0]
		case "in":
			hold = ok && slices.Contains(r.values, v)
		case "notin":
			hold = !ok || !slices.Contains(r.values, v)
		}
		if !hold {
			return false
		}
	}
	return true
}
