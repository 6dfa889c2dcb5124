package soak

import (
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/internal/emulated"
	"github.com/cloudswitch/cloudswitch/providers/aws/awstest"
	"github.com/cloudswitch/cloudswitch/providers/gcp/gcptest"
	"github.com/cloudswitch/cloudswitch/providers/hetzner/hetznertest"
)

// cloudOps are the emulator operations the drivers call, by provider.
var cloudOps = map[string][]string{
	cloudswitch.AWS: {awstest.OpRunInstances, awstest.OpTerminateInstances, awstest.OpDescribeInstances},
	cloudswitch.Hetzner: {hetznertest.OpCreateServer, hetznertest.OpDeleteServer, hetznertest.OpGetServer,
		hetznertest.OpListServers, hetznertest.OpGetAction},
	cloudswitch.GCP: {gcptest.OpInsert, gcptest.OpDelete, gcptest.OpGet, gcptest.OpAggregatedList,
		gcptest.OpOperationGet},
}

// cloudFault picks a fault for the next call of one emulator operation,
// whichever process makes it: a 503 or a 429 without effect (with the error
// code each cloud sends with it, which its driver classifies), a connection
// dropped after the call took effect, or a slow answer. The emulators are
// shared, so the fault may hit another worker than the one injecting it;
// every worker copes with every one of them.
func cloudFault(rng *rand.Rand) emulated.Fault {
	providers := []string{cloudswitch.AWS, cloudswitch.Hetzner, cloudswitch.GCP}
	p := providers[rng.IntN(len(providers))]
	ops := cloudOps[p]
	f := emulated.Fault{Provider: p, Op: ops[rng.IntN(len(ops))], Times: 1}
	switch rng.IntN(4) {
	case 0:
		f.Status = http.StatusServiceUnavailable
		if p == cloudswitch.Hetzner {
			f.Code = "service_error"
		}
	case 1:
		f.Status = http.StatusTooManyRequests
		switch p {
		case cloudswitch.AWS:
			f.Code = "RequestLimitExceeded"
		case cloudswitch.Hetzner:
			f.Code = "rate_limit_exceeded"
		}
	case 2:
		f.Drop = true
	default:
		f.Latency = 200 * time.Millisecond
	}
	return f
}
