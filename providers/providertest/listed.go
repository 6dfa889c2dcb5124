package providertest

import (
	"context"

	"github.com/cloudswitch/cloudswitch"
)

// Listed collects what p.Instances yields for owner. It stops at the first
// error and returns it with the VMs yielded before it; the error is nil when
// the listing ended cleanly.
func Listed(ctx context.Context, p cloudswitch.Provider, owner string) ([]cloudswitch.Instance, error) {
	var out []cloudswitch.Instance
	for inst, err := range p.Instances(ctx, owner) {
		if err != nil {
			return out, err
		}
		out = append(out, inst)
	}
	return out, nil
}
