package hetzner_test

import (
	"context"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/ownership"
	"github.com/cloudswitch/cloudswitch/providers/hetzner"
	"github.com/cloudswitch/cloudswitch/providers/hetzner/hetznertest"
	"github.com/cloudswitch/cloudswitch/providers/providertest"
)

// emulatorOps maps the operations of a Provider to the API call that
// carries each of them out.
var emulatorOps = map[providertest.Op]string{
	providertest.OpProvision:   hetznertest.OpCreateServer,
	providertest.OpDeprovision: hetznertest.OpDeleteServer,
	providertest.OpList:        hetznertest.OpListServers,
}

// faultOf is the answer Hetzner gives for each kind of fault, as the API
// reference's error table spells it.
var faultOf = map[providertest.FaultKind]hetznertest.Fault{
	providertest.Transient:   {Status: http.StatusServiceUnavailable, Code: "service_error"},
	providertest.Permanent:   {Status: http.StatusForbidden, Code: "forbidden"},
	providertest.Throttled:   {Status: http.StatusTooManyRequests, Code: "rate_limit_exceeded"},
	providertest.ServerError: {Status: http.StatusInternalServerError, Code: "server_error"},
}

// TestConformance runs the Provider conformance suite, switch suites
// included, against the driver speaking to the emulator through hcloud-go.
func TestConformance(t *testing.T) {
	providertest.Run(t, func(t *testing.T) providertest.Harness { return harness(t) })
}

// deleteAttempts is how many DELETEs one Deprovision of a locked server
// makes: the first, and one after each of its three waits for the lock.
const deleteAttempts = 4

// harness is the driver on an emulator, with every lever of the suite. The
// project has an SSH key, as real projects have (and the driver keeps its
// anchor), so the driver can tell that it sees the project.
func harness(t *testing.T, opts ...hetznertest.Option) providertest.Harness {
	srv := hetznertest.NewServer(t, append([]hetznertest.Option{hetznertest.WithSSHKeys("ops")}, opts...)...)
	creds := &credentials{base: http.DefaultTransport, foreign: srv.OtherProjectToken()}
	// No SDK retries: hcloud-go would retry a throttled call by itself,
	// and every scripted fault must reach the driver.
	d, err := hetzner.New(srv.Client(hcloud.WithRetryOpts(hcloud.RetryOpts{MaxRetries: 0}), hcloud.WithHTTPClient(&http.Client{Transport: creds})),
		hetzner.WithSSHKeys("ops"))
	if err != nil {
		t.Fatal(err)
	}
	return providertest.Harness{
		Provider: d,
		Name:     cloudswitch.Hetzner,
		Compute:  cloudswitch.Compute{Provider: cloudswitch.Hetzner, InstanceType: "cpx31", Region: "nbg1"},
		Fail: func(op providertest.Op, n int, kind providertest.FaultKind) {
			f := faultOf[kind]
			f.Op, f.Times = emulatorOps[op], n
			srv.Inject(f)
		},
		LoseResponse: func(op providertest.Op) {
			srv.Inject(hetznertest.Fault{Op: emulatorOps[op], Times: 1, Drop: true})
		},
		SetPageSize: srv.SetPageSize,
		ListCalls:   func() int { return srv.Calls(hetznertest.OpListServers) },
		Live:        func(context.Context) ([]cloudswitch.Instance, error) { return live(srv), nil },
		Secrets:     []string{srv.Token(), srv.OtherProjectToken()},
		FailCreate: func() {
			srv.FailActions(hetznertest.ActionFailure{Command: hetznertest.CommandCreateServer, Times: 1})
		},
		Busy: func(op providertest.Op, n int) {
			srv.Inject(hetznertest.Fault{Op: emulatorOps[op], Times: n * deleteAttempts, Status: http.StatusLocked, Code: "locked"})
		},
		ForeignCredentials: creds.useForeign,
		SetDown: func(inst cloudswitch.Instance) {
			id, _ := strconv.ParseInt(inst.ID, 10, 64)
			srv.PowerOff(id)
		},
		// Hide stays nil: Hetzner documents no eventual consistency for
		// calls by id.
	}
}

// credentials is a transport that sends the token of another project
// instead of the driver's while foreign is on.
type credentials struct {
	base    http.RoundTripper
	foreign string
	on      atomic.Bool
}

func (c *credentials) useForeign(on bool) { c.on.Store(on) }

func (c *credentials) RoundTrip(r *http.Request) (*http.Response, error) {
	if c.on.Load() {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer "+c.foreign)
	}
	return c.base.RoundTrip(r)
}

// live is the emulator's ground truth as Instances: every server not being
// deleted, with the workspace id and token decoded from its labels.
func live(srv *hetznertest.Server) []cloudswitch.Instance {
	var out []cloudswitch.Instance
	for _, vm := range srv.Servers() {
		if !vm.Live() {
			continue
		}
		workspace, _ := ownership.DecodeLabel(vm.Labels[ownership.WorkspaceKey])
		token, _ := ownership.DecodeLabel(vm.Labels[ownership.TokenKey])
		installation, _ := ownership.DecodeLabel(vm.Labels[ownership.InstallationKey])
		out = append(out, cloudswitch.Instance{
			Provider: cloudswitch.Hetzner, ID: strconv.FormatInt(vm.ID, 10), Region: vm.Location,
			WorkspaceID: workspace, Token: token, Installation: installation,
			InstanceType: vm.Type, Image: vm.Image, CreatedAt: vm.Created,
		})
	}
	return out
}

// TestConformanceWithActionsThatTakeTime runs the suite, switch suites
// included, with actions that last a few milliseconds, as Hetzner's last
// seconds: a delete that follows a lost create answer can find the server
// locked by its create, and an adopted server may still be initializing.
func TestConformanceWithActionsThatTakeTime(t *testing.T) {
	if testing.Short() {
		t.Skip("the suite with slow actions is not short")
	}
	providertest.Run(t, func(t *testing.T) providertest.Harness {
		return harness(t, hetznertest.WithActionDuration(3*time.Millisecond))
	})
}
