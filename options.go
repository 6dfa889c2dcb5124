package cloudswitch

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"time"
)

// Option configures a Switcher (see New) and the Switcher a Reconciler
// resumes with (see WithResumeOptions).
type Option func(*config)

// config is what the options set; New checks it whole.
type config struct {
	allowlist    *Allowlist
	retry        RetryPolicy
	owner        string
	lease        time.Duration
	provisioning bool
	strategy     Strategy
	hooks        Hooks
	logger       *slog.Logger
	observer     Observer
	now          func() time.Time
	errs         []error // option errors, reported by New
}

func defaultConfig() config {
	return config{
		allowlist:    DefaultAllowlist(),
		retry:        DefaultRetryPolicy(),
		owner:        DefaultOwner,
		lease:        DefaultLease,
		provisioning: true,
		strategy:     BreakBeforeMake,
		logger:       slog.New(slog.DiscardHandler),
		observer:     NopObserver{},
		now:          time.Now,
	}
}

func (c *config) fail(format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf("cloudswitch: "+format, args...))
}

var ownerName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// DefaultOwner is the value of the ownership tag when WithOwner is not given.
const DefaultOwner = "cloudswitch"

// DefaultLease is how long a switch's intent is protected when WithLease is
// not given.
const DefaultLease = 10 * time.Minute

// WithAllowlist sets the instance types switches may target (default:
// DefaultAllowlist). A nil allowlist is an error from New.
func WithAllowlist(a *Allowlist) Option {
	return func(c *config) {
		if a == nil || len(a.types) == 0 {
			c.fail("WithAllowlist: the allowlist is nil or empty")
			return
		}
		c.allowlist = a
	}
}

// RetryPolicy bounds the retries of a provider call that failed with a
// transient error: exponential backoff with jitter from InitialInterval,
// doubling up to MaxInterval, giving up once MaxElapsedTime has passed or
// MaxAttempts attempts were made, whichever comes first (and always when the
// context ends). MaxAttempts counts every attempt, the first included; 0
// means no cap but time. Errors that are not transient are never retried.
type RetryPolicy struct {
	InitialInterval time.Duration
	MaxInterval     time.Duration
	MaxElapsedTime  time.Duration
	MaxAttempts     int
}

// DefaultRetryPolicy is the policy when WithRetryPolicy is not given: 500ms
// doubling to 15s, at most 6 attempts within 2 minutes.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{
		InitialInterval: 500 * time.Millisecond,
		MaxInterval:     15 * time.Second,
		MaxElapsedTime:  2 * time.Minute,
		MaxAttempts:     6,
	}
}

func (p RetryPolicy) check() error {
	switch {
	case p.InitialInterval < 0, p.MaxInterval < 0, p.MaxElapsedTime < 0:
		return fmt.Errorf("retry policy durations must not be negative: %+v", p)
	case p.MaxAttempts < 0:
		return fmt.Errorf("retry policy MaxAttempts must not be negative: %d", p.MaxAttempts)
	case p.MaxInterval > 0 && p.InitialInterval > p.MaxInterval:
		return fmt.Errorf("retry policy InitialInterval %v exceeds MaxInterval %v", p.InitialInterval, p.MaxInterval)
	case p.MaxAttempts == 0 && p.MaxElapsedTime == 0:
		return fmt.Errorf("retry policy must bound retries by MaxAttempts or MaxElapsedTime")
	}
	return nil
}

// WithRetryPolicy sets how transient provider errors are retried (default:
// DefaultRetryPolicy).
func WithRetryPolicy(p RetryPolicy) Option {
	return func(c *config) {
		if err := p.check(); err != nil {
			c.fail("WithRetryPolicy: %v", err)
			return
		}
		c.retry = p
	}
}

// WithOwner sets the value of the ownership tag on every VM the Switcher
// creates (default DefaultOwner). It is also the owner whose VMs a
// Reconciler lists: the Reconciler takes it from the Switcher it resumes
// with (Switcher.Reconciler, or WithResumeOptions). Installations sharing a
// cloud account use different owners, so that their Reconcilers never see
// each other's VMs. It must be 1 to 63 characters of lowercase letters,
// digits, '-' and '_', which every cloud accepts as a tag value.
func WithOwner(owner string) Option {
	return func(c *config) {
		if !ownerName.MatchString(owner) {
			c.fail("WithOwner: owner %q must be 1 to 63 lowercase letters, digits, '-' or '_', starting with a letter or digit", owner)
			return
		}
		c.owner = owner
	}
}

// WithLease sets how long a switch's intent is protected from other
// processes (default DefaultLease). A switch never runs past its lease: its
// context ends when the lease does, and only once it has ended may Resume or
// the Reconciler take over. Choose it longer than the slowest provider takes
// to create and destroy a VM.
func WithLease(d time.Duration) Option {
	return func(c *config) {
		if d <= 0 {
			c.fail("WithLease: the lease must be positive, got %v", d)
			return
		}
		c.lease = d
	}
}

// WithProvisioning sets whether a switch creates the workspace's VM on the
// new provider (default true). Off, a switch destroys the old VM and records
// the new compute, leaving the new VM to the caller.
func WithProvisioning(on bool) Option {
	return func(c *config) { c.provisioning = on }
}

// Strategy is the order in which a provider change destroys the old VM and
// creates the new one.
type Strategy string

const (
	// BreakBeforeMake destroys the old VM before creating the new one: never
	// two VMs at once, at the price of downtime while the new one boots.
	BreakBeforeMake Strategy = "break-before-make"

	// MakeBeforeBreak creates the new VM first and destroys the old one only
	// once it exists; if the old one cannot be destroyed, the new one is
	// destroyed again and the switch aborts. Without provisioning it is the
	// same as BreakBeforeMake.
	MakeBeforeBreak Strategy = "make-before-break"
)

func (s Strategy) valid() bool { return s == BreakBeforeMake || s == MakeBeforeBreak }

// WithStrategy sets the order of a provider change (default BreakBeforeMake).
func WithStrategy(s Strategy) Option {
	return func(c *config) {
		if !s.valid() {
			c.fail("WithStrategy: unknown strategy %q", s)
			return
		}
		c.strategy = s
	}
}

// Hooks are called at fixed points of a switch.
type Hooks struct {
	// BeforeDeprovision is called before the old VM is destroyed (by a
	// switch or a decommission), with the workspace as recorded at that
	// point (its Pending intent says where it is going). Use it to back up
	// state that lives on the VM. An error aborts the switch with nothing
	// changed.
	//
	// The journal records that a switch started with the hook requires it.
	// A Switcher or Reconciler without one will not advance the switch past
	// it (ErrHookRequired). The journal also records the hook's completion
	// before the VM is destroyed, so that a resumed switch does not run it
	// again. It runs twice only if its process dies between the hook's
	// return and that record, so it must be idempotent. A switch started
	// without the hook never runs it, whoever resumes it.
	BeforeDeprovision func(ctx context.Context, w Workspace) error
}

// WithHooks sets the hooks of every switch.
func WithHooks(h Hooks) Option {
	return func(c *config) { c.hooks = h }
}

// WithLogger sets where the Switcher logs each stage of a switch. The
// default discards everything. Log lines never carry credentials.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l == nil {
			c.fail("WithLogger: the logger is nil")
			return
		}
		c.logger = l
	}
}

// WithObserver sets the Observer told of every switch, stage and retry
// (default: none).
func WithObserver(o Observer) Option {
	return func(c *config) {
		if o == nil {
			c.fail("WithObserver: the observer is nil")
			return
		}
		c.observer = o
	}
}

// WithClock sets the clock leases are measured by (default time.Now). Tests
// use it to expire a lease without waiting; all processes sharing a Store
// must agree on the time within a small fraction of the lease.
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		if now == nil {
			c.fail("WithClock: the clock is nil")
			return
		}
		c.now = now
	}
}
