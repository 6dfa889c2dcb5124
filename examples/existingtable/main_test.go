package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/store/storetest"
)

// forEachDatabase runs f on SQLite, always, and on PostgreSQL when
// CLOUDSWITCH_TEST_POSTGRES_DSN is set (failing instead of skipping when
// CLOUDSWITCH_REQUIRE_POSTGRES=1, as in CI). f gets the URL to give open.
func forEachDatabase(t *testing.T, f func(t *testing.T, postgresURL string)) {
	t.Run("sqlite", func(t *testing.T) { f(t, "") })
	t.Run("postgres", func(t *testing.T) {
		dsn := os.Getenv("CLOUDSWITCH_TEST_POSTGRES_DSN")
		if dsn == "" {
			if os.Getenv("CLOUDSWITCH_REQUIRE_POSTGRES") == "1" {
				t.Fatal("CLOUDSWITCH_REQUIRE_POSTGRES=1 but CLOUDSWITCH_TEST_POSTGRES_DSN is not set: the PostgreSQL tests must run")
			}
			t.Skip("CLOUDSWITCH_TEST_POSTGRES_DSN is not set")
		}
		f(t, dsn)
	})
}

// TestStoreConformance checks the Store on the adapted table against the
// contract every Store must keep, real switches included.
func TestStoreConformance(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, postgresURL string) {
		storetest.RunWithOptions(t, func(t *testing.T) cloudswitch.Store {
			ctx := t.Context()
			db, dialect, closeDB, err := open(ctx, postgresURL)
			require.NoError(t, err)
			t.Cleanup(func() {
				if err := closeDB(); err != nil {
					t.Error(err)
				}
			})
			for _, q := range append([]string{existingTable[dialect]}, adaptTable[dialect]...) {
				if _, err := db.ExecContext(ctx, q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			return &Store{db: db, dialect: dialect}
		}, storetest.Options{
			// The server deletes workspaces with a plain DELETE.
			Delete: func(ctx context.Context, st cloudswitch.Store, id string) error {
				_, err := st.(*Store).db.ExecContext(ctx, `DELETE FROM workspaces WHERE id = $1`, id)
				return err
			},
			// Another Store on the same table, as another replica has.
			Reopen: func(t *testing.T, st cloudswitch.Store) cloudswitch.Store {
				s := st.(*Store)
				return &Store{db: s.db, dialect: s.dialect}
			},
		})
	})
}

// TestRun runs the program: the workspace moves to Hetzner, its name is
// kept, its instance_id names the new VM, and only that VM is alive.
func TestRun(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, postgresURL string) {
		var out bytes.Buffer
		if err := run(t.Context(), postgresURL, &out); err != nil {
			t.Fatalf("run: %v\n%s", err, out.String())
		}
		_, after, _ := strings.Cut(out.String(), "after the switch:")
		for _, want := range []string{`name="Ada's workspace"`, "instance_id=hetzner-00000001", "instance_provider=hetzner", "live VMs: aws 0, hetzner 1"} {
			if !strings.Contains(after, want) {
				t.Errorf("after the switch the program's output lacks %q:\n%s", want, out.String())
			}
		}
	})
}
