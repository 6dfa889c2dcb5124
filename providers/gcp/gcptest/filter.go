package gcptest

import (
	"fmt"
	"strings"
)

// condition is one comparison of a list filter: field = "value" or
// field != "value".
type condition struct {
	field  string // "name", "status" or "labels.KEY"
	negate bool
	value  string
}

// parseFilter reads the subset of Compute Engine's list filter syntax the
// emulator understands: comparisons `FIELD = VALUE` and `FIELD != VALUE`,
// where FIELD is name, status or labels.KEY and VALUE is a bare word or a
// double-quoted string, joined by AND or by juxtaposition, each optionally in
// parentheses. Matches are exact. Anything else (OR, NOT, ':', regular
// expressions) is refused, so that a client sending it learns at once.
func parseFilter(s string) ([]condition, error) {
	toks, err := tokenize(s)
	if err != nil {
		return nil, err
	}
	var conds []condition
	depth := 0
	for i := 0; i < len(toks); {
		switch t := toks[i]; {
		case t == "(":
			depth++
			i++
		case t == ")":
			if depth == 0 {
				return nil, fmt.Errorf("unbalanced ')'")
			}
			depth--
			i++
		case t == "AND":
			if len(conds) == 0 || i == len(toks)-1 {
				return nil, fmt.Errorf("AND needs a comparison on each side")
			}
			i++
		case t == "OR" || t == "NOT" || t == "-":
			return nil, fmt.Errorf("%s is not supported by the emulator", t)
		default:
			if i+2 >= len(toks) {
				return nil, fmt.Errorf("incomplete comparison at %q", t)
			}
			field, op, value := t, toks[i+1], toks[i+2]
			if op != "=" && op != "!=" {
				return nil, fmt.Errorf("comparison %q is not supported by the emulator (use = or !=)", op)
			}
			if !validField(field) {
				return nil, fmt.Errorf("unknown field %q", field)
			}
			if v, ok := strings.CutPrefix(value, `"`); ok {
				value = v
			} else if value == "(" || value == ")" || value == "=" || value == "!=" {
				return nil, fmt.Errorf("missing value after %s %s", field, op)
			}
			conds = append(conds, condition{field: field, negate: op == "!=", value: value})
			i += 3
		}
	}
	if depth != 0 {
		return nil, fmt.Errorf("unbalanced '('")
	}
	return conds, nil
}

func validField(f string) bool {
	switch f {
	case "name", "status":
		return true
	}
	key, ok := strings.CutPrefix(f, "labels.")
	return ok && labelKey.MatchString(key)
}

// tokenize splits a filter into parentheses, operators, words and quoted
// strings; a quoted string keeps its opening quote as a marker and loses its
// closing one, with \" and \\ unescaped.
func tokenize(s string) ([]string, error) {
	var toks []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			i++
		case c == '(' || c == ')' || c == '=':
			toks = append(toks, string(c))
			i++
		case c == '!':
			if i+1 >= len(s) || s[i+1] != '=' {
				return nil, fmt.Errorf("unexpected '!' at %d", i)
			}
			toks = append(toks, "!=")
			i += 2
		case c == '"':
			var b strings.Builder
			b.WriteByte('"')
			j := i + 1
			for ; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' && j+1 < len(s) {
					j++
				}
				b.WriteByte(s[j])
			}
			if j >= len(s) {
				return nil, fmt.Errorf("unterminated string at %d", i)
			}
			toks = append(toks, b.String())
			i = j + 1
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\n()=!\"", rune(s[j])) {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		}
	}
	return toks, nil
}

// matches reports whether v satisfies every condition.
func (v *vm) matches(conds []condition) bool {
	for _, c := range conds {
		var got string
		var present bool
		switch c.field {
		case "name":
			got, present = v.name, true
		case "status":
			got, present = v.status, true
		default:
			got, present = v.labels[strings.TrimPrefix(c.field, "labels.")]
		}
		if (present && got == c.value) == c.negate {
			return false
		}
	}
	return true
}
