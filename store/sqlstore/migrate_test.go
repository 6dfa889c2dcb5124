package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/store/sqlstore"
)

func TestMigrateFromSeveralPoolsAtOnceCreatesTheSchemaOnce(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		table := b.newTable(t)
		const pools = 8
		stores := make([]*sqlstore.Store, pools)
		for i := range stores {
			st, err := sqlstore.New(b.open(t), b.dialect, sqlstore.WithTable(table))
			require.NoError(t, err)
			stores[i] = st
		}
		race(pools, func(i int) {
			if err := stores[i].Migrate(ctx); err != nil {
				t.Errorf("Migrate from pool %d of %d running at once: %v", i, pools, err)
			}
		})
		if t.Failed() {
			return
		}
		want := []string{"index " + table + "_pending", "table " + table}
		if b.dialect == sqlstore.SQLite { // the triggers that keep the versions' high-water mark
			want = append(want, "trigger "+table+"_version_insert", "trigger "+table+"_version_update")
		}
		if got := schemaObjects(t, b, b.open(t), table); !equalStrings(got, want) {
			t.Fatalf("after %d concurrent Migrates the schema holds %v; want %v, once each", pools, got, want)
		}
		if _, err := stores[0].Create(ctx, cloudswitch.Workspace{ID: "w"}); err != nil {
			t.Fatal(err)
		}
		if _, err := stores[pools-1].Get(ctx, "w"); err != nil {
			t.Fatalf("a store of another pool cannot read what the first wrote: %v", err)
		}
	})
}

func TestMigrateAgainKeepsTheData(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		st := b.store(t, b.open(t))
		w, err := st.Create(ctx, cloudswitch.Workspace{ID: "kept", Compute: cloudswitch.Compute{Provider: cloudswitch.GCP}})
		require.NoError(t, err)
		require.NoError(t, st.Migrate(ctx), "a second Migrate")
		got, err := st.Get(ctx, "kept")
		if err != nil || got.Compute != w.Compute || got.Version != w.Version {
			t.Fatalf("after a second Migrate Get returned %+v, %v; want %+v", got, err, w)
		}
	})
}

func TestMigrateRefusesATableOfAnotherShape(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		db := b.open(t)
		table := b.newTable(t)
		// The user's own table, under the name given to WithTable.
		if _, err := db.ExecContext(ctx, `CREATE TABLE `+table+` (id text PRIMARY KEY, name text, compute text)`); err != nil {
			t.Fatal(err)
		}
		st, err := sqlstore.New(db, b.dialect, sqlstore.WithTable(table))
		require.NoError(t, err)
		err = st.Migrate(ctx)
		if err == nil || !strings.Contains(err.Error(), table) || !strings.Contains(err.Error(), "lacks the columns") {
			t.Fatalf("Migrate on an existing table without the Store's columns: got %v; want an error naming the table and the missing columns", err)
		}
	})
}

// TestMigrateDetectsADialectTheDatabaseDenies uses pools whose driver New
// cannot recognise (a wrapping driver, as tracing drivers are), so that
// only the database can tell.
func TestMigrateDetectsADialectTheDatabaseDenies(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		db := countingPool(t, b)
		wrong := sqlstore.Postgres
		if b.dialect == sqlstore.Postgres {
			wrong = sqlstore.SQLite
		}
		st, err := sqlstore.New(db, wrong)
		if err != nil {
			t.Fatalf("New with a driver it cannot recognise must leave the check to Migrate, got %v", err)
		}
		err = st.Migrate(context.Background())
		if !errors.Is(err, sqlstore.ErrDialectMismatch) {
			t.Fatalf("Migrate with dialect %s on %s: got %v; want ErrDialectMismatch", wrong, b.dialect, err)
		}
		if !strings.Contains(err.Error(), string(b.dialect)) {
			t.Errorf("the mismatch error should say what the database is (%s): %v", b.dialect, err)
		}
	})
}

// schemaObjects lists the tables and indexes on table, as "table name" and
// "index name", sorted, leaving out the primary key's index.
func schemaObjects(t *testing.T, b backend, db *sql.DB, table string) []string {
	t.Helper()
	q := `SELECT type || ' ' || name FROM sqlite_master WHERE tbl_name = $1 AND name NOT LIKE 'sqlite_autoindex_%' ORDER BY 1`
	if b.dialect == sqlstore.Postgres {
		q = `SELECT CASE c.relkind WHEN 'r' THEN 'table ' ELSE 'index ' END || c.relname
			FROM pg_class c LEFT JOIN pg_index i ON i.indexrelid = c.oid
			WHERE (c.relname = $1 OR i.indrelid = $1::regclass) AND NOT coalesce(i.indisprimary, false)
			ORDER BY 1`
	}
	rows, err := db.QueryContext(context.Background(), q, table)
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		out = append(out, s)
	}
	require.NoError(t, rows.Err())
	return out
}

func equalStrings(a, b []string) bool {
	return strings.Join(a, "\n") == strings.Join(b, "\n")
}

// TestMigrateUpgradesATableOfTheEarlierSchema: a table made before versions
// were drawn from a counter (every row starting at 1, +1 per Update) is
// upgraded in place. Its rows keep their versions and keep working, and no
// version the table holds, or a deleted row held, is given again.
func TestMigrateUpgradesATableOfTheEarlierSchema(t *testing.T) {
	t.Parallel()
	earlier := map[sqlstore.Dialect]string{
		sqlstore.Postgres: `CREATE TABLE %s (id text PRIMARY KEY, compute jsonb NOT NULL, instance jsonb, pending jsonb,
			version bigint NOT NULL CHECK (version > 0), created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now())`,
		sqlstore.SQLite: `CREATE TABLE %s (id TEXT NOT NULL PRIMARY KEY, compute TEXT NOT NULL CHECK (json_valid(compute)),
			instance TEXT CHECK (json_valid(instance)), pending TEXT CHECK (json_valid(pending)), version INTEGER NOT NULL CHECK (version > 0),
			created_at TEXT NOT NULL DEFAULT (strftime('%%Y-%%m-%%dT%%H:%%M:%%fZ', 'now')), updated_at TEXT NOT NULL DEFAULT (strftime('%%Y-%%m-%%dT%%H:%%M:%%fZ', 'now'))) STRICT`,
	}
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		db := b.open(t)
		table := b.newTable(t)
		mustExec(t, db, fmt.Sprintf(earlier[b.dialect], `"`+table+`"`))
		mustExec(t, db, `INSERT INTO "`+table+`" (id, compute, version) VALUES ('old', '{"provider":"aws"}', 7), ('young', '{"provider":"gcp"}', 1)`)

		st := b.storeOn(t, db, table) // Migrate
		require.NoError(t, st.Migrate(ctx), "a second Migrate of the upgraded table")
		old, err := st.Get(ctx, "old")
		if err != nil || old.Version != 7 {
			t.Fatalf("after the upgrade the existing row reads %+v, %v; want it at its version, 7", old, err)
		}
		old.Compute.Image = "after the upgrade"
		updated, err := st.Update(ctx, old)
		require.NoError(t, err, "updating an existing row after the upgrade")
		if updated.Version <= 7 {
			t.Fatalf("an Update after the upgrade gave version %d; want one past every version the table held (7)", updated.Version)
		}
		fresh, err := st.Create(ctx, cloudswitch.Workspace{ID: "fresh"})
		require.NoError(t, err)
		if fresh.Version <= 7 || fresh.Version == updated.Version {
			t.Fatalf("a Create after the upgrade gave version %d; want a version no row had (1, 7, %d)", fresh.Version, updated.Version)
		}
		if id, err := st.InstallationID(ctx); err != nil || id == "" {
			t.Fatalf("the upgraded table has installation id %q, %v; want one minted by Migrate", id, err)
		}
		if b.dialect == sqlstore.Postgres {
			// A row written by hand, version left to its DEFAULT, gets a
			// fresh version too.
			var v int64
			require.NoError(t, db.QueryRowContext(ctx, `INSERT INTO "`+table+`" (id, compute) VALUES ('raw', '{}') RETURNING version`).Scan(&v))
			if v <= fresh.Version {
				t.Fatalf("an INSERT without a version got %d; want the sequence's next, past %d", v, fresh.Version)
			}
		}
	})
}

func TestInstallationIDIsMintedOnceUnderConcurrentMigrates(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		table := b.newTable(t)
		const pools = 6
		stores := make([]*sqlstore.Store, pools)
		for i := range stores {
			st, err := sqlstore.New(b.open(t), b.dialect, sqlstore.WithTable(table))
			require.NoError(t, err)
			stores[i] = st
		}
		race(pools, func(i int) {
			if err := stores[i].Migrate(ctx); err != nil {
				t.Errorf("Migrate from pool %d: %v", i, err)
			}
		})
		ids := map[string]bool{}
		for _, st := range stores {
			id, err := st.InstallationID(ctx)
			require.NoError(t, err)
			ids[id] = true
		}
		if len(ids) != 1 {
			t.Fatalf("%d concurrent Migrates left %d installation ids (%v); want one, shared", pools, len(ids), ids)
		}
	})
}
