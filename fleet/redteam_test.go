package fleet_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/fleet"
	"github.com/cloudswitch/cloudswitch/providers/aws"
	"github.com/cloudswitch/cloudswitch/providers/aws/awstest"
	"github.com/cloudswitch/cloudswitch/providers/hetzner"
	"github.com/cloudswitch/cloudswitch/providers/hetzner/hetznertest"
)

// The per-provider limit is on the cloud's API calls (the operator sets
// what EC2 allows; the apply is measured against the emulator's call log).
// A Provider wrapper (RateLimit) takes one token per driver call, but one
// Provision is a RunInstances and several DescribeInstances polls, and one
// Instances is a DescribeInstances per page. The bucket therefore sits in
// the SDK client's HTTP transport (LimitTransport), where every API request
// takes a token: with a bucket of 3 tokens that never refills, EC2 receives
// at most 3 calls, and the driver calls that needed more are stopped before
// their requests leave.
func TestRateLimitBoundsTheCloudsAPICallsNotTheDriversCalls(t *testing.T) {
	srv := awstest.NewServer(t)
	srv.SetPageSize(1)
	var grants atomic.Int64
	driver := func(lim *rate.Limiter) cloudswitch.Provider {
		client := ec2.New(srv.Client("us-east-1").Options(), func(o *ec2.Options) {
			o.HTTPClient = &http.Client{Transport: fleet.LimitTransport(cloudswitch.AWS, nil, lim,
				fleet.WithGrants(func(fleet.Grant) { grants.Add(1) }))}
		})
		drv, err := aws.New(client, aws.WithImage("ami-0123456789abcdef0"))
		require.NoError(t, err)
		return drv
	}
	apiCalls := func() int {
		return srv.CallCount(awstest.OpRunInstances) + srv.CallCount(awstest.OpDescribeInstances) + srv.CallCount(awstest.OpTerminateInstances)
	}
	// Two provisions and a listing, reporting whether any was stopped.
	work := func(ctx context.Context, drv cloudswitch.Provider, prefix string) (stopped bool) {
		for _, tok := range []string{prefix + "0001", prefix + "0002"} {
			_, err := drv.Provision(ctx, cloudswitch.ProvisionRequest{
				WorkspaceID: "ws-" + tok, Owner: "acme", Token: tok,
				Compute: cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.medium"},
			})
			stopped = stopped || err != nil
		}
		for _, err := range drv.Instances(ctx, "acme") {
			stopped = stopped || err != nil
		}
		return stopped
	}

	// Every API request takes a token, polls and pages included.
	require.False(t, work(t.Context(), driver(rate.NewLimiter(rate.Inf, 1)), "tok-rate-a"))
	assert.EqualValues(t, apiCalls(), grants.Load(), "every API call EC2 received took a token")
	assert.Greater(t, apiCalls(), 3, "two provisions and a paged listing are more API calls than driver calls")

	// A bucket of 3 tokens that never refills lets 3 API calls through.
	srv.ResetCalls()
	const burst = 3
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute) // the bucket refuses at once what would wait past it
	defer cancel()
	stopped := work(ctx, driver(rate.NewLimiter(rate.Limit(1e-9), burst)), "tok-rate-b")
	assert.True(t, stopped, "the bucket stopped the calls it had no token for")
	calls := apiCalls()
	assert.LessOrEqual(t, calls, burst,
		"EC2 received %d API calls through a bucket that let %d go (RunInstances %d, DescribeInstances %d)",
		calls, burst, srv.CallCount(awstest.OpRunInstances), srv.CallCount(awstest.OpDescribeInstances))
}

// A canary is the first N switches, run alone, then judged. Steps whose
// workspaces changed since planning are refused at apply time without any
// switch, yet they count as the canary: the check is asked — and the rest
// of the fleet starts — after zero switches ran.
func TestCanaryIsMadeOfSwitchesThatRan(t *testing.T) {
	w := newWorld(t)
	ids := w.addAWS(t, 10)
	plan := w.planAll(t, ids, toHetzner)
	for _, id := range ids[:2] { // changed since planning: refused at apply time
		ws := w.get(t, id)
		ws.Compute.InstanceType = "t3.large"
		_, err := w.store.Update(t.Context(), ws)
		require.NoError(t, err)
	}
	var atCheck fleet.Progress
	asked := false
	w.apply(t, t.Context(), w.switcher(t, nil), plan, fleet.Options{Concurrency: 4, Canary: 2,
		AfterCanary: func(_ context.Context, p fleet.Progress) error { asked, atCheck = true, p; return nil }})
	require.True(t, asked)
	assert.Equal(t, 2, atCheck.Done, "the canary check was asked after %d switches had run (refused %d)", atCheck.Done, atCheck.Refused)
}

// The planner asks a target's Preflight once per target compute and reuses
// the answer for every workspace, but a driver's Preflight also judges the
// workspace: the Hetzner driver refuses a workspace id no label can carry
// (here: not a plain label value, and too long to encode). So the plan of
// one workspace depends on which workspace came first, and differs from
// what Switch — which preflights each workspace — does with it.
func TestPlanPreflightsEachWorkspaceAsSwitchDoes(t *testing.T) {
	const good, bad = "ws-good", "Customer-Workspace-Number-000000000000000001"
	for _, order := range [][]string{{bad, good}, {good, bad}} {
		t.Run(order[0]+" first", func(t *testing.T) {
			w := newWorld(t)
			srv := hetznertest.NewServer(t)
			drv, err := hetzner.New(srv.Client())
			require.NoError(t, err)
			w.providers[cloudswitch.Hetzner] = drv
			for _, id := range order {
				w.add(t, id, cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.medium"}, true)
			}
			plan := w.planAll(t, order, toHetzner)
			sw := w.switcher(t, nil)
			for _, s := range plan.Steps {
				_, switchErr := sw.Switch(t.Context(), s.WorkspaceID, cloudswitch.Request{Compute: s.To, ConfirmRecreate: true, IfVersion: s.Version})
				assert.Equal(t, switchErr == nil, s.Action.Acts(),
					"workspace %s: the plan says %s (%s), Switch says %v", s.WorkspaceID, s.Action, s.Reason, switchErr)
			}
		})
	}
}
