package aws_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/aws"
	"github.com/cloudswitch/cloudswitch/providers/aws/awstest"
)

// A RunInstances whose answer was lost launched the token's instance. The
// process restarts with a changed configuration (here: extra tags; a new
// AMI in WithRegionImages does the same) and Provision is called again with
// the journaled token: EC2 answers IdempotentParameterMismatch. EC2 acted
// for this token — a live VM carries it — so the error must not be a
// refusal ("nothing changed"), just as IdempotentInstanceTerminated is not.
func TestIdempotentParameterMismatchIsNotARefusalWhileTheTokensVMLives(t *testing.T) {
	ctx := t.Context()
	drv, srv := newDriver(t)
	req := request("acme", "ws-1", "tok-mismatch-0001")
	srv.Inject(awstest.Fault{Op: awstest.OpRunInstances, Times: 1, Drop: true})
	_, err := drv.Provision(ctx, req)
	require.Error(t, err, "the answer was lost")
	require.Len(t, liveIDs(srv), 1, "EC2 launched the token's instance")

	restarted, err := aws.New(srv.Client("us-east-1"), aws.WithImage(testAMI), aws.WithPollInterval(testPoll),
		aws.WithTags(map[string]string{"team": "billing"}))
	require.NoError(t, err)
	_, err = restarted.Provision(ctx, req)
	require.Error(t, err)
	require.Len(t, liveIDs(srv), 1, "the token's instance still runs")
	assert.NotErrorIs(t, err, cloudswitch.ErrRefused,
		"a refusal says EC2 did not act, yet the token's instance runs: a Switcher would abort and leak it")
}

// EC2 may answer InvalidInstanceID.NotFound for an instance that exists
// (eventual consistency has no documented bound; credentials of another
// account answer it for every instance). The instance is listed, live, by
// a filtered DescribeInstances, yet Deprovision calls it gone.
func TestDeprovisionDoesNotCallAListedInstanceGone(t *testing.T) {
	ctx := t.Context()
	drv, srv := newDriver(t)
	inst, err := drv.Provision(ctx, request("acme", "ws-1", "tok-hidden-0001"))
	require.NoError(t, err)
	inst.CreatedAt = inst.CreatedAt.Add(-time.Hour) // an old record, past the consistency window
	reveal := srv.Hide(inst.ID)
	defer reveal()

	require.Len(t, list(t, drv, "acme"), 1, "the filtered listing shows the instance")
	err = drv.Deprovision(ctx, inst)
	require.Equal(t, []string{inst.ID}, liveIDs(srv), "the instance still runs")
	assert.NotErrorIs(t, err, cloudswitch.ErrInstanceNotFound, "a running, listed instance was reported gone")
	assert.Error(t, err)
}

// A record without a Region (written before regions were recorded, or by a
// caller that left it out) names an instance of a non-default region.
// Deprovision must not look in the default region only, be answered
// NotFound there, and call the VM gone. (The GCP driver refuses an
// Instance without a zone for this reason; the EC2 driver looks for it in
// every region it lists, and terminates it where it finds it.)
func TestDeprovisionWithoutARegionNeverCallsAnotherRegionsInstanceGone(t *testing.T) {
	ctx := t.Context()
	srv := awstest.NewServer(t)
	drv, err := aws.NewFromConfig(srv.Config(), aws.WithImage(testAMI), aws.WithPollInterval(testPoll), aws.WithRegions("us-east-1", "eu-west-1"))
	require.NoError(t, err)
	req := request("acme", "ws-eu", "tok-eu-0001")
	req.Compute.Region = "eu-west-1"
	inst, err := drv.Provision(ctx, req)
	require.NoError(t, err)
	inst.Region = ""
	inst.CreatedAt = inst.CreatedAt.Add(-time.Hour)

	err = drv.Deprovision(ctx, inst)
	assert.NotErrorIs(t, err, cloudswitch.ErrInstanceNotFound, "an instance of another region was reported gone")
	if err != nil {
		require.Equal(t, []string{inst.ID}, liveIDs(srv), "Deprovision failed, yet the instance does not run in eu-west-1")
		return
	}
	assert.Empty(t, liveIDs(srv), "Deprovision succeeded, yet the instance still runs in eu-west-1")
}

// The Provider contract: "the same Token never yields two VMs". EC2 keeps a
// ClientToken for at least 24 hours after its instance terminated (and
// answers IdempotentInstanceTerminated, ErrTokenSpent), then forgets it and
// launches anew. A terminated instance is listed by DescribeInstances for
// about an hour only, so past the window no stateless driver can tell a
// spent token from a fresh one. What the contract needs is that no VM
// leaks: never two LIVE instances for one token, and any instance launched
// is tagged with the token, so the journal that holds the token tracks it.
func TestASpentTokenNeverHasTwoLiveInstancesPastTheTokenWindow(t *testing.T) {
	ctx := t.Context()
	drv, srv := newDriver(t)
	req := request("acme", "ws-1", "tok-spent-0001")
	first, err := drv.Provision(ctx, req)
	require.NoError(t, err)
	require.NoError(t, drv.Deprovision(ctx, first))
	_, err = drv.Provision(ctx, req)
	require.ErrorIs(t, err, cloudswitch.ErrTokenSpent, "within EC2's token window a spent token launches nothing")

	srv.Advance(25 * time.Hour)
	again, err := drv.Provision(ctx, req)
	if err != nil {
		assert.Empty(t, liveIDs(srv), "Provision failed, yet an instance runs")
		return
	}
	assert.Equal(t, []string{again.ID}, liveIDs(srv), "two live instances for one token")
	assert.NotEqual(t, first.ID, again.ID)
	assert.Equal(t, req.Token, again.Token, "the instance launched anew is not tagged with the token that tracks it")
}

// A refusal says the cloud did not act. A Resize whose
// ModifyInstanceAttribute is refused (credentials allowed to stop and start
// but not to modify, say) has already stopped the instance and starts it
// again: the guest was stopped, and on EC2 a stop and start also changes
// its public IPv4 address and moves it to another host. The error is
// nevertheless a refusal.
func TestResizeIsNoRefusalOnceTheInstanceWasStopped(t *testing.T) {
	ctx := t.Context()
	drv, srv := newDriver(t)
	inst, err := drv.Provision(ctx, request("acme", "ws-1", "tok-resize-0001"))
	require.NoError(t, err)
	srv.Inject(awstest.Fault{Op: awstest.OpModifyInstanceAttribute, Times: 1, Status: 403, Code: "UnauthorizedOperation"})
	_, err = drv.Resize(ctx, inst, "t3.large")
	require.Error(t, err)
	require.Equal(t, 1, srv.CallCount(awstest.OpStopInstances), "the instance was stopped")
	assert.NotErrorIs(t, err, cloudswitch.ErrRefused, "the instance was stopped and started again: EC2 acted")
}

// Instances lists the regions of WithRegions only — by default the
// config's region alone — but Provision launches in any region a request
// names. An instance launched outside those
// regions is never listed: if its switch is lost, the Reconciler can never
// find the orphan. (The GCP driver refuses a zone outside WithZones for
// this reason: "its VM could not be found again".)
func TestProvisionNeverLaunchesWhereInstancesDoesNotList(t *testing.T) {
	ctx := t.Context()
	srv := awstest.NewServer(t)
	drv, err := aws.NewFromConfig(srv.Config(), aws.WithImage(testAMI), aws.WithPollInterval(testPoll)) // lists us-east-1
	require.NoError(t, err)
	req := request("acme", "ws-eu", "tok-unlisted-0001")
	req.Compute.Region = "eu-west-1"
	inst, err := drv.Provision(ctx, req)
	if err != nil {
		assert.ErrorIs(t, err, cloudswitch.ErrRefused)
		assert.Empty(t, liveIDs(srv))
		return
	}
	assert.Contains(t, ids(list(t, drv, "acme")), inst.ID, "an instance Provision launched is missing from Instances")
}
