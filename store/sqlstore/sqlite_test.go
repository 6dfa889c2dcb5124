package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/store/sqlstore"
)

func TestSQLiteDSNSetsWALModeBusyTimeoutAndNormalSync(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := sqliteBackend(t).open(t)
	for pragma, want := range map[string]string{"journal_mode": "wal", "busy_timeout": "10000", "synchronous": "1"} {
		var got string
		require.NoError(t, db.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got))
		if got != want {
			t.Errorf("PRAGMA %s = %s on a pool opened with SQLiteDSN; want %s", pragma, got, want)
		}
	}
}

func TestSQLiteDSNTakesAnyFileName(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, name := range []string{"plain.db", "with space.db", "what?.db", "hash#tag.db", "100%.db", "amp&eq=.db"} {
		path := filepath.Join(t.TempDir(), name)
		db, err := sql.Open("sqlite", sqlstore.SQLiteDSN(path))
		require.NoError(t, err)
		st, err := sqlstore.New(db, sqlstore.SQLite)
		if err == nil {
			err = st.Migrate(ctx)
		}
		db.Close()
		if err != nil {
			t.Errorf("SQLiteDSN(%q): %v", path, err)
			continue
		}
		if _, err := os.Stat(path); err != nil {
			t.Errorf("SQLiteDSN(%q) did not create that file: %v", path, err)
		}
	}
}

// TestSQLiteConcurrentWritersQueue runs many writers in two pools (two
// processes, as far as SQLite can tell) on one file: with WAL and the busy
// timeout they queue, and none fails with SQLITE_BUSY.
func TestSQLiteConcurrentWritersQueue(t *testing.T) {
	t.Parallel()
	b := sqliteBackend(t)
	ctx := context.Background()
	table := b.newTable(t)
	stores := []*sqlstore.Store{b.storeOn(t, b.open(t), table), b.storeOn(t, b.open(t), table)}
	const writers, each = 32, 20
	last := make([]int64, writers)
	race(writers, func(i int) {
		st := stores[i%len(stores)]
		w, err := st.Create(ctx, cloudswitch.Workspace{ID: fmt.Sprintf("w-%d", i)})
		if err != nil {
			t.Errorf("writer %d: Create: %v", i, err)
			return
		}
		for n := range each {
			w.Compute.Image = fmt.Sprint(n)
			if w, err = st.Update(ctx, w); err != nil {
				t.Errorf("writer %d: Update %d: %v", i, n, err)
				return
			}
		}
		last[i] = w.Version
	})
	for i := range writers {
		if w, err := stores[0].Get(ctx, fmt.Sprintf("w-%d", i)); err != nil || w.Version != last[i] || w.Compute.Image != fmt.Sprint(each-1) {
			t.Errorf("writer %d's workspace: image %q at version %d, %v; want its last update, %d at version %d", i, w.Compute.Image, w.Version, err, each-1, last[i])
		}
	}
}

// TestCloseLeavesAWorkingStore: Close releases the prepared statements, and
// a call that comes after it still works, unprepared.
func TestCloseLeavesAWorkingStore(t *testing.T) {
	t.Parallel()
	b := sqliteBackend(t)
	ctx := context.Background()
	st := b.store(t, b.open(t))
	w, err := st.Create(ctx, cloudswitch.Workspace{ID: "w"})
	require.NoError(t, err)
	require.NoError(t, st.Close(), "Close")
	if w, err = st.Update(ctx, w); err != nil {
		t.Fatalf("Update after Close: %v", err)
	}
	if got, err := st.Get(ctx, "w"); err != nil || got.Version != w.Version {
		t.Fatalf("Get after Close: %+v, %v", got, err)
	}
	require.NoError(t, st.Close(), "a second Close")
}

// TestNewRefusesASQLitePoolWithoutBusyTimeout: modernc.org/sqlite waits for
// no lock by default, so a pool opened on a bare file name fails under
// concurrency with SQLITE_BUSY. New says so, and how to fix it.
func TestNewRefusesASQLitePoolWithoutBusyTimeout(t *testing.T) {
	t.Parallel()
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "bare.db"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	_, err = sqlstore.New(db, sqlstore.SQLite)
	if !errors.Is(err, sqlstore.ErrNoBusyTimeout) || !strings.Contains(err.Error(), "SQLiteDSN") || !strings.Contains(err.Error(), "busy_timeout") {
		t.Fatalf("New on a SQLite pool without busy_timeout: got %v; want ErrNoBusyTimeout saying to use SQLiteDSN or set busy_timeout", err)
	}
}

// TestSQLiteChecksLetNULLThrough: json_valid(NULL) is 0 before SQLite 3.45
// (NULL since), and a CHECK fails on 0, so the nullable JSON columns must
// let NULL through explicitly to hold on every SQLite from 3.37.
func TestSQLiteChecksLetNULLThrough(t *testing.T) {
	t.Parallel()
	b := sqliteBackend(t)
	db := b.open(t)
	table := b.newTable(t)
	b.storeOn(t, db, table)
	var ddl string
	require.NoError(t, db.QueryRowContext(context.Background(), `SELECT sql FROM sqlite_master WHERE type = 'table' AND name = $1`, table).Scan(&ddl))
	for _, col := range []string{"instance", "pending"} {
		if want := "CHECK (" + col + " IS NULL OR json_valid(" + col + "))"; !strings.Contains(ddl, want) {
			t.Errorf("the %s column's check does not let NULL through on SQLite before 3.45; want %q in\n%s", col, want, ddl)
		}
	}
}
