package aws_test

import (
	"context"
	"fmt"
	"log"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/aws"
	"github.com/cloudswitch/cloudswitch/providers/aws/awstest"
)

// A driver made from a config provisions a VM once per token, lists it by
// owner, and deprovisions it. Here the config points at the EC2 emulator; in
// production it comes from config.LoadDefaultConfig.
func Example() {
	srv, err := awstest.Start("127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()

	drv, err := aws.NewFromConfig(srv.Config(), // region us-east-1
		aws.WithImage("ami-0123456789abcdef0"),
		aws.WithRegions("us-east-1", "eu-west-1"),
		aws.WithTags(map[string]string{"team": "platform"}))
	if err != nil {
		log.Fatal(err)
	}

	req := cloudswitch.ProvisionRequest{
		WorkspaceID: "ws-42",
		Compute:     cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.medium", Region: "eu-west-1"},
		Token:       "2f1c9a7e5b3d4c6a8e0f1a2b3c4d5e6f",
		Owner:       "acme",
	}
	vm, err := drv.Provision(ctx, req)
	if err != nil {
		log.Fatal(err)
	}
	again, err := drv.Provision(ctx, req) // a retry: same token, same VM
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("same VM:", again.ID == vm.ID)

	for inst, err := range drv.Instances(ctx, "acme") {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("listed:", inst.Region, inst.WorkspaceID)
	}

	if err := drv.Deprovision(ctx, vm); err != nil {
		log.Fatal(err)
	}
	for _, inst := range srv.Instances() {
		fmt.Println("state:", inst.State, "tags:", inst.Tags["cloudswitch-owner"], inst.Tags["team"])
	}
	// Output:
	// same VM: true
	// listed: eu-west-1 ws-42
	// state: shutting-down tags: acme platform
}

// New wraps a client the program already has, in that client's region.
func ExampleNew() {
	srv, err := awstest.Start("127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	client := srv.Client("eu-central-1") // your *ec2.Client
	drv, err := aws.New(client, aws.WithImage("ami-0123456789abcdef0"), aws.WithWaitTerminated(false))
	if err != nil {
		log.Fatal(err)
	}
	vm, err := drv.Provision(context.Background(), cloudswitch.ProvisionRequest{
		WorkspaceID: "ws-7", Owner: "acme", Token: "c0ffee00c0ffee00",
		Compute: cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.large"},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(vm.Provider, vm.Region, vm.WorkspaceID)
	// Output: aws eu-central-1 ws-7
}
