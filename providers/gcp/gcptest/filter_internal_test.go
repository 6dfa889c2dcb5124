package gcptest

import (
	"reflect"
	"testing"
)

func TestParseFilterReadsComparisonsJoinedByAnd(t *testing.T) {
	for filter, want := range map[string][]condition{
		`labels.cloudswitch-owner = "pt-1a2b"`: {{field: "labels.cloudswitch-owner", value: "pt-1a2b"}},
		`labels.a = x`:                         {{field: "labels.a", value: "x"}},
		`labels.a="x y"`:                       {{field: "labels.a", value: "x y"}},
		`labels.a = "say \"hi\""`:              {{field: "labels.a", value: `say "hi"`}},
		`labels.a != ""`:                       {{field: "labels.a", negate: true, value: ""}},
		`(labels.a = "1") AND (status = RUNNING)`: {
			{field: "labels.a", value: "1"}, {field: "status", value: "RUNNING"}},
		`(labels.a = "1") (name != vm-2)`: {
			{field: "labels.a", value: "1"}, {field: "name", negate: true, value: "vm-2"}},
	} {
		got, err := parseFilter(filter)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("parseFilter(%s) = %+v, %v; want %+v", filter, got, err, want)
		}
	}
}

func TestParseFilterRefusesWhatItDoesNotUnderstand(t *testing.T) {
	for _, filter := range []string{
		`labels.a = "x" OR labels.b = "y"`,
		`NOT labels.a = "x"`,
		`labels.a : "x"`,
		`labels.a = "x`,
		`labels.a =`,
		`labels.a`,
		`(labels.a = "x"`,
		`labels.a = "x")`,
		`AND labels.a = "x"`,
		`labels.a = "x" AND`,
		`labels.A = "x"`,
		`zone = "us-central1-a"`,
		`labels.a ! "x"`,
		`labels.a = (`,
	} {
		if got, err := parseFilter(filter); err == nil {
			t.Errorf("parseFilter(%s) = %+v; want an error", filter, got)
		}
	}
}

func TestMatchesIsExactAndTreatsAMissingLabelAsUnequal(t *testing.T) {
	v := &vm{name: "vm-1", status: "RUNNING", labels: map[string]string{"owner": "me"}}
	for _, c := range []struct {
		conds []condition
		want  bool
	}{
		{[]condition{{field: "labels.owner", value: "me"}}, true},
		{[]condition{{field: "labels.owner", value: "m"}}, false},
		{[]condition{{field: "labels.owner", negate: true, value: "you"}}, true},
		{[]condition{{field: "labels.team", value: ""}}, false},
		{[]condition{{field: "labels.team", negate: true, value: "x"}}, true},
		{[]condition{{field: "name", value: "vm-1"}, {field: "status", value: "STOPPED"}}, false},
		{nil, true},
	} {
		if got := v.matches(c.conds); got != c.want {
			t.Errorf("matches(%+v) = %v; want %v", c.conds, got, c.want)
		}
	}
}
