package memprovider_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/memprovider"
)

// A test scripts a flaky cloud: two throttled calls, then one whose
// response is lost after the VM was created. Provisioning again with the
// same token returns that VM instead of creating a second one.
func Example() {
	ctx := context.Background()
	p := memprovider.New(cloudswitch.Hetzner)
	p.FailNext(memprovider.OpProvision, 2, memprovider.ErrThrottled)
	p.LoseResponse(memprovider.OpProvision, 1, memprovider.ErrUnavailable)

	req := cloudswitch.ProvisionRequest{
		WorkspaceID: "ws-1", Token: "3f2a9c0d1e4b5a69", Owner: "acme",
		Compute: cloudswitch.Compute{Provider: cloudswitch.Hetzner, InstanceType: "cpx31"},
	}
	for attempt := 1; ; attempt++ {
		inst, err := p.Provision(ctx, req)
		if errors.Is(err, cloudswitch.ErrTransient) {
			fmt.Printf("attempt %d: transient: %v\n", attempt, err)
			continue
		}
		fmt.Printf("attempt %d: %s (live VMs: %d)\n", attempt, inst.ID, len(p.Live()))
		break
	}
	// Output:
	// attempt 1: transient: memprovider: request limit exceeded: cloudswitch: transient provider error: cloudswitch: refused by the provider
	// attempt 2: transient: memprovider: request limit exceeded: cloudswitch: transient provider error: cloudswitch: refused by the provider
	// attempt 3: transient: memprovider: service unavailable (503): cloudswitch: transient provider error
	// attempt 4: hetzner-00000001 (live VMs: 1)
}
