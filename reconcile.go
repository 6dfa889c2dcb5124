package cloudswitch

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"iter"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/cloudswitch/cloudswitch/internal/redact"
)

// Reconciler finds and settles what switches left behind: it resumes every
// intent whose lease has expired, then lists every provider's VMs carrying
// its owner's tags and classifies each one — referenced by its workspace's
// record, held by a pending intent, too young to judge, or an orphan that no
// record points at. Orphans are reported, and destroyed only when
// WithDeleteOrphans says so. A control plane calls Reconcile every few
// minutes; a Reconciler is safe for concurrent use, though passes are meant to
// run one at a time.
//
// It fails closed: a VM whose workspace cannot be read, or whose age is
// unknown, is never an orphan to delete; a provider whose listing fails
// part-way reports what it saw and the error; an orphan is read again just
// before it is destroyed.
//
// Its reach is fenced. It judges only the VMs of its own installation (see
// InstallationStore): installations sharing a cloud account and an owner
// never touch each other's VMs. It deletes nothing in a pass whose store
// holds no workspace at all (a database that is new, empty or not the one
// the VMs belong to), and nothing in a pass that finds more orphans to delete
// than WithDeleteLimit allows; the Report says why. It never advances a
// switch whose journal requires a BeforeDeprovision hook its resume options
// lack; the Report lists such switches as Blocked.
type Reconciler struct {
	store     Store
	providers map[string]Provider
	cfg       reconcileConfig
	sw        *Switcher
	err       error // configuration error, returned by every Reconcile
}

// ReconcilerOption configures a Reconciler.
type ReconcilerOption func(*reconcileConfig)

type reconcileConfig struct {
	owner       string
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

// WithReconcileOwner sets the ownership tag whose VMs the Reconciler lists
// (default: the owner of the resume options, else DefaultOwner).
func WithReconcileOwner(owner string) ReconcilerOption {
	return func(c *reconcileConfig) {
		if !ownerName.MatchString(owner) {
			c.errs = append(c.errs, fmt.Errorf("cloudswitch: WithReconcileOwner: owner %q must be 1 to 63 lowercase letters, digits, '-' or '_'", owner))
			return
		}
		c.owner = owner
	}
}

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

// WithResumeOptions configures the Switcher the Reconciler resumes
// intents with; its logger, observer, clock and retry policy are the
// Reconciler's too.
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
// providers. A configuration error (no providers, a negative grace period, a
// bad option) is returned by every Reconcile.
func NewReconciler(store Store, providers map[string]Provider, opts ...ReconcilerOption) *Reconciler {
	cfg := reconcileConfig{grace: DefaultGracePeriod, concurrency: 8, deleteLimit: DefaultDeleteLimit}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	r := &Reconciler{store: store, providers: maps.Clone(providers), cfg: cfg}
	errs := cfg.errs
	sw, err := New(store, providers, cfg.resumeOpts...)
	if err != nil {
		errs = append(errs, err)
	}
	r.sw = sw
	if r.cfg.owner == "" && sw != nil {
		r.cfg.owner = sw.cfg.owner
	}
	if len(errs) > 0 {
		r.err = fmt.Errorf("cloudswitch: NewReconciler: %w", errors.Join(errs...))
	}
	return r
}

// Reconciler returns a Reconciler over the Switcher's store and drivers that
// resumes with the Switcher itself: the same owner, hooks, installation,
// retry policy, logger, observer and clock, so that what the Reconciler
// lists and how it finishes a switch can never drift from how the switch
// was started. WithResumeOptions and WithReconcileOwner cannot be combined
// with it; a Reconcile then returns the configuration error.
func (s *Switcher) Reconciler(opts ...ReconcilerOption) *Reconciler {
	cfg := reconcileConfig{grace: DefaultGracePeriod, concurrency: 8, deleteLimit: DefaultDeleteLimit}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	errs := cfg.errs
	if len(cfg.resumeOpts) > 0 {
		errs = append(errs, errors.New("WithResumeOptions: the Reconciler resumes with the Switcher's own options"))
	}
	if cfg.owner != "" && cfg.owner != s.cfg.owner {
		errs = append(errs, fmt.Errorf("WithReconcileOwner(%q): the Switcher's owner is %q", cfg.owner, s.cfg.owner))
	}
	cfg.owner = s.cfg.owner
	r := &Reconciler{store: s.store, providers: s.providers, cfg: cfg, sw: s}
	if len(errs) > 0 {
		r.err = fmt.Errorf("cloudswitch: Switcher.Reconciler: %w", errors.Join(errs...))
	}
	return r
}

// Reconcile runs one pass and returns its report, with errors.Join of the
// report's errors (nil on a clean pass). A cancelled context ends the pass
// promptly; the report then holds what was done.
func (r *Reconciler) Reconcile(ctx context.Context) (Report, error) {
	if r.err != nil {
		return Report{}, r.err
	}
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

// pass is one Reconcile run.
type pass struct {
	r            *Reconciler
	cache        *workspaceCache
	installation string // the store's installation id; "" for a store without one

	mu         sync.Mutex
	rep        Report
	complete   map[string]bool // providers whose listing finished without error
	candidates []candidate     // orphans to delete, at most deleteLimit+1
	toDelete   int             // orphans to delete, all of them
	sawRecord  bool            // some workspace record exists in the store
}

// candidate is an orphan a pass may delete once every provider is listed.
type candidate struct {
	prov   Provider
	inst   Instance
	reason string
}

// readInstallation learns which installation's VMs this pass may judge.
func (p *pass) readInstallation(ctx context.Context) error {
	is, ok := p.r.store.(InstallationStore)
	if !ok {
		return nil
	}
	id, err := is.InstallationID(ctx)
	if err != nil {
		return fmt.Errorf("cloudswitch: reading the store's installation id, without which no VM can be judged: %w", err)
	}
	p.installation = id
	return nil
}

func (p *pass) fail(err error) {
	p.mu.Lock()
	p.rep.Errors = append(p.rep.Errors, redact.Error(err))
	p.mu.Unlock()
	p.r.sw.cfg.logger.LogAttrs(context.Background(), slog.LevelWarn, "reconcile error", errAttrs(err)...)
}

func (p *pass) report() Report {
	p.mu.Lock()
	defer p.mu.Unlock()
	rep := p.rep
	sortInstances(rep.Orphans)
	sortInstances(rep.Deleted)
	sortInstances(rep.Dangling)
	slices.Sort(rep.Resumed)
	return rep
}

func sortInstances(s []Instance) {
	slices.SortFunc(s, func(a, b Instance) int {
		if a.Provider != b.Provider {
			if a.Provider < b.Provider {
				return -1
			}
			return 1
		}
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
}

// resumeExpired settles every intent whose lease has expired.
func (p *pass) resumeExpired(ctx context.Context) {
	now := p.r.sw.cfg.now()
	var expired []string
	for w, err := range orNoSequence(p.r.store.Pending(ctx), "the store's Pending") {
		if err != nil {
			// One undecodable record must not hide the others: the
			// sequence ends by itself when it cannot go on.
			p.fail(fmt.Errorf("cloudswitch: listing pending intents: %w", err))
			if ctx.Err() != nil {
				break
			}
			continue
		}
		if w.Pending == nil {
			continue
		}
		p.sawRecord = true
		if w.Pending.Expired(now) {
			expired = append(expired, w.ID)
		} else {
			p.rep.Pending++
		}
	}
	for _, id := range expired {
		if ctx.Err() != nil {
			return
		}
		_, err := p.r.sw.Resume(ctx, id)
		switch {
		case err == nil:
			p.rep.Resumed = append(p.rep.Resumed, id)
		case errors.Is(err, ErrSwitchInProgress):
			p.rep.Pending++ // claimed by someone else meanwhile
		case errors.Is(err, ErrHookRequired):
			p.rep.Pending++
			intent := ""
			if res, _ := p.r.store.Get(ctx, id); res.Pending != nil {
				intent = res.Pending.ID
			}
			p.rep.Blocked = append(p.rep.Blocked, BlockedSwitch{WorkspaceID: id, IntentID: intent,
				Reason: "its journal requires the BeforeDeprovision hook, which the Reconciler's resume options (WithResumeOptions(WithHooks(...))) lack"})
			p.fail(fmt.Errorf("cloudswitch: resuming workspace %q: %w", id, err))
		default:
			p.rep.Pending++
			p.fail(fmt.Errorf("cloudswitch: resuming workspace %q: %w", id, err))
		}
	}
}

// scanProviders lists every provider in parallel and classifies each VM.
func (p *pass) scanProviders(ctx context.Context) {
	var wg sync.WaitGroup
	for _, name := range slices.Sorted(maps.Keys(p.r.providers)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.scan(ctx, name, p.r.providers[name])
		}()
	}
	wg.Wait()
}

func (p *pass) scan(ctx context.Context, name string, prov Provider) {
	work := make(chan Instance, p.r.cfg.concurrency)
	var wg sync.WaitGroup
	for range p.r.cfg.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for inst := range work {
				p.classify(ctx, prov, inst)
			}
		}()
	}
	listed, complete := 0, false
	// With a BatchGetter, listed VMs are handed on a batch at a time, once
	// their workspaces are read with one call; otherwise one at a time, and
	// each worker reads its VM's workspace.
	batch := make([]Instance, 0, reconcileBatch)
	flush := func() bool {
		p.cache.prefetch(ctx, batch)
		for _, inst := range batch {
			select {
			case work <- inst:
			case <-ctx.Done():
				return false
			}
		}
		batch = batch[:0]
		return true
	}
	defer func() {
		close(work)
		wg.Wait()
		p.mu.Lock()
		p.rep.Listed[name] += listed
		p.complete[name] = complete
		p.mu.Unlock()
	}()
	for inst, err := range orNoSequence(prov.Instances(ctx, p.r.cfg.owner), "the driver's Instances") {
		if err != nil {
			p.fail(fmt.Errorf("cloudswitch: listing %s after %d VMs: %w", name, listed, err))
			flush() // what was listed before the failure is judged
			return
		}
		if ctx.Err() != nil {
			return
		}
		listed++
		if inst.Provider == "" {
			inst.Provider = name
		}
		if inst.Provider != name || inst.ID == "" {
			p.fail(fmt.Errorf("cloudswitch: the driver of %s listed VM %q as one of provider %q; it is not judged", name, inst.ID, inst.Provider))
			continue
		}
		if inst.Installation != p.installation {
			p.mu.Lock()
			p.rep.Foreign[name]++
			p.mu.Unlock()
			continue
		}
		if !p.cache.batched() {
			select {
			case work <- inst:
			case <-ctx.Done():
				return
			}
			continue
		}
		if batch = append(batch, inst); len(batch) == cap(batch) && !flush() {
			return
		}
	}
	if !flush() {
		return
	}
	complete = ctx.Err() == nil
}

// classify decides what one listed VM is, and acts on an orphan. Its
// workspace was read by prefetch, or is read now.
func (p *pass) classify(ctx context.Context, prov Provider, inst Instance) {
	if inst.WorkspaceID == "" {
		p.orphan(ctx, prov, inst, "carries the owner tag but no workspace tag", false)
		return
	}
	e := p.cache.get(ctx, inst.WorkspaceID)
	switch {
	case e.err != nil:
		if p.cache.reportErr(e) {
			p.fail(fmt.Errorf("cloudswitch: reading workspace %q, whose VMs are therefore not judged: %w", inst.WorkspaceID, e.err))
		}
		return
	case e.references(inst):
		p.cache.markSeen(e)
		p.markRecord()
		return
	case e.holds(inst):
		p.markRecord()
		return
	case e.pending != nil:
		// A switch is in flight: whatever it holds, a listing may not show
		// (a partial Instance without its token). Judge it once settled.
		p.markRecord()
		return
	}
	if e.exists {
		p.markRecord()
	}
	if young, known := p.young(inst); young {
		return
	} else if !known {
		p.orphan(ctx, prov, inst, "is not referenced by its workspace, and its age is unknown", false)
		return
	}
	reason := "is not referenced by its workspace's record"
	if !e.exists {
		reason = "belongs to a workspace that no longer exists"
	}
	p.orphan(ctx, prov, inst, reason, true)
}

// young reports whether inst is within the grace period, and whether its
// age is known at all.
func (p *pass) young(inst Instance) (young, known bool) {
	if inst.CreatedAt.IsZero() {
		return false, false
	}
	return p.r.sw.cfg.now().Sub(inst.CreatedAt) < p.r.cfg.grace, true
}

// orphan reports inst, after a fresh read of its workspace confirms it, and
// keeps it for deletion when the policy says so.
func (p *pass) orphan(ctx context.Context, prov Provider, inst Instance, reason string, deletable bool) {
	if !p.confirm(ctx, inst) {
		return
	}
	p.mu.Lock()
	p.rep.Orphans = append(p.rep.Orphans, inst)
	keep := p.r.cfg.delete && deletable
	if keep {
		p.toDelete++
		if len(p.candidates) <= p.r.cfg.deleteLimit {
			p.candidates = append(p.candidates, candidate{prov: prov, inst: inst, reason: reason})
		}
	}
	p.mu.Unlock()
	if !keep {
		p.reportOrphan(ctx, inst, reason, OrphanEvent{Instance: inst, Reason: reason})
	}
}

// confirm reads inst's workspace again, since the cached record may predate
// a switch that now holds or references the VM, and reports whether inst is
// still an orphan. A failed read is never a yes.
func (p *pass) confirm(ctx context.Context, inst Instance) bool {
	if inst.WorkspaceID == "" {
		return true
	}
	w, err := p.r.store.Get(ctx, inst.WorkspaceID)
	switch {
	case err == nil:
		p.markRecord()
		fresh := entryOf(w)
		return !fresh.references(inst) && !fresh.holds(inst) && fresh.pending == nil
	case errors.Is(err, ErrNotFound):
		return true
	}
	p.fail(fmt.Errorf("cloudswitch: confirming orphan %s/%s of workspace %q: %w", inst.Provider, inst.ID, inst.WorkspaceID, err))
	return false
}

func (p *pass) markRecord() {
	p.mu.Lock()
	p.sawRecord = true
	p.mu.Unlock()
}

// deleteOrphans destroys the orphans kept for deletion, unless the pass's
// blast radius says it must not: the store holds no workspace at all, or
// there are more orphans than the limit.
func (p *pass) deleteOrphans(ctx context.Context) {
	if len(p.candidates) == 0 {
		return
	}
	why := ""
	switch {
	case p.toDelete > p.r.cfg.deleteLimit:
		why = fmt.Sprintf("%d orphans to delete exceed the limit of %d (WithDeleteLimit); none was deleted", p.toDelete, p.r.cfg.deleteLimit)
	case !p.storeHoldsAnything(ctx):
		why = fmt.Sprintf("the store holds no workspace at all, so its %d orphans may belong to another database; none was deleted", p.toDelete)
	}
	if why != "" {
		p.rep.Withheld = why
		p.fail(fmt.Errorf("cloudswitch: reconcile: %s", why))
		for _, c := range p.candidates {
			p.reportOrphan(ctx, c.inst, c.reason, OrphanEvent{Instance: c.inst, Reason: c.reason})
		}
		return
	}
	sem := make(chan struct{}, p.r.cfg.concurrency)
	var wg sync.WaitGroup
	for _, c := range p.candidates {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			ev := OrphanEvent{Instance: c.inst, Reason: c.reason}
			if !p.confirm(ctx, c.inst) {
				return
			}
			err := p.destroy(ctx, c.prov, c.inst)
			ev.Deleted, ev.Err = err == nil, redact.Error(err)
			if err != nil {
				p.fail(fmt.Errorf("cloudswitch: destroying orphan %s/%s: %w", c.inst.Provider, c.inst.ID, err))
			} else {
				p.mu.Lock()
				p.rep.Deleted = append(p.rep.Deleted, c.inst)
				p.mu.Unlock()
			}
			p.reportOrphan(ctx, c.inst, c.reason, ev)
		}()
	}
	wg.Wait()
}

// storeHoldsAnything reports whether the store holds at least one
// workspace: one was read during the pass, or, for a WorkspaceLister, one is
// listed now. A store that cannot say is taken to hold nothing.
func (p *pass) storeHoldsAnything(ctx context.Context) bool {
	p.mu.Lock()
	saw := p.sawRecord
	p.mu.Unlock()
	if saw {
		return true
	}
	lister, ok := p.r.store.(WorkspaceLister)
	if !ok {
		return false
	}
	for _, err := range orNoSequence(lister.List(ctx), "the store's List") {
		return err == nil
	}
	return false
}

func (p *pass) reportOrphan(ctx context.Context, inst Instance, reason string, ev OrphanEvent) {
	p.r.sw.cfg.observer.OrphanFound(ctx, ev)
	attrs := []slog.Attr{
		slog.String("provider", inst.Provider), slog.String("instance", inst.ID), slog.String("region", inst.Region),
		slog.String("workspace", inst.WorkspaceID), slog.String("token", inst.Token), slog.String("reason", reason),
		slog.Bool("deleted", ev.Deleted),
	}
	if !inst.CreatedAt.IsZero() {
		attrs = append(attrs, slog.Time("created_at", inst.CreatedAt))
	}
	p.r.sw.cfg.logger.LogAttrs(ctx, slog.LevelWarn, "VM with no record pointing at it", attrs...)
}

func (p *pass) destroy(ctx context.Context, prov Provider, inst Instance) error {
	// Bounded like a switch's calls: no provider call runs without a
	// deadline, however long the caller's pass may run.
	ctx, cancel := context.WithTimeout(ctx, p.r.sw.cfg.lease)
	defer cancel()
	// Not a switch: stage and retry events are reported, with no intent.
	t := &tracer{s: p.r.sw, ctx: ctx, ev: SwitchEvent{WorkspaceID: inst.WorkspaceID}}
	r := &run{s: p.r.sw, t: t, ctx: ctx}
	_, err := r.deprovision(StageDeprovision, inst)
	return err
}

// findDangling reports records naming a VM their provider listed completely
// without it.
func (p *pass) findDangling(ctx context.Context) {
	if ctx.Err() != nil {
		return
	}
	for _, e := range p.cache.unseen() {
		p.checkDangling(e, false)
	}
	lister, ok := p.r.store.(WorkspaceLister)
	if !ok {
		return
	}
	unknown := map[string]int{}
	for w, err := range orNoSequence(lister.List(ctx), "the store's List") {
		if err != nil {
			p.fail(fmt.Errorf("cloudswitch: listing workspaces: %w", err))
			if ctx.Err() != nil {
				return
			}
			continue
		}
		if w.Instance == nil || p.cache.has(w.ID) {
			continue
		}
		prov := w.Instance.Provider
		if prov == "" {
			prov = NormalizeProvider(w.Compute.Provider)
		}
		if _, ok := p.r.providers[prov]; !ok {
			unknown[prov]++
			continue
		}
		p.checkDangling(entryOf(w), false)
	}
	for _, prov := range slices.Sorted(maps.Keys(unknown)) {
		p.fail(fmt.Errorf("cloudswitch: %d workspaces run on provider %q, which has no driver here: their VMs were not checked: %w",
			unknown[prov], prov, ErrUnknownProvider))
	}
}

// checkOwner says loudly when a pass listed no VM at all although records
// name VMs it should have listed: the owner (or the credentials) is most
// likely not the one the Switcher creates VMs with.
func (p *pass) checkOwner() {
	p.mu.Lock()
	listed := 0
	for _, n := range p.rep.Listed {
		listed += n
	}
	dangling := len(p.rep.Dangling)
	p.mu.Unlock()
	if listed == 0 && dangling > 0 {
		p.fail(fmt.Errorf("cloudswitch: reconcile: no provider listed any VM with owner %q, yet %d records name VMs: is the owner (WithOwner, WithReconcileOwner) the one the Switcher creates VMs with?",
			p.r.cfg.owner, dangling))
	}
}

func (p *pass) checkDangling(w *cacheEntry, seen bool) {
	inst := w.inst
	if seen || inst == nil || w.pending != nil || inst.Token == "" {
		return // not recorded, in flux, or created outside cloudswitch (untagged)
	}
	if inst.Installation != p.installation {
		return // listed, if at all, as another installation's VM
	}
	p.mu.Lock()
	complete := p.complete[inst.Provider]
	p.mu.Unlock()
	if !complete {
		return
	}
	if young, known := p.young(*inst); young || !known {
		return
	}
	d := *inst
	d.WorkspaceID = w.id
	p.mu.Lock()
	p.rep.Dangling = append(p.rep.Dangling, d)
	p.mu.Unlock()
	p.r.sw.cfg.logger.LogAttrs(context.Background(), slog.LevelWarn, "record names a VM its provider does not list",
		slog.String("workspace", w.id), slog.String("provider", inst.Provider), slog.String("instance", inst.ID))
}

// reconcileBatch is how many listed VMs a pass hands on at once when its
// store is a BatchGetter: their workspaces are read with one GetBatch call.
// It bounds what a pass holds beyond its per-workspace entries.
const reconcileBatch = 1000

// workspaceCache reads each workspace at most once per pass and keeps what
// classifying its VMs needs — and, once its recorded VM has been listed and
// it has no intent, only a 64-bit hash of its id: a pass over many VMs holds
// one batch of them and about 16 bytes per settled workspace, never a table
// of VMs.
//
// Two ids whose hashes collide (about one pass in 10^7 at a million
// workspaces, with a seed drawn per pass) make the second workspace look
// settled: its VMs are taken as referenced and its record as seen. That
// errs the safe way — a VM not deleted, a dangling record not reported in
// that one pass — never the other.
type workspaceCache struct {
	store Store
	batch BatchGetter // the store, when it reads many workspaces at once
	seed  maphash.Seed
	mu    sync.Mutex
	open  map[string]*cacheEntry // read, with something still to learn
	done  map[uint64]struct{}    // hashes of ids: recorded VM listed, no intent
}

// cacheEntry is what a pass knows of one workspace.
type cacheEntry struct {
	loaded  sync.WaitGroup // done once the workspace has been read
	id      string
	exists  bool
	inst    *Instance // the recorded VM, its provider filled in
	pending *Intent
	err     error // the read failed
	seen    bool  // a listed VM is the one the record names
	done    bool  // settled: see workspaceCache.done

	reported bool // err was reported
}

// settled stands for every workspace in workspaceCache.done.
var settled = &cacheEntry{exists: true, seen: true, done: true}

func newWorkspaceCache(store Store) *workspaceCache {
	c := &workspaceCache{store: store, seed: maphash.MakeSeed(), open: make(map[string]*cacheEntry), done: make(map[uint64]struct{})}
	c.batch, _ = store.(BatchGetter)
	return c
}

// hash is the key of id in c.done.
func (c *workspaceCache) hash(id string) uint64 { return maphash.String(c.seed, id) }

// batched reports whether the cache reads workspaces a batch at a time.
func (c *workspaceCache) batched() bool { return c.batch != nil }

// prefetch reads, with one GetBatch call, the workspaces of the listed VMs
// in insts that the cache has not read yet, so that get finds them. It
// keeps every rule of get: a workspace is absent only when its Lookup
// matches ErrNotFound; a failed call, or an answer that does not match the
// ids asked for, leaves each of those workspaces with an error, and their
// VMs are not judged.
func (c *workspaceCache) prefetch(ctx context.Context, insts []Instance) {
	if c.batch == nil {
		return
	}
	var ids []string
	var entries []*cacheEntry
	c.mu.Lock()
	for _, inst := range insts {
		id := inst.WorkspaceID
		if id == "" {
			continue
		}
		if _, ok := c.done[c.hash(id)]; ok {
			continue
		}
		if _, ok := c.open[id]; ok {
			continue
		}
		e := &cacheEntry{id: id}
		e.loaded.Add(1)
		c.open[id] = e
		ids = append(ids, id)
		entries = append(entries, e)
	}
	c.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	lookups, err := c.batch.GetBatch(ctx, ids)
	if err == nil && len(lookups) != len(ids) {
		err = fmt.Errorf("cloudswitch: the store answered %d lookups for %d workspaces", len(lookups), len(ids))
	}
	for i, e := range entries {
		switch {
		case err != nil:
			e.err = err
		case lookups[i].ID != e.id:
			e.err = fmt.Errorf("cloudswitch: the store answered lookup %d for workspace %q with workspace %q", i, e.id, lookups[i].ID)
		case lookups[i].Err == nil:
			e.fill(lookups[i].Workspace)
		case !errors.Is(lookups[i].Err, ErrNotFound):
			e.err = lookups[i].Err
		}
		e.loaded.Done()
	}
}

func (c *workspaceCache) get(ctx context.Context, id string) *cacheEntry {
	c.mu.Lock()
	if _, ok := c.done[c.hash(id)]; ok {
		c.mu.Unlock()
		return settled
	}
	e, ok := c.open[id]
	if ok {
		c.mu.Unlock()
		e.loaded.Wait() // the read in flight, if any
		return e
	}
	e = &cacheEntry{id: id}
	e.loaded.Add(1)
	c.open[id] = e
	c.mu.Unlock()
	defer e.loaded.Done()
	w, err := c.store.Get(ctx, id)
	switch {
	case err == nil:
		e.fill(w)
	case !errors.Is(err, ErrNotFound):
		e.err = err
	}
	return e
}

// markSeen records that e's recorded VM was listed; a workspace with no
// intent then has nothing more to tell and shrinks to its id.
func (c *workspaceCache) markSeen(e *cacheEntry) {
	if e.done {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e.seen = true
	if e.pending == nil {
		delete(c.open, e.id)
		c.done[c.hash(e.id)] = struct{}{}
	}
}

func (c *workspaceCache) has(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, open := c.open[id]
	_, done := c.done[c.hash(id)]
	return open || done
}

// unseen returns the entries of existing workspaces whose recorded VM was
// not listed.
func (c *workspaceCache) unseen() []*cacheEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*cacheEntry
	for _, e := range c.open {
		if e.exists && !e.seen {
			out = append(out, e)
		}
	}
	return out
}

// fill keeps what classifying a workspace's VMs needs, and no more.
func (e *cacheEntry) fill(w Workspace) {
	e.exists = true
	e.pending = w.Pending
	if w.Instance != nil {
		inst := *w.Instance
		if inst.Provider == "" {
			inst.Provider = NormalizeProvider(w.Compute.Provider)
		}
		e.inst = &inst
	}
}

func entryOf(w Workspace) *cacheEntry {
	e := &cacheEntry{id: w.ID}
	e.fill(w)
	return e
}

func (e *cacheEntry) references(inst Instance) bool {
	return e.inst != nil && e.inst.ID == inst.ID && e.inst.Provider == inst.Provider
}

func (e *cacheEntry) holds(inst Instance) bool {
	in := e.pending
	if in == nil {
		return false
	}
	if in.Token != "" && inst.Token == in.Token {
		return true
	}
	for _, held := range []*Instance{in.Old, in.New} {
		if held != nil && held.ID == inst.ID && held.Provider == inst.Provider {
			return true
		}
	}
	return false
}

// reportErr reports whether the entry's read error still needs reporting,
// so that a workspace with many VMs yields one error.
func (c *workspaceCache) reportErr(e *cacheEntry) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e.reported {
		return false
	}
	e.reported = true
	return true
}

// orNoSequence returns seq, or, when a plug-in returned none, a sequence
// that yields one error saying so: a nil sequence never panics a pass.
func orNoSequence[T any](seq iter.Seq2[T, error], what string) iter.Seq2[T, error] {
	if seq != nil {
		return seq
	}
	return func(yield func(T, error) bool) {
		var zero T
		yield(zero, fmt.Errorf("cloudswitch: %s returned no sequence", what))
	}
}
