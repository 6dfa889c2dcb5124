package gcptest_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/compute/apiv1/computepb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/cloudswitch/cloudswitch/providers/gcp/gcptest"
)

// clock is a clock a test moves by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// status returns the status instances.get answers for name.
func status(t *testing.T, srv *gcptest.Server, name string) string {
	t.Helper()
	for _, vm := range srv.Instances() {
		if vm.Name == name {
			return vm.Status
		}
	}
	return "gone"
}

const rid1 = "8b9e2f5a-0c1d-4e6f-9a7b-2c3d4e5f6a7b"

func TestLifecycleInsertGoesProvisioningStagingRunningAndDeleteStoppingDeprovisioningGone(t *testing.T) {
	ctx := t.Context()
	c := newClock()
	srv := gcptest.NewServer(t, gcptest.WithOperationTime(10*time.Second), gcptest.WithClock(c.Now))
	ic, _ := clients(t, srv)
	_, err := insert(t.Context(), ic, srv.Project(), "", resource("vm-1", nil))
	require.NoError(t, err)
	assert.Equal(t, gcptest.StatusProvisioning, status(t, srv, "vm-1"))
	c.Advance(5 * time.Second)
	assert.Equal(t, gcptest.StatusStaging, status(t, srv, "vm-1"))
	c.Advance(5 * time.Second)
	assert.Equal(t, gcptest.StatusRunning, status(t, srv, "vm-1"))

	_, err = ic.Delete(ctx, &computepb.DeleteInstanceRequest{Project: srv.Project(), Zone: zone, Instance: "vm-1"}, noRetry)
	require.NoError(t, err)
	assert.Equal(t, gcptest.StatusStopping, status(t, srv, "vm-1"), "Compute Engine shows an instance being deleted as STOPPING")
	c.Advance(5 * time.Second)
	assert.Equal(t, gcptest.StatusDeprovisioning, status(t, srv, "vm-1"))
	c.Advance(5 * time.Second)
	assert.Equal(t, "gone", status(t, srv, "vm-1"))
}

func TestLifecycleStopGoesStoppingThenTerminated(t *testing.T) {
	c := newClock()
	srv := gcptest.NewServer(t, gcptest.WithOperationTime(10*time.Second), gcptest.WithClock(c.Now))
	srv.AddInstance(zone, "vm-1", nil)
	require.True(t, srv.Stop(zone, "vm-1"))
	assert.Equal(t, gcptest.StatusStopping, status(t, srv, "vm-1"))
	c.Advance(10 * time.Second)
	assert.Equal(t, gcptest.StatusTerminated, status(t, srv, "vm-1"))
}

func TestLifecycleSetStatusKnowsAllTwelveStatuses(t *testing.T) {
	srv := gcptest.NewServer(t)
	srv.AddInstance(zone, "vm-1", nil)
	for _, s := range []string{
		gcptest.StatusDeprovisioning, gcptest.StatusPending, gcptest.StatusPendingStop, gcptest.StatusProvisioning,
		gcptest.StatusRepairing, gcptest.StatusRunning, gcptest.StatusStaging, gcptest.StatusStopped,
		gcptest.StatusStopping, gcptest.StatusSuspended, gcptest.StatusSuspending, gcptest.StatusTerminated,
	} {
		assert.True(t, srv.SetStatus(zone, "vm-1", s), s)
		assert.Equal(t, s, status(t, srv, "vm-1"))
	}
}

func TestResourceNotReadyWhileAnOperationRunsOnTheInstance(t *testing.T) {
	ctx := t.Context()
	for name, setup := range map[string]func(*gcptest.Server, *clock) string{
		"its insert runs": func(srv *gcptest.Server, _ *clock) string {
			ic, _ := clients(t, srv)
			_, err := insert(t.Context(), ic, srv.Project(), "", resource("vm-1", nil))
			require.NoError(t, err)
			return "vm-1"
		},
		"a stop runs": func(srv *gcptest.Server, _ *clock) string {
			srv.AddInstance(zone, "vm-1", nil)
			srv.Stop(zone, "vm-1")
			return "vm-1"
		},
		"an earlier delete runs": func(srv *gcptest.Server, _ *clock) string {
			srv.AddInstance(zone, "vm-1", nil)
			ic, _ := clients(t, srv)
			_, err := ic.Delete(ctx, &computepb.DeleteInstanceRequest{Project: srv.Project(), Zone: zone, Instance: "vm-1"}, noRetry)
			require.NoError(t, err)
			return "vm-1"
		},
		"it is SUSPENDING": func(srv *gcptest.Server, _ *clock) string {
			srv.AddInstance(zone, "vm-1", nil)
			srv.SetStatus(zone, "vm-1", gcptest.StatusSuspending)
			return "vm-1"
		},
	} {
		t.Run(name, func(t *testing.T) {
			c := newClock()
			srv := gcptest.NewServer(t, gcptest.WithOperationTime(10*time.Second), gcptest.WithClock(c.Now))
			vm := setup(srv, c)
			ic, _ := clients(t, srv)
			_, err := ic.Delete(ctx, &computepb.DeleteInstanceRequest{Project: srv.Project(), Zone: zone, Instance: vm}, noRetry)
			gerr := wantAPIError(t, err, http.StatusBadRequest, "resourceNotReady")
			assert.Equal(t, "The resource 'projects/"+srv.Project()+"/zones/"+zone+"/instances/"+vm+"' is not ready", gerr.Message)
			assert.NotEqual(t, "gone", status(t, srv, vm))
		})
	}
}

func TestResourceNotReadyCanBeTurnedOff(t *testing.T) {
	ctx := t.Context()
	srv := gcptest.NewServer(t, gcptest.WithOperationTime(time.Hour), gcptest.WithoutResourceNotReady())
	ic, _ := clients(t, srv)
	_, err := insert(t.Context(), ic, srv.Project(), "", resource("vm-1", nil))
	require.NoError(t, err)
	_, err = ic.Delete(ctx, &computepb.DeleteInstanceRequest{Project: srv.Project(), Zone: zone, Instance: "vm-1"}, noRetry)
	assert.NoError(t, err)
}

func TestRequestIDsAreRememberedOnlyForTheirWindow(t *testing.T) {
	c := newClock()
	srv := gcptest.NewServer(t, gcptest.WithClock(c.Now))
	ic, _ := clients(t, srv)
	first, err := insert(t.Context(), ic, srv.Project(), rid1, resource("vm-1", nil))
	require.NoError(t, err)

	c.Advance(gcptest.DefaultRequestIDWindow - time.Second)
	again, err := insert(t.Context(), ic, srv.Project(), rid1, resource("vm-1", nil))
	require.NoError(t, err, "within the 60 minutes Google guarantees, the first operation answers")
	assert.Equal(t, first.Name(), again.Name())

	c.Advance(time.Second)
	_, err = insert(t.Context(), ic, srv.Project(), rid1, resource("vm-1", nil))
	wantAPIError(t, err, http.StatusConflict, "alreadyExists")
}

func TestRequestIDWindowIsAKnob(t *testing.T) {
	ctx := t.Context()
	c := newClock()
	srv := gcptest.NewServer(t, gcptest.WithClock(c.Now), gcptest.WithRequestIDWindow(time.Minute))
	srv.AddInstance(zone, "vm-1", nil)
	ic, _ := clients(t, srv)
	req := &computepb.DeleteInstanceRequest{Project: srv.Project(), Zone: zone, Instance: "vm-1", RequestId: proto.String(rid1)}
	_, err := ic.Delete(ctx, req, noRetry)
	require.NoError(t, err)
	_, err = ic.Delete(ctx, req, noRetry)
	require.NoError(t, err, "the same delete within the window answers its operation")
	c.Advance(time.Minute)
	_, err = ic.Delete(ctx, req, noRetry)
	wantAPIError(t, err, http.StatusNotFound, "notFound")
}

func TestCredentialsOfAnotherProjectSeeNoInstanceAndMayNotList(t *testing.T) {
	ctx := t.Context()
	srv := gcptest.NewServer(t)
	srv.AddInstance(zone, "vm-1", nil)
	srv.SetCallerProject("someone-elses-project")
	ic, _ := clients(t, srv)

	_, err := ic.Get(ctx, &computepb.GetInstanceRequest{Project: srv.Project(), Zone: zone, Instance: "vm-1"}, noRetry)
	gerr := wantAPIError(t, err, http.StatusNotFound, "notFound")
	assert.Contains(t, gerr.Message, "instances/vm-1")
	_, err = ic.Delete(ctx, &computepb.DeleteInstanceRequest{Project: srv.Project(), Zone: zone, Instance: "vm-1"}, noRetry)
	wantAPIError(t, err, http.StatusNotFound, "notFound")

	_, err = ic.List(ctx, &computepb.ListInstancesRequest{Project: srv.Project(), Zone: zone}, noRetry).Next()
	gerr = wantAPIError(t, err, http.StatusForbidden, "forbidden")
	assert.Equal(t, "Required 'compute.instances.list' permission for 'projects/"+srv.Project()+"'", gerr.Message)
	assert.Equal(t, gcptest.StatusRunning, status(t, srv, "vm-1"), "nothing was deleted")

	srv.SetCallerProject("")
	_, err = ic.Get(ctx, &computepb.GetInstanceRequest{Project: srv.Project(), Zone: zone, Instance: "vm-1"}, noRetry)
	assert.NoError(t, err)
}
