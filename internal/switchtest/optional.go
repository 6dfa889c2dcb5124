package switchtest

import (
	"context"

	"github.com/cloudswitch/cloudswitch"
)

// A wrapper around a Provider must keep the optional interfaces of what it
// wraps: a Switcher that cannot see a driver's Resizer recreates a VM it
// could have resized. wrapped is what the suites' wrappers implement;
// expose gives the result exactly the optional interfaces of inner.
type wrapped interface {
	cloudswitch.Provider
	preflight(ctx context.Context, req cloudswitch.ProvisionRequest) error
	resize(ctx context.Context, inst cloudswitch.Instance, instanceType string) (cloudswitch.Instance, error)
}

func expose(w wrapped, inner cloudswitch.Provider) cloudswitch.Provider {
	_, pf := inner.(cloudswitch.Preflighter)
	_, rz := inner.(cloudswitch.Resizer)
	switch {
	case pf && rz:
		return preflightingResizer{w}
	case pf:
		return preflighting{w}
	case rz:
		return resizing{w}
	}
	return w
}

type preflighting struct{ wrapped }

func (p preflighting) Preflight(ctx context.Context, req cloudswitch.ProvisionRequest) error {
	return p.preflight(ctx, req)
}

type resizing struct{ wrapped }

func (r resizing) Resize(ctx context.Context, inst cloudswitch.Instance, t string) (cloudswitch.Instance, error) {
	return r.resize(ctx, inst, t)
}

type preflightingResizer struct{ wrapped }

func (p preflightingResizer) Preflight(ctx context.Context, req cloudswitch.ProvisionRequest) error {
	return p.preflight(ctx, req)
}

func (p preflightingResizer) Resize(ctx context.Context, inst cloudswitch.Instance, t string) (cloudswitch.Instance, error) {
	return p.resize(ctx, inst, t)
}

// The process wrapper: each optional call is one more operation the
// process may fail or die at.

func (pr provider) preflight(ctx context.Context, req cloudswitch.ProvisionRequest) error {
	return pr.p.do(pr.name+".preflight", func() error {
		return pr.inner.(cloudswitch.Preflighter).Preflight(ctx, req)
	})
}

func (pr provider) resize(ctx context.Context, inst cloudswitch.Instance, t string) (cloudswitch.Instance, error) {
	var out cloudswitch.Instance
	err := pr.p.do(pr.name+".resize", func() error {
		var err error
		out, err = pr.inner.(cloudswitch.Resizer).Resize(ctx, inst, t)
		return err
	})
	return out, err
}

// The guard: every call under a deadline.

func (g guarded) preflight(ctx context.Context, req cloudswitch.ProvisionRequest) error {
	g.requireDeadline(ctx, "Preflight")
	return g.inner.(cloudswitch.Preflighter).Preflight(ctx, req)
}

func (g guarded) resize(ctx context.Context, inst cloudswitch.Instance, t string) (cloudswitch.Instance, error) {
	g.requireDeadline(ctx, "Resize")
	return g.inner.(cloudswitch.Resizer).Resize(ctx, inst, t)
}
