package gcptest_test

import (
	"context"
	"fmt"
	"log"

	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/protobuf/proto"

	"github.com/cloudswitch/cloudswitch/providers/gcp/gcptest"
)

// Point the Compute Engine REST clients at the emulator, insert an
// instance, wait for its operation, and read the ground truth.
func Example() {
	ctx := context.Background()
	srv, err := gcptest.Start("127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	instances, operations, err := srv.Clients(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer instances.Close()
	defer operations.Close()

	op, err := instances.Insert(ctx, &computepb.InsertInstanceRequest{
		Project: srv.Project(), Zone: "us-central1-a",
		RequestId: proto.String("7b2a3c4d-1e2f-4a5b-8c9d-0e1f2a3b4c5d"),
		InstanceResource: &computepb.Instance{
			Name:        proto.String("vm-1"),
			MachineType: proto.String("zones/us-central1-a/machineTypes/e2-small"),
			Labels:      map[string]string{"team": "a"},
			Disks: []*computepb.AttachedDisk{{Boot: proto.Bool(true), AutoDelete: proto.Bool(true),
				InitializeParams: &computepb.AttachedDiskInitializeParams{SourceImage: proto.String("projects/debian-cloud/global/images/family/debian-12")}}},
			NetworkInterfaces: []*computepb.NetworkInterface{{}},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("insert:", op.Proto().GetStatus())
	if err := op.Wait(ctx); err != nil { // answered DONE at the first poll
		log.Fatal(err)
	}
	fmt.Println("insert:", op.Proto().GetStatus())
	for _, vm := range srv.Instances() {
		fmt.Println(vm.Zone, vm.Name, vm.MachineType, vm.Status, vm.Labels)
	}
	fmt.Println("polls:", srv.CallCount(gcptest.OpOperationGet))
	// Output:
	// insert: RUNNING
	// insert: DONE
	// us-central1-a vm-1 e2-small RUNNING map[team:a]
	// polls: 1
}

// Make the next delete fail after it was accepted, as Compute Engine does
// when an operation fails.
func ExampleServer_FailOperation() {
	ctx := context.Background()
	srv, err := gcptest.Start("127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	instances, operations, err := srv.Clients(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer instances.Close()
	defer operations.Close()

	vm := srv.AddInstance("us-central1-a", "vm-1", nil)
	srv.FailOperation(gcptest.OpDelete, 1, 503, "INTERNAL_ERROR", "Internal error. Please try again.")
	op, err := instances.Delete(ctx, &computepb.DeleteInstanceRequest{Project: srv.Project(), Zone: vm.Zone, Instance: vm.Name})
	if err != nil {
		log.Fatal(err)
	}
	done, err := operations.Get(ctx, &computepb.GetZoneOperationRequest{Project: srv.Project(), Zone: vm.Zone, Operation: op.Name()})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(done.GetStatus(), done.GetHttpErrorStatusCode(), done.GetError().GetErrors()[0].GetCode())
	fmt.Println(srv.Instances()[0].Status)
	// Output:
	// DONE 503 INTERNAL_ERROR
	// RUNNING
}
