package aws_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/aws"
	"github.com/cloudswitch/cloudswitch/providers/aws/awstest"
)

// The driver against EC2's documented behaviours that are not errors of a
// call: eventual consistency, launches that fail, ClientToken windows,
// expired page tokens, quotas and capacity (issue 17). Each test fails on a
// driver that takes the cloud at its first word.

// EC2 may answer InvalidInstanceID.NotFound for an instance it launched
// moments ago; that "does not mean the instance does not exist". Deprovision
// must not count it gone — a rollback would leak the fresh VM.
func TestDeprovisionOfAnInstanceEC2DoesNotKnowYetIsNotGone(t *testing.T) {
	ctx := t.Context()
	srv := awstest.NewServer(t, awstest.WithConsistencyDelay(time.Hour))
	drv, err := aws.New(srv.Client("us-east-1"), aws.WithImage(testAMI), aws.WithWaitRunning(false))
	require.NoError(t, err)
	inst, err := drv.Provision(ctx, request("acme", "ws-1", "tok-1"))
	require.NoError(t, err)
	err = drv.Deprovision(ctx, inst)
	if err == nil || errors.Is(err, cloudswitch.ErrInstanceNotFound) || !errors.Is(err, cloudswitch.ErrTransient) || errors.Is(err, cloudswitch.ErrRefused) {
		t.Fatalf("Deprovision of an instance launched moments ago that EC2 does not know yet: %v; want transient, neither gone nor refused", err)
	}
	if got := liveIDs(srv); len(got) != 1 {
		t.Fatalf("live %v; want the instance still running", got)
	}
	srv.Advance(time.Hour) // EC2 has converged
	require.NoError(t, drv.Deprovision(ctx, inst), "Deprovision once EC2 knows the instance")
	if got := liveIDs(srv); len(got) != 0 {
		t.Fatalf("live %v after Deprovision", got)
	}
}

// Past the consistency window, an instance EC2 does not know is gone.
func TestDeprovisionOfAnOldInstanceEC2DoesNotKnowIsGone(t *testing.T) {
	ctx := t.Context()
	drv, _ := newDriver(t, aws.WithConsistencyWindow(time.Minute))
	err := drv.Deprovision(ctx, cloudswitch.Instance{Provider: cloudswitch.AWS, ID: "i-0000000000000dead", CreatedAt: time.Now().Add(-2 * time.Minute)})
	if !errors.Is(err, cloudswitch.ErrInstanceNotFound) || errors.Is(err, cloudswitch.ErrTransient) {
		t.Fatalf("Deprovision of an instance launched 2 minutes ago that EC2 does not know, with a 1-minute window: %v; want ErrInstanceNotFound", err)
	}
}

// A launch can fail after RunInstances answered: pending, then terminated
// with a state reason. Provision must not report that VM provisioned, and
// the token, spent on a dead instance, is answered ErrTokenSpent — never a
// silent second launch, and never a refusal (the token did launch a VM).
func TestALaunchThatFailsIsNotProvisioned(t *testing.T) {
	ctx := t.Context()
	drv, srv := newDriver(t)
	srv.FailLaunches(1, awstest.ReasonVolumeLimitExceeded)
	_, err := drv.Provision(ctx, request("acme", "ws-1", "tok-1"))
	if !errors.Is(err, aws.ErrLaunchFailed) || errors.Is(err, cloudswitch.ErrRefused) || errors.Is(err, cloudswitch.ErrTransient) {
		t.Fatalf("Provision of an instance that went pending → terminated: %v; want ErrLaunchFailed, permanent, not a refusal (EC2 acted)", err)
	}
	if !strings.Contains(err.Error(), awstest.ReasonVolumeLimitExceeded) {
		t.Errorf("the error does not say why the launch failed: %v", err)
	}
	_, err = drv.Provision(ctx, request("acme", "ws-1", "tok-1"))
	if !errors.Is(err, aws.ErrTokenSpent) || errors.Is(err, cloudswitch.ErrRefused) || errors.Is(err, cloudswitch.ErrTransient) {
		t.Fatalf("Provision again with the token of the failed launch: %v; want ErrTokenSpent, permanent, not a refusal", err)
	}
	if n := len(srv.Instances()); n != 1 {
		t.Fatalf("%d instances launched; want 1 (a spent token never launches another)", n)
	}
}

// Within EC2's ClientToken window, a token whose instance was terminated is
// answered IdempotentInstanceTerminated: ErrTokenSpent, not a new launch,
// and not a refusal (the token did launch a VM once).
func TestATokenWhoseInstanceWasTerminatedIsSpent(t *testing.T) {
	ctx := t.Context()
	drv, srv := newDriver(t)
	req := request("acme", "ws-1", "tok-1")
	inst, err := drv.Provision(ctx, req)
	require.NoError(t, err)
	require.NoError(t, drv.Deprovision(ctx, inst))
	list(t, drv, "acme") // terminated by now
	srv.Advance(23 * time.Hour)
	_, err = drv.Provision(ctx, req)
	if !errors.Is(err, aws.ErrTokenSpent) || errors.Is(err, cloudswitch.ErrRefused) || errors.Is(err, cloudswitch.ErrTransient) {
		t.Fatalf("Provision with the token of a terminated instance: %v; want ErrTokenSpent, permanent, not a refusal", err)
	}
	if got := liveIDs(srv); len(got) != 0 {
		t.Fatalf("a spent token launched %v", got)
	}
}

// EC2 lets a NextToken expire (InvalidPaginationToken); a listing that meets
// it starts over and still yields every instance exactly once.
func TestInstancesSurvivesAnExpiredPageToken(t *testing.T) {
	ctx := t.Context()
	drv, srv := newDriver(t)
	srv.SetPageSize(3)
	want := map[string]bool{}
	for i := range 7 {
		inst, err := drv.Provision(ctx, request("acme", "ws", "tok-"+string(rune('a'+i))))
		require.NoError(t, err)
		want[inst.ID] = true
	}
	got := map[string]int{}
	for inst, err := range drv.Instances(ctx, "acme") {
		require.NoError(t, err, "Instances, its page token expired after the first instance")
		got[inst.ID]++
		if len(got) == 1 {
			srv.ExpirePageTokens()
		}
	}
	for id := range want {
		if got[id] != 1 {
			t.Errorf("instance %s yielded %d times; want once", id, got[id])
		}
	}
	if len(got) != len(want) {
		t.Errorf("yielded %d instances; want %d", len(got), len(want))
	}
}

// InstanceLimitExceeded is EC2 refusing a launch over the quota: a refusal
// (the switch may say nothing changed), not transient; it clears once the
// instances that count against it are terminated.
func TestInstanceLimitIsARefusalThatClears(t *testing.T) {
	ctx := t.Context()
	srv := awstest.NewServer(t, awstest.WithInstanceLimit(1), awstest.WithShutdownTime(time.Minute))
	drv, err := aws.New(srv.Client("us-east-1"), aws.WithImage(testAMI), aws.WithPollInterval(testPoll))
	require.NoError(t, err)
	first, err := drv.Provision(ctx, request("acme", "ws-1", "tok-1"))
	require.NoError(t, err)
	require.NoError(t, drv.Deprovision(ctx, first))
	_, err = drv.Provision(ctx, request("acme", "ws-2", "tok-2"))
	if !errors.Is(err, cloudswitch.ErrRefused) || errors.Is(err, cloudswitch.ErrTransient) {
		t.Fatalf("Provision over the instance limit (one instance still shutting down): %v; want a permanent refusal", err)
	}
	srv.Advance(time.Minute) // the first instance is terminated
	if _, err := drv.Provision(ctx, request("acme", "ws-2", "tok-2")); err != nil {
		t.Fatalf("Provision once the instance holding the quota is terminated: %v", err)
	}
}

// InsufficientInstanceCapacity is one of EC2's server errors: transient, and
// never a refusal.
func TestInsufficientCapacityIsTransientNotARefusal(t *testing.T) {
	ctx := t.Context()
	drv, srv := newDriver(t)
	srv.Inject(awstest.Fault{Op: awstest.OpRunInstances, Times: 1, Status: 500, Code: "InsufficientInstanceCapacity"})
	_, err := drv.Provision(ctx, request("acme", "ws-1", "tok-1"))
	if !errors.Is(err, cloudswitch.ErrTransient) || errors.Is(err, cloudswitch.ErrRefused) {
		t.Fatalf("Provision answered InsufficientInstanceCapacity: %v; want transient, not a refusal", err)
	}
	if _, err := drv.Provision(ctx, request("acme", "ws-1", "tok-1")); err != nil {
		t.Fatalf("Provision once capacity is back: %v", err)
	}
}
