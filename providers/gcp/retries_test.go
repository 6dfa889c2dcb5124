package gcp_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/gcp"
	"github.com/cloudswitch/cloudswitch/providers/gcp/gcptest"
	"github.com/cloudswitch/cloudswitch/providers/providertest"
)

// The clients retry 503 and 504 on Get (instances and zone operations)
// with no attempt cap for up to 10 minutes, and then report only "context
// deadline exceeded". The driver turns those retries off: a 503 surfaces
// at once, after one call, as ErrTransient with its cause.

// promptly is how long a call failing with a standing 503 may take.
const promptly = 2 * time.Second

func TestRetriesA503OnGetSurfacesAtOnce(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, nil)
	e.srv.Inject(gcptest.Fault{Op: gcptest.OpGet, Status: http.StatusServiceUnavailable}) // every call
	start := time.Now()
	_, err := e.d.Provision(ctx, request("owner", "ws")) // insert, poll, then get the instance
	if took := time.Since(start); took > promptly {
		t.Errorf("Provision took %v against a standing 503 on get", took)
	}
	if !errors.Is(err, cloudswitch.ErrTransient) {
		t.Fatalf("got %v; want ErrTransient", err)
	}
	wantCause(t, err, http.StatusServiceUnavailable)
	if n := e.srv.CallCount(gcptest.OpGet); n != 1 {
		t.Errorf("the get was sent %d times; want 1 (no client retries)", n)
	}
}

func TestRetriesA503OnOperationPollSurfacesAtOnce(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, nil)
	e.srv.Inject(gcptest.Fault{Op: gcptest.OpOperationGet, Status: http.StatusServiceUnavailable})
	start := time.Now()
	_, err := e.d.Provision(ctx, request("owner", "ws"))
	if took := time.Since(start); took > promptly {
		t.Errorf("Provision took %v against a standing 503 on zoneOperations.get", took)
	}
	if !errors.Is(err, cloudswitch.ErrTransient) {
		t.Fatalf("got %v; want ErrTransient", err)
	}
	wantCause(t, err, http.StatusServiceUnavailable)
	if n := e.srv.CallCount(gcptest.OpOperationGet); n != 1 {
		t.Errorf("the operation was polled %d times; want 1", n)
	}
}

func TestRetriesA503OnListSurfacesAtOnce(t *testing.T) {
	ctx := t.Context()
	for _, op := range []string{gcptest.OpAggregatedList, gcptest.OpList} {
		t.Run(op, func(t *testing.T) {
			var e *env
			if op == gcptest.OpList {
				e = newEnv(t, nil, gcp.WithZones(zone))
			} else {
				e = newEnv(t, nil)
			}
			e.srv.Inject(gcptest.Fault{Op: op, Status: http.StatusServiceUnavailable})
			start := time.Now()
			_, err := providertest.Listed(ctx, e.d, "owner")
			if took := time.Since(start); took > promptly {
				t.Errorf("Instances took %v against a standing 503", took)
			}
			if !errors.Is(err, cloudswitch.ErrTransient) {
				t.Fatalf("got %v; want ErrTransient", err)
			}
			wantCause(t, err, http.StatusServiceUnavailable)
			if n := e.srv.CallCount(op); n != 1 {
				t.Errorf("%s was sent %d times; want 1", op, n)
			}
		})
	}
}
