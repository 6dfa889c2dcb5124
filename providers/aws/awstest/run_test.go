package awstest_test

import (
	"slices"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch/providers/aws/awstest"
)

func TestRunInstancesLaunchesAPendingTaggedInstance(t *testing.T) {
	srv := newServer(t)
	before := time.Now().Truncate(time.Millisecond)
	inst := run(t, srv.Client("eu-west-1"), "tok-1", map[string]string{"owner": "me", "Name": "box"})

	if got := inst.State.Name; got != types.InstanceStateNamePending {
		t.Errorf("a new instance is %q; want pending", got)
	}
	if awssdk.ToInt32(inst.State.Code) != 0 {
		t.Errorf("pending has state code %d; want 0", awssdk.ToInt32(inst.State.Code))
	}
	if inst.InstanceType != types.InstanceTypeT3Micro || awssdk.ToString(inst.ImageId) != testAMI {
		t.Errorf("instance type %q image %q; want t3.micro %s", inst.InstanceType, awssdk.ToString(inst.ImageId), testAMI)
	}
	if got := tagsOf(inst); got["owner"] != "me" || got["Name"] != "box" {
		t.Errorf("RunInstances answered tags %v; want owner=me Name=box", got)
	}
	if lt := awssdk.ToTime(inst.LaunchTime); lt.Before(before) || lt.After(time.Now()) {
		t.Errorf("launch time %v is not the time of the call", lt)
	}
	if awssdk.ToString(inst.ClientToken) != "tok-1" {
		t.Errorf("client token %q; want tok-1", awssdk.ToString(inst.ClientToken))
	}

	truth := srv.Instances()
	if len(truth) != 1 {
		t.Fatalf("ground truth holds %d instances; want 1", len(truth))
	}
	g := truth[0]
	if g.ID != awssdk.ToString(inst.InstanceId) || g.Region != "eu-west-1" || g.Type != "t3.micro" || g.ImageID != testAMI ||
		g.State != awstest.StatePending || g.Tags["owner"] != "me" || g.ClientToken != "tok-1" || !g.Live() {
		t.Errorf("ground truth %+v does not match the launched instance", g)
	}
}

func TestClientTokenMakesRunInstancesIdempotent(t *testing.T) {
	ctx := t.Context()
	srv := newServer(t)
	c := srv.Client("us-east-1")
	first, err := c.RunInstances(ctx, runInput("same", map[string]string{"k": "v"}))
	require.NoError(t, err)
	again, err := c.RunInstances(ctx, runInput("same", map[string]string{"k": "v"}))
	require.NoError(t, err, "repeating a RunInstances with its ClientToken")
	if awssdk.ToString(first.ReservationId) != awssdk.ToString(again.ReservationId) ||
		awssdk.ToString(first.Instances[0].InstanceId) != awssdk.ToString(again.Instances[0].InstanceId) {
		t.Errorf("the same ClientToken launched twice: %s and %s", awssdk.ToString(first.Instances[0].InstanceId), awssdk.ToString(again.Instances[0].InstanceId))
	}
	if n := len(srv.Instances()); n != 1 {
		t.Errorf("%d instances exist after a repeated RunInstances; want 1", n)
	}

	_, err = c.RunInstances(ctx, runInput("same", map[string]string{"k": "other"}))
	wantAPIError(t, err, "IdempotentParameterMismatch", 400)

	other := run(t, srv.Client("eu-central-1"), "same", map[string]string{"k": "v"})
	if awssdk.ToString(other.InstanceId) == awssdk.ToString(first.Instances[0].InstanceId) {
		t.Error("a ClientToken is scoped to a region, but another region answered the same instance")
	}
	a, b := run(t, c, "", nil), run(t, c, "", nil)
	if awssdk.ToString(a.InstanceId) == awssdk.ToString(b.InstanceId) {
		t.Error("two RunInstances without a ClientToken launched one instance")
	}
}

func TestRunInstancesRefusesWhatEC2Refuses(t *testing.T) {
	ctx := t.Context()
	srv := newServer(t)
	c := srv.Client("us-east-1")
	cases := []struct {
		name   string
		mutate func(*ec2.RunInstancesInput)
		code   string
	}{
		{"no image", func(in *ec2.RunInstancesInput) { in.ImageId = nil }, "MissingParameter"},
		{"malformed image", func(in *ec2.RunInstancesInput) { in.ImageId = awssdk.String("ubuntu") }, "InvalidAMIID.Malformed"},
		{"bad instance type", func(in *ec2.RunInstancesInput) { in.InstanceType = "huge" }, "InvalidParameterValue"},
		{"min above max", func(in *ec2.RunInstancesInput) { in.MinCount = awssdk.Int32(3) }, "InvalidParameterValue"},
		{"too many", func(in *ec2.RunInstancesInput) { in.MinCount, in.MaxCount = awssdk.Int32(500), awssdk.Int32(500) }, "InstanceLimitExceeded"},
		{"long token", func(in *ec2.RunInstancesInput) { in.ClientToken = awssdk.String(string(make([]byte, 65))) }, "InvalidParameterValue"},
		{"reserved tag", func(in *ec2.RunInstancesInput) {
			in.TagSpecifications = []types.TagSpecification{{ResourceType: types.ResourceTypeInstance,
				Tags: []types.Tag{{Key: awssdk.String("aws:x"), Value: awssdk.String("v")}}}}
		}, "InvalidParameterValue"},
		{"malformed subnet", func(in *ec2.RunInstancesInput) { in.SubnetId = awssdk.String("net-1") }, "InvalidSubnetID.Malformed"},
		{"malformed group", func(in *ec2.RunInstancesInput) { in.SecurityGroupIds = []string{"default"} }, "InvalidGroupId.Malformed"},
		{"bad user data", func(in *ec2.RunInstancesInput) { in.UserData = awssdk.String("not base64!") }, "InvalidParameterValue"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := runInput("", nil)
			tc.mutate(in)
			_, err := c.RunInstances(ctx, in)
			wantAPIError(t, err, tc.code, 400)
		})
	}
	if n := len(srv.Instances()); n != 0 {
		t.Errorf("refused requests launched %d instances", n)
	}
}

func TestDryRunChecksWithoutEffect(t *testing.T) {
	ctx := t.Context()
	srv := newServer(t)
	c := srv.Client("us-east-1")
	in := runInput("dry", nil)
	in.DryRun = awssdk.Bool(true)
	_, err := c.RunInstances(ctx, in)
	wantAPIError(t, err, "DryRunOperation", 412)
	if n := len(srv.Instances()); n != 0 {
		t.Errorf("a dry run launched %d instances", n)
	}
}

func TestInstancesBootAndShutDown(t *testing.T) {
	ctx := t.Context()
	t.Run("on the next DescribeInstances by default", func(t *testing.T) {
		srv := newServer(t)
		c := srv.Client("us-east-1")
		id := awssdk.ToString(run(t, c, "", nil).InstanceId)
		if got := state(t, c, id); got != "running" {
			t.Fatalf("after one DescribeInstances a new instance is %q; want running", got)
		}
		out, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}})
		require.NoError(t, err)
		if cur, prev := out.TerminatingInstances[0].CurrentState.Name, out.TerminatingInstances[0].PreviousState.Name; cur != "shutting-down" || prev != "running" {
			t.Fatalf("TerminateInstances answered %s → %s; want running → shutting-down", prev, cur)
		}
		if got := srv.Instances()[0]; got.State != awstest.StateShuttingDown || got.Live() {
			t.Fatalf("ground truth after TerminateInstances: %s (live %v); want shutting-down, not live", got.State, got.Live())
		}
		if got := state(t, c, id); got != "terminated" {
			t.Fatalf("after TerminateInstances and a DescribeInstances the instance is %q; want terminated", got)
		}
	})
	t.Run("after the configured times", func(t *testing.T) {
		const d = 80 * time.Millisecond
		srv := newServer(t, awstest.WithBootTime(d), awstest.WithShutdownTime(d))
		c := srv.Client("us-east-1")
		id := awssdk.ToString(run(t, c, "", nil).InstanceId)
		if got := state(t, c, id); got != "pending" {
			t.Fatalf("within its boot time an instance is %q; want pending", got)
		}
		time.Sleep(d)
		if got := srv.Instances()[0].State; got != awstest.StateRunning {
			t.Fatalf("after its boot time the ground truth says %q; want running", got)
		}
		if _, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}}); err != nil {
			t.Fatal(err)
		}
		if got := state(t, c, id); got != "shutting-down" {
			t.Fatalf("within its shutdown time an instance is %q; want shutting-down", got)
		}
		time.Sleep(d)
		if got := state(t, c, id); got != "terminated" {
			t.Fatalf("after its shutdown time an instance is %q; want terminated", got)
		}
	})
}

// state returns the state DescribeInstances reports for id.
func state(t *testing.T, c *ec2.Client, id string) string {
	ctx := t.Context()
	t.Helper()
	out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	require.NoErrorf(t, err, "DescribeInstances(%s)", id)
	if len(out.Reservations) != 1 || len(out.Reservations[0].Instances) != 1 {
		t.Fatalf("DescribeInstances(%s) answered %d reservations; want the instance", id, len(out.Reservations))
	}
	return string(out.Reservations[0].Instances[0].State.Name)
}

func TestAddInstanceCreatesARunningForeignInstance(t *testing.T) {
	srv := newServer(t)
	added := srv.AddInstance("", map[string]string{"owner": "someone-else"})
	if added.Region != awstest.DefaultRegion || added.State != awstest.StateRunning || added.ClientToken != "" {
		t.Fatalf("AddInstance returned %+v; want a running instance in %s without a ClientToken", added, awstest.DefaultRegion)
	}
	got, _ := describe(t, srv.Client(awstest.DefaultRegion), 0, tagFilter("owner", "someone-else"))
	if !slices.Equal(ids(got), []string{added.ID}) {
		t.Fatalf("DescribeInstances lists %v; want the added instance %s", ids(got), added.ID)
	}
}
