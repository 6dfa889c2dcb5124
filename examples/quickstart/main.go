// Command quickstart switches a workspace from AWS to Hetzner on the
// in-memory store and providers, with a flaky AWS, and prints each step: the
// shortest way to see what cloudswitch does.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/memprovider"
	"github.com/cloudswitch/cloudswitch/store/memstore"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	store := memstore.New()
	aws := memprovider.New(cloudswitch.AWS)
	hetzner := memprovider.New(cloudswitch.Hetzner)
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{Level: slog.LevelInfo}))
	sw, err := cloudswitch.New(store, map[string]cloudswitch.Provider{
		cloudswitch.AWS: aws, cloudswitch.Hetzner: hetzner,
	}, cloudswitch.WithLogger(logger))
	if err != nil {
		return err
	}

	// A workspace on AWS; the first Switch gives it its VM.
	if _, err := store.Create(ctx, cloudswitch.Workspace{ID: "ws-1",
		Compute: cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.medium"}}); err != nil {
		return err
	}
	res, err := sw.Switch(ctx, "ws-1", cloudswitch.Request{})
	if err != nil {
		return err
	}
	fmt.Printf("\nws-1 runs on %s %s\n\n", res.Workspace.Instance.Provider, res.Workspace.Instance.ID)

	// Moving it to Hetzner without confirming is refused: it destroys the VM.
	_, err = sw.Switch(ctx, "ws-1", cloudswitch.Request{Compute: cloudswitch.Compute{Provider: cloudswitch.Hetzner}})
	fmt.Printf("\nwithout ConfirmRecreate: %v (ErrConfirmRequired: %v)\n\n", err, errors.Is(err, cloudswitch.ErrConfirmRequired))

	// AWS throttles the first two stops; they are retried.
	aws.FailNext(memprovider.OpDeprovision, 2, memprovider.ErrThrottled)
	res, err = sw.Switch(ctx, "ws-1", cloudswitch.Request{
		Compute: cloudswitch.Compute{Provider: cloudswitch.Hetzner}, ConfirmRecreate: true})
	if err != nil {
		return err
	}
	fmt.Printf("\nswitched: %v; destroyed %s, created %s; ws-1 now %+v\n",
		res.Switched, res.Deprovisioned.ID, res.Provisioned.ID, res.Workspace.Compute)
	fmt.Printf("live VMs: aws %d, hetzner %d\n", len(aws.Live()), len(hetzner.Live()))
	return nil
}
