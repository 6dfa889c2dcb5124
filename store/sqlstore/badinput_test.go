package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/store/sqlstore"
)

func TestNewRefusesTableNamesThatAreNotPlainIdentifiers(t *testing.T) {
	t.Parallel()
	db := sqliteBackend(t).open(t)
	pg, err := sql.Open("pgx", "postgres://cloudswitch@127.0.0.1:1/none") // never connects
	require.NoError(t, err)
	defer pg.Close()
	for _, c := range []struct {
		db      *sql.DB
		dialect sqlstore.Dialect
		name    string
	}{
		{db, sqlstore.SQLite, ""},
		{db, sqlstore.SQLite, "Workspaces"},
		{db, sqlstore.SQLite, "1workspaces"},
		{db, sqlstore.SQLite, "work-spaces"},
		{db, sqlstore.SQLite, "work spaces"},
		{db, sqlstore.SQLite, `work"spaces`},
		{db, sqlstore.SQLite, "w; DROP TABLE users"},
		{db, sqlstore.SQLite, "main.workspaces"}, // schema-qualified only on PostgreSQL
		{db, sqlstore.SQLite, strings.Repeat("w", 56)},
		{db, sqlstore.SQLite, "wörkspaces"},
		{pg, sqlstore.Postgres, "a.b.c"},
		{pg, sqlstore.Postgres, ".workspaces"},
		{pg, sqlstore.Postgres, "tenant."},
		{pg, sqlstore.Postgres, "Tenant.workspaces"},
		{pg, sqlstore.Postgres, `tenant."workspaces"`},
	} {
		st, err := sqlstore.New(c.db, c.dialect, sqlstore.WithTable(c.name))
		if err == nil || st != nil {
			t.Errorf("New(%s, WithTable(%q)) = %v, %v; want no store and an error", c.dialect, c.name, st, err)
			continue
		}
		if !strings.Contains(err.Error(), fmt.Sprintf("%q", c.name)) {
			t.Errorf("New(%s, WithTable(%q)): the error does not quote the name: %v", c.dialect, c.name, err)
		}
	}
	for _, c := range []struct {
		db      *sql.DB
		dialect sqlstore.Dialect
		name    string
	}{
		{db, sqlstore.SQLite, "workspaces"},
		{db, sqlstore.SQLite, "_w0"},
		{db, sqlstore.SQLite, strings.Repeat("w", 55)},
		{pg, sqlstore.Postgres, "tenant_a.workspaces"},
	} {
		if _, err := sqlstore.New(c.db, c.dialect, sqlstore.WithTable(c.name)); err != nil {
			t.Errorf("New(%s, WithTable(%q)): %v; want it accepted", c.dialect, c.name, err)
		}
	}
}

// TestReservedWordsAreFineAsTableNames: the Store quotes the name, and on
// PostgreSQL its schema.
func TestReservedWordsAreFineAsTableNames(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		db := b.open(t)
		name := "order"
		if b.dialect == sqlstore.Postgres {
			name = b.newSchema(t, db) + ".order"
		}
		st := b.storeOn(t, db, name)
		require.NoErrorf(t, st.Migrate(ctx), "a second Migrate of %q", name)
		if _, err := st.Create(ctx, cloudswitch.Workspace{ID: "w", Pending: &cloudswitch.Intent{ID: "s"}}); err != nil {
			t.Fatalf("Create in table %q: %v", name, err)
		}
		for w, err := range st.Pending(ctx) {
			if err != nil || w.ID != "w" {
				t.Fatalf("Pending of table %q: %+v, %v", name, w, err)
			}
		}
	})
}

func TestNewRefusesANilPoolAndAnUnknownDialect(t *testing.T) {
	t.Parallel()
	if st, err := sqlstore.New(nil, sqlstore.SQLite); err == nil || st != nil || !strings.Contains(err.Error(), "nil") {
		t.Errorf("New(nil, SQLite) = %v, %v; want an error saying the pool is nil", st, err)
	}
	db := sqliteBackend(t).open(t)
	for _, d := range []sqlstore.Dialect{"", "mysql", "Postgres"} {
		if st, err := sqlstore.New(db, d); err == nil || st != nil || !strings.Contains(err.Error(), "dialect") {
			t.Errorf("New(db, %q) = %v, %v; want an error about the dialect", d, st, err)
		}
	}
}

func TestNewRefusesADialectTheDriverContradicts(t *testing.T) {
	t.Parallel()
	pg, err := sql.Open("pgx", "postgres://cloudswitch@127.0.0.1:1/none") // never connects
	require.NoError(t, err)
	defer pg.Close()
	if _, err := sqlstore.New(pg, sqlstore.SQLite); !errors.Is(err, sqlstore.ErrDialectMismatch) {
		t.Errorf("New(pgx pool, SQLite): got %v; want ErrDialectMismatch", err)
	}
	lite := sqliteBackend(t).open(t)
	if _, err := sqlstore.New(lite, sqlstore.Postgres); !errors.Is(err, sqlstore.ErrDialectMismatch) {
		t.Errorf("New(sqlite pool, Postgres): got %v; want ErrDialectMismatch", err)
	}
}

// TestMigrateOnAnUnreachableDatabase: a database that does not answer is an
// outage, not a dialect mismatch, and the error carries no password.
func TestMigrateOnAnUnreachableDatabase(t *testing.T) {
	t.Parallel()
	const password = "s3cret-Passw0rd"
	db, err := sql.Open("pgx", "postgres://cloudswitch:"+password+"@127.0.0.1:1/none?connect_timeout=2")
	require.NoError(t, err)
	defer db.Close()
	st, err := sqlstore.New(db, sqlstore.Postgres)
	require.NoError(t, err)
	ctx := context.Background()
	err = st.Migrate(ctx)
	if err == nil || errors.Is(err, sqlstore.ErrDialectMismatch) {
		t.Fatalf("Migrate on a database nobody listens for: got %v; want an error that is not ErrDialectMismatch", err)
	}
	t.Logf("Migrate: %v", err)
	_, gerr := st.Get(ctx, "w")
	for _, err := range []error{err, gerr} {
		if strings.Contains(err.Error(), password) {
			t.Errorf("an error shows the password: %v", err)
		}
	}
	if gerr == nil || errors.Is(gerr, cloudswitch.ErrNotFound) || errors.Is(gerr, cloudswitch.ErrConflict) {
		t.Errorf("Get on an unreachable database: got %v; want an error that is neither ErrNotFound nor ErrConflict", gerr)
	}
}

// TestRowsThatDoNotDecodeAreErrorsNamingTheWorkspace writes rows by hand, as
// an operator or an older version might, and reads them back through every
// method that reads.
func TestRowsThatDoNotDecodeAreErrorsNamingTheWorkspace(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		db := b.open(t)
		table := b.newTable(t)
		st := b.storeOn(t, db, table)
		for _, c := range []struct {
			column, value string
		}{
			{"compute", `null`},            // JSON null would decode as the zero Compute: AWS
			{"compute", `"hetzner"`},       // a bare provider name, from before compute was an object
			{"compute", `[]`},              // not an object
			{"compute", `{"provider": 5}`}, // wrong type
			{"compute", `{"provder": "gcp"}`},
			{"instance", `null`},
			{"instance", `{"provider": "aws", "id": 17}`},
			{"instance", `{"provider": "aws", "id": "i-1", "zone": "a"}`},
			{"pending", `null`},
			{"pending", `[{"id": "s1"}]`},
			{"pending", `{"id": "s1", "phase": 3}`},
			{"pending", `{"id": "s1", "lease_expires": "tomorrow"}`},
		} {
			t.Run(c.column+"="+c.value, func(t *testing.T) {
				id := fmt.Sprintf("bad-%s-%x", c.column, len(c.value)^int(time.Now().UnixNano()))
				if _, err := st.Create(ctx, cloudswitch.Workspace{ID: id, Compute: cloudswitch.Compute{Provider: cloudswitch.Hetzner},
					Pending: &cloudswitch.Intent{ID: "s1"}}); err != nil {
					t.Fatal(err)
				}
				defer st.Delete(ctx, id)
				after := "zz-after-" + id // sorts after the bad row
				if _, err := st.Create(ctx, cloudswitch.Workspace{ID: after, Compute: cloudswitch.Compute{Provider: cloudswitch.GCP},
					Pending: &cloudswitch.Intent{ID: "s2"}}); err != nil {
					t.Fatal(err)
				}
				defer st.Delete(ctx, after)
				if _, err := db.ExecContext(ctx, `UPDATE "`+table+`" SET `+c.column+` = $1 WHERE id = $2`, c.value, id); err != nil {
					t.Fatal(err)
				}
				_, err := st.Get(ctx, id)
				checkDecodeError(t, "Get", err, id, c.column)
				for _, scan := range []struct {
					name string
					seq  func(context.Context) iter.Seq2[cloudswitch.Workspace, error]
				}{{"Pending", st.Pending}, {"List", st.List}} {
					var errs []error
					sawAfter := false
					for w, err := range scan.seq(ctx) {
						switch {
						case err != nil:
							errs = append(errs, err)
						case w.ID == id:
							t.Errorf("%s yielded %s as if it were fine: %+v", scan.name, id, w)
						case w.ID == after:
							sawAfter = true
						}
					}
					if len(errs) != 1 {
						t.Fatalf("%s yielded %d errors (%v); want the row's error, once", scan.name, len(errs), errs)
					}
					if !sawAfter {
						t.Errorf("%s stopped at the row that does not decode: the workspace after it was hidden", scan.name)
					}
					checkDecodeError(t, scan.name, errs[0], id, c.column)
				}
			})
		}
	})
}

// TestSyntacticallyBrokenJSON: SQLite's CHECK constraints keep broken JSON
// out of the Store's table, but a table made before them, or a session that
// ignores them, may hold some.
func TestSyntacticallyBrokenJSON(t *testing.T) {
	t.Parallel()
	b := sqliteBackend(t)
	ctx := context.Background()
	db := b.open(t)
	table := b.newTable(t)
	st := b.storeOn(t, db, table)
	if _, err := st.Create(ctx, cloudswitch.Workspace{ID: "broken"}); err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA ignore_check_constraints = ON`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, `UPDATE "`+table+`" SET compute = '{"provider": "gcp"' WHERE id = 'broken'`); err != nil {
		t.Fatal(err)
	}
	_, err = st.Get(ctx, "broken")
	checkDecodeError(t, "Get", err, "broken", "compute")
}

func checkDecodeError(t *testing.T, op string, err error, id, column string) {
	t.Helper()
	var de *sqlstore.DecodeError
	switch {
	case err == nil:
		t.Errorf("%s of a row whose %s does not decode returned no error", op, column)
	case errors.Is(err, cloudswitch.ErrNotFound), errors.Is(err, cloudswitch.ErrConflict):
		t.Errorf("%s of a row whose %s does not decode: %v matches a Store sentinel; it must match neither", op, column, err)
	case !errors.As(err, &de):
		t.Errorf("%s of a row whose %s does not decode: %v; want a *sqlstore.DecodeError", op, column, err)
	case de.WorkspaceID != id || de.Column != column:
		t.Errorf("%s: the DecodeError names workspace %q, column %q; want %q, %q", op, de.WorkspaceID, de.Column, id, column)
	case !strings.Contains(err.Error(), id):
		t.Errorf("%s: the error does not name the workspace %q: %v", op, id, err)
	}
}

// TestWorkspacesThatCannotBeEncodedAreRefusedBeforeAnyWrite.
func TestWorkspacesThatCannotBeEncodedAreRefusedBeforeAnyWrite(t *testing.T) {
	t.Parallel()
	b := sqliteBackend(t)
	ctx := context.Background()
	st := b.storeOn(t, b.open(t), b.newTable(t))
	w, err := st.Create(ctx, cloudswitch.Workspace{ID: "w", Compute: cloudswitch.Compute{Provider: cloudswitch.AWS}})
	require.NoError(t, err)
	bad := w.Clone()
	bad.Pending = &cloudswitch.Intent{ID: "s1", LeaseExpires: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)} // no RFC 3339 form
	for name, call := range map[string]func() error{
		"Create": func() error { b := bad; b.ID = "w2"; _, err := st.Create(ctx, b); return err },
		"Update": func() error { _, err := st.Update(ctx, bad); return err },
	} {
		err := call()
		if err == nil || errors.Is(err, cloudswitch.ErrNotFound) || errors.Is(err, cloudswitch.ErrConflict) {
			t.Errorf("%s of a workspace whose intent cannot be encoded: got %v; want an error matching no Store sentinel", name, err)
		}
	}
	if got, err := st.Get(ctx, "w"); err != nil || got.Version != w.Version || got.Pending != nil {
		t.Errorf("a refused Update wrote: %+v, %v", got, err)
	}
	if _, err := st.Get(ctx, "w2"); !errors.Is(err, cloudswitch.ErrNotFound) {
		t.Errorf("a refused Create wrote: %v", err)
	}
}
