package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
)

// SQLiteDSN returns the data source name of the SQLite database file at
// path for the driver modernc.org/sqlite (registered as "sqlite"), set up for
// a Store shared by concurrent goroutines:
//
//   - journal_mode(WAL): readers never block the writer nor the writer them,
//     so Pending can stream while a switch writes;
//   - busy_timeout(10000): a writer that finds the database locked waits up
//     to 10 s for it instead of failing at once with SQLITE_BUSY, so
//     concurrent writers, in this process or another, queue;
//   - synchronous(NORMAL): in WAL mode every commit survives a crash of the
//     process; a power loss or OS crash may lose the last commits. After
//     such a loss a VM a lost commit recorded is still found by its
//     ownership tags (see cloudswitch.Reconciler). Use synchronous(FULL)
//     (a DSN of your own) if that is not acceptable;
//   - _txlock=immediate: transactions of yours take the write lock at BEGIN,
//     where busy_timeout applies, rather than failing with SQLITE_BUSY when
//     a read turns into a write. The Store itself uses no transactions on
//     SQLite: each call is one statement.
//
// Open it with sql.Open("sqlite", SQLiteDSN(path)). Every Store call is one
// short statement, so a small pool is best: db.SetMaxOpenConns(4) lets
// readers run beside the writer while writers queue in SQLite's busy
// handler. Never set it to 1: a loop over Pending holds a connection, and a
// write inside the loop would wait for it forever.
//
// WAL mode is a property of the file, set by the first connection to a new
// database. SQLite may refuse that conversion with SQLITE_BUSY, whatever the
// busy timeout, while another connection has the new file open: when several
// processes or pools may open a new database at once, let one create it first
// (open, Ping, and Migrate), then start the others.
//
// path is a file name, relative or absolute; it is escaped, so any
// character may appear in it.
func SQLiteDSN(path string) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	u := url.URL{Scheme: "file", Opaque: (&url.URL{Path: path}).EscapedPath(), RawQuery: q.Encode()}
	return u.String()
}

// ErrNoBusyTimeout reports a SQLite pool whose connections wait for no
// lock (PRAGMA busy_timeout is 0, the default of modernc.org/sqlite): every
// statement that meets another connection's write, in this process or
// another, would fail at once with SQLITE_BUSY — reads included, in WAL
// mode while a checkpoint runs. Open the pool with SQLiteDSN, or add
// _pragma=busy_timeout(10000) to your own DSN.
var ErrNoBusyTimeout = errors.New("sqlstore: the SQLite pool has no busy timeout: open it with sqlstore.SQLiteDSN(path), or add _pragma=busy_timeout(10000) to its DSN, so that concurrent statements wait for the lock instead of failing with SQLITE_BUSY")

// checkBusyTimeout fails with ErrNoBusyTimeout when a connection of db
// reports a busy timeout of 0. A pool that cannot answer is not judged here:
// its first statement will say what is wrong.
func checkBusyTimeout(ctx context.Context, db *sql.DB) error {
	var ms int64
	if err := db.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&ms); err != nil {
		return nil
	}
	if ms <= 0 {
		return ErrNoBusyTimeout
	}
	return nil
}
