package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/internal/redact"
)

// Store is a cloudswitch.Store on a database/sql pool: one row per
// workspace in one table. It is safe for concurrent use, and any number of
// Stores, in any number of processes, may share the table: the database
// enforces the compare-and-swap, so exactly one of several racing Updates of
// one version wins.
//
// Every method is one SQL statement, one round trip, outside any explicit
// transaction, with one exception: an Update that does not write takes a
// second statement to tell a conflict from a missing row (it only decides
// which error to return; it never leads to a write).
//
// Versions never repeat for a workspace id, across deletion and
// re-creation: every version of a table is drawn from one counter (see
// Migrate). The Store is an installation (cloudswitch.InstallationStore)
// whose id Migrate mints once per table, and reads many workspaces in one
// statement (cloudswitch.BatchGetter).
type Store struct {
	db      *sql.DB
	dialect Dialect
	table   table
	sql     statements

	installation atomic.Pointer[string] // the installation id, once read
}

var (
	_ cloudswitch.InstallationStore = (*Store)(nil)
	_ cloudswitch.BatchGetter       = (*Store)(nil)
	_ cloudswitch.Deleter           = (*Store)(nil)
)

// New returns a Store on db, which must be a pool of the database d names.
// It writes nothing: call Migrate to create the schema, or create it
// yourself as the package documentation shows.
//
// New fails on a nil db, an unknown dialect, a table name that is not a plain
// identifier (see WithTable), a driver known to belong to the other dialect
// (ErrDialectMismatch), and a SQLite pool whose connections do not wait for
// locks (ErrNoBusyTimeout: it asks a connection of the pool for its
// busy_timeout, which reads no table); it reports every such problem at once. The
// Store does not own db: closing db is the caller's business.
func New(db *sql.DB, d Dialect, opts ...Option) (*Store, error) {
	cfg := config{table: DefaultTable}
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}
	var errs []error
	if db == nil {
		errs = append(errs, errors.New("sqlstore: New: the *sql.DB is nil"))
	}
	if !d.valid() {
		errs = append(errs, fmt.Errorf("sqlstore: New: unknown dialect %q (use sqlstore.Postgres or sqlstore.SQLite)", string(d)))
	}
	t, err := parseTable(cfg.table, d)
	if err != nil {
		errs = append(errs, err)
	}
	if db != nil && d.valid() {
		if dd := driverDialect(db); dd != "" && dd != d {
			errs = append(errs, fmt.Errorf("sqlstore: New: dialect %s, but the pool's driver %T is a %s driver: %w", d, db.Driver(), dd, ErrDialectMismatch))
		}
	}
	if len(errs) == 0 && d == SQLite {
		// A local pragma of the pool's connection, not a statement on the
		// database: a pool that would fail under concurrency is refused
		// before it is used.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := checkBusyTimeout(ctx, db); err != nil {
			errs = append(errs, fmt.Errorf("sqlstore: New: %w", err))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &Store{db: db, dialect: d, table: t, sql: newStatements(d, t)}, nil
}

// Close releases the statements the Store prepared (on SQLite). It does not
// close the pool, which the Store does not own. A Store still works after
// Close, running its statements unprepared; call it once the Store is no
// longer used.
func (s *Store) Close() error {
	var errs []error
	for _, st := range s.sql.all() {
		if err := st.close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// fail wraps an error of the database for operation op on workspace id. The
// driver's text is redacted (a driver may echo a connection string), and the
// result unwraps to the driver's error, so errors.Is still finds
// context.Canceled or a driver's own error type. It never matches
// cloudswitch.ErrNotFound or cloudswitch.ErrConflict.
func fail(op, id string, err error) error {
	if id == "" {
		return fmt.Errorf("sqlstore: %s: %w", op, dbError(err))
	}
	return fmt.Errorf("sqlstore: %s %q: %w", op, id, dbError(err))
}

// dbError redacts the text of an error of the database.
func dbError(err error) error { return redact.Error(err) }

// noRows tells whether err is the driver's "no rows" and the context is still
// live. A query cancelled mid-flight may end without rows, and that is not an
// answer: only a query that ran to completion may be read as "absent".
func noRows(ctx context.Context, err error) bool {
	return errors.Is(err, sql.ErrNoRows) && ctx.Err() == nil
}

// orContext returns err, or the context's error when err is "no rows" from a
// query whose context ended.
func orContext(ctx context.Context, err error) error {
	if errors.Is(err, sql.ErrNoRows) && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}
