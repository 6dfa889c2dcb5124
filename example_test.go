package cloudswitch_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/memprovider"
	"github.com/cloudswitch/cloudswitch/store/memstore"
)

func ExampleNew() {
	store := memstore.New()
	sw, err := cloudswitch.New(store, map[string]cloudswitch.Provider{
		cloudswitch.AWS:     memprovider.New(cloudswitch.AWS),
		cloudswitch.Hetzner: memprovider.New(cloudswitch.Hetzner),
	},
		cloudswitch.WithOwner("acme-prod"),                    // the ownership tag on every VM
		cloudswitch.WithStrategy(cloudswitch.MakeBeforeBreak), // create the new VM first
		cloudswitch.WithHooks(cloudswitch.Hooks{BeforeDeprovision: backup}),
	)
	fmt.Println(sw != nil, err)

	_, err = cloudswitch.New(store, map[string]cloudswitch.Provider{"azure": memprovider.New("azure")})
	fmt.Println(errors.Is(err, cloudswitch.ErrUnknownProvider))
	// Output:
	// true <nil>
	// true
}

// backup stands for saving the state of a workspace's disk before its VM is
// destroyed; it must be idempotent, since Resume may call it again.
func backup(ctx context.Context, w cloudswitch.Workspace) error { return nil }

func ExampleSwitcher_Switch() {
	ctx := context.Background()
	store := memstore.New()
	aws, hetzner := memprovider.New(cloudswitch.AWS), memprovider.New(cloudswitch.Hetzner)
	sw, _ := cloudswitch.New(store, map[string]cloudswitch.Provider{cloudswitch.AWS: aws, cloudswitch.Hetzner: hetzner})

	_, _ = store.Create(ctx, cloudswitch.Workspace{ID: "ws-1",
		Compute: cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.medium"}})
	res, _ := sw.Switch(ctx, "ws-1", cloudswitch.Request{}) // a workspace without a VM gets one
	fmt.Println("running on", res.Workspace.Instance.ID)

	// A provider change destroys the VM: it must be confirmed.
	_, err := sw.Switch(ctx, "ws-1", cloudswitch.Request{Compute: cloudswitch.Compute{Provider: cloudswitch.Hetzner}})
	fmt.Println(errors.Is(err, cloudswitch.ErrConfirmRequired))

	res, err = sw.Switch(ctx, "ws-1", cloudswitch.Request{
		Compute:         cloudswitch.Compute{Provider: cloudswitch.Hetzner}, // empty type: hetzner's default
		ConfirmRecreate: true,
	})
	fmt.Println(err, res.Switched, res.Deprovisioned.ID, "->", res.Provisioned.ID, res.Workspace.Compute.InstanceType)
	fmt.Println("live:", len(aws.Live()), len(hetzner.Live()))
	// Output:
	// running on aws-00000001
	// true
	// <nil> true aws-00000001 -> hetzner-00000001 cpx31
	// live: 0 1
}

func ExampleSwitcher_Resume() {
	ctx := context.Background()
	store := memstore.New()
	aws, hetzner := memprovider.New(cloudswitch.AWS), memprovider.New(cloudswitch.Hetzner)
	sw, _ := cloudswitch.New(store, map[string]cloudswitch.Provider{cloudswitch.AWS: aws, cloudswitch.Hetzner: hetzner},
		cloudswitch.WithRetryPolicy(cloudswitch.RetryPolicy{MaxAttempts: 2}))
	_, _ = store.Create(ctx, cloudswitch.Workspace{ID: "ws-1",
		Compute: cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.medium"}})
	_, _ = sw.Switch(ctx, "ws-1", cloudswitch.Request{})

	// Hetzner is down: the old VM is gone, the new one cannot be created yet.
	hetzner.FailNext(memprovider.OpProvision, 2, memprovider.ErrUnavailable)
	_, err := sw.Switch(ctx, "ws-1", cloudswitch.Request{
		Compute: cloudswitch.Compute{Provider: cloudswitch.Hetzner}, ConfirmRecreate: true})
	var incomplete *cloudswitch.IncompleteError
	fmt.Println(errors.As(err, &incomplete), incomplete.Stage)

	w, _ := store.Get(ctx, "ws-1")
	fmt.Println("journaled:", w.Pending.Phase, w.Compute.Provider)

	// Later (or from the Reconciler): finish it.
	res, err := sw.Resume(ctx, "ws-1")
	fmt.Println(err, res.Provisioned.ID, res.Workspace.Pending == nil)
	// Output:
	// true provision
	// journaled: provision hetzner
	// <nil> hetzner-00000001 true
}

func ExampleReconciler() {
	ctx := context.Background()
	store := memstore.New()
	aws := memprovider.New(cloudswitch.AWS)
	sw, _ := cloudswitch.New(store, map[string]cloudswitch.Provider{cloudswitch.AWS: aws},
		cloudswitch.WithOwner("acme-prod"))
	_, _ = store.Create(ctx, cloudswitch.Workspace{ID: "ws-1",
		Compute: cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.medium"}})
	_, _ = sw.Switch(ctx, "ws-1", cloudswitch.Request{})

	// A VM of this installation that no record points at: a leak, as a
	// process that died between creating a VM and recording it could leave.
	installation, _ := store.InstallationID(ctx)
	leak, _ := aws.Provision(ctx, cloudswitch.ProvisionRequest{WorkspaceID: "ws-gone",
		Compute: cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.medium"},
		Token:   "00112233445566778899aabbccddeeff", Owner: "acme-prod", Installation: installation})

	// The Switcher's own Reconciler lists the VMs of its owner, "acme-prod".
	rec, err := sw.Reconciler(
		cloudswitch.WithGracePeriod(0),      // judge VMs of any age (keep the default, 30 minutes, in production)
		cloudswitch.WithDeleteOrphans(true), // destroy what it finds, not only report it
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	report, err := rec.Reconcile(ctx)
	fmt.Println(err, report.Listed[cloudswitch.AWS], len(report.Orphans), report.Deleted[0].ID == leak.ID)
	fmt.Println("live:", len(aws.Live()))
	// Output:
	// <nil> 2 1 true
	// live: 1
}
