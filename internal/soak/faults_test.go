package soak

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"sync"

	"github.com/cloudswitch/cloudswitch"
)

// fate is what the injector does to one provider call.
type fate string

const (
	calm      fate = "calm"      // the call goes through untouched
	throttled fate = "throttled" // it fails without effect, transiently (a 503, a throttle)
	lost      fate = "lost"      // it takes effect, and its answer is lost (a transient error)
	refused   fate = "refused"   // it is refused outright, permanently, without effect (a 403)
)

// The errors the injector answers with. Each says what happened, so that a
// failure message quoting one is read right.
var (
	errThrottled = fmt.Errorf("soak: injected throttling, the call had no effect: %w", cloudswitch.ErrTransient)
	errLost      = fmt.Errorf("soak: injected lost answer, the call took effect: %w", cloudswitch.ErrTransient)
	errRefused   = errors.New("soak: injected refusal (403), the call had no effect")
)

// weather is how likely each fate is, per call.
type weather struct{ throttled, lost, refused float64 }

// climates are the weathers a worker's rounds draw from: calm, normal, and
// a storm in which most calls fail, so that retries run out and switches are
// left journaled for someone to resume.
var climates = []weather{
	{0, 0, 0},
	{0.10, 0.05, 0.02},
	{0.40, 0.15, 0.03},
}

// injector is a worker's own fault injector: it wraps the real drivers and
// decides the fate of every call by the weather of the round. It is safe for
// concurrent use.
type injector struct {
	// tokenTaken reports whether any VM carries token, from the emulators'
	// ground truth: a Provision may be refused only when none does, since a
	// permanent error from Provision promises that no VM exists for its
	// token (see cloudswitch.Provider).
	tokenTaken func(ctx context.Context, token string) (bool, error)

	mu     sync.Mutex
	rng    *rand.Rand
	w      weather
	counts map[fate]int
}

func newInjector(rng *rand.Rand, tokenTaken func(ctx context.Context, token string) (bool, error)) *injector {
	return &injector{rng: rng, tokenTaken: tokenTaken, counts: make(map[fate]int)}
}

// setWeather sets the weather of the calls from now on.
func (in *injector) setWeather(w weather) {
	in.mu.Lock()
	in.w = w
	in.mu.Unlock()
}

// roll decides the fate of one call.
func (in *injector) roll() fate {
	in.mu.Lock()
	defer in.mu.Unlock()
	r := in.rng.Float64()
	f := calm
	switch {
	case r < in.w.throttled:
		f = throttled
	case r < in.w.throttled+in.w.lost:
		f = lost
	case r < in.w.throttled+in.w.lost+in.w.refused:
		f = refused
	}
	return f
}

func (in *injector) count(f fate) {
	in.mu.Lock()
	in.counts[f]++
	in.mu.Unlock()
}

// injected returns how many calls met each fate but calm.
func (in *injector) injected() map[string]int {
	in.mu.Lock()
	defer in.mu.Unlock()
	out := make(map[string]int, len(in.counts))
	for f, n := range in.counts {
		out[string(f)] = n
	}
	return out
}

// wrap returns the drivers seen through the injector.
func (in *injector) wrap(drivers map[string]cloudswitch.Provider) map[string]cloudswitch.Provider {
	out := make(map[string]cloudswitch.Provider, len(drivers))
	for name, d := range drivers {
		out[name] = faultyProvider{inner: d, in: in}
	}
	return out
}

// faultyProvider is one driver seen through the injector.
type faultyProvider struct {
	inner cloudswitch.Provider
	in    *injector
}

func (p faultyProvider) Provision(ctx context.Context, req cloudswitch.ProvisionRequest) (cloudswitch.Instance, error) {
	f := p.in.roll()
	if f == refused {
		if taken, err := p.in.tokenTaken(ctx, req.Token); err != nil || taken {
			f = calm // a refusal would lie: a VM may exist for the token
		}
	}
	switch f {
	case throttled, refused:
		p.in.count(f)
		return cloudswitch.Instance{}, p.err(f)
	}
	inst, err := p.inner.Provision(ctx, req)
	if err == nil && f == lost {
		p.in.count(f)
		return cloudswitch.Instance{}, errLost
	}
	return inst, err
}

func (p faultyProvider) Deprovision(ctx context.Context, inst cloudswitch.Instance) error {
	f := p.in.roll()
	switch f {
	case throttled, refused:
		p.in.count(f)
		return p.err(f)
	}
	err := p.inner.Deprovision(ctx, inst)
	if err == nil && f == lost {
		p.in.count(f)
		return errLost
	}
	return err
}

// Instances fails a listing part-way: it yields a few true VMs, then the
// error, which leaves the listing incomplete.
func (p faultyProvider) Instances(ctx context.Context, owner string) iter.Seq2[cloudswitch.Instance, error] {
	return func(yield func(cloudswitch.Instance, error) bool) {
		f := p.in.roll()
		if f == lost {
			f = calm // a listing has no effect to lose the answer of
		}
		cut := -1
		if f != calm {
			p.in.count(f)
			p.in.mu.Lock()
			cut = p.in.rng.IntN(3)
			p.in.mu.Unlock()
		}
		n := 0
		for inst, err := range p.inner.Instances(ctx, owner) {
			if n == cut {
				break
			}
			if !yield(inst, err) || err != nil {
				return
			}
			n++
		}
		if cut >= 0 {
			yield(cloudswitch.Instance{}, p.err(f))
		}
	}
}

func (p faultyProvider) err(f fate) error {
	if f == refused {
		return errRefused
	}
	return errThrottled
}
