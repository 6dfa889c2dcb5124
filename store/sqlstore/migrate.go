package sqlstore

import (
	"context"
	"fmt"
	"hash/fnv"
)

// Migrate creates the Store's table and its index of pending rows if they do
// not exist, and checks that the table has the Store's columns. It is
// idempotent and safe when several replicas run it at once: on PostgreSQL
// the DDL runs in one transaction under a transaction-scoped advisory lock
// (keyed by the table name), so concurrent CREATE … IF NOT EXISTS never race
// on the catalog; on SQLite each statement takes the database's write lock.
//
// Before anything else it asks the database what it is, and fails with
// ErrDialectMismatch if the database answers as the other dialect.
func (s *Store) Migrate(ctx context.Context) error {
	if err := identify(ctx, s.db, s.dialect); err != nil {
		return err
	}
	if s.dialect == Postgres {
		if err := s.migratePostgres(ctx); err != nil {
			return err
		}
	} else {
		for _, q := range s.sql.create {
			if _, err := s.db.ExecContext(ctx, q); err != nil {
				return fail("migrate", s.Table(), err)
			}
		}
	}
	rows, err := s.db.QueryContext(ctx, s.sql.verify)
	if err != nil {
		return fmt.Errorf("sqlstore: migrate: table %s exists but lacks the columns id, compute, instance, pending, version, created_at and updated_at: %w",
			s.Table(), dbError(err))
	}
	return rows.Close()
}

func (s *Store) migratePostgres(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fail("migrate", s.Table(), err)
	}
	defer tx.Rollback() // after Commit, a no-op
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", s.lockKey()); err != nil {
		return fail("migrate", s.Table(), err)
	}
	for _, q := range s.sql.create {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fail("migrate", s.Table(), err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fail("migrate", s.Table(), err)
	}
	return nil
}

// lockKey is the advisory lock Migrate takes on PostgreSQL: a hash of the
// table name, so that migrations of different tables do not wait for each
// other.
func (s *Store) lockKey() int64 {
	h := fnv.New64a()
	h.Write([]byte("cloudswitch/sqlstore/migrate:" + s.Table()))
	return int64(h.Sum64())
}
