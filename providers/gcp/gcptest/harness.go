package gcptest

import (
	"net/http"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/providertest"
)

// harnessOps maps the conformance suite's operations to the calls that
// carry them out. Listing is one aggregated list over every zone.
var harnessOps = map[providertest.Op]string{
	providertest.OpProvision:   OpInsert,
	providertest.OpDeprovision: OpDelete,
	providertest.OpList:        OpAggregatedList,
}

// harnessFaults are Compute Engine's answers of each class of fault: its
// error envelope's HTTP status and errors[].reason.
var harnessFaults = map[providertest.FaultKind]Fault{
	providertest.Transient:   {Status: http.StatusServiceUnavailable, Code: "backendError"},
	providertest.Permanent:   {Status: http.StatusForbidden, Code: "forbidden"},
	providertest.Throttled:   {Status: http.StatusTooManyRequests, Code: "rateLimitExceeded"},
	providertest.ServerError: {Status: http.StatusInternalServerError, Code: "backendError"},
}

// Harness returns the conformance suite's harness for p, a driver talking to
// s, with every lever the emulator serves: faults as Compute Engine answers
// them, lost answers, the page size, the count of aggregatedList calls, the
// ground truth (Live), a VM busy with another operation (400
// resourceNotReady), credentials of another project (SetCallerProject) and
// stopped instances (SetDown) and
// inserts that fail after they were accepted (FailCreate). Its Compute is an e2-standard-2. The
// emulator holds no secret: a test whose clients send one adds it to
// Secrets.
func (s *Server) Harness(p cloudswitch.Provider) providertest.Harness {
	h := providertest.Emulated(s, harnessOps, harnessFaults)
	h.Provider, h.Name, h.Compute = p, cloudswitch.GCP, cloudswitch.Compute{Provider: cloudswitch.GCP, InstanceType: "e2-standard-2"}
	h.Busy = func(op providertest.Op, n int) {
		_ = s.Inject(Fault{Op: harnessOps[op], Times: n, Status: http.StatusBadRequest, Code: "resourceNotReady"})
	}
	h.ForeignCredentials = func(on bool) {
		project := ""
		if on {
			project = "someone-elses-project"
		}
		s.SetCallerProject(project)
	}
	h.SetDown = func(inst cloudswitch.Instance) { s.SetStatus(inst.Region, inst.ID, StatusTerminated) }
	// An accepted insert whose operation ends DONE with an error, as when
	// the zone runs out of the machine type after accepting it.
	h.FailCreate = func() {
		s.FailOperation(OpInsert, 1, http.StatusServiceUnavailable, "ZONE_RESOURCE_POOL_EXHAUSTED",
			"The zone does not have enough resources available to fulfill the request.")
	}
	return h
}
