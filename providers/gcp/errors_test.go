package gcp_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"google.golang.org/api/googleapi"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/ownership"
	"github.com/cloudswitch/cloudswitch/providers/gcp"
	"github.com/cloudswitch/cloudswitch/providers/gcp/gcptest"
	"github.com/cloudswitch/cloudswitch/providers/providertest"
)

// call is one Provider call the error tests inject faults into, with the
// emulator operation that carries it out.
type call struct {
	name string
	op   string
	do   func(ctx context.Context, e *env) error
}

// calls makes one call of each Provider method against e.
var calls = []call{
	{"Provision", gcptest.OpInsert, func(ctx context.Context, e *env) error {
		_, err := e.d.Provision(ctx, request("owner", "ws"))
		return err
	}},
	{"Deprovision", gcptest.OpDelete, func(ctx context.Context, e *env) error {
		return e.d.Deprovision(ctx, cloudswitch.Instance{Provider: cloudswitch.GCP, ID: e.srv.AddInstance(zone, "cs-victim", nil).Name, Region: zone})
	}},
	{"Instances", gcptest.OpAggregatedList, func(ctx context.Context, e *env) error {
		_, err := providertest.Listed(ctx, e.d, "owner")
		return err
	}},
}

// wantCause fails unless the Compute Engine error with this status is
// reachable from err.
func wantCause(t *testing.T, err error, status int) {
	t.Helper()
	var gerr *googleapi.Error
	if !errors.As(err, &gerr) || gerr.Code != status {
		t.Errorf("the cause (HTTP %d) is not reachable from %v", status, err)
	}
}

func TestErrorsThrottlingAndServerErrorsAreTransient(t *testing.T) {
	faults := []gcptest.Fault{
		{Status: http.StatusTooManyRequests, Code: "rateLimitExceeded"},
		{Status: http.StatusForbidden, Code: "rateLimitExceeded"},
		{Status: http.StatusForbidden, Code: "userRateLimitExceeded"},
		{Status: http.StatusRequestTimeout, Code: "timeout"},
		{Status: http.StatusInternalServerError, Code: "backendError"},
		{Status: http.StatusBadGateway, Code: "badGateway"},
		{Status: http.StatusServiceUnavailable, Code: "backendError"},
		{Status: http.StatusGatewayTimeout, Code: "backendError"},
	}
	for _, c := range calls {
		for _, f := range faults {
			t.Run(fmt.Sprintf("%s/%d-%s", c.name, f.Status, f.Code), func(t *testing.T) {
				e := newEnv(t, nil)
				f.Op, f.Times = c.op, 1
				e.srv.Inject(f)
				err := c.do(t.Context(), e)
				if !errors.Is(err, cloudswitch.ErrTransient) {
					t.Fatalf("got %v; want an error matching ErrTransient", err)
				}
				wantCause(t, err, f.Status)
				if errors.Is(err, cloudswitch.ErrInstanceNotFound) {
					t.Errorf("a transient error must not look like a missing instance: %v", err)
				}
			})
		}
	}
}

func TestErrorsRefusalsArePermanent(t *testing.T) {
	faults := []gcptest.Fault{
		{Status: http.StatusBadRequest, Code: "invalid"},
		{Status: http.StatusUnauthorized, Code: "required"},
		{Status: http.StatusForbidden, Code: "forbidden"},
		{Status: http.StatusForbidden, Code: "quotaExceeded"},
		{Status: http.StatusConflict, Code: "conflict"},
		{Status: http.StatusConflict, Code: "resourceInUseByAnotherResource"},
	}
	for _, c := range calls {
		for _, f := range faults {
			t.Run(fmt.Sprintf("%s/%d-%s", c.name, f.Status, f.Code), func(t *testing.T) {
				e := newEnv(t, nil)
				f.Op, f.Times = c.op, 1
				e.srv.Inject(f)
				err := c.do(t.Context(), e)
				if err == nil || errors.Is(err, cloudswitch.ErrTransient) || errors.Is(err, cloudswitch.ErrInstanceNotFound) {
					t.Fatalf("got %v; want a permanent error, neither transient nor not-found", err)
				}
				wantCause(t, err, f.Status)
			})
		}
	}
}

func TestErrorsNotFoundNamingTheInstanceIsErrInstanceNotFound(t *testing.T) {
	ctx := t.Context()
	// Deprovision is the one call for which "not found" has a meaning: the
	// instance is gone, which is success.
	e := newEnv(t, nil)
	err := e.d.Deprovision(ctx, cloudswitch.Instance{Provider: cloudswitch.GCP, ID: "cs-never-existed", Region: zone})
	if err != nil {
		t.Fatalf("Deprovision of an instance that does not exist: %v; want nil (gone is success)", err)
	}
	if n := e.srv.CallCount(gcptest.OpGet) + e.srv.CallCount(gcptest.OpDelete); n == 0 {
		t.Errorf("Deprovision made no call; want the API asked")
	}
}

func TestErrorsNotFoundAboutAnythingElseIsPermanent(t *testing.T) {
	ctx := t.Context()
	// A 404 for the project or the zone is a misconfiguration: a delete
	// answered so must fail, never look done, and a listing must fail.
	e := newEnv(t, nil)
	other := newDriver(t, e.srv.URL(), "no-such-project", e.secret)
	inst := e.srv.AddInstance(zone, "cs-alive", map[string]string{ownership.OwnerKey: "owner"})

	err := other.Deprovision(ctx, cloudswitch.Instance{Provider: cloudswitch.GCP, ID: inst.Name, Region: zone})
	if err == nil || errors.Is(err, cloudswitch.ErrInstanceNotFound) || errors.Is(err, cloudswitch.ErrTransient) {
		t.Fatalf("Deprovision in a project that does not exist: %v; want a permanent error, not \"gone\"", err)
	}
	wantCause(t, err, http.StatusNotFound)

	_, err = providertest.Listed(ctx, other, "owner")
	if err == nil || errors.Is(err, cloudswitch.ErrInstanceNotFound) || errors.Is(err, cloudswitch.ErrTransient) {
		t.Fatalf("Instances in a project that does not exist: %v; want a permanent error", err)
	}

	e.srv.Inject(gcptest.Fault{Op: gcptest.OpDelete, Times: 1, Status: http.StatusNotFound, Message: "The resource 'projects/" + e.srv.Project() + "/zones/" + zone + "' was not found"})
	err = e.d.Deprovision(ctx, cloudswitch.Instance{Provider: cloudswitch.GCP, ID: inst.Name, Region: zone})
	if err == nil || errors.Is(err, cloudswitch.ErrInstanceNotFound) {
		t.Fatalf("Deprovision answered 404 about the zone: %v; want a permanent error, not \"gone\"", err)
	}

	_, err = e.d.Provision(ctx, cloudswitch.ProvisionRequest{
		WorkspaceID: "ws", Token: randomHex(16), Owner: "owner",
		Compute: cloudswitch.Compute{Provider: cloudswitch.GCP, InstanceType: "e2-standard-2", Region: "us-east9-z"},
	})
	if err == nil || errors.Is(err, cloudswitch.ErrInstanceNotFound) || errors.Is(err, cloudswitch.ErrTransient) {
		t.Fatalf("Provision into a zone that does not exist: %v; want a permanent error", err)
	}
	if got := len(e.srv.Instances()); got != 1 {
		t.Errorf("%d instances exist; want only the one added", got)
	}
}

func TestErrorsBrokenConnectionsAreTransient(t *testing.T) {
	for _, c := range calls {
		t.Run(c.name+"/dropped", func(t *testing.T) {
			e := newEnv(t, nil)
			e.srv.Inject(gcptest.Fault{Op: c.op, Times: 1, Drop: true})
			err := c.do(t.Context(), e)
			if !errors.Is(err, cloudswitch.ErrTransient) {
				t.Fatalf("a dropped connection: %v; want ErrTransient", err)
			}
			if errors.Is(err, cloudswitch.ErrRefused) {
				t.Fatalf("a dropped connection: %v; want no refusal: the request was sent", err)
			}
		})
		t.Run(c.name+"/refused", func(t *testing.T) {
			e := newEnv(t, nil)
			down := newDriver(t, "http://127.0.0.1:1", e.srv.Project(), e.secret) // nothing listens on port 1
			err := call{do: c.do}.do(t.Context(), &env{srv: e.srv, d: down})
			if !errors.Is(err, cloudswitch.ErrTransient) {
				t.Fatalf("a refused connection: %v; want ErrTransient", err)
			}
			if !errors.Is(err, cloudswitch.ErrRefused) {
				t.Fatalf("a refused connection: %v; want a refusal: the request never left", err)
			}
		})
	}
}

// A status without a Compute Engine error reason (a proxy's or a load
// balancer's page) is classified as every driver classifies it: 408, 429
// and 5xx transient, other statuses permanent, and none a refusal or a
// missing instance.
func TestErrorsBareStatusesAreClassifiedAsByEveryDriver(t *testing.T) {
	for status, transient := range map[int]bool{
		408: true, 429: true, 500: true, 502: true, 503: true, 504: true,
		400: false, 403: false, 404: false, 409: false,
	} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(status)
				_, _ = io.WriteString(w, "<html><body>the proxy says no</body></html>")
			}))
			t.Cleanup(proxy.Close)
			d := newDriver(t, proxy.URL, "proxied-project", "ya29.secret"+randomHex(8))
			for _, c := range calls {
				err := call{do: c.do}.do(t.Context(), &env{d: d, srv: gcptest.NewServer(t)})
				if err == nil {
					t.Fatalf("%s answered a bare %d: no error", c.name, status)
				}
				if got := errors.Is(err, cloudswitch.ErrTransient); got != transient {
					t.Errorf("%s answered a bare %d: transient=%v, want %v: %v", c.name, status, got, transient, err)
				}
				if errors.Is(err, cloudswitch.ErrRefused) || errors.Is(err, cloudswitch.ErrInstanceNotFound) {
					t.Errorf("%s answered a bare %d: %v; want neither a refusal nor a missing instance", c.name, status, err)
				}
				wantCause(t, err, status)
			}
		})
	}
}

func TestErrorsContextEndingIsAContextError(t *testing.T) {
	ctx := t.Context()
	for _, c := range calls {
		t.Run(c.name+"/cancelled", func(t *testing.T) {
			e := newEnv(t, nil)
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			err := callWith(e, c, cctx)
			if !errors.Is(err, context.Canceled) || errors.Is(err, cloudswitch.ErrTransient) {
				t.Fatalf("got %v; want context.Canceled, not transient", err)
			}
			if n := e.srv.CallCount(c.op); n != 0 {
				t.Errorf("a cancelled call reached the API %d times", n)
			}
		})
		t.Run(c.name+"/deadline", func(t *testing.T) {
			e := newEnv(t, nil)
			e.srv.Inject(gcptest.Fault{Op: c.op, Latency: 10 * time.Second})
			dctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
			defer cancel()
			start := time.Now()
			err := callWith(e, c, dctx)
			if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, cloudswitch.ErrTransient) {
				t.Fatalf("got %v; want context.DeadlineExceeded, not transient", err)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("the call returned %v after its deadline passed", d)
			}
		})
	}
}

// callWith makes c's call with context c2 instead of the background one.
func callWith(e *env, c call, c2 context.Context) error {
	switch c.name {
	case "Provision":
		_, err := e.d.Provision(c2, request("owner", "ws"))
		return err
	case "Deprovision":
		return e.d.Deprovision(c2, cloudswitch.Instance{Provider: cloudswitch.GCP, ID: e.srv.AddInstance(zone, "cs-victim", nil).Name, Region: zone})
	default:
		_, err := providertest.Listed(c2, e.d, "owner")
		return err
	}
}

func TestErrorsFailedOperationIsAnOperationError(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, nil)
	e.srv.FailOperation(gcptest.OpInsert, 1, http.StatusForbidden, "QUOTA_EXCEEDED", "Quota 'CPUS' exceeded. Limit: 8.0 in region us-central1.")
	_, err := e.d.Provision(ctx, request("owner", "ws"))
	var opErr *gcp.OperationError
	if !errors.As(err, &opErr) {
		t.Fatalf("got %v; want a *gcp.OperationError", err)
	}
	if opErr.Kind != "insert" || opErr.HTTPStatus != http.StatusForbidden || len(opErr.Codes) != 1 || opErr.Codes[0] != "QUOTA_EXCEEDED" {
		t.Errorf("OperationError = %+v; want an insert failed with 403 QUOTA_EXCEEDED", opErr)
	}
	if errors.Is(err, cloudswitch.ErrTransient) {
		t.Errorf("a failed insert operation must be permanent: %v", err)
	}
}
