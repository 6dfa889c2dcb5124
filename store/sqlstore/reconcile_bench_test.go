package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"modernc.org/sqlite"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/memprovider"
	"github.com/cloudswitch/cloudswitch/store/sqlstore"
)

// envReconcileVMs lists the fleet sizes BenchmarkReconcile runs, comma
// separated (default 10000): seeding a million rows takes minutes, so the
// large sizes run only when asked for, e.g. =100000,1000000.
const envReconcileVMs = "CLOUDSWITCH_BENCH_RECONCILE_VMS"

// BenchmarkReconcile runs one Reconcile pass over a fleet of n VMs on one
// memprovider (pages of 1,000), each the recorded VM of its workspace in the
// Store, plus 10 orphans of deleted workspaces. It reports the statements a
// pass sends (GetBatch reads a batch of listed VMs' workspaces with one;
// Pending, List, the installation id and one confirming Get per orphan add
// a few), and the most heap one pass holds beyond the store's pool and the
// provider's fleet.
func BenchmarkReconcile(b *testing.B) {
	sizes := []int{10_000}
	if v := os.Getenv(envReconcileVMs); v != "" {
		sizes = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				b.Fatalf("%s=%q: want comma-separated fleet sizes", envReconcileVMs, v)
			}
			sizes = append(sizes, n)
		}
	}
	for _, n := range sizes {
		b.Run(fmt.Sprintf("sqlite/vms=%d", n), func(b *testing.B) {
			c := new(counter)
			conn, err := sqlite.NewConnector(sqlstore.SQLiteDSN(filepath.Join(b.TempDir(), "reconcile.db")))
			if err != nil {
				b.Fatal(err)
			}
			db := sql.OpenDB(countingConnector{conn, c})
			db.SetMaxOpenConns(4)
			db.SetMaxIdleConns(4)
			b.Cleanup(func() { db.Close() })
			benchReconcile(b, db, c, sqliteBackend(b).storeOn(b, db, "fleet"), "fleet", sqlstore.SQLite, n)
		})
		b.Run(fmt.Sprintf("postgres/vms=%d", n), func(b *testing.B) {
			be := postgresBackend(b)
			cfg, err := pgx.ParseConfig(postgresDSN(b))
			if err != nil {
				b.Fatal(err)
			}
			c := new(counter)
			db := sql.OpenDB(countingConnector{stdlib.GetConnector(*cfg), c})
			db.SetMaxOpenConns(8)
			db.SetMaxIdleConns(8)
			b.Cleanup(func() { db.Close() })
			table := be.newTable(b)
			benchReconcile(b, db, c, be.storeOn(b, db, table), table, sqlstore.Postgres, n)
		})
	}
}

func benchReconcile(b *testing.B, db *sql.DB, c *counter, st *sqlstore.Store, table string, d sqlstore.Dialect, n int) {
	ctx := context.Background()
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	installation, err := st.InstallationID(ctx)
	if err != nil {
		b.Fatal(err)
	}
	aws := memprovider.New(cloudswitch.AWS, memprovider.WithoutCallLog(), memprovider.WithPageSize(1000),
		memprovider.WithClock(func() time.Time { return now.Add(-24 * time.Hour) }))
	compute := cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.medium"}
	for i := 1; i <= n; i++ {
		aws.AddForInstallation(cloudswitch.DefaultOwner, installation, fmt.Sprintf("ws-%08d", i), compute)
	}
	for i := range 10 {
		aws.AddForInstallation(cloudswitch.DefaultOwner, installation, fmt.Sprintf("gone-%d", i), compute)
	}
	seedFleet(b, db, table, d, installation, n)
	r := cloudswitch.NewReconciler(st, map[string]cloudswitch.Provider{cloudswitch.AWS: aws},
		cloudswitch.WithResumeOptions(cloudswitch.WithClock(func() time.Time { return now })))

	pass := func() {
		rep, err := r.Reconcile(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if len(rep.Orphans) != 10 || rep.Listed[cloudswitch.AWS] != n+10 {
			b.Fatalf("a pass listed %d VMs and found %d orphans; want %d and 10", rep.Listed[cloudswitch.AWS], len(rep.Orphans), n+10)
		}
	}
	c.statements.Store(0)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		pass()
	}
	b.StopTimer()
	b.ReportMetric(float64(n+10), "vms/pass")
	b.ReportMetric(float64(c.statements.Load())/float64(b.N), "statements/pass")
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/pass")
	b.ReportMetric(retainedPeak(pass)/(1<<20), "peak-retained-MiB")
}

// seedFleet writes n workspaces ws-00000001… with one statement, each
// recording the VM aws-00000001… that memprovider gave it.
func seedFleet(b *testing.B, db *sql.DB, table string, d sqlstore.Dialect, installation string, n int) {
	b.Helper()
	q := `INSERT INTO "` + table + `" (id, compute, instance)
SELECT 'ws-' || lpad(g::text, 8, '0'), '{"provider":"aws","instance_type":"t3.medium"}',
  jsonb_build_object('provider', 'aws', 'id', 'aws-' || lpad(g::text, 8, '0'), 'region', 'aws-1',
    'workspace_id', 'ws-' || lpad(g::text, 8, '0'), 'token', 't', 'installation', $2::text)
FROM generate_series(1, $1::int) g`
	if d == sqlstore.SQLite {
		q = `WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < $1)
INSERT INTO "` + table + `" (id, compute, instance, version)
SELECT printf('ws-%08d', g), '{"provider":"aws","instance_type":"t3.medium"}',
  json_object('provider', 'aws', 'id', printf('aws-%08d', g), 'region', 'aws-1',
    'workspace_id', printf('ws-%08d', g), 'token', 't', 'installation', $2), g
FROM s`
	}
	if _, err := db.ExecContext(context.Background(), q, n, installation); err != nil {
		b.Fatalf("seeding %d workspaces: %v", n, err)
	}
}

// retainedPeak runs f with the collector at its most eager and returns the
// largest live heap seen during f beyond the live heap before it: what f
// holds, not the garbage a lazy collector lets pile up.
func retainedPeak(f func()) float64 {
	defer debug.SetGCPercent(debug.SetGCPercent(1))
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > peak.Load() {
				peak.Store(ms.HeapAlloc)
			}
		}
	})
	f()
	close(stop)
	wg.Wait()
	if peak.Load() < base.HeapAlloc {
		return 0
	}
	return float64(peak.Load() - base.HeapAlloc)
}
