package sqlstore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"modernc.org/sqlite"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/memprovider"
	"github.com/cloudswitch/cloudswitch/store/sqlstore"
)

// benchCallers are the numbers of concurrent callers each benchmark runs.
var benchCallers = []int{1, 16}

// BenchmarkCAS measures compare-and-swap Updates per second: each caller
// updates its own workspace, read once, so every Update wins.
func BenchmarkCAS(b *testing.B) {
	forEachBenchBackend(b, func(b *testing.B, db *sql.DB, c *counter, st *sqlstore.Store) {
		for _, callers := range benchCallers {
			b.Run(fmt.Sprintf("callers=%d", callers), func(b *testing.B) {
				ctx := context.Background()
				runCallers(b, db, c, callers, "update", "updates/s", func(i int) func() error {
					w := seed(b, st, cloudswitch.AWS)
					return func() error {
						w.Compute.Image = fmt.Sprint(w.Version)
						next, err := st.Update(ctx, w)
						w = next
						return err
					}
				})
			})
		}
	})
}

// BenchmarkSwitch measures full switches per second through the Store, with
// in-memory clouds at zero latency: each caller moves its own workspace
// between AWS and Hetzner, destroying one VM and creating another each time.
// It reports the statements each switch sent to the database (read, claim,
// commit, record: 4), the transactions it began (0) and the statements it
// prepared (once per connection and statement, then reused).
func BenchmarkSwitch(b *testing.B) {
	forEachBenchBackend(b, func(b *testing.B, db *sql.DB, c *counter, st *sqlstore.Store) {
		clouds := map[string]cloudswitch.Provider{
			cloudswitch.AWS:     memprovider.New(cloudswitch.AWS, memprovider.WithoutCallLog()),
			cloudswitch.Hetzner: memprovider.New(cloudswitch.Hetzner, memprovider.WithoutCallLog()),
		}
		sw, err := cloudswitch.New(st, clouds)
		require.NoError(b, err)
		for _, callers := range benchCallers {
			b.Run(fmt.Sprintf("callers=%d", callers), func(b *testing.B) {
				ctx := context.Background()
				runCallers(b, db, c, callers, "switch", "switches/s", func(int) func() error {
					id := seed(b, st, cloudswitch.AWS).ID
					if _, err := sw.Switch(ctx, id, cloudswitch.Request{}); err != nil { // its first VM
						b.Fatal(err)
					}
					to := cloudswitch.Hetzner
					return func() error {
						res, err := sw.Switch(ctx, id, cloudswitch.Request{
							Compute: cloudswitch.Compute{Provider: to}, ConfirmRecreate: true})
						if err == nil && (!res.Switched || res.Provisioned == nil || res.Deprovisioned == nil) {
							err = fmt.Errorf("switch of %s to %s did not destroy one VM and create another: %+v", id, to, res)
						}
						to = map[string]string{cloudswitch.AWS: cloudswitch.Hetzner, cloudswitch.Hetzner: cloudswitch.AWS}[to]
						return err
					}
				})
			})
		}
	})
}

// forEachBenchBackend runs f on SQLite and, when CLOUDSWITCH_TEST_POSTGRES_DSN
// is set, PostgreSQL, each with a migrated Store on a counting pool.
func forEachBenchBackend(b *testing.B, f func(b *testing.B, db *sql.DB, c *counter, st *sqlstore.Store)) {
	b.Run("sqlite", func(b *testing.B) {
		c := new(counter)
		conn, err := sqlite.NewConnector(sqlstore.SQLiteDSN(filepath.Join(b.TempDir(), "bench.db")))
		require.NoError(b, err)
		db := sql.OpenDB(countingConnector{conn, c})
		db.SetMaxOpenConns(4) // as SQLiteDSN advises
		db.SetMaxIdleConns(4)
		b.Cleanup(func() { db.Close() })
		f(b, db, c, sqliteBackend(b).storeOn(b, db, "bench"))
	})
	b.Run("postgres", func(b *testing.B) {
		be := postgresBackend(b)
		cfg, err := pgx.ParseConfig(postgresDSN(b))
		require.NoError(b, err)
		c := new(counter)
		db := sql.OpenDB(countingConnector{stdlib.GetConnector(*cfg), c})
		// runCallers sizes the pool for each number of callers (see
		// postgresPool).
		db.SetMaxOpenConns(8)
		db.SetMaxIdleConns(8)
		b.Cleanup(func() { db.Close() })
		f(b, db, c, be.store(b, db))
	})
}

// runCallers runs b.N operations spread over callers goroutines, each with
// its own operation from setup, and reports the operations per second and
// what each operation sent to the database.
func runCallers(b *testing.B, db *sql.DB, c *counter, callers int, op, rate string, setup func(i int) func() error) {
	if n := postgresPool(db, callers); n > 0 {
		db.SetMaxOpenConns(n)
		db.SetMaxIdleConns(n)
	}
	ops := make([]func() error, callers)
	for i := range ops {
		ops[i] = setup(i)
	}
	c.statements.Store(0)
	c.begins.Store(0)
	c.prepares.Store(0)
	var next atomic.Int64
	var failed atomic.Pointer[error]
	var wg sync.WaitGroup
	b.ResetTimer()
	for i := range callers {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				if err := ops[i](); err != nil {
					failed.CompareAndSwap(nil, &err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	if err := failed.Load(); err != nil {
		b.Fatal(*err)
	}
	n := float64(b.N)
	b.ReportMetric(n/b.Elapsed().Seconds(), rate)
	b.ReportMetric(float64(c.statements.Load())/n, "statements/"+op)
	b.ReportMetric(float64(c.begins.Load())/n, "begins/"+op)
	b.ReportMetric(float64(c.prepares.Load())/n, "prepares/"+op)
}

// seed creates a workspace on provider, with a fresh id.
func seed(b *testing.B, st *sqlstore.Store, provider string) cloudswitch.Workspace {
	b.Helper()
	var r [8]byte
	rand.Read(r[:])
	w, err := st.Create(context.Background(), cloudswitch.Workspace{ID: "bench-" + hex.EncodeToString(r[:]),
		Compute: cloudswitch.Compute{Provider: provider, InstanceType: cloudswitch.DefaultAllowlist().DefaultInstanceType(provider)}})
	require.NoError(b, err)
	return w
}

// postgresPool returns the pool size the package documentation advises for
// callers concurrent switches on db, or 0 when db is not PostgreSQL. Durable
// commits wait for a WAL flush, which the commits in flight at once share
// (group commit): one connection per caller, as pgbench has one per
// client. Commits that wait for no disk leave the work CPU-bound, where
// more backends than about four per core only compete for the CPUs: at most
// 8 on this two-core machine.
func postgresPool(db *sql.DB, callers int) int {
	ctx := context.Background()
	var fsync, syncCommit string
	if db.QueryRowContext(ctx, "SELECT current_setting('fsync'), current_setting('synchronous_commit')").Scan(&fsync, &syncCommit) != nil {
		return 0 // SQLite: SQLiteDSN's advice sizes its pool
	}
	if fsync == "on" && syncCommit != "off" {
		return callers
	}
	return min(callers, 8)
}
