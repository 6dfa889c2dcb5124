package hetznertest

import (
	"net/http"
	"strconv"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/providertest"
)

// harnessOps maps the conformance suite's operations to the calls that
// carry them out.
var harnessOps = map[providertest.Op]string{
	providertest.OpProvision:   OpCreateServer,
	providertest.OpDeprovision: OpDeleteServer,
	providertest.OpList:        OpListServers,
}

// harnessFaults are Hetzner's answers of each class of fault, as the API
// reference's error table spells them.
var harnessFaults = map[providertest.FaultKind]Fault{
	providertest.Transient:   {Status: http.StatusServiceUnavailable, Code: "service_error"},
	providertest.Permanent:   {Status: http.StatusForbidden, Code: "forbidden"},
	providertest.Throttled:   {Status: http.StatusTooManyRequests, Code: "rate_limit_exceeded"},
	providertest.ServerError: {Status: http.StatusInternalServerError, Code: "server_error"},
}

// Harness returns the conformance suite's harness for p, a driver talking to
// s with Token, with every lever the emulator serves: faults as Hetzner
// answers them, lost answers, the page size, the count of GET /servers
// calls, the ground truth (Live), both projects' tokens as secrets, create
// actions that fail (FailCreate), a server locked by another action (423
// locked for the next n calls of the operation: a driver that retries a
// locked call scales n to its attempts) and servers powered off (SetDown).
// Its Compute is a cpx31 in nbg1. ForeignCredentials is left nil: the
// credentials are the client's, so a test switches its client to
// OtherProjectToken. Hide is nil too: Hetzner documents no eventual
// consistency for calls by id.
func (s *Server) Harness(p cloudswitch.Provider) providertest.Harness {
	h := providertest.Emulated(s, harnessOps, harnessFaults)
	h.Provider, h.Name, h.Compute = p, cloudswitch.Hetzner, cloudswitch.Compute{Provider: cloudswitch.Hetzner, InstanceType: "cpx31", Region: "nbg1"}
	h.Secrets = []string{s.Token(), s.OtherProjectToken()}
	h.FailCreate = func() {
		s.FailActions(ActionFailure{Command: CommandCreateServer, Times: 1})
	}
	h.Busy = func(op providertest.Op, n int) {
		_ = s.Inject(Fault{Op: harnessOps[op], Times: n, Status: http.StatusLocked, Code: "locked"})
	}
	h.SetDown = func(inst cloudswitch.Instance) {
		id, _ := strconv.ParseInt(inst.ID, 10, 64)
		s.PowerOff(id)
	}
	return h
}
