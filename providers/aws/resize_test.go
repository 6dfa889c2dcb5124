package aws_test

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/aws/awstest"
)

// groundTruth returns the emulator's view of instance id.
func groundTruth(t *testing.T, srv *awstest.Server, id string) awstest.Instance {
	t.Helper()
	for _, i := range srv.Instances() {
		if i.ID == id {
			return i
		}
	}
	t.Fatalf("no instance %s", id)
	return awstest.Instance{}
}

// Resize stops the instance, changes its type and starts it again, keeping
// its id; it is idempotent, and finishes a resize stopped half-way.
func TestResizeChangesTheTypeInPlace(t *testing.T) {
	ctx := t.Context()
	drv, srv := newDriver(t)
	inst, err := drv.Provision(ctx, request("acme", "ws-1", "tok-1"))
	require.NoError(t, err)
	got, err := drv.Resize(ctx, inst, "t3.large")
	require.NoError(t, err, "Resize")
	if got.ID != inst.ID || got.InstanceType != "t3.large" || got.WorkspaceID != "ws-1" {
		t.Fatalf("Resize returned %+v; want instance %s of ws-1 with type t3.large", got, inst.ID)
	}
	if g := groundTruth(t, srv, inst.ID); g.Type != "t3.large" || g.State != awstest.StateRunning {
		t.Fatalf("the instance is %s %s; want running t3.large", g.State, g.Type)
	}

	srv.ResetCalls()
	if _, err := drv.Resize(ctx, inst, "t3.large"); err != nil {
		t.Fatalf("Resize to the type it has: %v", err)
	}
	if n := srv.CallCount(awstest.OpStopInstances); n != 0 {
		t.Fatalf("resizing to the type the instance has stopped it %d times", n)
	}

	// Half-way: stopped by an earlier Resize that died.
	if _, err := srv.Client("us-east-1").StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{inst.ID}}); err != nil {
		t.Fatal(err)
	}
	got, err = drv.Resize(ctx, inst, "t3.xlarge")
	require.NoError(t, err, "Resize of an instance stopped half-way")
	if g := groundTruth(t, srv, inst.ID); got.InstanceType != "t3.xlarge" || g.Type != "t3.xlarge" || g.State != awstest.StateRunning {
		t.Fatalf("after finishing the resize: returned %s, the instance is %s %s; want running t3.xlarge", got.InstanceType, g.State, g.Type)
	}
}

// A refused stop changes nothing and is a refusal; a refused type change
// starts the instance again with its old type, and is no refusal since the
// stop took effect (the guest was stopped and started again).
func TestResizeRefusedLeavesTheInstanceAsItWas(t *testing.T) {
	ctx := t.Context()
	drv, srv := newDriver(t)
	inst, err := drv.Provision(ctx, request("acme", "ws-1", "tok-1"))
	require.NoError(t, err)
	srv.Inject(awstest.Fault{Op: awstest.OpStopInstances, Times: 1, Status: 403, Code: "UnauthorizedOperation"})
	if _, err := drv.Resize(ctx, inst, "t3.large"); !errors.Is(err, cloudswitch.ErrRefused) {
		t.Fatalf("Resize whose StopInstances was refused: %v; want a refusal", err)
	}
	if g := groundTruth(t, srv, inst.ID); g.Type != "t3.medium" || g.State != awstest.StateRunning {
		t.Fatalf("after a refused stop the instance is %s %s; want running t3.medium", g.State, g.Type)
	}

	_, err = drv.Resize(ctx, inst, "p5.48xlarge")
	if err == nil || errors.Is(err, cloudswitch.ErrRefused) {
		t.Fatalf("Resize to a type EC2 does not offer, after the stop took effect: %v; want an error that is no refusal", err)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("Resize to a type EC2 does not offer: %v; want EC2's answer reachable", err)
	}
	list(t, drv, "acme") // a DescribeInstances boots it
	if g := groundTruth(t, srv, inst.ID); g.Type != "t3.medium" || g.State != awstest.StateRunning {
		t.Fatalf("after a refused type change the instance is %s %s; want running t3.medium again", g.State, g.Type)
	}
}

// Resize touches only an instance tagged for the workspace it names.
func TestResizeRefusesAnotherWorkspacesInstance(t *testing.T) {
	ctx := t.Context()
	drv, srv := newDriver(t)
	inst, err := drv.Provision(ctx, request("acme", "ws-1", "tok-1"))
	require.NoError(t, err)
	inst.WorkspaceID = "ws-other"
	if _, err := drv.Resize(ctx, inst, "t3.large"); !errors.Is(err, cloudswitch.ErrNotOurs) {
		t.Fatalf("Resize of ws-1's instance as ws-other's: %v; want ErrNotOurs", err)
	}
	if n := srv.CallCount(awstest.OpStopInstances); n != 0 {
		t.Fatalf("StopInstances called %d times on another workspace's instance", n)
	}
}

// A VM that is gone is ErrInstanceNotFound, so that a resize of it is given
// up rather than retried for ever.
func TestResizeOfATerminatedInstanceIsNotFound(t *testing.T) {
	ctx := t.Context()
	drv, _ := newDriver(t)
	inst, err := drv.Provision(ctx, request("acme", "ws-1", "tok-1"))
	require.NoError(t, err)
	require.NoError(t, drv.Deprovision(ctx, inst))
	if _, err := drv.Resize(ctx, inst, "t3.large"); !errors.Is(err, cloudswitch.ErrInstanceNotFound) || errors.Is(err, cloudswitch.ErrTransient) {
		t.Fatalf("Resize of a terminated instance: %v; want ErrInstanceNotFound", err)
	}
}
