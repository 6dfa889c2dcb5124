package hetzner_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"os"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/hetzner"
	"github.com/cloudswitch/cloudswitch/providers/hetzner/hetznertest"
	"github.com/cloudswitch/cloudswitch/store/memstore"
)

// The driver against the emulator: provision a workspace's VM (twice with
// the same token, as a retry after a lost answer would), list the owner's
// VMs, deprovision. Against Hetzner Cloud, build the driver with
// hetzner.NewFromToken(os.Getenv("HCLOUD_TOKEN")) instead.
func Example() {
	srv, err := hetznertest.Start("127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	driver, err := hetzner.New(srv.Client(), hetzner.WithLocation("nbg1"),
		hetzner.WithLabels(map[string]string{"team": "blue"}))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	req := cloudswitch.ProvisionRequest{
		WorkspaceID: "Team_A.Workspace-42",
		Compute:     cloudswitch.Compute{Provider: cloudswitch.Hetzner, InstanceType: "cpx31"},
		Token:       "0f8fad5bd9cb469fa16570867728950e",
		Owner:       "cloudswitch",
	}
	first, err := driver.Provision(ctx, req)
	if err != nil {
		log.Fatal(err)
	}
	again, err := driver.Provision(ctx, req) // the same token: the same server
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("same server:", first.ID == again.ID)

	for inst, err := range driver.Instances(ctx, "cloudswitch") {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(inst.Provider, inst.Region, inst.WorkspaceID)
	}
	for _, vm := range srv.Instances() {
		fmt.Println(vm.Name, vm.Type, vm.Labels["cloudswitch-workspace"], vm.Labels["team"])
	}

	if err := driver.Deprovision(ctx, first); err != nil {
		log.Fatal(err)
	}
	fmt.Println("servers left:", len(srv.Instances()))
	// Output:
	// same server: true
	// hetzner nbg1 Team_A.Workspace-42
	// cs-0f8fad5bd9cb469fa16570867728950e cpx31 x-ahim2rav84n5erriddpn0ob3ckmj8cg blue
	// servers left: 0
}

// Against Hetzner Cloud: a project API token with read & write permission,
// the servers' defaults, and the driver registered with a Switcher.
func ExampleNewFromToken() {
	driver, err := hetzner.NewFromToken(os.Getenv("HCLOUD_TOKEN"),
		hetzner.WithLocation("nbg1"),
		hetzner.WithImage("ubuntu-24.04"),
		hetzner.WithSSHKeys("ops"),
		hetzner.WithFirewalls(123456),
		hetzner.WithLabels(map[string]string{"env": "prod"}),
		hetzner.WithLogger(slog.Default()),
	)
	if err != nil {
		log.Fatal(err)
	}
	sw, err := cloudswitch.New(memstore.New(), map[string]cloudswitch.Provider{cloudswitch.Hetzner: driver})
	if err != nil {
		log.Fatal(err)
	}
	res, err := sw.Switch(context.Background(), "workspace-1", cloudswitch.Request{
		Compute:         cloudswitch.Compute{Provider: cloudswitch.Hetzner, InstanceType: "cpx31"},
		ConfirmRecreate: true,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Provisioned.ID)
}
