package sqlstore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"modernc.org/sqlite"

	"github.com/cloudswitch/cloudswitch/store/sqlstore"
)

// The environment that points the tests at PostgreSQL: .ci/run starts a
// throwaway server and sets both.
const (
	envPostgresDSN     = "CLOUDSWITCH_TEST_POSTGRES_DSN"
	envRequirePostgres = "CLOUDSWITCH_REQUIRE_POSTGRES"
)

// backend is a database the tests run on. Every pool it opens reaches the
// same database, as the pools of several replicas would.
type backend struct {
	dialect sqlstore.Dialect
	open    func(t testing.TB) *sql.DB // a new pool, closed when the test ends
	drop    func(t testing.TB, table string)
}

// forEachBackend runs f on SQLite, always, and on PostgreSQL when
// CLOUDSWITCH_TEST_POSTGRES_DSN is set; when it is not, the PostgreSQL run
// is skipped, or fails if CLOUDSWITCH_REQUIRE_POSTGRES=1 (as in CI). The two
// run in parallel, with each other and with other tests: each works on
// tables of its own.
func forEachBackend(t *testing.T, f func(t *testing.T, b backend)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		f(t, sqliteBackend(t))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		f(t, postgresBackend(t))
	})
}

// sqliteBackend is a fresh database file in WAL mode, in the test's
// temporary directory. It is created before any pool of the test opens it,
// as SQLiteDSN advises.
func sqliteBackend(t testing.TB) backend {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cloudswitch.db")
	db, err := sql.Open("sqlite", sqlstore.SQLiteDSN(path))
	if err == nil {
		err = errors.Join(db.PingContext(context.Background()), db.Close())
	}
	require.NoError(t, err, "creating the SQLite database")
	return backend{
		dialect: sqlstore.SQLite,
		open: func(t testing.TB) *sql.DB {
			t.Helper()
			db, err := sql.Open("sqlite", sqlstore.SQLiteDSN(path))
			require.NoError(t, err)
			db.SetMaxOpenConns(4)
			t.Cleanup(func() { db.Close() })
			return db
		},
		drop: func(testing.TB, string) {}, // the file goes with the directory
	}
}

// postgresBackend is the database CLOUDSWITCH_TEST_POSTGRES_DSN names. Each
// test works on tables of its own (see newTable), so tests may run in
// parallel.
func postgresBackend(t testing.TB) backend {
	t.Helper()
	dsn := postgresDSN(t)
	open := func(t testing.TB) *sql.DB {
		t.Helper()
		db, err := sql.Open("pgx", dsn)
		require.NoError(t, err)
		db.SetMaxOpenConns(8)
		db.SetMaxIdleConns(8)
		t.Cleanup(func() { db.Close() })
		return db
	}
	return backend{
		dialect: sqlstore.Postgres,
		open:    open,
		drop: func(t testing.TB, table string) {
			db, err := sql.Open("pgx", dsn)
			if err != nil {
				t.Error(err)
				return
			}
			defer db.Close()
			if _, err := db.ExecContext(context.Background(), `DROP TABLE IF EXISTS "`+table+`", "`+table+`_meta"`); err != nil {
				t.Errorf("dropping test table %s: %v", table, err)
			}
		},
	}
}

// postgresDSN returns the test database's DSN, skipping the test when there
// is none, or failing it when CLOUDSWITCH_REQUIRE_POSTGRES=1.
func postgresDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(envPostgresDSN)
	if dsn == "" {
		if os.Getenv(envRequirePostgres) == "1" {
			t.Fatalf("%s=1 but %s is not set: the PostgreSQL tests must run", envRequirePostgres, envPostgresDSN)
		}
		t.Skipf("%s is not set; the PostgreSQL tests need a database", envPostgresDSN)
	}
	return dsn
}

// newTable returns a table name no other test uses, dropped when the test
// ends.
func (b backend) newTable(t testing.TB) string {
	t.Helper()
	var r [6]byte
	rand.Read(r[:])
	name := "cs_test_" + hex.EncodeToString(r[:])
	t.Cleanup(func() { b.drop(t, name) })
	return name
}

// newSchema creates a PostgreSQL schema no other test uses, dropped with
// everything in it when the test ends.
func (b backend) newSchema(t testing.TB, db *sql.DB) string {
	t.Helper()
	var r [6]byte
	rand.Read(r[:])
	name := "cs_schema_" + hex.EncodeToString(r[:])
	if _, err := db.ExecContext(context.Background(), `CREATE SCHEMA `+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := b.open(t).ExecContext(context.Background(), `DROP SCHEMA `+name+` CASCADE`); err != nil {
			t.Errorf("dropping test schema %s: %v", name, err)
		}
	})
	return name
}

// store returns a migrated Store on db, on a table of its own.
func (b backend) store(t testing.TB, db *sql.DB) *sqlstore.Store {
	t.Helper()
	return b.storeOn(t, db, b.newTable(t))
}

// storeOn returns a migrated Store on db and the given table.
func (b backend) storeOn(t testing.TB, db *sql.DB, table string) *sqlstore.Store {
	t.Helper()
	st, err := sqlstore.New(db, b.dialect, sqlstore.WithTable(table))
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	require.NoError(t, st.Migrate(context.Background()), "Migrate")
	return st
}

// countingPool returns a pool on the backend's database through the
// counting driver, whose package New does not recognise.
func countingPool(t testing.TB, b backend) *sql.DB {
	t.Helper()
	var conn driver.Connector
	var err error
	if b.dialect == sqlstore.SQLite {
		conn, err = sqlite.NewConnector(sqlstore.SQLiteDSN(filepath.Join(t.TempDir(), "counted.db")))
	} else {
		var cfg *pgx.ConnConfig
		if cfg, err = pgx.ParseConfig(postgresDSN(t)); err == nil {
			conn = stdlib.GetConnector(*cfg)
		}
	}
	require.NoError(t, err)
	db := sql.OpenDB(countingConnector{conn, new(counter)})
	t.Cleanup(func() { db.Close() })
	return db
}
