// Command httpserver is a workspace server built on cloudswitch: an HTTP API
// that creates workspaces, each backed by one VM, and moves them between AWS,
// Hetzner and GCP without ever leaving a VM that no record points at.
//
// With no flags, no credentials and no services it keeps its workspaces in a
// SQLite file (cloudswitch-example.db) and runs the real AWS, Hetzner and GCP
// drivers against emulators of those clouds started in the same process, so
// every request runs the SDKs' code on the wire:
//
//	go run ./examples/httpserver
//
// Every endpoint but GET /healthz needs "Authorization: Bearer <token>":
// the token is CLOUDSWITCH_TOKEN (at least 16 characters), or one generated
// at start and shown on the terminal — or, when stderr is not a terminal,
// written to -token-file (mode 0600). It is never logged.
//
// # Try it
//
// The README's session, which a test runs as written:
//
//	go build -o httpserver ./examples/httpserver   # silent for minutes the first time
//	export CLOUDSWITCH_TOKEN=local-demo-token-0123456789
//	./httpserver &
//	until curl -sSf -o /dev/null localhost:8080/healthz 2>/dev/null; do sleep 1; done
//	auth="Authorization: Bearer $CLOUDSWITCH_TOKEN"; json='Content-Type: application/json'
//	curl -sS -H "$auth" -H "$json" -d '{"id":"ws-1","compute":{"provider":"aws"}}' localhost:8080/workspaces
//	curl -sS -X PATCH -H "$auth" -H "$json" -d '{"provider":"hetzner","confirm_recreate":true}' localhost:8080/workspaces/ws-1/compute
//	curl -sS -H "$auth" localhost:8080/emulator/vms   # the emulated clouds' ground truth
//
// # API
//
//	POST  /workspaces                  {"id":"ws-1","compute":{"provider":"aws","instance_type":"t3.medium","region":"us-east-1"}}
//	                                   creates the workspace and its first VM: 201
//	GET   /workspaces?limit=&cursor=   a page of workspaces in id order: {"workspaces":[…],"skipped":[…],"next_cursor":"…"}
//	                                   (limit 1 to 1000, default 100; next_cursor absent on the last page)
//	GET   /workspaces/{id}             the workspace, with ETag: "<version>"
//	PATCH /workspaces/{id}/compute     {"provider":"hetzner","instance_type":"cpx31","region":"fsn1","confirm_recreate":true}
//	                                   switches it; If-Match: "<version>" (exactly as the ETag) makes it conditional
//	POST  /workspaces/{id}/resume      finishes or undoes an interrupted switch
//	DELETE /workspaces/{id}?confirm_destroy=true
//	                                   decommissions it: hook, destroy its VM, delete the record (204);
//	                                   428 without confirm_destroy when it has a VM; If-Match as for PATCH
//	GET   /healthz                     checks the database (no token needed)
//	GET   /metrics                     Prometheus metrics
//	GET   /emulator/vms                the in-process emulated clouds' VMs (only when they run in this process)
//	POST, DELETE /emulator/faults      inject or clear a fault of an in-process emulator
//
// Input is strict: bodies are JSON sent with Content-Type application/json,
// keys are case-sensitive, unknown and repeated keys are refused, and ids —
// in a body or a path — are 1 to 63 lowercase letters, digits, '-' and '_'.
// A region must be one the server's drivers list (so the reconciler sees
// every VM). Errors are application/problem+json (RFC 9457), 404 and 405
// included; problem.go maps each cloudswitch error to its status — the table
// to copy into a server of yours. A problem never carries a database's or a
// cloud's own text: it carries request_id (also the X-Request-Id header),
// and the server's log line about the cause has the same id. An empty field
// of a PATCH keeps its current value; a provider change destroys the VM and
// creates one on the new provider, and needs "confirm_recreate": true. A
// switch keeps going when the client hangs up; one the server could not
// finish is answered 202 and finished by the background reconciler or
// POST /workspaces/{id}/resume. The authorize hook (auth.go) receives the
// decoded request — action, workspace, target provider, region, instance
// type and image — so a server can decide on any of them.
//
// # Flags
//
// Every flag falls back to an environment variable: -db to CLOUDSWITCH_DB
// (keep a PostgreSQL URL there, out of ps), -reconcile-interval to
// CLOUDSWITCH_RECONCILE_INTERVAL, and so on (see -help).
//
//	-addr                 listen address (127.0.0.1:8080); beyond loopback without TLS, a loud warning
//	-tls-cert, -tls-key   serve HTTPS with this certificate and key
//	-db                   SQLite file, or a postgres:// URL (cloudswitch-example.db); a libpq
//	                      "host=… password=…" string is refused
//	-emulators            control URL of examples/emulators, instead of emulators in this process
//	-aws, -hetzner, -gcp  emulated (default), real or off, per provider
//	-aws-image            AMI of the instances on real AWS (credentials: the AWS SDK's default chain)
//	-aws-regions          regions of real AWS VMs, all of them listed (default: the SDK's region)
//	-gcp-project, -gcp-zone  project and zone on real GCP (credentials: application default credentials)
//	                      (real Hetzner reads its API token from HCLOUD_TOKEN)
//	-lease                how long a switch may run before another process may resume it (10m)
//	-reconcile-interval   how often the background reconciler runs, with jitter; 0 disables it (1m)
//	-grace                how old an unreferenced VM must be to count as an orphan (30m)
//	-delete-orphans       let the background reconciler destroy orphans, not just report them
//	-owner                ownership tag of the VMs (cloudswitch)
//	-allowlist            JSON file of the allowed instance types (cloudswitch.DefaultAllowlist)
//	-token-file           where a generated token goes when stderr is not a terminal
//
// In-process emulators keep their clouds in a file beside the SQLite
// database (cloudswitch-example.db.clouds), saved after every call before
// the driver sees the answer: the server can be stopped — SIGKILL included
// — and started again, and finds every VM its records name. Emulators that
// do not know the records — fresh ones (the state file deleted, a new
// examples/emulators, in-process emulators on PostgreSQL) or ones that hold a
// recorded id for another workspace — are refused at start: they would hand
// the recorded ids out again, and a switch could destroy another
// workspace's VM. Delete the database (and its .clouds file) to start afresh.
// The cloudswitch command keeps its in-process emulators in the same file;
// one program at a time may hold it, and a second one is refused while the
// first runs (each would keep its own copy, and the last to save would win).
//
// SIGINT or SIGTERM shuts the server down gracefully: it stops accepting,
// waits for the requests in flight (a switch runs at most -lease) and the
// reconciler's pass, then closes the database and the emulators. A second
// signal exits at once; a switch cut short is journaled and the next process
// finishes it.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/internal/wiring"
)

// config is the server's settings, from flags and environment variables.
type config struct {
	addr              string
	db                string
	clouds            wiring.Clouds
	control           wiring.Control
	reconcileInterval time.Duration
	deleteOrphans     bool
	token             string // CLOUDSWITCH_TOKEN; never a flag, so it stays out of ps
	tokenFile         string // where a generated token goes when stderr is not a terminal
	tlsCert, tlsKey   string
	dbOnCommandLine   bool // -db was a flag, not CLOUDSWITCH_DB: visible in ps
}

// minTokenLength is the shortest CLOUDSWITCH_TOKEN the server accepts: a
// bearer token is the only thing between the network and VMs that bill.
const minTokenLength = 16

func main() {
	cfg, err := parseConfig(os.Args[1:], os.Getenv)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "httpserver:", err)
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, stop, cfg, logger); err != nil {
		logger.Error("httpserver failed", "err", err)
		os.Exit(1)
	}
}

func parseConfig(args []string, getenv func(string) string) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("httpserver", flag.ContinueOnError)
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:8080", "listen address")
	fs.StringVar(&cfg.db, "db", wiring.DefaultDB, "SQLite file, or a postgres:// URL")
	fs.DurationVar(&cfg.reconcileInterval, "reconcile-interval", time.Minute, "interval of the background reconciler, with jitter; 0 disables it")
	fs.BoolVar(&cfg.deleteOrphans, "delete-orphans", false, "let the background reconciler destroy orphaned VMs instead of only reporting them")
	fs.StringVar(&cfg.tokenFile, "token-file", "cloudswitch-example.token", "file (mode 0600) that receives the generated bearer token when CLOUDSWITCH_TOKEN is unset and stderr is not a terminal")
	fs.StringVar(&cfg.tlsCert, "tls-cert", "", "PEM certificate file: serve HTTPS (with -tls-key)")
	fs.StringVar(&cfg.tlsKey, "tls-key", "", "PEM private key file of -tls-cert")
	cfg.clouds.Register(fs)
	cfg.control.Register(fs)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `httpserver: a workspace server built on cloudswitch (go doc ./examples/httpserver).

Usage: httpserver [flags]

Every endpoint but GET /healthz needs "Authorization: Bearer <token>": the
token is CLOUDSWITCH_TOKEN, or one generated and printed at start.

Flags:
`)
		fs.PrintDefaults()
	}
	if err := wiring.Parse(fs, args, getenv); err != nil {
		return cfg, err
	}
	if cfg.reconcileInterval < 0 {
		return cfg, fmt.Errorf("-reconcile-interval must not be negative, got %v", cfg.reconcileInterval)
	}
	for _, arg := range args { // the flag, not CLOUDSWITCH_DB: visible in ps
		name, _, _ := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		cfg.dbOnCommandLine = cfg.dbOnCommandLine || (strings.HasPrefix(arg, "-") && name == "db")
	}
	if (cfg.tlsCert == "") != (cfg.tlsKey == "") {
		return cfg, errors.New("-tls-cert and -tls-key go together")
	}
	cfg.token = getenv("CLOUDSWITCH_TOKEN")
	if cfg.token != "" && len(cfg.token) < minTokenLength {
		// The value is not repeated.
		return cfg, fmt.Errorf("CLOUDSWITCH_TOKEN is %d characters long; use at least %d random ones (e.g. openssl rand -hex 16), or unset it to have one generated",
			len(cfg.token), minTokenLength)
	}
	return cfg, cfg.control.Check()
}

// run serves until ctx ends, then shuts down gracefully; stop restores the
// default handling of the signals, so that a second one ends the process.
func run(ctx context.Context, stop func(), cfg config, logger *slog.Logger) (err error) {
	allowlist, err := cfg.control.LoadAllowlist()
	if err != nil {
		return err
	}

	db, err := wiring.OpenDB(ctx, cfg.db)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, db.Close()) }()
	logger.Info("database ready", "db", db.Name)
	if cfg.dbOnCommandLine && wiring.IsPostgres(cfg.db) && strings.Contains(cfg.db, "@") {
		logger.Warn("-db on the command line is visible to every user of this machine (ps): pass the URL in CLOUDSWITCH_DB instead")
	}

	if !wiring.IsPostgres(cfg.db) {
		// In-process emulators keep their clouds beside the database, so
		// that a restart — after a crash or SIGKILL too — finds the VMs the
		// records name.
		cfg.clouds.StateFile = cfg.db + ".clouds"
	}
	clouds, err := cfg.clouds.Connect(ctx, true, logger)
	if err != nil {
		return err
	}
	defer clouds.Close()
	if clouds.EmulatedVMs != nil {
		vms, err := clouds.EmulatedVMs(ctx)
		if err != nil {
			return fmt.Errorf("reading the emulated clouds: %w", err)
		}
		if err := wiring.CheckEmulatorsKnowRecords(ctx, db.Store, clouds.Modes, vms); err != nil {
			return fmt.Errorf("%s: %w", db.Name, err)
		}
	}

	obs, metrics, err := newMetrics()
	if err != nil {
		return err
	}
	sw, err := cloudswitch.New(db.Store, clouds.Drivers, cfg.control.SwitchOptions(allowlist, logger, obs)...)
	if err != nil {
		return err
	}
	// The background reconciler resumes with this very Switcher: its owner,
	// hooks, logger and observer.
	rec, err := sw.Reconciler(cfg.control.ReconcilerOptions(cfg.deleteOrphans)...)
	if err != nil {
		return err
	}

	// No request works longer than this: a switch runs at most the lease.
	requestBound := cfg.control.Lease + 20*time.Second
	a := &api{
		store:     db.Store,
		switcher:  sw,
		allowlist: allowlist,
		providers: clouds.Providers(),
		regions:   clouds.Regions,
		authorize: authorize,
		logger:    logger,
		timeout:   requestBound,
	}
	extra := map[string]http.Handler{"GET /metrics": metrics}
	if clouds.InProcess != nil {
		// Inspection and fault injection only: never the emulators'
		// endpoints and credentials.
		inspect := http.StripPrefix("/emulator", clouds.InProcess.InspectHandler())
		for _, pattern := range []string{"GET /emulator/vms", "POST /emulator/faults", "DELETE /emulator/faults"} {
			extra[pattern] = inspect
		}
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	token := cfg.token
	if token == "" {
		token = rand.Text() // 128 random bits
		if err := announceToken(token, cfg.tokenFile, os.Stderr, isTerminal(os.Stderr), logger); err != nil {
			_ = ln.Close()
			return err
		}
	}
	warnIfExposed(cfg.addr, ln.Addr(), cfg.tlsCert != "", logger)
	srv := &http.Server{
		Handler:           newHandler(a, token, db.Ping, extra, logger),
		MaxHeaderBytes:    maxHeaderBytes,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      requestBound + 10*time.Second, // time to answer after the work
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}

	// The background reconciler: it resumes switches whose lease expired
	// (a crashed server's, or one that answered 202) and reports orphans.
	recCtx, stopRec := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRec()
	var wg sync.WaitGroup
	if cfg.reconcileInterval > 0 {
		wg.Go(func() {
			wiring.Every(recCtx, cfg.reconcileInterval, func(ctx context.Context) {
				_, _ = rec.Reconcile(ctx) // the Reconciler logs each pass and each error
			})
		})
	}

	serveErr := make(chan error, 1)
	go func() {
		if cfg.tlsCert != "" {
			serveErr <- srv.ServeTLS(ln, cfg.tlsCert, cfg.tlsKey)
			return
		}
		serveErr <- srv.Serve(ln)
	}()
	logger.Info("listening", "addr", ln.Addr().String(), "providers", clouds.Providers(),
		"reconcile_interval", cfg.reconcileInterval, "delete_orphans", cfg.deleteOrphans)

	select {
	case err = <-serveErr:
		err = fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
		stop()
		logger.Info("shutting down: waiting for requests in flight (a second signal exits at once)")
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), requestBound+5*time.Second)
	defer cancel()
	stopRec()
	if serr := srv.Shutdown(shutdownCtx); serr != nil {
		err = errors.Join(err, fmt.Errorf("shutting down: %w", serr))
	}
	wg.Wait()
	logger.Info("stopped")
	return err
}
