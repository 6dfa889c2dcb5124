package sqlstore

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
)

// statement is one of the Store's statements. On SQLite it is prepared once,
// on first use, and reused: parsing costs SQLite more than running these
// statements does. On PostgreSQL it is sent as text and the driver decides:
// pgx prepares each statement once per connection and caches it, and honours
// a pool configured for PgBouncer's simple protocol, which a statement
// prepared here would not.
type statement struct {
	query   string
	prepare bool

	stmt   atomic.Pointer[sql.Stmt] // prepared on first use; nil until then
	mu     sync.Mutex               // serialises preparing and closing
	closed bool
}

// prepared returns the prepared statement, preparing it now if it is not
// yet. It returns nil when the statement is not to be prepared or preparing
// failed; the caller then runs the query as text, which fails the same way
// if the database is at fault, and is retried as a preparation next time.
func (st *statement) prepared(ctx context.Context, db *sql.DB) *sql.Stmt {
	if p := st.stmt.Load(); p != nil || !st.prepare {
		return p
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if p := st.stmt.Load(); p != nil || st.closed {
		return p
	}
	p, err := db.PrepareContext(ctx, st.query)
	if err != nil {
		return nil
	}
	st.stmt.Store(p)
	return p
}

func (st *statement) queryRow(ctx context.Context, db *sql.DB, args ...any) *sql.Row {
	if p := st.prepared(ctx, db); p != nil {
		return p.QueryRowContext(ctx, args...)
	}
	return db.QueryRowContext(ctx, st.query, args...)
}

func (st *statement) queryRows(ctx context.Context, db *sql.DB, args ...any) (*sql.Rows, error) {
	if p := st.prepared(ctx, db); p != nil {
		return p.QueryContext(ctx, args...)
	}
	return db.QueryContext(ctx, st.query, args...)
}

func (st *statement) exec(ctx context.Context, db *sql.DB, args ...any) (sql.Result, error) {
	if p := st.prepared(ctx, db); p != nil {
		return p.ExecContext(ctx, args...)
	}
	return db.ExecContext(ctx, st.query, args...)
}

// close releases the prepared statement, if any; the statement runs as
// text from then on.
func (st *statement) close() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.closed = true
	if p := st.stmt.Swap(nil); p != nil {
		return p.Close()
	}
	return nil
}
