package awstest_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/ownership"
	"github.com/cloudswitch/cloudswitch/providers/aws/awstest"
	"github.com/cloudswitch/cloudswitch/providers/emulator"
	"github.com/cloudswitch/cloudswitch/providers/providertest"
)

// A Fault naming an action the emulator does not serve is refused, loudly:
// a typo never passes as a fault that silently never fires.
func TestInjectRefusesAnActionItDoesNotServe(t *testing.T) {
	rec := &recorder{TB: t}
	srv := awstest.NewServer(rec)
	err := srv.Inject(awstest.Fault{Op: "RunInstance", Status: 503})
	if !errors.Is(err, emulator.ErrUnknownOp) {
		t.Fatalf("Inject of an unknown action: %v; want ErrUnknownOp", err)
	}
	if len(rec.errs) != 1 {
		t.Errorf("test errors %q; want the unknown action reported once", rec.errs)
	}
	for _, op := range []string{"", awstest.OpRunInstances, awstest.OpTerminateInstances, awstest.OpDescribeInstances,
		awstest.OpStopInstances, awstest.OpStartInstances, awstest.OpModifyInstanceAttribute} {
		if err := srv.Inject(awstest.Fault{Op: op, Times: 1}); err != nil {
			t.Errorf("Inject(%q): %v", op, err)
		}
	}
	if len(rec.errs) != 1 {
		t.Errorf("test errors %q after served actions; want only the first", rec.errs)
	}

	started, err := awstest.Start("127.0.0.1:0")
	require.NoError(t, err)
	defer started.Close()
	if err := started.Inject(awstest.Fault{Op: "Describe"}); !errors.Is(err, emulator.ErrUnknownOp) {
		t.Errorf("a started server's Inject of an unknown action: %v; want ErrUnknownOp", err)
	}
}

// Live is the ground truth of the instances that exist, with what their
// tags say about their owner.
func TestLiveIsTheGroundTruthWithOwnership(t *testing.T) {
	ctx := t.Context()
	srv := newServer(t)
	kept := srv.AddInstance("eu-west-1", map[string]string{
		ownership.WorkspaceKey: "ws-1", ownership.TokenKey: "tok-1", ownership.InstallationKey: "inst-1",
	})
	gone := srv.AddInstance("", nil)
	if _, err := srv.Client(awstest.DefaultRegion).TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{gone.ID}}); err != nil {
		t.Fatal(err)
	}
	want := []cloudswitch.Instance{{
		Provider: cloudswitch.AWS, ID: kept.ID, Region: "eu-west-1", WorkspaceID: "ws-1", Token: "tok-1",
		Installation: "inst-1", InstanceType: kept.Type, Image: kept.ImageID, CreatedAt: kept.LaunchTime,
	}}
	if got := srv.Live(); !slices.Equal(got, want) {
		t.Errorf("Live() = %+v; want %+v", got, want)
	}
}

// The harness's levers act on the emulator as EC2 would answer.
func TestHarnessLeversActOnTheEmulator(t *testing.T) {
	ctx := t.Context()
	srv := newServer(t)
	h := srv.Harness(nil)
	if h.Name != cloudswitch.AWS || h.Compute.Provider != cloudswitch.AWS || h.Fail == nil || h.LoseResponse == nil ||
		h.Live == nil || h.Hide == nil || h.FailCreate == nil || h.SetDown == nil || h.SetPageSize == nil || h.ListCalls == nil {
		t.Fatalf("Harness leaves a lever the emulator serves unset: %+v", h)
	}
	c := srv.Client(awstest.DefaultRegion)
	h.Fail(providertest.OpList, 1, providertest.Throttled)
	_, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
	wantAPIError(t, err, "RequestLimitExceeded", 503)
	if n := h.ListCalls(); n != 1 {
		t.Errorf("ListCalls() = %d; want 1", n)
	}
	h.LoseResponse(providertest.OpProvision)
	if _, err := c.RunInstances(ctx, runInput("lost", nil)); err == nil {
		t.Error("RunInstances answered although the harness lost its answer")
	}
	live, err := h.Live(ctx)
	if err != nil || len(live) != 1 {
		t.Errorf("Live = %+v, %v; want the instance whose answer was lost", live, err)
	}
}
