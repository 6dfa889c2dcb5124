package gcp_test

import (
	"context"
	"fmt"
	"log"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/gcp"
	"github.com/cloudswitch/cloudswitch/providers/gcp/gcptest"
)

// The driver against the emulator: provision a VM, find it by its owner
// label, deprovision it. Against Compute Engine, pass no client options
// (Application Default Credentials) or option.WithCredentialsFile.
func Example() {
	ctx := context.Background()
	srv, err := gcptest.Start("127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	d, err := gcp.NewFromClientOptions(ctx, srv.Project(), srv.ClientOptions(),
		gcp.WithZone("us-central1-a"),
		gcp.WithLabels(map[string]string{"team": "workspaces"}),
		gcp.WithMetadata(map[string]string{"startup-script": "#!/bin/sh\necho ready"}),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()

	req := cloudswitch.ProvisionRequest{
		WorkspaceID: "ws-42",
		Compute:     cloudswitch.Compute{Provider: cloudswitch.GCP, InstanceType: "e2-standard-2"},
		Token:       "0f8fad5bd9cb469fa16570867728950e",
		Owner:       "cloudswitch",
	}
	inst, err := d.Provision(ctx, req)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("provisioned", inst.ID, "in", inst.Region)

	again, err := d.Provision(ctx, req) // the same token: the same VM
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("repeated:", again.ID == inst.ID)

	for vm, err := range d.Instances(ctx, "cloudswitch") {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("listed", vm.ID, "of workspace", vm.WorkspaceID)
	}

	if err := d.Deprovision(ctx, inst); err != nil {
		log.Fatal(err)
	}
	fmt.Println("instances left:", len(srv.Instances()))
	fmt.Println("insert requestId:", gcp.RequestID(req.Token))
	// Output:
	// provisioned cs-0f8fad5bd9cb469fa16570867728950e in us-central1-a
	// repeated: true
	// listed cs-0f8fad5bd9cb469fa16570867728950e of workspace ws-42
	// instances left: 0
	// insert requestId: ee5f5bc3-b0e1-5967-8e8f-d797dceec5be
}
