package sqlstore_test

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/store/sqlstore"
	"github.com/cloudswitch/cloudswitch/store/storetest"
)

// TestConformance runs the Store contract, and real switches crashing at
// every step, failing at random and racing each other, on each database.
func TestConformance(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		db := b.open(t)
		var mu sync.Mutex
		tables := map[cloudswitch.Store]string{}
		tableOf := func(st cloudswitch.Store) string {
			mu.Lock()
			defer mu.Unlock()
			return tables[st]
		}
		storetest.RunWithOptions(t, func(t *testing.T) cloudswitch.Store {
			table := b.newTable(t)
			st := b.storeOn(t, db, table)
			mu.Lock()
			tables[st] = table
			mu.Unlock()
			return st
		}, storetest.Options{
			// Another replica: a pool of its own on the same table.
			Reopen: func(t *testing.T, st cloudswitch.Store) cloudswitch.Store {
				other, err := sqlstore.New(b.open(t), b.dialect, sqlstore.WithTable(tableOf(st)))
				require.NoError(t, err)
				return other
			},
			// Valid JSON the strict decoding of compute refuses.
			Corrupt: func(t *testing.T, st cloudswitch.Store, id string) {
				mustExec(t, db, `UPDATE "`+tableOf(st)+`" SET compute = '{"provider": 5}' WHERE id = $1`, id)
			},
		})
	})
}
