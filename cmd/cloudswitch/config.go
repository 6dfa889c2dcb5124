package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	"golang.org/x/term"
	_ "modernc.org/sqlite" // registers "sqlite"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/internal/redact"
	"github.com/cloudswitch/cloudswitch/store/sqlstore"
)

// defaultDB is the SQLite file used when -db is not given: the example
// server's, so that the two see the same workspaces.
const defaultDB = "cloudswitch-example.db"

// config is what every command connects to: the workspace database, the
// clouds, and the settings the Switcher shares with the example server.
type config struct {
	db        string
	clouds    clouds
	owner     string
	lease     time.Duration
	allowlist string
	verbose   bool
}

func (c *config) register(fs *flag.FlagSet) {
	fs.StringVar(&c.db, "db", defaultDB, "workspace database: a SQLite file or a postgres:// URL")
	c.clouds.register(fs)
	fs.StringVar(&c.owner, "owner", cloudswitch.DefaultOwner, "ownership tag of the VMs this installation creates")
	fs.DurationVar(&c.lease, "lease", cloudswitch.DefaultLease, "how long a switch may run before another process may resume it")
	fs.StringVar(&c.allowlist, "allowlist", "", "JSON file of the instance types allowed per provider (default: the shipped allowlist)")
	fs.BoolVar(&c.verbose, "v", false, "log what the library does to stderr")
}

// envPrefix starts the environment variable of a connection flag: -db
// falls back to CLOUDSWITCH_DB.
const envPrefix = "CLOUDSWITCH_"

// fromEnv reports whether a flag falls back to an environment variable:
// only the settings that say where the database and the clouds are, never
// what to select or do (a stray CLOUDSWITCH_ALL must not move a fleet).
func fromEnv(name string) bool {
	switch name {
	case "db", "aws", "hetzner", "gcp", "emulators", "aws-image", "gcp-project", "gcp-zone",
		"owner", "lease", "allowlist", "v":
		return true
	}
	return false
}

// parse parses args into fs, then fills every connection flag the command
// line left unset from its environment variable.
func parse(fs *flag.FlagSet, args []string, getenv func(string) string) error {
	fs.VisitAll(func(f *flag.Flag) {
		if fromEnv(f.Name) {
			f.Usage += fmt.Sprintf(" (env %s)", envName(f.Name))
		}
	})
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return &exitError{code: exitOK, err: errors.New("")}
		}
		return &exitError{code: exitUsage, err: errors.New("")} // the flag package printed why
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected arguments %q: every setting is a flag", fs.Args())
	}
	set := make(map[string]bool)
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || !fromEnv(f.Name) {
			return
		}
		if v := getenv(envName(f.Name)); v != "" {
			if err := fs.Set(f.Name, v); err != nil {
				// The value is not repeated: it may be a DSN with a password.
				errs = append(errs, fmt.Errorf("environment variable %s: %w", envName(f.Name), err))
			}
		}
	})
	if err := errors.Join(errs...); err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	return nil
}

func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// session is an open database and the clouds' drivers.
type session struct {
	store     *sqlstore.Store
	db        *sql.DB
	drivers   map[string]cloudswitch.Provider
	allowlist *cloudswitch.Allowlist
	logger    *slog.Logger
	cfg       *config
	closers   []func()
}

// open connects to the database and the clouds.
func (c *config) open(ctx context.Context, stderr io.Writer) (_ *session, err error) {
	s := &session{cfg: c, logger: slog.New(slog.DiscardHandler)}
	if c.verbose {
		s.logger = slog.New(slog.NewTextHandler(stderr, nil))
	}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	if c.lease <= 0 {
		return nil, usageErr("-lease must be positive, got %v", c.lease)
	}
	if s.allowlist, err = c.loadAllowlist(); err != nil {
		return nil, &exitError{code: exitUsage, err: err}
	}
	if err := s.openDB(ctx, c.db); err != nil {
		return nil, err
	}
	drivers, closeDrivers, err := c.clouds.connect(ctx, s.logger)
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, closeDrivers)
	s.drivers = drivers
	return s, nil
}

func (c *config) loadAllowlist() (*cloudswitch.Allowlist, error) {
	if c.allowlist == "" {
		return cloudswitch.DefaultAllowlist(), nil
	}
	f, err := os.Open(c.allowlist)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	a, err := cloudswitch.ReadAllowlist(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.allowlist, err)
	}
	return a, nil
}

func (s *session) openDB(ctx context.Context, dsn string) error {
	if dsn == "" {
		return usageErr("no database: -db names a SQLite file or a postgres:// URL")
	}
	dialect, driver, source, name := sqlstore.SQLite, "sqlite", sqlstore.SQLiteDSN(dsn), "sqlite:"+dsn
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		dialect, driver, source, name = sqlstore.Postgres, "pgx", dsn, "the PostgreSQL database"
	}
	db, err := sql.Open(driver, source)
	if err != nil {
		return fmt.Errorf("opening %s: %w", name, redact.Error(err))
	}
	s.closers = append(s.closers, func() { _ = db.Close() })
	if dialect == sqlstore.SQLite {
		db.SetMaxOpenConns(4)
	} else {
		db.SetMaxOpenConns(32)
	}
	store, err := sqlstore.New(db, dialect)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	s.closers = append(s.closers, func() { _ = store.Close() })
	if err := store.Migrate(ctx); err != nil {
		return fmt.Errorf("migrating %s: %w", name, redact.Error(err))
	}
	s.db, s.store = db, store
	return nil
}

// switchOptions are the Switcher's options for these settings: those of
// the example server, so that both agree on owners, leases and types.
func (s *session) switchOptions() []cloudswitch.Option {
	return []cloudswitch.Option{
		cloudswitch.WithOwner(s.cfg.owner),
		cloudswitch.WithLease(s.cfg.lease),
		cloudswitch.WithAllowlist(s.allowlist),
		cloudswitch.WithLogger(s.logger),
	}
}

// switcher returns a Switcher over drivers (the session's when nil).
func (s *session) switcher(drivers map[string]cloudswitch.Provider) (*cloudswitch.Switcher, error) {
	if drivers == nil {
		drivers = s.drivers
	}
	sw, err := cloudswitch.New(s.store, drivers, s.switchOptions()...)
	if err != nil {
		return nil, &exitError{code: exitUsage, err: err}
	}
	return sw, nil
}

func (s *session) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	s.closers = nil
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }
