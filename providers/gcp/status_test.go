package gcp_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/gcp/gcptest"
)

// What each of the twelve v1 statuses means to the driver (Instances lists
// the instance in every one: it exists), and what Provision answers for the token's instance in it: adopted (healthy,
// or on its way up), transient (settling; call again), or a permanent
// error that is not a refusal (down: the insert did happen).
var statusMeanings = []struct {
	status string
	adopt  string // "adopt", "transient" or "down"
}{
	{gcptest.StatusProvisioning, "adopt"},
	{gcptest.StatusStaging, "adopt"},
	{gcptest.StatusRunning, "adopt"},
	{gcptest.StatusRepairing, "adopt"},
	{gcptest.StatusPending, "transient"},
	{gcptest.StatusPendingStop, "transient"},
	{gcptest.StatusSuspending, "transient"},
	{gcptest.StatusStopping, "transient"},
	{gcptest.StatusDeprovisioning, "transient"},
	{gcptest.StatusTerminated, "down"},
	{gcptest.StatusStopped, "down"},
	{gcptest.StatusSuspended, "down"},
}

func TestStatusesInstancesListsEveryInstanceWhateverItsStatus(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, nil)
	var want []string
	for _, m := range statusMeanings {
		inst, err := e.d.Provision(ctx, request("owner", "ws"))
		require.NoError(t, err)
		require.True(t, e.srv.SetStatus(zone, inst.ID, m.status))
		want = append(want, inst.ID)
	}
	assert.ElementsMatch(t, want, names(list(t, e.d, "owner")),
		"every instance exists (STOPPING may be a stop, not a delete): none may be hidden from a reconciler")
}

func TestStatusesProvisionAdoptsOnlyAHealthyInstance(t *testing.T) {
	ctx := t.Context()
	for _, m := range statusMeanings {
		t.Run(m.status, func(t *testing.T) {
			e := newEnv(t, nil)
			req := request("owner", "ws")
			first, err := e.d.Provision(ctx, req)
			require.NoError(t, err)
			require.True(t, e.srv.SetStatus(zone, first.ID, m.status))
			again, err := e.d.Provision(ctx, req)
			switch m.adopt {
			case "adopt":
				require.NoError(t, err)
				assert.Equal(t, first.ID, again.ID)
			case "transient":
				assert.ErrorIs(t, err, cloudswitch.ErrTransient, "a %s instance is settling: call again", m.status)
				assert.NotErrorIs(t, err, cloudswitch.ErrRefused)
			case "down":
				require.Error(t, err, "a %s instance is not a provisioned VM", m.status)
				assert.NotErrorIs(t, err, cloudswitch.ErrTransient)
				assert.NotErrorIs(t, err, cloudswitch.ErrRefused, "the instance exists: the insert did happen")
			}
		})
	}
}

func TestResourceNotReadyIsTransientAndNotARefusal(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, []gcptest.Option{gcptest.WithOperationTime(time.Hour)})
	vm := e.srv.AddInstance(zone, "cs-busy", nil)
	require.True(t, e.srv.Stop(zone, vm.Name)) // a stop runs for an hour
	inst := cloudswitch.Instance{Provider: cloudswitch.GCP, ID: vm.Name, Region: zone}
	err := e.d.Deprovision(ctx, inst)
	require.Error(t, err)
	assert.ErrorIs(t, err, cloudswitch.ErrTransient, "resourceNotReady clears when the running operation ends")
	assert.NotErrorIs(t, err, cloudswitch.ErrRefused, "an operation runs on the instance: the outcome is not ours to claim")
	assert.NotErrorIs(t, err, cloudswitch.ErrInstanceNotFound)
}

func TestDeprovisionRetriedAfterALostAnswerIsDeduplicated(t *testing.T) {
	ctx := t.Context()
	// The first delete is accepted and its answer lost; its operation is
	// still running when the caller retries. A retry with a fresh requestId
	// would meet resourceNotReady; the VM's own requestId is answered with
	// the first delete's operation.
	c := &clock{now: time.Now()}
	e := newEnv(t, []gcptest.Option{gcptest.WithOperationTime(time.Minute), gcptest.WithClock(c.Now)})
	vm := e.srv.AddInstance(zone, "cs-victim", nil)
	inst := cloudswitch.Instance{Provider: cloudswitch.GCP, ID: vm.Name, Region: zone}
	e.srv.Inject(gcptest.Fault{Op: gcptest.OpDelete, Times: 1, Drop: true})
	require.ErrorIs(t, e.d.Deprovision(ctx, inst), cloudswitch.ErrTransient)
	deletes := e.srv.CallCount(gcptest.OpDelete)

	done := make(chan error, 1)
	go func() { done <- e.d.Deprovision(ctx, inst) }()
	// Let the retried delete be answered, then let the operation finish.
	for e.srv.CallCount(gcptest.OpDelete) == deletes {
		time.Sleep(time.Millisecond)
	}
	c.Advance(time.Minute)
	require.NoError(t, <-done, "the retry must be answered with the first delete's operation")
	assert.Empty(t, e.srv.Instances())
}

func TestDeprovisionAfterAFailedDeleteOperationTriesAgain(t *testing.T) {
	ctx := t.Context()
	// The VM's requestId is deterministic; a delete whose operation failed
	// must still be retried for real, not answered with the failed
	// operation for the rest of the window.
	e := newEnv(t, nil)
	vm := e.srv.AddInstance(zone, "cs-victim", nil)
	inst := cloudswitch.Instance{Provider: cloudswitch.GCP, ID: vm.Name, Region: zone}
	e.srv.FailOperation(gcptest.OpDelete, 1, 503, "INTERNAL_ERROR", "backend failure")
	require.ErrorIs(t, e.d.Deprovision(ctx, inst), cloudswitch.ErrTransient)
	require.NoError(t, e.d.Deprovision(ctx, inst))
	assert.Empty(t, e.srv.Instances())
}

func TestDeprovisionNeverTakesA404FromCredentialsOfAnotherProjectForGone(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, nil)
	inst, err := e.d.Provision(ctx, request("owner", "ws"))
	require.NoError(t, err)
	e.srv.SetCallerProject("someone-elses-project")
	err = e.d.Deprovision(ctx, inst)
	require.Error(t, err, "every instance answers 404 to these credentials: that is not \"gone\"")
	assert.NotErrorIs(t, err, cloudswitch.ErrInstanceNotFound)
	assert.NotErrorIs(t, err, cloudswitch.ErrTransient)
	assert.Len(t, e.srv.Instances(), 1)

	e.srv.SetCallerProject("")
	require.NoError(t, e.d.Deprovision(ctx, inst))
	require.NoError(t, e.d.Deprovision(ctx, inst), "gone, and the credentials can see the project: gone is success")
}

func TestDeprovisionDoesNotTakeA404ForGoneWhileTheZoneListsTheInstance(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, nil)
	vm := e.srv.AddInstance(zone, "cs-victim", nil)
	e.srv.Inject(gcptest.Fault{Op: gcptest.OpGet, Times: 1, Status: 404,
		Message: "The resource 'projects/" + e.srv.Project() + "/zones/" + zone + "/instances/" + vm.Name + "' was not found"})
	e.srv.Inject(gcptest.Fault{Op: gcptest.OpDelete, Times: 1, Status: 404,
		Message: "The resource 'projects/" + e.srv.Project() + "/zones/" + zone + "/instances/" + vm.Name + "' was not found"})
	err := e.d.Deprovision(ctx, cloudswitch.Instance{Provider: cloudswitch.GCP, ID: vm.Name, Region: zone})
	require.Error(t, err)
	assert.True(t, errors.Is(err, cloudswitch.ErrTransient), "a 404 the listing contradicts is to be asked again: %v", err)
	assert.Len(t, e.srv.Instances(), 1)
}

// clock is a clock a test moves by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

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

func TestRequestIDWindowProvisionAndDeprovisionConvergeAfterIt(t *testing.T) {
	ctx := t.Context()
	// Google keeps a requestId for at least 60 minutes and promises nothing
	// after: past the window a repeated insert is a new insert (answered 409
	// alreadyExists while the VM lives) and a repeated delete a new delete.
	c := &clock{now: time.Now()}
	e := newEnv(t, []gcptest.Option{gcptest.WithClock(c.Now)})
	req := request("owner", "ws")
	first, err := e.d.Provision(ctx, req)
	require.NoError(t, err)
	c.Advance(gcptest.DefaultRequestIDWindow + time.Minute)
	again, err := e.d.Provision(ctx, req)
	require.NoError(t, err, "past the window the insert meets the VM's name: it is adopted")
	assert.Equal(t, first.ID, again.ID)
	assert.Len(t, e.srv.Instances(), 1)

	e.srv.FailOperation(gcptest.OpDelete, 1, 503, "INTERNAL_ERROR", "backend failure")
	require.ErrorIs(t, e.d.Deprovision(ctx, first), cloudswitch.ErrTransient)
	c.Advance(gcptest.DefaultRequestIDWindow + time.Minute)
	require.NoError(t, e.d.Deprovision(ctx, first))
	assert.Empty(t, e.srv.Instances())
}
