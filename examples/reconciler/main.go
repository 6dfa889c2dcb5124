// Command reconciler is a control-plane loop over the workspace database of
// examples/httpserver: every interval (with jitter) it resumes the switches
// whose lease has expired, lists the VMs carrying its owner's tags on every
// provider, and reports — or, with -delete, destroys — those no record points
// at, once they are older than the grace period. It logs each pass and a
// summary of its report.
//
// It must see the same database and the same clouds as the server. It never
// creates or migrates a database: a path that names no workspace database is
// an error, and -delete requires -db (or CLOUDSWITCH_DB) to be given
// explicitly. It lists every region the drivers serve (-aws-regions on real
// AWS), so a VM the server created in any allowed region is judged. Against
// the emulated clouds, run them in a process of their own and point both
// programs at it:
//
//	go run ./examples/emulators -addr 127.0.0.1:8089 &
//	go run ./examples/httpserver -emulators http://127.0.0.1:8089 -db fleet.db &
//	go run ./examples/reconciler -emulators http://127.0.0.1:8089 -db fleet.db           # report every minute
//	go run ./examples/reconciler -emulators http://127.0.0.1:8089 -db fleet.db -once     # one pass, for cron
//	go run ./examples/reconciler -emulators http://127.0.0.1:8089 -db fleet.db -delete   # destroy orphans too
//
// Against real clouds, set a provider to real (and the others to off) with
// the same flags as the server: -aws real -aws-image …, -hetzner real
// (HCLOUD_TOKEN), -gcp real -gcp-project … -gcp-zone ….
//
// Flags (each falls back to an environment variable, see -help): -db,
// -emulators, -aws, -hetzner, -gcp, -aws-image, -gcp-project, -gcp-zone,
// -interval (1m), -delete, -grace (30m), -lease (10m: of the switches it
// resumes), -owner, -allowlist, -once.
//
// With -once the exit status is 1 when the pass reported errors (a provider
// that could not be listed, a workspace that could not be read or resumed,
// an orphan that could not be destroyed), 0 otherwise; orphans found in
// report mode are logged as warnings, not errors.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/internal/wiring"
)

// config is the reconciler's settings, from flags and environment variables.
type config struct {
	db       string
	clouds   wiring.Clouds
	control  wiring.Control
	interval time.Duration
	delete   bool
	once     bool
}

// errPass is the error of a -once pass that reported errors.
var errPass = errors.New("the reconcile pass reported errors")

func main() {
	cfg, err := parseConfig(os.Args[1:], os.Getenv)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "reconciler:", err)
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, logger); err != nil {
		if !errors.Is(err, errPass) {
			logger.Error("reconciler failed", "err", err)
		}
		os.Exit(1)
	}
}

func parseConfig(args []string, getenv func(string) string) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("reconciler", flag.ContinueOnError)
	fs.StringVar(&cfg.db, "db", wiring.DefaultDB, "the server's database: an existing SQLite file, or a postgres:// URL (never created or migrated; required with -delete)")
	fs.DurationVar(&cfg.interval, "interval", time.Minute, "time between passes, with jitter")
	fs.BoolVar(&cfg.delete, "delete", false, "destroy orphaned VMs instead of only reporting them")
	fs.BoolVar(&cfg.once, "once", false, "run one pass and exit: status 1 if it reported errors")
	cfg.clouds.Register(fs)
	cfg.control.Register(fs)
	if err := wiring.Parse(fs, args, getenv); err != nil {
		return cfg, err
	}
	dbGiven := false
	fs.Visit(func(f *flag.Flag) { dbGiven = dbGiven || f.Name == "db" }) // the flag, or CLOUDSWITCH_DB
	if cfg.delete && !dbGiven {
		return cfg, errors.New("-delete destroys VMs no record of the database points at: name that database explicitly with -db (or CLOUDSWITCH_DB)")
	}
	if cfg.interval <= 0 && !cfg.once {
		return cfg, fmt.Errorf("-interval must be positive, got %v", cfg.interval)
	}
	return cfg, cfg.control.Check()
}

// run reconciles once (-once) or until ctx ends.
func run(ctx context.Context, cfg config, logger *slog.Logger) (err error) {
	allowlist, err := cfg.control.LoadAllowlist()
	if err != nil {
		return err
	}
	// Never a database created or migrated here: an empty one would make
	// every VM of the owner look orphaned.
	db, err := wiring.OpenExistingDB(ctx, cfg.db)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, db.Close()) }()
	// No in-process emulators: they would be a cloud of their own, empty,
	// where every recorded VM looks gone.
	clouds, err := cfg.clouds.Connect(ctx, false, logger)
	if err != nil {
		return err
	}
	defer clouds.Close()

	// The Reconciler resumes with a Switcher configured exactly as the
	// server's (owner, lease, allowlist): one that lacked the server's owner
	// would list nothing, one that lacked its hooks would block switches.
	sw, err := cloudswitch.New(db.Store, clouds.Drivers, cfg.control.SwitchOptions(allowlist, logger, nil)...)
	if err != nil {
		return err
	}
	rec, err := sw.Reconciler(cfg.control.ReconcilerOptions(cfg.delete)...)
	if err != nil {
		return err
	}
	mode := "report"
	if cfg.delete {
		mode = "delete"
	}
	logger.Info("reconciler started", "db", db.Name, "providers", clouds.Providers(), "mode", mode,
		"owner", cfg.control.Owner, "grace", cfg.control.Grace, "once", cfg.once)

	if cfg.once {
		rep, err := rec.Reconcile(ctx)
		summarize(ctx, logger, mode, rep)
		if err != nil {
			return errPass // the report holds the errors; a configuration error ended run above
		}
		return nil
	}
	wiring.Every(ctx, cfg.interval, func(ctx context.Context) {
		rep, _ := rec.Reconcile(ctx) // the report holds the errors, and the Reconciler logs them
		summarize(ctx, logger, mode, rep)
	})
	logger.Info("reconciler stopped")
	return nil
}
