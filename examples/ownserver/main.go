// Command ownserver is the README's "Using it in your own server", whole: a
// program that creates a workspace, gives it its first VM, moves it to
// another cloud, maps every error to an HTTP status, and runs the
// Reconciler — on the in-memory store and providers, so that it runs as it
// is. In your server, the two marked lines change: sqlstore instead of
// memstore, the real drivers instead of memprovider.
//
//	go run ./examples/ownserver
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/memprovider"
	"github.com/cloudswitch/cloudswitch/store/memstore"
)

func main() {
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	// Your database: sqlstore.New(db, sqlstore.Postgres), then Migrate.
	store := memstore.New()
	// Your clouds: aws.NewFromConfig(cfg, …), hetzner.NewFromToken(token, …),
	// gcp.NewFromClientOptions(ctx, project, nil, …).
	drivers := map[string]cloudswitch.Provider{
		cloudswitch.AWS:     memprovider.New(cloudswitch.AWS),
		cloudswitch.Hetzner: memprovider.New(cloudswitch.Hetzner),
	}

	sw, err := cloudswitch.New(store, drivers,
		cloudswitch.WithOwner("acme-prod"), // the ownership tag on every VM this installation creates
		cloudswitch.WithHooks(cloudswitch.Hooks{BeforeDeprovision: backupDisk}),
		cloudswitch.WithLogger(logger),
	)
	if err != nil {
		logger.Error("configuring cloudswitch", "err", err)
		os.Exit(1)
	}

	// A workspace is a record you create — Create is a method of memstore
	// and sqlstore (and of your own table), not of the Store interface —
	// and its first VM comes from a Switch that changes nothing else.
	if _, err := store.Create(ctx, cloudswitch.Workspace{ID: "ws-1",
		Compute: cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.medium"}}); err != nil {
		logger.Error("creating ws-1", "err", err)
		os.Exit(1)
	}
	res, err := sw.Switch(ctx, "ws-1", cloudswitch.Request{})
	fmt.Println("create:", httpStatus(err, false), res.Workspace.Instance.Provider)

	// Moving it to another cloud destroys its VM: it must be confirmed.
	_, err = sw.Switch(ctx, "ws-1", cloudswitch.Request{Compute: cloudswitch.Compute{Provider: cloudswitch.Hetzner}})
	fmt.Println("unconfirmed:", httpStatus(err, false))

	res, err = sw.Switch(ctx, "ws-1", cloudswitch.Request{
		Compute:         cloudswitch.Compute{Provider: cloudswitch.Hetzner}, // empty fields: defaults, or the current values
		ConfirmRecreate: true,                                               // required when the provider changes
		IfVersion:       res.Workspace.Version,                              // optional: the version the user saw (If-Match)
	})
	fmt.Println("switch:", httpStatus(err, true), res.Workspace.Compute.Provider, res.Workspace.Compute.InstanceType)

	// The reconciler comes from the Switcher: it lists the VMs of the same
	// owner and finishes interrupted switches with the same hooks. Call
	// Reconcile every few minutes.
	rec, err := sw.Reconciler(
		cloudswitch.WithGracePeriod(30*time.Minute), // longer than the lease: clouds list new VMs late
		cloudswitch.WithDeleteOrphans(false),        // report only (the default); true destroys them
	)
	if err != nil {
		logger.Error("configuring the reconciler", "err", err)
		os.Exit(1)
	}
	report, err := rec.Reconcile(ctx)
	fmt.Println("reconcile:", err, "listed", report.Listed, "orphans", len(report.Orphans))
}

// backupDisk saves the workspace's data before its VM is destroyed (a
// snapshot, a sync to object storage). It may run again for the same
// switch, so it must be idempotent; an error aborts the switch.
func backupDisk(ctx context.Context, w cloudswitch.Workspace) error {
	return nil
}

// httpStatus is the status a server answers for an error of Switch or
// Resume; conditional says whether the request had If-Match
// (examples/httpserver/problem.go also writes the body).
func httpStatus(err error, conditional bool) int {
	var incomplete *cloudswitch.IncompleteError
	var abort *cloudswitch.AbortError
	switch {
	case err == nil:
		return http.StatusOK
	case errors.As(err, &incomplete): // journaled part-way; Resume or the reconciler finishes it
		return http.StatusAccepted
	case errors.As(err, &abort) && abort.Stage == cloudswitch.StageRead: // the record could not be read; nothing changed
		return http.StatusServiceUnavailable
	case errors.As(err, &abort): // a provider refused or the hook failed; nothing changed, retrying is safe
		return http.StatusBadGateway
	case errors.Is(err, cloudswitch.ErrInvalid): // the allowlist refused the target (a *ValidationError)
		return http.StatusBadRequest
	case errors.Is(err, cloudswitch.ErrConfirmRequired): // a provider change needs ConfirmRecreate
		return http.StatusPreconditionRequired
	case errors.Is(err, cloudswitch.ErrNotFound): // no such workspace (never "could not read")
		return http.StatusNotFound
	case errors.Is(err, cloudswitch.ErrSwitchInProgress): // another switch of this workspace is pending
		return http.StatusConflict
	case errors.Is(err, cloudswitch.ErrConflict) && conditional: // the version the user saw is stale
		return http.StatusPreconditionFailed
	case errors.Is(err, cloudswitch.ErrConflict): // the record changed meanwhile; retrying is safe
		return http.StatusConflict
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}
