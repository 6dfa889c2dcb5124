package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"

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
			if err != nil {
				t.Fatal(err)
			}
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
		if got := schemaObjects(t, b, b.open(t), table); !equalStrings(got, []string{"index " + table + "_pending", "table " + table}) {
			t.Fatalf("after %d concurrent Migrates the schema holds %v; want the table and its pending index once", pools, got)
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
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Migrate(ctx); err != nil {
			t.Fatalf("a second Migrate: %v", err)
		}
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
		if err != nil {
			t.Fatal(err)
		}
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
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func equalStrings(a, b []string) bool {
	return strings.Join(a, "\n") == strings.Join(b, "\n")
}
