package gcp_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/gcp/gcptest"
	"github.com/cloudswitch/cloudswitch/providers/providertest"
)

// emulatorOps maps the operations of a Provider to the API call that
// carries each of them out. Listing is one aggregated list over every zone.
var emulatorOps = map[providertest.Op]string{
	providertest.OpProvision:   gcptest.OpInsert,
	providertest.OpDeprovision: gcptest.OpDelete,
	providertest.OpList:        gcptest.OpAggregatedList,
}

// faultStatus and faultReasons are Compute Engine's answers of each class
// of fault (its error envelope's HTTP status and errors[].reason).
var (
	faultStatus = map[providertest.FaultKind]int{
		providertest.Transient:   http.StatusServiceUnavailable,
		providertest.Permanent:   http.StatusForbidden,
		providertest.Throttled:   http.StatusTooManyRequests,
		providertest.ServerError: http.StatusInternalServerError,
	}
	faultReasons = map[providertest.FaultKind]string{
		providertest.Transient:   "backendError",
		providertest.Permanent:   "forbidden",
		providertest.Throttled:   "rateLimitExceeded",
		providertest.ServerError: "backendError",
	}
)

// TestConformance runs the Provider conformance suite, switch suites
// included, against the driver speaking to the emulator through the real
// Compute Engine REST clients.
func TestConformance(t *testing.T) {
	providertest.Run(t, func(t *testing.T) providertest.Harness { return harness(t, nil) })
}

// TestConformanceWithOperationsThatTakeTime runs the suite again with every
// operation taking a few milliseconds, as Compute Engine's take seconds: a
// delete then meets instances still PROVISIONING or STAGING, deletes still
// running and resourceNotReady.
func TestConformanceWithOperationsThatTakeTime(t *testing.T) {
	if testing.Short() {
		t.Skip("the suite again, slower")
	}
	providertest.Run(t, func(t *testing.T) providertest.Harness {
		return harness(t, []gcptest.Option{gcptest.WithOperationTime(3 * time.Millisecond)})
	})
}

// harness is the conformance harness on an emulator made with srvOpts.
func harness(t *testing.T, srvOpts []gcptest.Option) providertest.Harness {
	e := newLookupEnv(t, srvOpts)
	return providertest.Harness{
		Provider: e.d,
		Name:     cloudswitch.GCP,
		Compute:  cloudswitch.Compute{Provider: cloudswitch.GCP, InstanceType: "e2-standard-2"},
		Fail: func(op providertest.Op, n int, kind providertest.FaultKind) {
			e.srv.Inject(gcptest.Fault{Op: emulatorOps[op], Times: n, Status: faultStatus[kind], Code: faultReasons[kind]})
		},
		LoseResponse: func(op providertest.Op) {
			e.srv.Inject(gcptest.Fault{Op: emulatorOps[op], Times: 1, Drop: true})
		},
		SetPageSize: e.srv.SetPageSize,
		ListCalls:   func() int { return e.srv.Calls(gcptest.OpAggregatedList) },
		Live:        func(context.Context) ([]cloudswitch.Instance, error) { return live(e.srv), nil },
		Secrets:     []string{e.secret},
		Busy: func(op providertest.Op, n int) {
			e.srv.Inject(gcptest.Fault{Op: emulatorOps[op], Times: n, Status: http.StatusBadRequest, Code: "resourceNotReady"})
		},
		ForeignCredentials: func(on bool) {
			project := ""
			if on {
				project = "someone-elses-project"
			}
			e.srv.SetCallerProject(project)
		},
		SetDown: func(inst cloudswitch.Instance) { e.srv.SetStatus(inst.Region, inst.ID, gcptest.StatusTerminated) },
	}
}
