package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// Dialect names the SQL database a Store talks to. It decides the schema
// Migrate creates, how Migrate keeps concurrent runs apart, the clock of the
// timestamps and whether the Store prepares its statements; the driver is
// the caller's choice. The statements themselves differ only in how they
// read the clock.
type Dialect string

const (
	// Postgres is PostgreSQL (tested with 15 through
	// github.com/jackc/pgx/v5/stdlib): JSONB columns, timestamptz, and
	// Migrate serialised by an advisory lock.
	Postgres Dialect = "postgres"

	// SQLite is SQLite 3.37 or later (tested with modernc.org/sqlite, pure
	// Go): a STRICT table with JSON text columns checked by json_valid.
	// Open it with SQLiteDSN.
	SQLite Dialect = "sqlite"
)

func (d Dialect) valid() bool { return d == Postgres || d == SQLite }

// ErrDialectMismatch reports that the database behind a *sql.DB is not the
// one the Dialect names (for example a pgx pool given the SQLite dialect).
// New returns it when the driver is known to belong to the other database;
// Migrate when the database itself says so.
var ErrDialectMismatch = errors.New("sqlstore: the dialect does not match the database")

// driverDialect guesses the dialect of a driver from its package path, for
// the drivers people use: the Postgres drivers lib/pq and pgx, and the SQLite
// drivers of modernc, mattn and ncruces. It returns "" when it cannot tell
// (another driver, or a wrapper such as a tracing driver); Migrate then asks
// the database.
func driverDialect(db *sql.DB) Dialect {
	t := reflect.TypeOf(db.Driver())
	if t == nil {
		return ""
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	pkg := t.PkgPath()
	switch {
	case strings.Contains(pkg, "sqlite"):
		return SQLite
	case strings.HasPrefix(pkg, "github.com/jackc/pgx"), strings.HasPrefix(pkg, "github.com/lib/pq"):
		return Postgres
	}
	return ""
}

// identify asks the database which of the two it is. It reports
// ErrDialectMismatch only when the database positively answers as the other
// one; when it answers neither way (it is down, or it is something else) the
// error is the failed probe of the expected dialect.
func identify(ctx context.Context, db *sql.DB, want Dialect) error {
	_, err := version(ctx, db, want)
	if err == nil {
		return nil
	}
	other := SQLite
	if want == SQLite {
		other = Postgres
	}
	if ctx.Err() == nil {
		if v, oerr := version(ctx, db, other); oerr == nil {
			return fmt.Errorf("sqlstore: dialect %s, but the database is %s %s: %w", want, other, v, ErrDialectMismatch)
		}
	}
	return fmt.Errorf("sqlstore: the database does not answer as %s: %w", want, dbError(err))
}

// version returns the database's version asked d's way, or an error when the
// database does not answer as d.
func version(ctx context.Context, db *sql.DB, d Dialect) (string, error) {
	q := "SELECT sqlite_version()"
	if d == Postgres {
		q = "SELECT version()"
	}
	var v string
	if err := db.QueryRowContext(ctx, q).Scan(&v); err != nil {
		return "", err
	}
	if d == Postgres && !strings.HasPrefix(v, "PostgreSQL") {
		return "", fmt.Errorf("version() answered %q, which is not PostgreSQL", v)
	}
	return v, nil
}
