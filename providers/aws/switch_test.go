package aws_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/aws"
	"github.com/cloudswitch/cloudswitch/providers/aws/awstest"
	"github.com/cloudswitch/cloudswitch/providers/memprovider"
	"github.com/cloudswitch/cloudswitch/store/memstore"
)

// Issue 11, finding 3, end to end: a switch whose new EC2 VM was launched
// but whose wait for running failed on a 4xx must not report "nothing
// changed" (AbortError) while that VM runs with no record holding it; it
// stays journaled, and Resume records the VM.
func TestASwitchWhoseWaitFailsAfterTheLaunchStaysJournaled(t *testing.T) {
	ctx := t.Context()
	srv := awstest.NewServer(t, awstest.WithBootTime(time.Hour))
	drv, err := aws.New(srv.Client("us-east-1"), aws.WithImage(testAMI), aws.WithPollInterval(testPoll),
		aws.WithWaitTimeout(time.Second))
	require.NoError(t, err)
	store := memstore.New()
	if _, err := store.Create(ctx, cloudswitch.Workspace{ID: "ws-1", Compute: cloudswitch.Compute{Provider: cloudswitch.Hetzner, InstanceType: "cpx31"}}); err != nil {
		t.Fatal(err)
	}
	sw, err := cloudswitch.New(store, map[string]cloudswitch.Provider{
		cloudswitch.AWS:     drv,
		cloudswitch.Hetzner: memprovider.New(cloudswitch.Hetzner),
	}, cloudswitch.WithRetryPolicy(cloudswitch.RetryPolicy{InitialInterval: time.Millisecond, MaxInterval: time.Millisecond, MaxAttempts: 2}))
	require.NoError(t, err)
	srv.Inject(awstest.Fault{Op: awstest.OpDescribeInstances, Status: 403, Code: "UnauthorizedOperation"})
	_, err = sw.Switch(ctx, "ws-1", cloudswitch.Request{
		Compute:         cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.medium"},
		ConfirmRecreate: true,
	})
	var abort *cloudswitch.AbortError
	var incomplete *cloudswitch.IncompleteError
	if errors.As(err, &abort) || !errors.As(err, &incomplete) {
		t.Fatalf("Switch whose new VM launched but whose wait was refused: %v; want *IncompleteError, never AbortError (a VM runs)", err)
	}
	live := liveIDs(srv)
	if len(live) != 1 {
		t.Fatalf("live EC2 instances %v; want the one launched", live)
	}
	w, err := store.Get(ctx, "ws-1")
	if err != nil || w.Pending == nil {
		t.Fatalf("the workspace holds no intent (%v): the launched VM %s is held by nothing", err, live[0])
	}

	srv.ClearFaults()
	srv.Advance(time.Hour) // booted
	if _, err := sw.Resume(ctx, "ws-1"); err != nil {
		t.Fatalf("Resume: %v", err)
	}
	w, err = store.Get(ctx, "ws-1")
	if err != nil || w.Pending != nil || w.Instance == nil || w.Instance.ID != live[0] {
		t.Fatalf("after Resume the workspace is %+v (%v); want it recording VM %s with no intent", w, err, live[0])
	}
	if got := liveIDs(srv); len(got) != 1 {
		t.Fatalf("live EC2 instances %v after Resume; want exactly one", got)
	}
}
