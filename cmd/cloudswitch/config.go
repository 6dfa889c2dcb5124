package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"golang.org/x/term"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/fleet"
	"github.com/cloudswitch/cloudswitch/internal/emulated"
	"github.com/cloudswitch/cloudswitch/internal/wiring"
	"github.com/cloudswitch/cloudswitch/store/sqlstore"
)

// config is what every command connects to: the workspace database, the
// clouds, and the settings the Switcher shares with the example server.
type config struct {
	db      string
	clouds  wiring.Clouds
	control wiring.Control
	verbose bool
}

// register defines the flags every command has. The database's default is
// the example server's, so that the two see the same workspaces.
func (c *config) register(fs *flag.FlagSet) {
	fs.StringVar(&c.db, "db", wiring.DefaultDB, "workspace database: a SQLite file or a postgres:// URL")
	c.clouds.Register(fs)
	fs.StringVar(&c.control.Owner, "owner", cloudswitch.DefaultOwner, "ownership tag of the VMs this installation creates")
	fs.DurationVar(&c.control.Lease, "lease", cloudswitch.DefaultLease, "how long a switch may run before another process may resume it")
	fs.StringVar(&c.control.Allowlist, "allowlist", "", "JSON file of the instance types allowed per provider (default: the shipped allowlist)")
	fs.BoolVar(&c.verbose, "v", false, "log what the library does to stderr")
}

// flagSet returns the flag set of the command name, which writes its errors
// and its usage to std.err, with the flags of c defined.
func (c *config) flagSet(name string, std stdio) *flag.FlagSet {
	fs := flag.NewFlagSet("cloudswitch "+name, flag.ContinueOnError)
	fs.SetOutput(std.err)
	c.register(fs)
	return fs
}

// envFlags returns what reports whether a flag falls back to an
// environment variable: only the settings that say where the database and
// the clouds are (every flag wiring.Clouds defines), never what to select
// or do (a stray CLOUDSWITCH_ALL must not move a fleet).
func envFlags() func(name string) bool {
	names := map[string]bool{"db": true, "owner": true, "lease": true, "allowlist": true, "v": true}
	clouds := flag.NewFlagSet("clouds", flag.ContinueOnError)
	new(wiring.Clouds).Register(clouds)
	clouds.VisitAll(func(f *flag.Flag) { names[f.Name] = true })
	return func(name string) bool { return names[name] }
}

// parse parses args into fs, then fills every connection flag the command
// line left unset from its environment variable.
func parse(fs *flag.FlagSet, args []string, getenv func(string) string) error {
	fromEnv := envFlags()
	wiring.DescribeEnv(fs, fromEnv)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return &exitError{code: exitOK, err: errors.New("")}
		}
		return &exitError{code: exitUsage, err: errors.New("")} // the flag package printed why
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected arguments %q: every setting is a flag", fs.Args())
	}
	if err := wiring.SetFromEnv(fs, getenv, fromEnv); err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	return nil
}

// session is an open database and the clouds' drivers.
type session struct {
	store     *sqlstore.Store
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
	if c.control.Lease <= 0 {
		return nil, usageErr("-lease must be positive, got %v", c.control.Lease)
	}
	if s.allowlist, err = c.control.LoadAllowlist(); err != nil {
		return nil, &exitError{code: exitUsage, err: err}
	}
	dbName, err := s.openDB(ctx, c.db)
	if err != nil {
		return nil, err
	}
	// Emulated clouds start in this process unless -emulators names a Set.
	// In-process ones keep their state beside a SQLite database, in the
	// file the example server uses, so that every run — of this command or
	// of the server — finds the VMs the records name.
	if !wiring.IsPostgres(c.db) {
		c.clouds.StateFile = c.db + ".clouds"
	}
	conn, err := c.clouds.Connect(ctx, true, s.logger)
	if errors.Is(err, wiring.ErrEveryProviderOff) || errors.Is(err, emulated.ErrStateInUse) {
		return nil, &exitError{code: exitUsage, err: err}
	}
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, conn.Close)
	s.drivers = conn.Drivers
	if err := checkEmulated(ctx, conn, s.store, dbName); err != nil {
		return nil, err
	}
	return s, nil
}

// checkEmulated refuses emulated clouds that are not the ones the
// database's records were written against (wiring.CheckEmulatorsKnowRecords),
// before anything acts on them: fresh emulators would take a recorded VM
// for gone and hand its id out again.
func checkEmulated(ctx context.Context, conn *wiring.Connected, store *sqlstore.Store, dbName string) error {
	if conn.EmulatedVMs == nil {
		return nil
	}
	vms, err := conn.EmulatedVMs(ctx)
	if err != nil {
		return fmt.Errorf("reading the emulated clouds: %w", err)
	}
	err = wiring.CheckEmulatorsKnowRecords(ctx, store, conn.Modes, vms)
	if errors.Is(err, wiring.ErrEmulatedRecords) {
		return &exitError{code: exitUsage, err: fmt.Errorf("%s: %w", dbName, err)}
	}
	return err
}

// openSelected reads the selection sel's flags choose (one must be chosen
// when required is set), then connects to the database and the clouds.
// selected reports whether a selection was chosen. Closing the session
// closes the selection's file too.
func (c *config) openSelected(ctx context.Context, sel *selectFlags, required bool, std stdio) (_ *session, _ fleet.Selection, selected bool, err error) {
	selection, closeSel, selected, err := sel.selection(std.in, required)
	if err != nil {
		return nil, fleet.Selection{}, false, err
	}
	s, err := c.open(ctx, std.err)
	if err != nil {
		closeSel()
		return nil, fleet.Selection{}, false, err
	}
	// First in, so last out: the selection's file outlives the session.
	s.closers = append([]func(){closeSel}, s.closers...)
	return s, selection, selected, nil
}

// openDB opens, and migrates, the workspace database dsn names, and
// returns its name for messages (never a password).
func (s *session) openDB(ctx context.Context, dsn string) (string, error) {
	if dsn == "" {
		return "", usageErr("no database: -db names a SQLite file or a postgres:// URL")
	}
	db, err := wiring.OpenDB(ctx, dsn)
	if errors.Is(err, wiring.ErrKeyValueDSN) {
		return "", &exitError{code: exitUsage, err: err}
	}
	if err != nil {
		return "", err
	}
	s.closers = append(s.closers, func() { _ = db.Close() })
	if db.Dialect == sqlstore.Postgres {
		// An apply may run many switches at once, each holding a
		// connection at times.
		db.SQL.SetMaxOpenConns(32)
	}
	s.store = db.Store
	return db.Name, nil
}

// switcher returns a Switcher over drivers (the session's when nil), with
// the options of the example server, so that both agree on owners, leases
// and types.
func (s *session) switcher(drivers map[string]cloudswitch.Provider) (*cloudswitch.Switcher, error) {
	if drivers == nil {
		drivers = s.drivers
	}
	sw, err := cloudswitch.New(s.store, drivers, s.cfg.control.SwitchOptions(s.allowlist, s.logger, nil)...)
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
