package sqlstore_test

import (
	"testing"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/store/storetest"
)

// TestConformance runs the Store contract, and real switches crashing at
// every step, failing at random and racing each other, on each database.
func TestConformance(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		db := b.open(t)
		storetest.Run(t, func(t *testing.T) cloudswitch.Store { return b.store(t, db) })
	})
}
