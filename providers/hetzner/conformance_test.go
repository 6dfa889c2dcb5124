package hetzner_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"

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

// TestConformance runs the Provider conformance suite, switch suites
// included, against the driver speaking to the emulator through hcloud-go.
func TestConformance(t *testing.T) {
	providertest.Run(t, func(t *testing.T) providertest.Harness {
		srv := hetznertest.NewServer(t)
		d, err := hetzner.New(srv.Client())
		if err != nil {
			t.Fatal(err)
		}
		return providertest.Harness{
			Provider: d,
			Name:     cloudswitch.Hetzner,
			Compute:  cloudswitch.Compute{Provider: cloudswitch.Hetzner, InstanceType: "cpx31", Region: "nbg1"},
			Fail: func(op providertest.Op, n int, kind providertest.FaultKind) {
				f := hetznertest.Fault{Op: emulatorOps[op], Times: n, Status: http.StatusForbidden, Code: "forbidden"}
				if kind == providertest.Transient {
					f.Status, f.Code = http.StatusServiceUnavailable, "service_error"
				}
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
		out = append(out, cloudswitch.Instance{
			Provider: cloudswitch.Hetzner, ID: strconv.FormatInt(vm.ID, 10), Region: vm.Location,
			WorkspaceID: workspace, Token: token, CreatedAt: vm.Created,
		})
	}
	return out
}
