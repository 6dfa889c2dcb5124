package awstest_test

import (
	"context"
	"fmt"
	"log"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/cloudswitch/cloudswitch/providers/aws/awstest"
)

// A test points an EC2 client at the emulator, scripts a fault, and checks
// the ground truth.
func Example() {
	srv, err := awstest.Start("127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	client := srv.Client("eu-west-1")

	// The first attempt is throttled; the retry with the same ClientToken
	// launches the instance once.
	srv.Inject(awstest.Fault{Op: awstest.OpRunInstances, Times: 1, Status: 503, Code: "RequestLimitExceeded"})
	run := &ec2.RunInstancesInput{
		ImageId: awssdk.String("ami-0123456789abcdef0"), InstanceType: types.InstanceTypeT3Micro,
		MinCount: awssdk.Int32(1), MaxCount: awssdk.Int32(1), ClientToken: awssdk.String("launch-1"),
		TagSpecifications: []types.TagSpecification{{
			ResourceType: types.ResourceTypeInstance,
			Tags:         []types.Tag{{Key: awssdk.String("team"), Value: awssdk.String("blue")}},
		}},
	}
	if _, err := client.RunInstances(ctx, run); err != nil {
		fmt.Println("first attempt failed")
	}
	out, err := client.RunInstances(ctx, run)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("launched:", out.Instances[0].State.Name)

	for _, inst := range srv.Instances() {
		fmt.Println(inst.Region, inst.Type, inst.Tags["team"], inst.State)
	}
	fmt.Println("RunInstances calls:", srv.CallCount(awstest.OpRunInstances))
	// Output:
	// first attempt failed
	// launched: pending
	// eu-west-1 t3.micro blue pending
	// RunInstances calls: 2
}

// NewServer ties the emulator's life to a test; Config serves code that
// builds its clients from an aws.Config.
func ExampleNewServer() {
	testWithEmulator := func(t *testing.T) {
		srv := awstest.NewServer(t, awstest.WithBootTime(0))
		client := ec2.NewFromConfig(srv.Config(), func(o *ec2.Options) { o.Region = "ap-southeast-2" })
		if _, err := client.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{}); err != nil {
			t.Fatal(err)
		}
	}
	_ = testWithEmulator
}
