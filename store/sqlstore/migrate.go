package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
)

// Migrate creates the Store's table if it does not exist, checks that the
// table has the Store's columns (a table of the same name made for something
// else is an error, not a table to write into), and creates the index of
// pending rows if it does not exist. It is idempotent and safe when several
// replicas run it at once: on PostgreSQL it runs in one transaction under a
// transaction-scoped advisory lock keyed by the table name, so concurrent
// CREATE … IF NOT EXISTS never race on the catalog; on SQLite each statement
// takes the database's write lock in turn.
//
// Before anything else it asks the database what it is, and fails with
// ErrDialectMismatch if the database answers as the other dialect.
func (s *Store) Migrate(ctx context.Context) error {
	if err := identify(ctx, s.db, s.dialect); err != nil {
		return err
	}
	if s.dialect == SQLite {
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
}

func (s *Store) migrate(ctx context.Context, db execer) error {
	if _, err := db.ExecContext(ctx, s.sql.table); err != nil {
		return fail("migrate", s.table.plain(), err)
	}
	rows, err := db.QueryContext(ctx, s.sql.verify)
	if err != nil {
		return fmt.Errorf("sqlstore: migrate: table %s exists but lacks the columns id, compute, instance, pending, version, created_at and updated_at: %w",
			s.table.plain(), dbError(err))
	}
	if err := rows.Close(); err != nil {
		return fail("migrate", s.table.plain(), err)
	}
	if _, err := db.ExecContext(ctx, s.sql.index); err != nil {
		return fail("migrate", s.table.plain(), err)
	}
	return nil
}

// lockKey is the advisory lock Migrate takes on PostgreSQL: a hash of the
// table name, so that migrations of different tables do not wait for each
// other.
func (s *Store) lockKey() int64 {
	h := fnv.New64a()
	h.Write([]byte("cloudswitch/sqlstore/migrate:" + s.table.plain()))
	return int64(h.Sum64())
}
