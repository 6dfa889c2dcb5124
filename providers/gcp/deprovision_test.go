package gcp_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/gcp"
	"github.com/cloudswitch/cloudswitch/providers/gcp/gcptest"
)

func TestDeprovisionDeletesAndWaitsForTheOperation(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, []gcptest.Option{gcptest.WithOperationTime(30 * time.Millisecond)})
	inst, err := e.d.Provision(ctx, request("owner", "ws"))
	require.NoError(t, err)
	e.srv.ResetCalls()
	require.NoError(t, e.d.Deprovision(ctx, inst), "Deprovision")
	if got := e.srv.Instances(); len(got) != 0 {
		t.Fatalf("Deprovision returned while %v still exist", got)
	}
	if n := e.srv.CallCount(gcptest.OpOperationGet); n < 2 {
		t.Errorf("the delete operation was polled %d times; want until DONE", n)
	}
}

func TestDeprovisionOfAnInstanceAlreadyGoneSucceeds(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, nil)
	inst, err := e.d.Provision(ctx, request("owner", "ws"))
	require.NoError(t, err)
	e.srv.RemoveInstance(zone, inst.ID)
	if err := e.d.Deprovision(ctx, inst); err != nil {
		t.Fatalf("Deprovision of an instance already gone: %v; want nil", err)
	}
}

func TestDeprovisionAfterALostAnswerSucceeds(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, nil)
	inst, err := e.d.Provision(ctx, request("owner", "ws"))
	require.NoError(t, err)
	e.srv.Inject(gcptest.Fault{Op: gcptest.OpDelete, Times: 1, Drop: true})
	if err := e.d.Deprovision(ctx, inst); !errors.Is(err, cloudswitch.ErrTransient) {
		t.Fatalf("Deprovision with its answer lost: %v; want ErrTransient", err)
	}
	require.NoError(t, e.d.Deprovision(ctx, inst), "repeated Deprovision")
	if got := e.srv.Instances(); len(got) != 0 {
		t.Errorf("instances %v remain", got)
	}
}

func TestDeprovisionFailedOperationIsClassifiedAndCanBeRetried(t *testing.T) {
	ctx := t.Context()
	for _, c := range []struct {
		status    int
		transient bool
	}{{http.StatusServiceUnavailable, true}, {http.StatusForbidden, false}} {
		t.Run(http.StatusText(c.status), func(t *testing.T) {
			e := newEnv(t, nil)
			inst, err := e.d.Provision(ctx, request("owner", "ws"))
			require.NoError(t, err)
			e.srv.FailOperation(gcptest.OpDelete, 1, c.status, "DELETE_FAILED", "the delete failed")
			err = e.d.Deprovision(ctx, inst)
			var opErr *gcp.OperationError
			if !errors.As(err, &opErr) || opErr.Kind != "delete" || errors.Is(err, cloudswitch.ErrTransient) != c.transient {
				t.Fatalf("got %v; want a delete *OperationError, transient=%v", err, c.transient)
			}
			if got := e.srv.Instances(); len(got) != 1 || got[0].Status != gcptest.StatusRunning {
				t.Fatalf("after a failed delete, instances %+v; want it RUNNING", got)
			}
			// A fresh requestId: the retry is a new delete, not a replay of
			// the failed one.
			require.NoError(t, e.d.Deprovision(ctx, inst), "retried Deprovision")
			if got := e.srv.Instances(); len(got) != 0 {
				t.Errorf("instances %v remain", got)
			}
		})
	}
}

func TestDeprovisionRefusesAnInstanceItCannotPlace(t *testing.T) {
	ctx := t.Context()
	for name, inst := range map[string]cloudswitch.Instance{
		"no zone":           {Provider: cloudswitch.GCP, ID: "cs-1"},
		"bad zone":          {Provider: cloudswitch.GCP, ID: "cs-1", Region: "us-central1"},
		"no name":           {Provider: cloudswitch.GCP, Region: zone},
		"a path for a name": {Provider: cloudswitch.GCP, ID: "cs-1/../../other", Region: zone},
		"another provider":  {Provider: cloudswitch.AWS, ID: "i-0123456789abcdef0", Region: zone},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, nil)
			err := e.d.Deprovision(ctx, inst)
			if !errors.Is(err, gcp.ErrInvalidRequest) || errors.Is(err, cloudswitch.ErrInstanceNotFound) {
				t.Fatalf("got %v; want ErrInvalidRequest, never \"gone\"", err)
			}
			if n := e.srv.CallCount(""); n != 0 {
				t.Errorf("%d API calls", n)
			}
		})
	}
}
