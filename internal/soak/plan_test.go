package soak

import (
	"math/rand/v2"
	"slices"

	"github.com/cloudswitch/cloudswitch"
)

// clouds are the providers the soak switches between.
var clouds = []string{cloudswitch.AWS, cloudswitch.Hetzner, cloudswitch.GCP}

// plan is one random switch: the request and the Switcher's options.
type plan struct {
	req          cloudswitch.Request
	strategy     cloudswitch.Strategy
	provisioning bool
}

// randomPlan draws a switch of a workspace last seen as cur: a provider
// change (now and then without the confirmation), a same-provider edit, or a
// request that keeps everything (which gives a workspace without a VM its
// VM); sometimes with cur's version as a precondition; either strategy;
// provisioning mostly on. Other workers may change the workspace before the
// switch reads it, so the plan is a wish, and every outcome the contract
// allows for it is fine.
func randomPlan(rng *rand.Rand, cur cloudswitch.Workspace) plan {
	from := cloudswitch.NormalizeProvider(cur.Compute.Provider)
	var req cloudswitch.Request
	switch r := rng.IntN(20); {
	case r < 11:
		others := slices.DeleteFunc(slices.Clone(clouds), func(c string) bool { return c == from })
		to := others[rng.IntN(len(others))]
		req.Compute = cloudswitch.Compute{Provider: to, InstanceType: randomType(rng, to)}
		req.ConfirmRecreate = rng.IntN(12) != 0
	case r < 17:
		req.Compute = cloudswitch.Compute{Provider: from, InstanceType: randomType(rng, from)}
		// Needed only if another worker moves the workspace first.
		req.ConfirmRecreate = rng.IntN(2) == 0
	}
	if rng.IntN(4) == 0 {
		req.IfVersion = cur.Version
	}
	p := plan{req: req, strategy: cloudswitch.BreakBeforeMake, provisioning: rng.IntN(5) != 0}
	if rng.IntN(2) == 0 {
		p.strategy = cloudswitch.MakeBeforeBreak
	}
	return p
}

// randomType returns an instance type the default allowlist allows on
// provider, or "" (the default on a provider change, the current type on the
// same provider).
func randomType(rng *rand.Rand, provider string) string {
	types := cloudswitch.DefaultAllowlist().InstanceTypes(provider)
	if i := rng.IntN(len(types) + 1); i < len(types) {
		return types[i]
	}
	return ""
}

// target names the provider the plan asks for, for messages.
func (p plan) target() string {
	if p.req.Compute.Provider == "" {
		return "its own provider"
	}
	return p.req.Compute.Provider
}
