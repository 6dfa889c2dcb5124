package gcptest_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"cloud.google.com/go/compute/apiv1/computepb"

	"github.com/cloudswitch/cloudswitch/providers/gcp/gcptest"
)

func TestInjectedFaultsFailWithoutEffectInTheErrorEnvelope(t *testing.T) {
	srv := gcptest.NewServer(t)
	ic, _ := clients(t, srv)
	srv.Inject(gcptest.Fault{Op: gcptest.OpInsert, Times: 2, Status: http.StatusForbidden, Code: "quotaExceeded", Message: "Quota exceeded for quota metric 'Instances'."})
	for range 2 {
		_, err := insert(t.Context(), ic, srv.Project(), "", resource("vm-1", nil))
		gerr := wantAPIError(t, err, http.StatusForbidden, "quotaExceeded")
		if gerr.Message != "Quota exceeded for quota metric 'Instances'." {
			t.Errorf("message %q", gerr.Message)
		}
	}
	if n := len(srv.Instances()); n != 0 {
		t.Fatalf("failed inserts created %d instances", n)
	}
	mustInsert(t, srv, ic, "vm-1", nil) // the fault is used up

	srv.Inject(gcptest.Fault{Op: gcptest.OpAggregatedList, Status: http.StatusServiceUnavailable})
	status, body := raw(t, srv, "GET", "/compute/v1/projects/"+srv.Project()+"/aggregated/instances")
	e := body["error"].(map[string]any)
	items := e["errors"].([]any)
	if status != http.StatusServiceUnavailable || e["code"] != float64(503) || e["message"] == "" || len(items) != 1 || items[0].(map[string]any)["reason"] != "backendError" {
		t.Errorf("answered %d %v; want the envelope of 503 backendError", status, body)
	}
}

func TestFaultsGetComputeEnginesReasonForTheirStatus(t *testing.T) {
	ctx := t.Context()
	for status, reason := range map[int]string{400: "invalid", 401: "required", 403: "forbidden", 404: "notFound", 409: "conflict", 429: "rateLimitExceeded", 500: "backendError", 503: "backendError"} {
		srv := gcptest.NewServer(t)
		ic, _ := clients(t, srv)
		srv.Inject(gcptest.Fault{Op: gcptest.OpGet, Times: 1, Status: status})
		_, err := ic.Get(ctx, &computepb.GetInstanceRequest{Project: srv.Project(), Zone: zone, Instance: "vm"}, noRetry)
		wantAPIError(t, err, status, reason)
	}
	srv := gcptest.NewServer(t)
	ic, _ := clients(t, srv)
	srv.Inject(gcptest.Fault{Op: gcptest.OpGet, Times: 1, Code: "invalidParameter"})
	_, err := ic.Get(ctx, &computepb.GetInstanceRequest{Project: srv.Project(), Zone: zone, Instance: "vm"}, noRetry)
	wantAPIError(t, err, http.StatusBadRequest, "invalidParameter")
}

func TestStandingFaultsLastUntilClearFaults(t *testing.T) {
	srv := gcptest.NewServer(t)
	ic, _ := clients(t, srv)
	srv.Inject(gcptest.Fault{Status: http.StatusTooManyRequests}) // every operation, every call
	srv.FailOperation("", 5, http.StatusForbidden, "", "")
	for range 3 {
		_, err := insert(t.Context(), ic, srv.Project(), "", resource("vm-1", nil))
		wantAPIError(t, err, http.StatusTooManyRequests, "rateLimitExceeded")
	}
	srv.ClearFaults()
	mustInsert(t, srv, ic, "vm-1", nil) // the operation failure is cleared too
	if n := srv.CallCount(gcptest.OpInsert); n != 4 {
		t.Errorf("Calls = %d; want 4, failed calls included", n)
	}
	srv.ResetCalls()
	if n := srv.CallCount(""); n != 0 {
		t.Errorf("Calls after ResetCalls = %d", n)
	}
}

func TestDropTakesEffectAndLosesTheAnswer(t *testing.T) {
	srv := gcptest.NewServer(t)
	ic, _ := clients(t, srv)
	srv.Inject(gcptest.Fault{Op: gcptest.OpInsert, Times: 1, Drop: true})
	_, err := insert(t.Context(), ic, srv.Project(), "", resource("vm-1", nil))
	if err == nil {
		t.Fatal("the insert's answer arrived although it was dropped")
	}
	if vms := srv.Instances(); len(vms) != 1 || vms[0].Name != "vm-1" {
		t.Errorf("instances %+v; want vm-1, created before the answer was lost", vms)
	}
}

func TestLatencyDelaysAndHonoursTheCallersDeadline(t *testing.T) {
	ctx := t.Context()
	srv := gcptest.NewServer(t)
	ic, _ := clients(t, srv)
	srv.SetLatency(30 * time.Millisecond)
	start := time.Now()
	_, err := ic.Get(ctx, &computepb.GetInstanceRequest{Project: srv.Project(), Zone: zone, Instance: "vm"}, noRetry)
	wantAPIError(t, err, http.StatusNotFound, "notFound")
	if took := time.Since(start); took < 30*time.Millisecond {
		t.Errorf("the call took %v; want at least the 30 ms latency", took)
	}
	srv.SetLatency(0)

	srv.Inject(gcptest.Fault{Op: gcptest.OpInsert, Latency: 10 * time.Second})
	dctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, err = ic.Insert(dctx, &computepb.InsertInstanceRequest{Project: srv.Project(), Zone: zone, InstanceResource: resource("vm-1", nil)}, noRetry)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v; want the caller's deadline", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("the call returned after %v", took)
	}
	time.Sleep(50 * time.Millisecond) // the server notices the client left
	if n := len(srv.Instances()); n != 0 {
		t.Errorf("an insert abandoned during its latency created %d instances", n)
	}
}
