package soak

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	_ "modernc.org/sqlite"             // registers "sqlite"

	"github.com/cloudswitch/cloudswitch/store/sqlstore"
)

// database is the one every process of a run shares: a table of its own, in
// PostgreSQL or in a SQLite file.
type database struct {
	Dialect sqlstore.Dialect `json:"dialect"`
	DSN     string           `json:"dsn"` // PostgreSQL's DSN, or the SQLite file's path
	Table   string           `json:"table"`
}

// chooseDatabase picks PostgreSQL when CLOUDSWITCH_TEST_POSTGRES_DSN names
// one, fails when CLOUDSWITCH_REQUIRE_POSTGRES=1 and it does not, and falls
// back to a SQLite file in the test's temporary directory otherwise. It says
// which in the log.
func chooseDatabase(t *testing.T) database {
	t.Helper()
	var r [6]byte
	rand.Read(r[:])
	table := "cs_soak_" + hex.EncodeToString(r[:])
	if dsn := os.Getenv(envPostgresDSN); dsn != "" {
		t.Logf("database: PostgreSQL from %s, table %s", envPostgresDSN, table)
		return database{Dialect: sqlstore.Postgres, DSN: dsn, Table: table}
	}
	if os.Getenv(envRequirePostgres) == "1" {
		t.Fatalf("%s=1 but %s is not set: the soak must run on PostgreSQL", envRequirePostgres, envPostgresDSN)
	}
	path := filepath.Join(t.TempDir(), "soak.db")
	t.Logf("database: SQLite file in WAL mode shared by every process, table %s (%s is not set)", table, envPostgresDSN)
	return database{Dialect: sqlstore.SQLite, DSN: path, Table: table}
}

// open returns a pool on the database and a Store on the run's table. The
// caller closes both.
func (d database) open() (*sql.DB, *sqlstore.Store, error) {
	driver, dsn := "pgx", d.DSN
	if d.Dialect == sqlstore.SQLite {
		driver, dsn = "sqlite", sqlstore.SQLiteDSN(d.DSN)
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, nil, fmt.Errorf("opening the %s database: %w", d.Dialect, err)
	}
	// A few connections: a Reconciler's loop over Pending holds one while
	// the Switcher writes through another.
	db.SetMaxOpenConns(4)
	st, err := sqlstore.New(db, d.Dialect, sqlstore.WithTable(d.Table))
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("a Store on table %s: %w", d.Table, err)
	}
	return db, st, nil
}

// drop removes the run's table (a SQLite file goes with its directory).
func (d database) drop(ctx context.Context, db *sql.DB) error {
	if d.Dialect != sqlstore.Postgres {
		return nil
	}
	if _, err := db.ExecContext(ctx, `DROP TABLE IF EXISTS "`+d.Table+`"`); err != nil {
		return fmt.Errorf("dropping table %s: %w", d.Table, err)
	}
	return nil
}
