package emulated

import (
	"reflect"
	"testing"
)

// Every cloud of the table says everything the package asks of it, under a
// name no other cloud uses: a cloud added with a field left out fails here,
// not in the middle of a Start.
func TestEveryCloudOfTheTableIsComplete(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range cloudTable() {
		if c.name == "" || c.what == "" {
			t.Fatalf("a cloud of the table has no name or description: %+v", c)
		}
		if seen[c.name] {
			t.Fatalf("two clouds of the table are named %q", c.name)
		}
		seen[c.name] = true
		v := reflect.ValueOf(c)
		for i := range v.NumField() {
			if f := v.Field(i); f.Kind() == reflect.Func && f.IsNil() {
				t.Errorf("cloud %q has no %s", c.name, v.Type().Field(i).Name)
			}
		}
	}
}
