package sqlstore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/store/sqlstore"
)

// TestPendingReadsThePartialIndex: with thousands of settled workspaces and
// a few pending, the statement Pending runs is planned on the index of
// pending rows, not on the table.
func TestPendingReadsThePartialIndex(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		db := b.open(t)
		table := b.newTable(t)
		st := b.storeOn(t, db, table)
		for i := range 3000 {
			w := cloudswitch.Workspace{ID: fmt.Sprintf("w-%04d", i), Compute: cloudswitch.Compute{Provider: cloudswitch.AWS}}
			if i%1000 == 0 {
				w.Pending = &cloudswitch.Intent{ID: fmt.Sprint(i)}
			}
			if _, err := st.Create(ctx, w); err != nil {
				t.Fatal(err)
			}
		}
		mustExec(t, db, `ANALYZE "`+table+`"`)
		// The statement Pending runs.
		query := `SELECT id, compute, instance, pending, version FROM "` + table + `" WHERE pending IS NOT NULL ORDER BY id`
		explain := "EXPLAIN QUERY PLAN "
		if b.dialect == sqlstore.Postgres {
			explain = "EXPLAIN "
		}
		rows, err := db.QueryContext(ctx, explain+query)
		require.NoError(t, err)
		defer rows.Close()
		cols, _ := rows.Columns()
		var plan []string
		for rows.Next() {
			vals := make([]any, len(cols))
			for i := range vals {
				vals[i] = new(any)
			}
			require.NoError(t, rows.Scan(vals...))
			plan = append(plan, fmt.Sprint(*vals[len(vals)-1].(*any)))
		}
		if got := strings.Join(plan, "\n"); !strings.Contains(got, table+"_pending") {
			t.Fatalf("Pending's statement is not planned on the index %s_pending:\n%s", table, got)
		}
	})
}

// TestTimestampsComeFromTheDatabase: created_at is set once, updated_at by
// every write, both by the database's clock.
func TestTimestampsComeFromTheDatabase(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		db := b.open(t)
		table := b.newTable(t)
		st := b.storeOn(t, db, table)
		read := func() (created, updated time.Time) {
			t.Helper()
			q := `SELECT created_at, updated_at FROM "` + table + `" WHERE id = 'w'`
			if b.dialect == sqlstore.SQLite {
				var c, u string
				require.NoError(t, db.QueryRowContext(ctx, q).Scan(&c, &u))
				var err1, err2 error
				created, err1 = time.Parse(time.RFC3339, c)
				updated, err2 = time.Parse(time.RFC3339, u)
				if err1 != nil || err2 != nil {
					t.Fatalf("SQLite timestamps %q, %q are not RFC 3339: %v %v", c, u, err1, err2)
				}
				return created, updated
			}
			require.NoError(t, db.QueryRowContext(ctx, q).Scan(&created, &updated))
			return created, updated
		}
		w, err := st.Create(ctx, cloudswitch.Workspace{ID: "w"})
		require.NoError(t, err)
		created, updated := read()
		if d := time.Since(created); d < -time.Minute || d > time.Minute || !updated.Equal(created) {
			t.Fatalf("after Create: created_at %v, updated_at %v; want both now", created, updated)
		}
		time.Sleep(5 * time.Millisecond)
		if _, err := st.Update(ctx, w); err != nil {
			t.Fatal(err)
		}
		created2, updated2 := read()
		if !created2.Equal(created) || !updated2.After(updated) {
			t.Fatalf("after Update: created_at %v → %v, updated_at %v → %v; want created_at kept and updated_at later",
				created, created2, updated, updated2)
		}
	})
}

// TestPendingStreams: a loop over Pending holds one connection while it runs
// — the rows come from an open cursor, not from a copy of the table — and
// gives it back as soon as the loop breaks.
func TestPendingStreams(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		db := b.open(t)
		st := b.store(t, db)
		for i := range 50 {
			if _, err := st.Create(ctx, cloudswitch.Workspace{ID: fmt.Sprintf("w-%02d", i), Pending: &cloudswitch.Intent{ID: fmt.Sprint(i)}}); err != nil {
				t.Fatal(err)
			}
		}
		n := 0
		for w, err := range st.Pending(ctx) {
			require.NoError(t, err)
			if inUse := db.Stats().InUse; inUse != 1 {
				t.Fatalf("while yielding %s, %d connections are in use; want the one the cursor holds", w.ID, inUse)
			}
			if n++; n == 10 {
				break
			}
		}
		if inUse := db.Stats().InUse; inUse != 0 {
			t.Fatalf("after the loop broke, %d connections are still in use; want 0", inUse)
		}
	})
}
