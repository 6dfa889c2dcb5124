package wiring

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	_ "modernc.org/sqlite"             // registers "sqlite"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/internal/redact"
	"github.com/cloudswitch/cloudswitch/store/sqlstore"
)

// DefaultDB is the SQLite file the examples use when -db is not given.
const DefaultDB = "cloudswitch-example.db"

// DB is the workspace database: a sqlstore.Store on a database/sql pool.
type DB struct {
	Store   *sqlstore.Store
	SQL     *sql.DB
	Dialect sqlstore.Dialect
	// Name says which database this is, for logs: the SQLite file, or the
	// PostgreSQL host and database — never a user or a password.
	Name string
}

// IsPostgres reports whether dsn names a PostgreSQL database (a postgres://
// or postgresql:// URL) rather than a SQLite file.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// keyValueDSN matches a libpq keyword/value connection string
// ("host=db user=app password=…"), which is not a file name.
var keyValueDSN = regexp.MustCompile(`(?i)(^|\s)(host|hostaddr|port|dbname|user|password|passfile|sslmode|service|connect_timeout)\s*=`)

// ErrKeyValueDSN is the error of OpenDB and OpenExistingDB when a DSN is a
// libpq keyword/value string, not a file name or a URL. It never repeats the
// value, which may hold a password.
var ErrKeyValueDSN = errors.New("-db looks like a libpq keyword=value connection string, which would be taken for a SQLite file name: " +
	"give PostgreSQL as a postgres:// URL, preferably in the CLOUDSWITCH_DB environment variable so that it stays out of ps")

// errNoDatabase is the error of OpenExistingDB when the database has no
// workspaces table, or the SQLite file does not exist.
var errNoDatabase = errors.New("no workspace database there: a reconciler never creates one (an empty database makes every VM look orphaned); " +
	"point -db at the server's database, which the server creates and migrates")

// OpenDB opens the database dsn names — a PostgreSQL URL (through pgx), or
// else the path of a SQLite file, created if missing (in WAL mode, through
// sqlstore.SQLiteDSN) — checks that it answers, and runs the Store's
// idempotent Migrate. A libpq keyword=value string is refused, not taken for
// a file name. Errors never carry the DSN's password.
func OpenDB(ctx context.Context, dsn string) (*DB, error) {
	return openDB(ctx, dsn, true)
}

// OpenExistingDB opens the database dsn names as OpenDB does, but never
// creates or migrates one: a SQLite file that does not exist, or a database
// without the workspaces table, is an error. Programs that judge VMs by the
// records (a reconciler) open their database this way, so that a mistyped
// path cannot hand them an empty store.
func OpenExistingDB(ctx context.Context, dsn string) (*DB, error) {
	return openDB(ctx, dsn, false)
}

func openDB(ctx context.Context, dsn string, create bool) (*DB, error) {
	if dsn == "" {
		return nil, errors.New("no database: -db names a SQLite file or a postgres:// URL")
	}
	if !IsPostgres(dsn) && keyValueDSN.MatchString(dsn) {
		return nil, ErrKeyValueDSN
	}
	d := &DB{Dialect: sqlstore.SQLite, Name: sqliteName(dsn)}
	driver, source := "sqlite", sqlstore.SQLiteDSN(dsn)
	if !IsPostgres(dsn) && !create {
		if st, err := os.Stat(dsn); err != nil || !st.Mode().IsRegular() {
			return nil, fmt.Errorf("%s: %w", d.Name, errNoDatabase)
		}
		source += "&mode=rw" // SQLite's URI parameter: open, never create
	}
	if IsPostgres(dsn) {
		d.Dialect, d.Name = sqlstore.Postgres, postgresName(dsn)
		driver, source = "pgx", dsn
	}
	db, err := sql.Open(driver, source)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", d.Name, redact.Error(err))
	}
	if d.Dialect == sqlstore.SQLite {
		// A few connections, never one: a loop over Pending holds one while
		// the Switcher writes (see sqlstore.SQLiteDSN).
		db.SetMaxOpenConns(4)
	} else {
		db.SetMaxOpenConns(16)
		db.SetConnMaxIdleTime(5 * time.Minute)
	}
	d.SQL = db
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("connecting to %s: %w", d.Name, redact.Error(err))
	}
	store, err := sqlstore.New(db, d.Dialect)
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("%s: %w", d.Name, err)
	}
	d.Store = store
	if !create {
		// The table must be there: Get of an id no workspace can have
		// answers "not found" only from a migrated database.
		if _, err := store.Get(ctx, "-"); !errors.Is(err, cloudswitch.ErrNotFound) {
			_ = d.Close()
			return nil, fmt.Errorf("%s: %w", d.Name, errNoDatabase)
		}
		return d, nil
	}
	if err := store.Migrate(ctx); err != nil {
		_ = d.Close()
		return nil, fmt.Errorf("migrating %s: %w", d.Name, redact.Error(err))
	}
	return d, nil
}

// Ping checks that the database answers.
func (d *DB) Ping(ctx context.Context) error {
	return d.SQL.PingContext(ctx)
}

// Close releases the Store's statements and closes the pool.
func (d *DB) Close() error {
	var errs []error
	if d.Store != nil {
		errs = append(errs, d.Store.Close())
	}
	errs = append(errs, d.SQL.Close())
	return errors.Join(errs...)
}

// sqliteName names the SQLite file dsn for errors and logs. A dsn holding
// "://" is a URL taken for a file name (a mistyped scheme, an upper-case
// or padded one): it loses its user, password and query, as postgresName
// drops them.
func sqliteName(dsn string) string {
	if !strings.Contains(dsn, "://") {
		return "sqlite:" + dsn
	}
	u, err := url.Parse(strings.TrimSpace(dsn))
	if err != nil {
		return "sqlite:(a URL that cannot be parsed)"
	}
	return "sqlite:" + u.Scheme + "://" + u.Host + u.Path
}

// postgresName is host/database of a PostgreSQL URL, without its user and
// password.
func postgresName(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "postgres (unparsable URL)"
	}
	return "postgres://" + u.Host + u.Path
}
