package hetzner_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/internal/ownership"
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
	providertest.Run(t, func(t *testing.T) providertest.Harness {
		// With an SSH key, as every real project has: it shows the driver
		// sees the project, so that a 404 is trusted as "gone" even for the
		// last server of the project.
		srv := hetznertest.NewServer(t, hetznertest.WithSSHKeys("ops"))
		// No SDK retries: hcloud-go would retry a throttled call by itself,
		// and every scripted fault must reach the driver.
		d, err := hetzner.New(srv.Client(hcloud.WithRetryOpts(hcloud.RetryOpts{MaxRetries: 0})), hetzner.WithSSHKeys("ops"))
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
			OtherProject: func(t *testing.T) cloudswitch.Provider {
				other, err := hetzner.New(srv.Client(hcloud.WithToken(srv.OtherProjectToken()), hcloud.WithRetryOpts(hcloud.RetryOpts{MaxRetries: 0})),
					hetzner.WithSSHKeys("ops"))
				if err != nil {
					t.Fatal(err)
				}
				return other
			},
		}
	})
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
		srv := hetznertest.NewServer(t, hetznertest.WithSSHKeys("ops"), hetznertest.WithActionDuration(3*time.Millisecond))
		d, err := hetzner.New(srv.Client(hcloud.WithRetryOpts(hcloud.RetryOpts{MaxRetries: 0})), hetzner.WithSSHKeys("ops"))
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
			Secrets:     []string{srv.Token()},
		}
	})
}
