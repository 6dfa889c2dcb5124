package awstest

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// The EC2 Query protocol flattens lists into numbered keys: InstanceId.1,
// InstanceId.2, …; Filter.1.Name, Filter.1.Value.1, …. These helpers read
// them back in index order.

// list returns the values of prefix.1, prefix.2, … in index order.
func list(form url.Values, prefix string) ([]string, *apiError) {
	byIndex := map[int]string{}
	for k, v := range form {
		rest, ok := strings.CutPrefix(k, prefix+".")
		if !ok {
			continue
		}
		i, err := strconv.Atoi(rest)
		if err != nil || i < 1 {
			return nil, badRequest("InvalidParameterValue", "Invalid parameter name %q.", k)
		}
		byIndex[i] = firstValue(v)
	}
	out := make([]string, 0, len(byIndex))
	for _, i := range sortedKeys(byIndex) {
		out = append(out, byIndex[i])
	}
	return out, nil
}

// members returns the structures prefix.1.*, prefix.2.*, … in index order,
// each as a form whose keys are stripped of "prefix.N.".
func members(form url.Values, prefix string) ([]url.Values, *apiError) {
	byIndex := map[int]url.Values{}
	for k, v := range form {
		rest, ok := strings.CutPrefix(k, prefix+".")
		if !ok {
			continue
		}
		idx, field, ok := strings.Cut(rest, ".")
		i, err := strconv.Atoi(idx)
		if !ok || err != nil || i < 1 || field == "" {
			return nil, badRequest("InvalidParameterValue", "Invalid parameter name %q.", k)
		}
		if byIndex[i] == nil {
			byIndex[i] = url.Values{}
		}
		byIndex[i][field] = v
	}
	out := make([]url.Values, 0, len(byIndex))
	for _, i := range sortedKeys(byIndex) {
		out = append(out, byIndex[i])
	}
	return out, nil
}

func sortedKeys[V any](m map[int]V) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func firstValue(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// isTrue reports whether a Query boolean is true.
func isTrue(s string) bool { return strings.EqualFold(s, "true") }
