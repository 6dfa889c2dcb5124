package cloudswitch

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"maps"
	"slices"
	"sync"

	"github.com/cloudswitch/cloudswitch/internal/redact"
)

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
				p.classify(ctx, inst)
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
	for inst, err := range orNoSequence(prov.Instances(ctx, p.r.sw.cfg.owner), "the driver's Instances") {
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
func (p *pass) classify(ctx context.Context, inst Instance) {
	if inst.WorkspaceID == "" {
		p.orphan(ctx, inst, "carries the owner tag but no workspace tag", false)
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
		p.orphan(ctx, inst, "is not referenced by its workspace, and its age is unknown", false)
		return
	}
	reason := "is not referenced by its workspace's record"
	if !e.exists {
		reason = "belongs to a workspace that no longer exists"
	}
	p.orphan(ctx, inst, reason, true)
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
func (p *pass) orphan(ctx context.Context, inst Instance, reason string, deletable bool) {
	if !p.confirm(ctx, inst) {
		return
	}
	p.mu.Lock()
	p.rep.Orphans = append(p.rep.Orphans, inst)
	keep := p.r.cfg.delete && deletable
	if keep {
		p.toDelete++
		if len(p.candidates) <= p.r.cfg.deleteLimit {
			p.candidates = append(p.candidates, candidate{inst: inst, reason: reason})
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
			err := p.destroy(ctx, c.inst)
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

// destroy destroys an orphan with the retrying deprovision of a switch.
func (p *pass) destroy(ctx context.Context, inst Instance) error {
	// Bounded like a switch's calls: no provider call runs without a
	// deadline, however long the caller's pass may run.
	ctx, cancel := context.WithTimeout(ctx, p.r.sw.cfg.lease)
	defer cancel()
	// Not a switch: stage and retry events are reported, with no intent.
	at := StageEvent{WorkspaceID: inst.WorkspaceID, Stage: StageDeprovision}
	_, err := p.r.sw.deprovision(ctx, at, false, inst)
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
		p.fail(fmt.Errorf("cloudswitch: reconcile: no provider listed any VM with owner %q, yet %d records name VMs: is the owner (WithOwner) the one the Switcher creates VMs with?",
			p.r.sw.cfg.owner, dangling))
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

func orNoSequence[T any](seq iter.Seq2[T, error], what string) iter.Seq2[T, error] {
	if seq != nil {
		return seq
	}
	return func(yield func(T, error) bool) {
		var zero T
		yield(zero, fmt.Errorf("cloudswitch: %s returned no sequence", what))
	}
}
