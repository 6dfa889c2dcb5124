package cloudswitch

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"time"
)

// Reconciler finds and settles what switches left behind. It resumes every
// intent whose lease has expired. Then it lists every provider's VMs
// carrying its owner's tags: the WithOwner of the Switcher it resumes with.
// Each VM is referenced by its workspace's record, held by a pending
// intent, too young to judge, or an orphan that no record points at.
// Orphans are reported, and destroyed only when WithDeleteOrphans says so.
// A control plane calls Reconcile every few minutes. A Reconciler is safe
// for concurrent use, though passes are meant to run one at a time.
//
// It fails closed. A VM whose workspace cannot be read, or whose age is
// unknown, is never an orphan to delete. A provider whose listing fails
// part-way reports what it saw and the error. An orphan is read again just
// before it is destroyed.
//
// Its reach is fenced. It judges only the VMs of its own installation (see
// InstallationStore): installations sharing a cloud account and an owner
// never touch each other's VMs. It deletes nothing in a pass whose store
// holds no workspace at all: a database that is new, empty or not the one
// the VMs belong to. It deletes nothing in a pass that finds more orphans
// to delete than WithDeleteLimit allows. The Report says why. It never
// advances a switch whose journal requires a BeforeDeprovision hook its
// resume options lack; the Report lists such switches as Blocked.
type Reconciler struct {
	store     Store
	providers map[string]Provider
	cfg       reconcileConfig
	sw        *Switcher
}

// ReconcilerOption configures a Reconciler.
type ReconcilerOption func(*reconcileConfig)

type reconcileConfig struct {
	grace       time.Duration
	delete      bool
	deleteLimit int
	concurrency int
	resumeOpts  []Option
	errs        []error
}

// DefaultDeleteLimit is the most orphans one pass deletes when
// WithDeleteLimit is not given.
const DefaultDeleteLimit = 20

// WithDeleteLimit bounds the blast radius of one pass (default
// DefaultDeleteLimit): a pass that finds more orphans to delete than n
// deletes none of them, reports them, and says why in Report.Withheld. A
// fleet that really has that many leaked VMs is cleaned up by an operator
// raising the limit for one pass, not by a loop pointed at the wrong
// database.
func WithDeleteLimit(n int) ReconcilerOption {
	return func(c *reconcileConfig) {
		if n < 0 {
			c.errs = append(c.errs, fmt.Errorf("cloudswitch: WithDeleteLimit: must not be negative, got %d", n))
			return
		}
		c.deleteLimit = n
	}
}

// DefaultGracePeriod is how old a VM must be before the Reconciler may call
// it an orphan, when WithGracePeriod is not given. It is longer than
// DefaultLease, so a switch in flight is never mistaken for a leak.
const DefaultGracePeriod = 30 * time.Minute

// WithGracePeriod sets how old a VM must be before it may be called an
// orphan (default DefaultGracePeriod): clouds list new VMs late, and a switch
// records its VM only after creating it. Choose it longer than the lease.
func WithGracePeriod(d time.Duration) ReconcilerOption {
	return func(c *reconcileConfig) {
		if d < 0 {
			c.errs = append(c.errs, fmt.Errorf("cloudswitch: WithGracePeriod: the grace period must not be negative, got %v", d))
			return
		}
		c.grace = d
	}
}

// WithDeleteOrphans sets whether orphans are destroyed (default false: they
// are only reported). Destruction goes through the retrying deprovision of
// the resume options' RetryPolicy.
func WithDeleteOrphans(on bool) ReconcilerOption {
	return func(c *reconcileConfig) { c.delete = on }
}

// WithConcurrency bounds how many VMs of one provider are classified at once
// (workspace reads and deletions in flight; default 8). Providers are listed
// in parallel, each by one stream.
func WithConcurrency(n int) ReconcilerOption {
	return func(c *reconcileConfig) {
		if n < 1 {
			c.errs = append(c.errs, fmt.Errorf("cloudswitch: WithConcurrency: must be at least 1, got %d", n))
			return
		}
		c.concurrency = n
	}
}

// WithResumeOptions configures the Switcher a Reconciler made by
// NewReconciler resumes intents with. Its owner (WithOwner) is the
// ownership tag whose VMs the Reconciler lists. Its logger, observer, clock
// and retry policy are the Reconciler's too.
func WithResumeOptions(opts ...Option) ReconcilerOption {
	return func(c *reconcileConfig) { c.resumeOpts = append(c.resumeOpts, opts...) }
}

// WorkspaceLister is a Store that can list every workspace, with the same
// error rules as Store.Pending. When the Reconciler's store implements it, a
// pass also finds records that name a VM their provider no longer lists, even
// when the workspace has no VM listed at all.
type WorkspaceLister interface {
	List(ctx context.Context) iter.Seq2[Workspace, error]
}

// Report is what one Reconcile pass found and did.
type Report struct {
	// Listed counts the VMs each provider listed.
	Listed map[string]int
	// Resumed holds the workspaces whose expired intents were settled.
	Resumed []string
	// Pending counts the intents still pending after the pass: leased by a
	// running switch, or failing to settle (see Errors).
	Pending int
	// Orphans are VMs carrying the owner's tags that no record references
	// or holds in a pending intent, older than the grace period.
	Orphans []Instance
	// Deleted are the orphans destroyed (WithDeleteOrphans).
	Deleted []Instance
	// Dangling are VMs records name but their provider does not list (a
	// record pointing at nothing); WorkspaceID says whose. They are reported,
	// never "fixed".
	Dangling []Instance
	// Foreign counts the listed VMs of other installations sharing the
	// owner (their installation tag is not this store's), per provider. They
	// are never judged.
	Foreign map[string]int
	// Blocked are the expired switches this pass could not settle because
	// their journal requires a BeforeDeprovision hook the Reconciler's
	// resume options lack.
	Blocked []BlockedSwitch
	// Withheld says why the orphans of this pass were not deleted although
	// WithDeleteOrphans is on (the store holds no workspace, or there are
	// more than WithDeleteLimit); empty when nothing was withheld.
	Withheld string
	// Errors are what could not be read, listed, resumed or destroyed; the
	// VMs concerned were not judged.
	Errors []error
}

// BlockedSwitch is an expired switch a Reconciler left as it was.
type BlockedSwitch struct {
	WorkspaceID string
	IntentID    string
	Reason      string
}

// NewReconciler returns a Reconciler over store and the drivers in
// providers. It resumes intents with a Switcher built from the
// WithResumeOptions, exactly as New would build it. Every problem with its
// arguments and options is returned at once, wrapping the errors New
// returns; the Reconciler is then nil.
func NewReconciler(store Store, providers map[string]Provider, opts ...ReconcilerOption) (*Reconciler, error) {
	cfg := reconcileOptions(opts)
	errs := cfg.errs
	sw, err := New(store, providers, cfg.resumeOpts...)
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("cloudswitch: NewReconciler: %w", errors.Join(errs...))
	}
	return &Reconciler{store: sw.store, providers: sw.providers, cfg: cfg, sw: sw}, nil
}

// Reconciler returns a Reconciler over the Switcher's store and drivers that
// resumes with the Switcher itself: the same owner, hooks, installation,
// retry policy, logger, observer and clock. What the Reconciler lists and
// how it finishes a switch can then never drift from how the switch was
// started. It returns an error for a bad option, and for WithResumeOptions:
// the Switcher's options already decide what those would set.
func (s *Switcher) Reconciler(opts ...ReconcilerOption) (*Reconciler, error) {
	cfg := reconcileOptions(opts)
	errs := cfg.errs
	if len(cfg.resumeOpts) > 0 {
		errs = append(errs, errors.New("WithResumeOptions: the Reconciler resumes with the Switcher's own options"))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("cloudswitch: Switcher.Reconciler: %w", errors.Join(errs...))
	}
	return &Reconciler{store: s.store, providers: s.providers, cfg: cfg, sw: s}, nil
}

// reconcileOptions applies opts to the defaults. Option errors are
// collected in the result's errs.
func reconcileOptions(opts []ReconcilerOption) reconcileConfig {
	cfg := reconcileConfig{grace: DefaultGracePeriod, concurrency: 8, deleteLimit: DefaultDeleteLimit}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	return cfg
}

// Reconcile runs one pass and returns its report, with errors.Join of the
// report's errors (nil on a clean pass). A cancelled context ends the pass
// promptly; the report then holds what was done.
func (r *Reconciler) Reconcile(ctx context.Context) (Report, error) {
	start := time.Now()
	p := &pass{r: r, rep: Report{Listed: make(map[string]int), Foreign: make(map[string]int)}, cache: newWorkspaceCache(r.store),
		complete: make(map[string]bool)}
	if err := p.readInstallation(ctx); err != nil {
		p.fail(err)
		rep := p.report()
		r.finished(ctx, rep, time.Since(start))
		return rep, errors.Join(rep.Errors...)
	}
	p.resumeExpired(ctx)
	p.scanProviders(ctx)
	p.deleteOrphans(ctx)
	p.findDangling(ctx)
	p.checkOwner()
	if err := ctx.Err(); err != nil {
		p.fail(fmt.Errorf("cloudswitch: reconcile pass cut short: %w", err))
	}
	rep := p.report()
	r.finished(ctx, rep, time.Since(start))
	return rep, errors.Join(rep.Errors...)
}

func (r *Reconciler) finished(ctx context.Context, rep Report, d time.Duration) {
	listed := 0
	for _, n := range rep.Listed {
		listed += n
	}
	r.sw.cfg.observer.Reconciled(ctx, ReconcileEvent{
		Duration: d, Instances: listed, Orphans: len(rep.Orphans), Deleted: len(rep.Deleted),
		Dangling: len(rep.Dangling), Pending: rep.Pending, Resumed: len(rep.Resumed), Errors: len(rep.Errors),
	})
	level := slog.LevelInfo
	if len(rep.Errors) > 0 || len(rep.Orphans) > 0 || len(rep.Dangling) > 0 {
		level = slog.LevelWarn
	}
	r.sw.cfg.logger.LogAttrs(ctx, level, "reconcile pass done",
		slog.Duration("duration", d), slog.Int("listed", listed), slog.Int("resumed", len(rep.Resumed)),
		slog.Int("pending", rep.Pending), slog.Int("orphans", len(rep.Orphans)), slog.Int("deleted", len(rep.Deleted)),
		slog.Int("dangling", len(rep.Dangling)), slog.Int("errors", len(rep.Errors)))
}
