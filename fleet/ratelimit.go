package fleet

import (
	"context"
	"fmt"
	"iter"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/cloudswitch/cloudswitch"
)

// Op names the Provider call a rate-limited provider waited for.
type Op string

// The calls a rate-limited provider waits for a token before.
const (
	OpProvision   Op = "provision"
	OpDeprovision Op = "deprovision"
	OpInstances   Op = "instances"
	OpPreflight   Op = "preflight"
	OpResize      Op = "resize"
)

// Grant is one token a rate-limited provider took from its bucket: the call
// it was for, and when the bucket let it go (the token bucket guarantees that
// no window of length d holds more than burst + limit·d grants).
type Grant struct {
	Provider string
	Op       Op
	At       time.Time
}

// RateLimitOption configures RateLimit.
type RateLimitOption func(*limited)

// WithGrants calls f with every token taken, before the call it was taken
// for; f must not block.
func WithGrants(f func(Grant)) RateLimitOption {
	return func(l *limited) { l.onGrant = f }
}

// RateLimit returns p behind the token bucket lim: every call of the
// returned Provider first waits for a token (Instances once, before its
// first page). Share the returned Provider between every switch that
// reaches the same cloud account, so that together they never call the
// driver faster than lim allows.
//
// The limit is on driver calls, not on the cloud's API calls: one driver
// call makes several API calls (a Provision is a launch and the polls of
// its wait, an Instances a request per page, and each may be retried), so a
// bucket sized to a cloud's API limit lets the cloud receive several times
// that. To bound the API calls, install LimitTransport in the driver's SDK
// client; RateLimit then still bounds how many driver calls start, and
// refuses cleanly (nothing sent) a call whose context ends while it waits.
//
// The returned Provider is a cloudswitch.Preflighter when p is one, and a
// cloudswitch.Resizer when p is one. A call that ends while waiting (its
// context ended, or it would wait past its deadline) returns an error
// matching cloudswitch.ErrRefused: the cloud was not called. name labels
// the provider in Grants.
func RateLimit(name string, p cloudswitch.Provider, lim *rate.Limiter, opts ...RateLimitOption) cloudswitch.Provider {
	l := &limited{name: name, inner: p, lim: lim}
	for _, o := range opts {
		if o != nil {
			o(l)
		}
	}
	pf, isPF := p.(cloudswitch.Preflighter)
	rs, isRS := p.(cloudswitch.Resizer)
	switch {
	case isPF && isRS:
		return &limitedPreflightResizer{limitedPreflighter{l, pf}, rs}
	case isPF:
		return &limitedPreflighter{l, pf}
	case isRS:
		return &limitedResizer{l, rs}
	}
	return l
}

// RateLimitAll wraps every driver of providers that has a limiter in limits
// (see RateLimit), and returns the others as they are.
func RateLimitAll(providers map[string]cloudswitch.Provider, limits map[string]*rate.Limiter, opts ...RateLimitOption) map[string]cloudswitch.Provider {
	out := make(map[string]cloudswitch.Provider, len(providers))
	for name, p := range providers {
		if lim, ok := limits[name]; ok && lim != nil {
			out[name] = RateLimit(name, p, lim, opts...)
		} else {
			out[name] = p
		}
	}
	return out
}

// limited is a Provider behind a token bucket.
type limited struct {
	mu      sync.Mutex
	name    string
	inner   cloudswitch.Provider
	lim     *rate.Limiter
	onGrant func(Grant)
}

// wait takes one token, waiting for it as long as ctx allows.
func (l *limited) wait(ctx context.Context, op Op) error {
	// The clock is read and the token reserved under one lock: a bucket
	// given times out of order (one goroutine read the clock, another
	// reserved first with a later time) lets more calls through than it
	// should.
	l.mu.Lock()
	now := time.Now()
	r := l.lim.ReserveN(now, 1)
	l.mu.Unlock()
	if !r.OK() {
		return cloudswitch.Refused(fmt.Errorf("fleet: %s %s: the rate limit of provider %q allows no call (burst 0)", l.name, op, l.name))
	}
	d := r.DelayFrom(now)
	if dl, ok := ctx.Deadline(); ok && now.Add(d).After(dl) {
		r.CancelAt(now)
		return cloudswitch.Refused(fmt.Errorf("fleet: %s %s: the rate limit would delay the call past its deadline: %w", l.name, op, context.DeadlineExceeded))
	}
	if d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			r.Cancel()
			return cloudswitch.Refused(fmt.Errorf("fleet: %s %s: stopped while waiting for the rate limit: %w", l.name, op, ctx.Err()))
		}
	}
	if l.onGrant != nil {
		l.onGrant(Grant{Provider: l.name, Op: op, At: now.Add(d)})
	}
	return nil
}

// Provision waits for a token, then calls the driver.
func (l *limited) Provision(ctx context.Context, req cloudswitch.ProvisionRequest) (cloudswitch.Instance, error) {
	if err := l.wait(ctx, OpProvision); err != nil {
		return cloudswitch.Instance{}, err
	}
	return l.inner.Provision(ctx, req)
}

// Deprovision waits for a token, then calls the driver.
func (l *limited) Deprovision(ctx context.Context, inst cloudswitch.Instance) error {
	if err := l.wait(ctx, OpDeprovision); err != nil {
		return err
	}
	return l.inner.Deprovision(ctx, inst)
}

// Instances waits for one token before the listing starts, then yields what
// the driver lists.
func (l *limited) Instances(ctx context.Context, owner string) iter.Seq2[cloudswitch.Instance, error] {
	return func(yield func(cloudswitch.Instance, error) bool) {
		if err := l.wait(ctx, OpInstances); err != nil {
			yield(cloudswitch.Instance{}, err)
			return
		}
		for inst, err := range l.inner.Instances(ctx, owner) {
			if !yield(inst, err) {
				return
			}
		}
	}
}

type limitedPreflighter struct {
	*limited
	pf cloudswitch.Preflighter
}

// Preflight waits for a token, then asks the driver.
func (l *limitedPreflighter) Preflight(ctx context.Context, req cloudswitch.ProvisionRequest) error {
	if err := l.wait(ctx, OpPreflight); err != nil {
		return err
	}
	return l.pf.Preflight(ctx, req)
}

type limitedResizer struct {
	*limited
	rs cloudswitch.Resizer
}

// Resize waits for a token, then calls the driver.
func (l *limitedResizer) Resize(ctx context.Context, inst cloudswitch.Instance, instanceType string) (cloudswitch.Instance, error) {
	if err := l.wait(ctx, OpResize); err != nil {
		return cloudswitch.Instance{}, err
	}
	return l.rs.Resize(ctx, inst, instanceType)
}

type limitedPreflightResizer struct {
	limitedPreflighter
	rs cloudswitch.Resizer
}

// Resize waits for a token, then calls the driver.
func (l *limitedPreflightResizer) Resize(ctx context.Context, inst cloudswitch.Instance, instanceType string) (cloudswitch.Instance, error) {
	if err := l.wait(ctx, OpResize); err != nil {
		return cloudswitch.Instance{}, err
	}
	return l.rs.Resize(ctx, inst, instanceType)
}
