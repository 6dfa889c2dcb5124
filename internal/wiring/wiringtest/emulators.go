// Package wiringtest gives the tests of the programs built on wiring what
// they connect to: emulated clouds served as examples/emulators serves them.
package wiringtest

import (
	"net/http/httptest"
	"testing"

	"github.com/cloudswitch/cloudswitch/internal/emulated"
)

// Emulators starts a Set of emulators in this process and serves its
// control API, as examples/emulators does, until the test ends. It returns
// the Set and the control URL, which a program takes in -emulators.
func Emulators(t testing.TB) (*emulated.Set, string) {
	t.Helper()
	set, err := emulated.Start(emulated.Addrs{})
	if err != nil {
		t.Fatal(err)
	}
	control := httptest.NewServer(set.Handler())
	t.Cleanup(func() {
		control.Close()
		set.Close()
	})
	return set, control.URL
}
