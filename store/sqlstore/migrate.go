package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"hash/fnv"
)

// Migrate creates the Store's schema if it does not exist, checks that the
// table has the Store's columns (a table of the same name made for something
// else is an error, not a table to write into), and upgrades a table made by
// an earlier version in place, keeping its rows. It is idempotent and safe
// when several replicas run it at once: on PostgreSQL it runs in one
// transaction under a transaction-scoped advisory lock keyed by the table
// name, so concurrent CREATE … IF NOT EXISTS never race on the catalog; on
// SQLite each statement takes the database's write lock in turn.
//
// The schema is the table, its index of pending rows, the counter versions
// are drawn from (a sequence on PostgreSQL; on SQLite a high-water mark kept
// by triggers) and a metadata table holding the installation id, which the
// first Migrate mints and every later one keeps (see InstallationID). A
// table from before the counter existed gets one that starts past its
// highest version, so that no existing row's version is given again.
//
// Before anything else it asks the database what it is, and fails with
// ErrDialectMismatch if the database answers as the other dialect. On
// SQLite it fails when the pool waits for no lock (see SQLiteDSN).
func (s *Store) Migrate(ctx context.Context) error {
	if err := identify(ctx, s.db, s.dialect); err != nil {
		return err
	}
	if s.dialect == SQLite {
		if err := checkBusyTimeout(ctx, s.db); err != nil {
			return err
		}
		return s.migrate(ctx, s.db)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fail("migrate", s.table.plain(), err)
	}
	defer tx.Rollback() // after Commit, a no-op
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", s.lockKey()); err != nil {
		return fail("migrate", s.table.plain(), err)
	}
	if err := s.migrate(ctx, tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fail("migrate", s.table.plain(), err)
	}
	return nil
}

// execer is a *sql.DB or a *sql.Tx.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *Store) migrate(ctx context.Context, db execer) error {
	failed := func(err error) error { return fail("migrate", s.table.plain(), err) }
	// PostgreSQL: a sequence that did not exist before this transaction
	// (which holds the advisory lock) is new to every replica, and may be
	// set past the table's versions before anyone draws from it.
	newSequence := false
	if s.dialect == Postgres {
		var exists bool
		if err := db.QueryRowContext(ctx, s.sql.sequenceExists, s.table.sibling("version")).Scan(&exists); err != nil {
			return failed(err)
		}
		newSequence = !exists
		if _, err := db.ExecContext(ctx, s.sql.sequence); err != nil {
			return failed(err)
		}
	}
	if _, err := db.ExecContext(ctx, s.sql.table); err != nil {
		return failed(err)
	}
	rows, err := db.QueryContext(ctx, s.sql.verify)
	if err != nil {
		return fmt.Errorf("sqlstore: migrate: table %s exists but lacks the columns id, compute, instance, pending, version, created_at and updated_at: %w",
			s.table.plain(), dbError(err))
	}
	if err := rows.Close(); err != nil {
		return failed(err)
	}
	if newSequence {
		for _, q := range s.sql.adoptSequence {
			if _, err := db.ExecContext(ctx, q); err != nil {
				return failed(err)
			}
		}
	}
	if _, err := db.ExecContext(ctx, s.sql.index); err != nil {
		return failed(err)
	}
	if _, err := db.ExecContext(ctx, s.sql.meta); err != nil {
		return failed(err)
	}
	for _, q := range s.sql.triggers {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return failed(err)
		}
	}
	if _, err := db.ExecContext(ctx, s.sql.mint, newInstallationID()); err != nil {
		return failed(err)
	}
	return nil
}

// newInstallationID returns a random installation id: 32 lowercase hex
// digits, within the 1 to 63 characters an installation id may have.
func newInstallationID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand, Go 1.24+)
	return hex.EncodeToString(b[:])
}

// lockKey is the advisory lock Migrate takes on PostgreSQL: a hash of the
// table name, so that migrations of different tables do not wait for each
// other.
func (s *Store) lockKey() int64 {
	h := fnv.New64a()
	h.Write([]byte("cloudswitch/sqlstore/migrate:" + s.table.plain()))
	return int64(h.Sum64())
}
