package awstest

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// filter is one DescribeInstances filter: an instance matches when the named
// attribute matches any of the values, which may hold the wildcards * and ?.
type filter struct {
	name   string
	values []string
}

// attribute returns what an instance filter compares: the values of the
// named attribute of v, and whether the filter name is one the emulator
// knows.
func attribute(name string, v *vm) ([]string, bool) {
	if key, ok := strings.CutPrefix(name, "tag:"); ok {
		for _, t := range v.tags {
			if t.key == key {
				return []string{t.value}, true
			}
		}
		return nil, true
	}
	switch name {
	case "tag-key", "tag-value":
		out := make([]string, 0, len(v.tags))
		for _, t := range v.tags {
			if name == "tag-key" {
				out = append(out, t.key)
			} else {
				out = append(out, t.value)
			}
		}
		return out, true
	case "instance-state-name":
		return []string{v.state}, true
	case "instance-state-code":
		return []string{strconv.Itoa(stateCodes[v.state])}, true
	case "instance-id":
		return []string{v.id}, true
	case "instance-type":
		return []string{v.typ}, true
	case "image-id":
		return []string{v.image}, true
	case "client-token":
		return []string{v.clientToken}, true
	case "reservation-id":
		return []string{v.reservation.id}, true
	case "subnet-id":
		return []string{v.subnet}, true
	case "key-name":
		return []string{v.keyName}, true
	case "availability-zone":
		return []string{v.region + "a"}, true
	}
	return nil, false
}

// parseFilters reads Filter.N.Name and Filter.N.Value.M.
func parseFilters(form url.Values) ([]filter, *apiError) {
	ms, aerr := members(form, "Filter")
	if aerr != nil {
		return nil, aerr
	}
	out := make([]filter, 0, len(ms))
	for _, m := range ms {
		f := filter{name: m.Get("Name")}
		if f.values, aerr = list(m, "Value"); aerr != nil {
			return nil, aerr
		}
		if _, known := attribute(f.name, &vm{reservation: &reservation{}}); !known || f.name == "tag:" {
			return nil, badRequest("InvalidParameterValue", "The filter '%s' is invalid", f.name)
		}
		if len(f.values) == 0 {
			return nil, badRequest("InvalidParameterValue", "The filter '%s' requires at least one value", f.name)
		}
		out = append(out, f)
	}
	return out, nil
}

// matches reports whether v passes every filter.
func matches(filters []filter, v *vm) bool {
	for _, f := range filters {
		got, _ := attribute(f.name, v)
		if !slices.ContainsFunc(got, func(s string) bool {
			return slices.ContainsFunc(f.values, func(p string) bool { return glob(p, s) })
		}) {
			return false
		}
	}
	return true
}

// filtersKey identifies a set of filters, so that a NextToken is only
// accepted with the filters it was issued for.
func filtersKey(filters []filter) string {
	h := sha256.New()
	for _, f := range filters {
		h.Write([]byte(f.name))
		for _, v := range f.values {
			h.Write([]byte{0})
			h.Write([]byte(v))
		}
		h.Write([]byte{1})
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// glob matches s against an EC2 filter value: * matches any run of
// characters, ? any one character, and a backslash escapes the next one.
func glob(pattern, s string) bool {
	p, r := []rune(pattern), []rune(s)
	var pi, ri int
	starP, starR := -1, 0
	for ri < len(r) {
		if pi < len(p) {
			switch c := p[pi]; {
			case c == '*':
				starP, starR = pi, ri
				pi++
				continue
			case c == '?':
				pi++
				ri++
				continue
			case c == '\\' && pi+1 < len(p):
				if p[pi+1] == r[ri] {
					pi += 2
					ri++
					continue
				}
			case c == r[ri]:
				pi++
				ri++
				continue
			}
		}
		if starP < 0 {
			return false
		}
		starR++
		pi, ri = starP+1, starR
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
