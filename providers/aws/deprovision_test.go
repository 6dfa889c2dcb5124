package aws_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/aws"
	"github.com/cloudswitch/cloudswitch/providers/aws/awstest"
)

func TestDeprovisionTerminatesAndGoneIsSuccess(t *testing.T) {
	ctx := t.Context()
	drv, srv := newDriver(t)
	inst, err := drv.Provision(ctx, request("acme", "ws-1", "tok-1"))
	require.NoError(t, err)
	require.NoError(t, drv.Deprovision(ctx, inst), "Deprovision")
	if got := srv.Instances()[0].State; got != awstest.StateShuttingDown {
		t.Fatalf("after Deprovision the instance is %s; want shutting-down (billing stopped)", got)
	}
	if err := drv.Deprovision(ctx, inst); err != nil {
		t.Fatalf("deprovisioning a shutting-down instance again: %v; want nil", err)
	}
	list(t, drv, "acme") // a DescribeInstances moves it on to terminated
	if got := srv.Instances()[0].State; got != awstest.StateTerminated {
		t.Fatalf("the instance is %s; want terminated", got)
	}
	if err := drv.Deprovision(ctx, inst); err != nil {
		t.Fatalf("deprovisioning a terminated instance: %v; want nil", err)
	}
}

func TestDeprovisionAfterADroppedResponseSucceeds(t *testing.T) {
	ctx := t.Context()
	drv, srv := newDriver(t)
	inst, err := drv.Provision(ctx, request("acme", "ws-1", "tok-1"))
	require.NoError(t, err)
	srv.Inject(awstest.Fault{Op: awstest.OpTerminateInstances, Times: 1, Drop: true})
	if err := drv.Deprovision(ctx, inst); classOf(err) != isTransient {
		t.Fatalf("Deprovision whose answer was lost: %v; want ErrTransient", err)
	}
	if got := liveIDs(srv); len(got) != 0 {
		t.Fatalf("the lost TerminateInstances did not take effect: live %v", got)
	}
	require.NoError(t, drv.Deprovision(ctx, inst), "retrying Deprovision")
}

func TestDeprovisionUsesTheInstancesRegion(t *testing.T) {
	ctx := t.Context()
	srv := awstest.NewServer(t)
	drv, err := aws.NewFromConfig(srv.Config(), aws.WithImage(testAMI), aws.WithRegions("us-east-1", "eu-west-1"))
	require.NoError(t, err)
	req := request("acme", "ws-1", "tok-1")
	req.Compute.Region = "eu-west-1"
	inst, err := drv.Provision(ctx, req)
	require.NoError(t, err)
	require.NoError(t, drv.Deprovision(ctx, inst), "Deprovision in eu-west-1")
	if got := srv.Instances()[0]; got.Live() {
		t.Fatalf("the eu-west-1 instance is %s after Deprovision", got.State)
	}
}

func TestDeprovisionRefusesWhatIsNotAnEC2Instance(t *testing.T) {
	ctx := t.Context()
	drv, srv := newDriver(t)
	for name, inst := range map[string]cloudswitch.Instance{
		"empty id":          {Provider: cloudswitch.AWS},
		"hetzner instance":  {Provider: cloudswitch.Hetzner, ID: "i-0123456789abcdef0"},
		"bad region":        {Provider: cloudswitch.AWS, ID: "i-0123456789abcdef0", Region: "mars"},
		"region not served": {Provider: cloudswitch.AWS, ID: "i-0123456789abcdef0", Region: "eu-west-1"},
	} {
		if err := drv.Deprovision(ctx, inst); err == nil || classOf(err) != isPermanent {
			t.Errorf("Deprovision of a %s: %v; want a permanent error (never a guess that it is gone)", name, err)
		}
	}
	if n := srv.CallCount(""); n != 0 {
		t.Errorf("refused deprovisions made %d calls; want none", n)
	}
}

func TestWithWaitTerminatedWaitsForTerminated(t *testing.T) {
	ctx := t.Context()
	t.Run("waits", func(t *testing.T) {
		srv := awstest.NewServer(t, awstest.WithShutdownTime(150*time.Millisecond))
		drv, err := aws.New(srv.Client("us-east-1"), aws.WithImage(testAMI), aws.WithWaitTerminated(true), aws.WithPollInterval(10*time.Millisecond))
		require.NoError(t, err)
		inst, err := drv.Provision(ctx, request("acme", "ws-1", "tok-1"))
		require.NoError(t, err)
		require.NoError(t, drv.Deprovision(ctx, inst), "Deprovision")
		if got := srv.Instances()[0].State; got != awstest.StateTerminated {
			t.Fatalf("WithWaitTerminated returned while the instance is %s; want terminated", got)
		}
	})
	t.Run("does not wait by default", func(t *testing.T) {
		srv := awstest.NewServer(t, awstest.WithShutdownTime(time.Hour))
		drv, err := aws.New(srv.Client("us-east-1"), aws.WithImage(testAMI))
		require.NoError(t, err)
		inst, err := drv.Provision(ctx, request("acme", "ws-1", "tok-1"))
		require.NoError(t, err)
		srv.ResetCalls()
		require.NoError(t, drv.Deprovision(ctx, inst))
		if n := srv.CallCount(awstest.OpDescribeInstances); n != 1 {
			t.Errorf("without WithWaitTerminated, Deprovision made %d DescribeInstances calls; want 1 (reading the tags)", n)
		}
	})
	t.Run("bounded by the context", func(t *testing.T) {
		srv := awstest.NewServer(t, awstest.WithShutdownTime(time.Hour))
		drv, err := aws.New(srv.Client("us-east-1"), aws.WithImage(testAMI), aws.WithWaitTerminated(true), aws.WithPollInterval(10*time.Millisecond))
		require.NoError(t, err)
		inst, err := drv.Provision(ctx, request("acme", "ws-1", "tok-1"))
		require.NoError(t, err)
		dctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		err = drv.Deprovision(dctx, inst)
		if !errors.Is(err, context.DeadlineExceeded) || classOf(err) != isPermanent {
			t.Fatalf("a wait past the context's deadline: %v; want context.DeadlineExceeded, not transient", err)
		}
	})
	t.Run("an instance EC2 forgot is terminated", func(t *testing.T) {
		srv := awstest.NewServer(t, awstest.WithShutdownTime(time.Hour))
		drv, err := aws.New(srv.Client("us-east-1"), aws.WithImage(testAMI), aws.WithWaitTerminated(true), aws.WithPollInterval(10*time.Millisecond))
		require.NoError(t, err)
		inst, err := drv.Provision(ctx, request("acme", "ws-1", "tok-1"))
		require.NoError(t, err)
		srv.Inject(awstest.Fault{Op: awstest.OpDescribeInstances, Times: 1}) // the read before terminating sees it
		srv.Inject(awstest.Fault{Op: awstest.OpDescribeInstances, Status: 400, Code: "InvalidInstanceID.NotFound"})
		if err := drv.Deprovision(ctx, inst); err != nil {
			t.Fatalf("waiting for an instance DescribeInstances no longer knows: %v; want nil (it is gone)", err)
		}
	})
	// Issue 11, finding 3: once TerminateInstances was accepted, a poll
	// that fails, even with a 4xx, says nothing about the termination: it is
	// transient and never a refusal, so no switch reports "nothing changed"
	// while the old VM is shutting down.
	t.Run("a poll refused after the termination was accepted is transient, not a refusal", func(t *testing.T) {
		srv := awstest.NewServer(t, awstest.WithShutdownTime(time.Hour))
		drv, err := aws.New(srv.Client("us-east-1"), aws.WithImage(testAMI), aws.WithWaitTerminated(true), aws.WithPollInterval(10*time.Millisecond))
		require.NoError(t, err)
		inst, err := drv.Provision(ctx, request("acme", "ws-1", "tok-1"))
		require.NoError(t, err)
		srv.Inject(awstest.Fault{Op: awstest.OpDescribeInstances, Times: 1}) // the read before terminating sees it
		srv.Inject(awstest.Fault{Op: awstest.OpDescribeInstances, Status: 403, Code: "UnauthorizedOperation"})
		err = drv.Deprovision(ctx, inst)
		if !errors.Is(err, cloudswitch.ErrTransient) || errors.Is(err, cloudswitch.ErrRefused) {
			t.Fatalf("a 403 on a poll after TerminateInstances was accepted: %v; want transient and not a refusal", err)
		}
		if srv.Instances()[0].Live() {
			t.Fatal("the termination did not take effect")
		}
	})
}

// Issue 11, finding 8: Deprovision reads the instance's tags first and
// destroys nothing whose tags name another workspace (or installation) than
// the one it was asked about. An instance without the tag — created outside
// cloudswitch, as a workspace's VM adopted from an existing table is — is not
// fenced by it.
func TestDeprovisionRefusesAnInstanceTaggedForAnotherWorkspace(t *testing.T) {
	ctx := t.Context()
	drv, srv := newDriver(t)
	theirs := srv.AddInstance("", map[string]string{"cloudswitch-workspace": "ws-2", "cloudswitch-installation": "inst-a"})
	for name, inst := range map[string]cloudswitch.Instance{
		"workspace":    {Provider: cloudswitch.AWS, ID: theirs.ID, WorkspaceID: "ws-1"},
		"installation": {Provider: cloudswitch.AWS, ID: theirs.ID, WorkspaceID: "ws-2", Installation: "inst-b"},
	} {
		err := drv.Deprovision(ctx, inst)
		if !errors.Is(err, cloudswitch.ErrNotOurs) || errors.Is(err, cloudswitch.ErrInstanceNotFound) {
			t.Fatalf("Deprovision of ws-2's instance of inst-a naming another %s: %v; want ErrNotOurs", name, err)
		}
	}
	if n := srv.CallCount(awstest.OpTerminateInstances); n != 0 {
		t.Fatalf("Deprovision called TerminateInstances %d times on an instance that is not the workspace's", n)
	}
	if !srv.Instances()[0].Live() {
		t.Fatal("the other workspace's instance was destroyed")
	}

	legacy := srv.AddInstance("", map[string]string{"Name": "created before cloudswitch"})
	if err := drv.Deprovision(ctx, cloudswitch.Instance{Provider: cloudswitch.AWS, ID: legacy.ID, WorkspaceID: "ws-1", Installation: "inst-a"}); err != nil {
		t.Fatalf("Deprovision of an instance without ownership tags: %v; want it destroyed (the tags are not there to fence it)", err)
	}
}

// An instance without a region is gone only when no region the driver
// lists knows it: each is asked, by id and filtered on the id.
func TestDeprovisionWithoutARegionIsGoneOnlyWhenNoListedRegionKnowsIt(t *testing.T) {
	ctx := t.Context()
	srv := awstest.NewServer(t)
	drv, err := aws.NewFromConfig(srv.Config(), aws.WithImage(testAMI), aws.WithRegions("us-east-1", "eu-west-1"))
	require.NoError(t, err)
	err = drv.Deprovision(ctx, cloudswitch.Instance{Provider: cloudswitch.AWS, ID: "i-0123456789abcdef0"})
	if !errors.Is(err, cloudswitch.ErrInstanceNotFound) {
		t.Fatalf("Deprovision of an instance no region knows: %v; want ErrInstanceNotFound", err)
	}
	if n := srv.CallCount(awstest.OpDescribeInstances); n != 4 {
		t.Errorf("Deprovision made %d DescribeInstances calls; want 4 (by id and filtered, in each of two regions)", n)
	}
}
