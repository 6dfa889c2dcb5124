package gcp_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/gcp"
	"github.com/cloudswitch/cloudswitch/providers/gcp/gcptest"
)

// answer is one of Compute Engine's documented error answers and what it
// must mean to the Switcher.
type answer struct {
	fault              gcptest.Fault
	transient, refused bool
}

// Compute Engine answers these before a call takes effect (a refusal) or
// with the outcome unknown (never a refusal).
var answers = []answer{
	{gcptest.Fault{Status: http.StatusBadRequest, Code: "invalid"}, false, true},
	{gcptest.Fault{Status: http.StatusBadRequest, Code: "badRequest"}, false, true},
	{gcptest.Fault{Status: http.StatusUnauthorized, Code: "required"}, false, true},
	{gcptest.Fault{Status: http.StatusForbidden, Code: "forbidden"}, false, true},
	{gcptest.Fault{Status: http.StatusForbidden, Code: "insufficientPermissions"}, false, true},
	{gcptest.Fault{Status: http.StatusForbidden, Code: "quotaExceeded"}, false, true},
	{gcptest.Fault{Status: http.StatusForbidden, Code: "QUOTA_EXCEEDED"}, false, true},
	{gcptest.Fault{Status: http.StatusConflict, Code: "resourceInUseByAnotherResource"}, false, true},
	{gcptest.Fault{Status: http.StatusTooManyRequests, Code: "rateLimitExceeded"}, true, true},
	{gcptest.Fault{Status: http.StatusForbidden, Code: "rateLimitExceeded"}, true, true},
	{gcptest.Fault{Status: http.StatusForbidden, Code: "userRateLimitExceeded"}, true, true},
	{gcptest.Fault{Status: http.StatusRequestTimeout, Code: "timeout"}, true, false},
	{gcptest.Fault{Status: http.StatusInternalServerError, Code: "backendError"}, true, false},
	{gcptest.Fault{Status: http.StatusBadGateway, Code: "badGateway"}, true, false},
	{gcptest.Fault{Status: http.StatusServiceUnavailable, Code: "backendError"}, true, false},
	{gcptest.Fault{Status: http.StatusGatewayTimeout, Code: "backendError"}, true, false},
}

func TestRefusalsAreTheAnswersComputeEngineGivesBeforeActing(t *testing.T) {
	for _, c := range calls {
		for _, a := range answers {
			t.Run(fmt.Sprintf("%s/%d-%s", c.name, a.fault.Status, a.fault.Code), func(t *testing.T) {
				e := newEnv(t, nil)
				f := a.fault
				f.Op, f.Times = c.op, 1
				e.srv.Inject(f)
				err := c.do(t.Context(), e)
				require.Error(t, err)
				assert.Equal(t, a.transient, errors.Is(err, cloudswitch.ErrTransient), "transient? %v", err)
				assert.Equal(t, a.refused, errors.Is(err, cloudswitch.ErrRefused), "a refusal (the cloud did not act)? %v", err)
				wantCause(t, err, f.Status)
			})
		}
	}
}

func TestRefusalsIncludeA404ForAMissingImageOrMachineTypeOnInsert(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, nil)
	e.srv.Inject(gcptest.Fault{Op: gcptest.OpInsert, Times: 1, Status: http.StatusNotFound,
		Message: "The resource 'projects/debian-cloud/global/images/family/debian-99' was not found"})
	_, err := e.d.Provision(ctx, request("owner", "ws"))
	require.Error(t, err)
	assert.ErrorIs(t, err, cloudswitch.ErrRefused, "an insert answered 404 about its image created nothing")
	assert.NotErrorIs(t, err, cloudswitch.ErrInstanceNotFound)
	assert.NotErrorIs(t, err, cloudswitch.ErrTransient)
}

func TestRefusalsIncludeRequestsTheDriverRejectsBeforeAnyCall(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, nil)
	req := request("owner", "ws")
	req.Token = ""
	_, err := e.d.Provision(ctx, req)
	assert.ErrorIs(t, err, gcp.ErrInvalidRequest)
	assert.ErrorIs(t, err, cloudswitch.ErrRefused, "no call was made, so nothing happened")
	assert.Zero(t, e.srv.CallCount(""))
}

func TestRefusalsNeverIncludeWhatHappensAfterACallWasAccepted(t *testing.T) {
	ctx := t.Context()
	t.Run("an insert operation that fails", func(t *testing.T) {
		e := newEnv(t, nil)
		e.srv.FailOperation(gcptest.OpInsert, 1, http.StatusForbidden, "QUOTA_EXCEEDED", "Quota 'CPUS' exceeded.")
		_, err := e.d.Provision(ctx, request("owner", "ws"))
		require.Error(t, err)
		assert.NotErrorIs(t, err, cloudswitch.ErrRefused, "the insert was accepted before it failed")
	})
	t.Run("a delete operation that fails", func(t *testing.T) {
		e := newEnv(t, nil)
		inst, err := e.d.Provision(ctx, request("owner", "ws"))
		require.NoError(t, err)
		e.srv.FailOperation(gcptest.OpDelete, 1, http.StatusForbidden, "PERMISSION_DENIED", "denied")
		err = e.d.Deprovision(ctx, inst)
		require.Error(t, err)
		assert.NotErrorIs(t, err, cloudswitch.ErrRefused, "the delete was accepted before it failed")
	})
	for _, op := range []string{gcptest.OpInsert, gcptest.OpDelete} {
		t.Run("polling the operation of "+op+" is refused", func(t *testing.T) {
			e := newEnv(t, []gcptest.Option{gcptest.WithOperationTime(1 << 40)})
			var inst cloudswitch.Instance
			if op == gcptest.OpDelete {
				inst = cloudswitch.Instance{Provider: cloudswitch.GCP, ID: e.srv.AddInstance(zone, "cs-victim", nil).Name, Region: zone}
			}
			e.srv.Inject(gcptest.Fault{Op: gcptest.OpOperationGet, Times: 1, Status: http.StatusForbidden, Code: "forbidden"})
			var err error
			if op == gcptest.OpInsert {
				_, err = e.d.Provision(ctx, request("owner", "ws"))
			} else {
				err = e.d.Deprovision(ctx, inst)
			}
			require.Error(t, err)
			assert.NotErrorIs(t, err, cloudswitch.ErrRefused, "the %s was accepted; a 403 while waiting says nothing about it", op)
		})
	}
	t.Run("an answer lost after the insert took effect", func(t *testing.T) {
		e := newEnv(t, nil)
		e.srv.Inject(gcptest.Fault{Op: gcptest.OpInsert, Times: 1, Drop: true})
		_, err := e.d.Provision(ctx, request("owner", "ws"))
		require.Error(t, err)
		assert.NotErrorIs(t, err, cloudswitch.ErrRefused)
	})
}
