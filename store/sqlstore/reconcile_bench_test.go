package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

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
// emulated fleet, measured at ten points of its listing (see checkpointed).
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
			require.NoError(b, err)
			db := sql.OpenDB(countingConnector{conn, c})
			db.SetMaxOpenConns(4)
			db.SetMaxIdleConns(4)
			b.Cleanup(func() { db.Close() })
			benchReconcile(b, db, c, sqliteBackend(b).storeOn(b, db, "fleet"), "fleet", sqlstore.SQLite, n)
		})
		b.Run(fmt.Sprintf("postgres/vms=%d", n), func(b *testing.B) {
			be := postgresBackend(b)
			cfg, err := pgx.ParseConfig(postgresDSN(b))
			require.NoError(b, err)
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
	require.NoError(b, err)
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
	r, err := cloudswitch.NewReconciler(st, map[string]cloudswitch.Provider{cloudswitch.AWS: aws},
		cloudswitch.WithResumeOptions(cloudswitch.WithClock(func() time.Time { return now })))
	require.NoError(b, err)

	pass := func() {
		rep, err := r.Reconcile(ctx)
		require.NoError(b, err)
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
	cp := &checkpointed{Provider: aws, every: max(n/10, 1000)}
	measured, err := cloudswitch.NewReconciler(st, map[string]cloudswitch.Provider{cloudswitch.AWS: cp},
		cloudswitch.WithResumeOptions(cloudswitch.WithClock(func() time.Time { return now })))
	require.NoError(b, err)
	b.ReportMetric(heldPeak(b, measured, cp)/(1<<20), "peak-held-MiB")
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

// checkpointed is a provider whose listing stops every `every` VMs, runs
// the collector to completion and records the heap then in use: the pass's
// workers drain their batch and wait, so what is left is what the pass
// holds (plus the fleet the emulator keeps), not garbage nor objects a
// concurrent collector counts as live because they were allocated while it
// marked.
type checkpointed struct {
	*memprovider.Provider
	every int
	peak  atomic.Uint64
}

func (c *checkpointed) Instances(ctx context.Context, owner string) iter.Seq2[cloudswitch.Instance, error] {
	return func(yield func(cloudswitch.Instance, error) bool) {
		n := 0
		for inst, err := range c.Provider.Instances(ctx, owner) {
			if !yield(inst, err) {
				return
			}
			if n++; n%c.every == 0 {
				c.measure()
			}
		}
		c.measure()
	}
}

func (c *checkpointed) measure() {
	time.Sleep(20 * time.Millisecond) // the workers finish their batch
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if ms.HeapAlloc > c.peak.Load() {
		c.peak.Store(ms.HeapAlloc)
	}
}

// heldPeak runs one pass of r over c and returns the most heap in use at
// any of c's checkpoints beyond the heap in use before the pass.
func heldPeak(b *testing.B, r *cloudswitch.Reconciler, c *checkpointed) float64 {
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	c.peak.Store(0)
	if _, err := r.Reconcile(context.Background()); err != nil {
		b.Fatal(err)
	}
	if c.peak.Load() < base.HeapAlloc {
		return 0
	}
	return float64(c.peak.Load() - base.HeapAlloc)
}
