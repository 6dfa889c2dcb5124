package wiring

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/store/sqlstore"
)

func TestOpenDBCreatesAndMigratesASQLiteFile(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "work spaces?.db") // escaped by sqlstore.SQLiteDSN
	// The second open finds the table, and the row, in place.
	for i := range 2 {
		db, err := OpenDB(ctx, path)
		require.NoError(t, err)
		if db.Dialect != sqlstore.SQLite || db.Name != "sqlite:"+path {
			t.Errorf("dialect %s, name %q", db.Dialect, db.Name)
		}
		if err := db.Ping(ctx); err != nil {
			t.Error(err)
		}
		_, err = db.Store.Create(ctx, cloudswitch.Workspace{ID: "ws-1"})
		if wantConflict := i == 1; errors.Is(err, cloudswitch.ErrConflict) != wantConflict || (err != nil && !wantConflict) {
			t.Errorf("open %d: Create: %v", i+1, err)
		}
		if _, err := db.Store.Get(ctx, "ws-1"); err != nil {
			t.Error(err)
		}
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	}
}

func TestPostgresURLsAreRecognisedAndNeverNamedWithTheirPassword(t *testing.T) {
	for dsn, want := range map[string]bool{
		"postgres://u:p@db:5432/ws": true, "postgresql://db/ws": true, "ws.db": false, "/var/lib/postgres.db": false,
	} {
		if IsPostgres(dsn) != want {
			t.Errorf("IsPostgres(%q) = %v", dsn, !want)
		}
	}
	if name := postgresName("postgres://admin:s3cret@db.internal:5432/workspaces?sslmode=require"); name != "postgres://db.internal:5432/workspaces" ||
		strings.Contains(name, "s3cret") || strings.Contains(name, "admin") {
		t.Errorf("name %q", name)
	}
	if _, err := OpenDB(t.Context(), ""); err == nil {
		t.Error("an empty DSN was accepted")
	}
}

// OpenDB on PostgreSQL, when CLOUDSWITCH_TEST_POSTGRES_DSN names one
// (required when CLOUDSWITCH_REQUIRE_POSTGRES=1, as in CI). It writes no
// row: the default table may be shared with other tests.
func TestOpenDBOnPostgreSQL(t *testing.T) {
	dsn := os.Getenv("CLOUDSWITCH_TEST_POSTGRES_DSN")
	if dsn == "" {
		if os.Getenv("CLOUDSWITCH_REQUIRE_POSTGRES") == "1" {
			t.Fatal("CLOUDSWITCH_REQUIRE_POSTGRES=1 but CLOUDSWITCH_TEST_POSTGRES_DSN is not set")
		}
		t.Skip("CLOUDSWITCH_TEST_POSTGRES_DSN is not set")
	}
	ctx := t.Context()
	db, err := OpenDB(ctx, dsn)
	require.NoError(t, err)
	defer db.Close()
	if db.Dialect != sqlstore.Postgres || !strings.HasPrefix(db.Name, "postgres://") || strings.Contains(db.Name, "@") {
		t.Errorf("dialect %s, name %q", db.Dialect, db.Name)
	}
	if _, err := db.Store.Get(ctx, "wiring-test-absent"); !errors.Is(err, cloudswitch.ErrNotFound) {
		t.Errorf("Get of a missing workspace: %v", err)
	}
}

func TestOpenDBFailsWithoutRevealingThePassword(t *testing.T) {
	_, err := OpenDB(t.Context(), "postgres://admin:s3cret-pw@127.0.0.1:1/ws?connect_timeout=2")
	if err == nil {
		t.Fatal("connected to nothing")
	}
	if strings.Contains(err.Error(), "s3cret-pw") {
		t.Errorf("the error carries the password: %v", err)
	}
}

// A DSN that is no postgres:// URL is taken for a SQLite file name, and
// that name is echoed in errors and logs (DB.Name). A mistyped URL, or one
// with an upper-case or padded scheme, still holds a password: the name
// and the error must not.
func TestADSNTakenForAFileNameIsNeverEchoedWithItsPassword(t *testing.T) {
	for _, dsn := range []string{
		"postgress://admin:s3cret-pw@127.0.0.1:1/ws",
		"POSTGRES://admin:s3cret-pw@127.0.0.1:1/ws",
		" postgres://admin:s3cret-pw@127.0.0.1:1/ws",
	} {
		for name, open := range map[string]func() error{
			"OpenDB":         func() error { _, err := OpenDB(t.Context(), dsn); return err },
			"OpenExistingDB": func() error { _, err := OpenExistingDB(t.Context(), dsn); return err },
		} {
			err := open()
			if err == nil {
				t.Errorf("%s(%q) opened a database", name, dsn)
				continue
			}
			if strings.Contains(err.Error(), "s3cret-pw") {
				t.Errorf("%s(%q): the error carries the password: %v", name, dsn, err)
			}
		}
	}
}
