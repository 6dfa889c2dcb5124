package cloudswitch

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
)

// Request asks for a workspace's compute to change.
type Request struct {
	// Compute is the target. An empty Provider keeps the current provider,
	// and then every other empty field keeps its current value. A different
	// Provider is a switch: an empty InstanceType becomes the new provider's
	// default, an empty Region or Image the driver's default.
	Compute Compute
	// ConfirmRecreate must be true when the provider changes, since that
	// destroys the workspace's VM; without it Switch returns
	// ErrConfirmRequired and changes nothing.
	ConfirmRecreate bool
	// IfVersion, when non-zero, is a precondition: Switch returns
	// ErrConflict and changes nothing unless the workspace's Version equals
	// it.
	IfVersion int64
}

// Result is what Switch or Resume did.
type Result struct {
	// Workspace is the workspace as stored when the call returned. On error
	// it holds what was last read or written (its ID is empty if nothing
	// was).
	Workspace Workspace
	// Switched is true when the provider changed.
	Switched bool
	// Recreated is true when the workspace's VM was replaced by a new one
	// (on a provider change, or a change of region or image).
	Recreated bool
	// Resized is true when the VM's instance type was changed in place.
	Resized bool
	// Deleted is true when Decommission deleted the workspace.
	Deleted bool
	// RolledBack is true when Resume gave an interrupted switch up and undid
	// it: the workspace keeps its old compute and VM.
	RolledBack bool
	// Deprovisioned is the VM destroyed, if any.
	Deprovisioned *Instance
	// Provisioned is the VM created and recorded, if any.
	Provisioned *Instance
}

// Switcher moves workspaces between providers without ever leaving a VM that
// no record points at. It is safe for concurrent use, and any number of
// Switchers in any number of processes may share a Store: the journal in each
// record keeps them from acting on the same workspace at once.
type Switcher struct {
	store     Store
	providers map[string]Provider
	cfg       config

	installMu sync.Mutex
	install   string // the store's installation id, once read
	installed bool
}

// New returns a Switcher that keeps workspaces in store and reaches each
// provider through its driver in providers, keyed by provider name. Every key
// must be a provider the allowlist knows. New reports every problem with its
// arguments and options at once.
func New(store Store, providers map[string]Provider, opts ...Option) (*Switcher, error) {
	cfg := defaultConfig()
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}
	errs := cfg.errs
	if store == nil {
		errs = append(errs, errors.New("cloudswitch: New: the store is nil"))
	}
	if len(providers) == 0 {
		errs = append(errs, errors.New("cloudswitch: New: no providers given"))
	}
	for _, name := range slices.Sorted(maps.Keys(providers)) {
		if providers[name] == nil {
			errs = append(errs, fmt.Errorf("cloudswitch: New: the driver for provider %q is nil", name))
		}
		if _, ok := cfg.allowlist.types[name]; !ok {
			errs = append(errs, fmt.Errorf("cloudswitch: New: provider %q is not in the allowlist (allowed: %v): %w",
				name, cfg.allowlist.Providers(), ErrUnknownProvider))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &Switcher{store: store, providers: maps.Clone(providers), cfg: cfg}, nil
}

// Switch moves workspace id to req.Compute.
//
// On the same provider it writes the new compute (compare-and-swap) and
// destroys nothing; if the workspace has no VM and provisioning is on, it
// creates one. On a provider change it first journals an intent in the
// record. Then, in the order of the Strategy, it destroys the old VM on the
// old provider, writes the new compute, and creates and records the new VM.
// The write of the new compute clears the old VM from the record.
//
// Errors: a *ValidationError (ErrInvalid) for a target the allowlist refuses;
// ErrConfirmRequired; ErrNotFound; ErrConflict when IfVersion does not match
// or the record changed under the call; ErrSwitchInProgress while another
// switch of the workspace is pending; *AbortError when the switch stopped
// with nothing changed; *IncompleteError when it stopped part-way, journaled,
// for Resume to finish. Only the last leaves an intent behind.
func (s *Switcher) Switch(ctx context.Context, id string, req Request) (Result, error) {
	t := s.trace(ctx, SwitchEvent{WorkspaceID: id, To: req.Compute.Provider})
	res, err := s.doSwitch(t, id, req)
	t.end(res, err)
	return res, err
}

// doSwitch runs the steps of a switch: check the request, read the
// workspace, plan the change, journal it, and carry it out.
func (s *Switcher) doSwitch(t *tracer, id string, req Request) (Result, error) {
	if err := s.precheck(id, req); err != nil {
		return Result{}, err
	}
	w, err := s.read(t, id)
	if err != nil {
		return Result{}, err
	}
	res := Result{Workspace: w}
	target, switched, err := s.resolve(w, req.Compute)
	if err != nil {
		return res, err
	}
	t.routed(w.Compute.Provider, target.Provider)
	c, err := s.plan(id, w, req, target, switched)
	if err != nil {
		return res, err
	}
	if c.old == nil && !c.provision {
		// Nothing to destroy, resize or create: one compare-and-swap write.
		return s.update(t, w, target, switched)
	}
	in, err := s.switchIntent(t, id, w, c)
	if err != nil {
		return res, err
	}
	t.journaled(in)
	if c.provision || c.resize {
		if err := s.preflight(t, ProvisionRequest{WorkspaceID: id, Compute: target, Token: in.ID,
			Owner: s.cfg.owner, Installation: in.Installation}); err != nil {
			return res, err
		}
	}
	t.claiming(in)
	return s.claimAndRun(t, w, in)
}

// change is what a switch does to a workspace's VMs. It is planned before
// anything is written.
type change struct {
	target    Compute   // the compute the record gets
	resize    bool      // the VM's instance type is changed in place
	old       *Instance // the VM destroyed or resized; nil when none is
	provision bool      // a VM is created on the target
}

// plan decides what switching workspace id (read as w) to target does to
// its VMs; switched says the provider changes. It refuses a workspace with a
// switch pending, a version other than req.IfVersion, a recreation req does
// not confirm, a VM it cannot name safely, and a VM to create without a
// driver.
func (s *Switcher) plan(id string, w Workspace, req Request, target Compute, switched bool) (change, error) {
	c := change{target: target}
	if w.Pending != nil {
		return c, fmt.Errorf("workspace %q: switch %s at phase %s: %w", id, w.Pending.ID, w.Pending.Phase, ErrSwitchInProgress)
	}
	if req.IfVersion != 0 && req.IfVersion != w.Version {
		return c, fmt.Errorf("workspace %q is at version %d, not %d: %w", id, w.Version, req.IfVersion, ErrConflict)
	}
	recreate := switched
	if !switched {
		recreate, c.resize = s.sameProviderChange(w, target)
	}
	if recreate && !req.ConfirmRecreate {
		what := fmt.Sprintf("%s to %s", NormalizeProvider(w.Compute.Provider), target.Provider)
		if !switched {
			what = fmt.Sprintf("a change of region or image on %s recreates the VM", target.Provider)
		}
		return c, fmt.Errorf("workspace %q: %s: %w", id, what, ErrConfirmRequired)
	}
	if w.Instance != nil && (recreate || c.resize) {
		// The VM is destroyed or resized; a record-only edit touches none.
		inst, err := s.oldInstance(w)
		if err != nil {
			return c, &AbortError{Stage: StageValidate, WorkspaceID: id, Err: err}
		}
		c.old = &inst
	}
	c.provision = s.cfg.provisioning && (recreate || w.Instance == nil)
	if _, ok := s.providers[target.Provider]; c.provision && !ok {
		return c, s.noDriver(target.Provider)
	}
	return c, nil
}

// switchIntent is the journal of the change c of workspace id (read as w).
// The VMs it destroys and creates are fenced by the store's installation.
func (s *Switcher) switchIntent(t *tracer, id string, w Workspace, c change) (*Intent, error) {
	installation, err := s.installationID(t)
	if err != nil {
		return nil, &AbortError{Stage: StageRead, WorkspaceID: id, Err: err}
	}
	if c.old != nil && c.old.Installation == "" {
		c.old.Installation = installation // fence: never another installation's VM
	}
	in := s.newIntent(w, c.target, c.old, c.provision)
	in.Installation = installation
	if c.resize {
		// Changed in place: nothing is created, and nothing destroyed.
		in.Phase, in.Provision, in.Token, in.Owner, in.Hook = PhaseResize, false, "", "", false
		in.Strategy = BreakBeforeMake
	}
	return in, nil
}

// newIntent is the journal of a switch of w to target that destroys old (if
// any) and, when provision is set, creates a VM.
func (s *Switcher) newIntent(w Workspace, target Compute, old *Instance, provision bool) *Intent {
	strategy := s.cfg.strategy
	if !provision {
		strategy = BreakBeforeMake
	}
	now := s.cfg.now()
	id := newID()
	in := &Intent{
		ID:           id,
		Strategy:     strategy,
		Phase:        PhaseProvision,
		From:         w.Compute,
		To:           target,
		Old:          old,
		Provision:    provision,
		Holder:       id, // the first claim's holder; each Resume picks a fresh one
		LeaseExpires: now.Add(s.cfg.lease),
		StartedAt:    now,
		Claims:       1,
	}
	if provision {
		in.Token = in.ID
		in.Owner = s.cfg.owner
	}
	if old != nil && s.cfg.hooks.BeforeDeprovision != nil {
		in.Hook = true // journaled: a resumer without the hook will not skip it
	}
	if old != nil && strategy == BreakBeforeMake {
		in.Phase = PhaseDeprovision
	}
	return in
}

// sameProviderChange says what a change of w's compute to target on the
// same provider does to its VM: a change of region or image recreates it; a
// change of instance type resizes it in place where the driver can, and
// recreates it otherwise. What the VM is known to run already
// (Instance.Region, Image, InstanceType) needs no change.
func (s *Switcher) sameProviderChange(w Workspace, target Compute) (recreate, resize bool) {
	if w.Instance == nil {
		return false, false
	}
	differs := func(want, recorded, actual string) bool {
		return want != recorded && (actual == "" || want != actual)
	}
	recordedType := w.Compute.InstanceType
	if recordedType == "" {
		recordedType = s.cfg.allowlist.DefaultInstanceType(target.Provider)
	}
	if differs(target.Region, w.Compute.Region, w.Instance.Region) || differs(target.Image, w.Compute.Image, w.Instance.Image) {
		return true, false
	}
	if differs(target.InstanceType, recordedType, w.Instance.InstanceType) {
		if _, ok := s.providers[target.Provider].(Resizer); ok {
			return false, true
		}
		return true, false
	}
	return false, false
}

// precheck refuses what is wrong before any I/O: an empty id, and a named
// target provider or instance type that is not allowed.
func (s *Switcher) precheck(id string, req Request) error {
	if id == "" {
		return &ValidationError{Field: "workspace_id", Value: id, Reason: "is empty"}
	}
	if req.IfVersion < 0 {
		return &ValidationError{Field: "if_version", Value: fmt.Sprint(req.IfVersion), Reason: "must not be negative"}
	}
	c := req.Compute
	if c.Provider == "" {
		return s.checkFields(c)
	}
	if c.InstanceType == "" {
		c.InstanceType = s.cfg.allowlist.DefaultInstanceType(c.Provider)
	}
	return s.cfg.allowlist.Validate(c)
}

// checkFields validates the parts of a compute that do not depend on the
// provider: region and image syntax.
func (s *Switcher) checkFields(c Compute) error {
	if err := checkRegion(c.Region); err != nil {
		return err
	}
	return checkImage(c.Image)
}

// resolve computes the target of a request against the stored workspace and
// validates it, reporting whether the provider changes.
func (s *Switcher) resolve(w Workspace, want Compute) (Compute, bool, error) {
	cur := w.Compute
	cur.Provider = NormalizeProvider(cur.Provider)
	target := want
	if target.Provider == "" {
		target.Provider = cur.Provider
	}
	change := target.Provider != cur.Provider
	if change {
		if target.InstanceType == "" {
			target.InstanceType = s.cfg.allowlist.DefaultInstanceType(target.Provider)
		}
		if target.Region == "" {
			target.Region = s.cfg.allowlist.DefaultRegion(target.Provider)
		}
		if target.Image == "" {
			target.Image = s.cfg.allowlist.DefaultImage(target.Provider)
		}
	} else {
		if target.InstanceType == "" {
			target.InstanceType = cur.InstanceType
		}
		if target.InstanceType == "" {
			// A stored record without an instance type (written before
			// types were recorded) runs the provider's default.
			target.InstanceType = s.cfg.allowlist.DefaultInstanceType(target.Provider)
		}
		if target.Region == "" {
			target.Region = cur.Region
		}
		if target.Image == "" {
			target.Image = cur.Image
		}
	}
	if err := s.cfg.allowlist.Validate(target); err != nil {
		return target, change, err
	}
	return target, change, nil
}

// oldInstance returns the VM a switch must destroy, refusing to guess: its
// provider must be known, have a driver and agree with the record's compute.
func (s *Switcher) oldInstance(w Workspace) (Instance, error) {
	inst := *w.Instance
	stored := NormalizeProvider(w.Compute.Provider)
	if inst.Provider == "" {
		inst.Provider = stored
	}
	if inst.Provider != stored {
		return inst, fmt.Errorf("workspace %q records instance %s on provider %q but compute on %q; refusing to guess which is right: %w",
			w.ID, inst.ID, inst.Provider, stored, ErrUnknownProvider)
	}
	if inst.ID == "" {
		return inst, fmt.Errorf("workspace %q records an instance without an id on provider %q: %w", w.ID, inst.Provider, ErrInstanceNotFound)
	}
	if inst.WorkspaceID != "" && inst.WorkspaceID != w.ID {
		return inst, fmt.Errorf("workspace %q records instance %s, whose ownership names workspace %q; refusing to destroy another workspace's VM: %w",
			w.ID, inst.ID, inst.WorkspaceID, ErrNotOurs)
	}
	// The record is sure whose VM it means: the driver fences by it even
	// when the stored Instance predates the ownership fields.
	inst.WorkspaceID = w.ID
	if _, ok := s.providers[inst.Provider]; !ok {
		return inst, fmt.Errorf("workspace %q runs on provider %q, which has no driver here, so its VM cannot be destroyed: %w",
			w.ID, inst.Provider, ErrUnknownProvider)
	}
	return inst, nil
}

// installationID returns the store's installation id (see
// InstallationStore), or "" for a store that has none (or a wrapper that
// answers "" for a store without one). A successful answer
// is kept: an installation's id never changes.
func (s *Switcher) installationID(t *tracer) (string, error) {
	is, ok := s.store.(InstallationStore)
	if !ok {
		return "", nil
	}
	s.installMu.Lock()
	defer s.installMu.Unlock()
	if s.installed {
		return s.install, nil
	}
	id, err := is.InstallationID(t.ctx)
	if err != nil {
		return "", fmt.Errorf("reading the store's installation id: %w", err)
	}
	if id != "" && !ownerName.MatchString(id) {
		return "", fmt.Errorf("the store's installation id %q is not 1 to 63 lowercase letters, digits, '-' or '_'", id)
	}
	s.install, s.installed = id, true
	return id, nil
}

func (s *Switcher) noDriver(provider string) error {
	return &ValidationError{Field: "provider", Value: provider, Reason: "has no driver configured",
		Allowed: slices.Sorted(maps.Keys(s.providers))}
}

// read gets the workspace, failing closed: anything but a clean answer or
// ErrNotFound aborts with nothing done.
func (s *Switcher) read(t *tracer, id string) (Workspace, error) {
	sp := t.stage(StageRead, "", "")
	w, err := s.store.Get(sp.ctx, id)
	sp.end(err)
	switch {
	case errors.Is(err, ErrNotFound):
		return w, fmt.Errorf("workspace %q: %w", id, ErrNotFound)
	case err != nil:
		return w, &AbortError{Stage: StageRead, WorkspaceID: id, Err: err}
	}
	t.ev.IntentID = ""
	if w.Pending != nil {
		t.ev.IntentID = w.Pending.ID
	}
	return w, nil
}

// update writes a compute change that destroys and creates nothing.
func (s *Switcher) update(t *tracer, w Workspace, target Compute, change bool) (Result, error) {
	res := Result{Workspace: w}
	if target == w.Compute {
		return res, nil // nothing to do, nothing written
	}
	next := w // the store copies what it is given
	next.Compute = target
	if change {
		next.Instance = nil // no stale pointer: there was no VM to destroy
	}
	sp := t.stage(StageCommit, "", "")
	stored, err := s.store.Update(sp.ctx, next)
	sp.end(err)
	switch {
	case err == nil:
		t.wrote = true
		res.Workspace = stored
		res.Switched = change
		return res, nil
	case errors.Is(err, ErrNotFound):
		return res, fmt.Errorf("workspace %q was deleted: %w", w.ID, ErrNotFound)
	case errors.Is(err, ErrConflict):
		return res, s.conflict(t, w.ID, err)
	default:
		return res, &IncompleteError{Stage: StageCommit, WorkspaceID: w.ID, Err: err}
	}
}

// conflict explains a failed compare-and-swap: another switch claimed the
// workspace, or it merely changed.
func (s *Switcher) conflict(t *tracer, id string, err error) error {
	fresh, gerr := s.store.Get(t.ctx, id)
	if gerr == nil && fresh.Pending != nil {
		return fmt.Errorf("workspace %q: switch %s started concurrently: %w", id, fresh.Pending.ID, ErrSwitchInProgress)
	}
	return fmt.Errorf("workspace %q changed concurrently: %w", id, err)
}

// claimAndRun writes the intent — the only way a switch may start acting on
// a workspace — and carries it out.
func (s *Switcher) claimAndRun(t *tracer, w Workspace, in *Intent) (Result, error) {
	res := Result{Workspace: w}
	t.ev.IntentID = in.ID
	// The lease bounds the whole switch: no provider call or write of this
	// process outlives it, so whoever claims the intent after it has expired
	// acts alone.
	ctx, cancel := context.WithTimeout(t.ctx, s.cfg.lease)
	defer cancel()
	// Journaled after the context's deadline is set, so the deadline is
	// never later than what the journal shows others.
	in.LeaseExpires = s.cfg.now().Add(s.cfg.lease)

	next := w // the store copies what it is given
	next.Pending = in
	sp := t.stageCtx(ctx, StageClaim, "", "")
	stored, err := s.store.Update(sp.ctx, next)
	sp.end(err)
	switch {
	case errors.Is(err, ErrNotFound):
		return res, fmt.Errorf("workspace %q was deleted: %w", w.ID, ErrNotFound)
	case errors.Is(err, ErrConflict):
		return res, s.conflict(t, w.ID, err)
	case err != nil:
		// The claim may have landed: say so, never "nothing changed".
		return res, &IncompleteError{Stage: StageClaim, WorkspaceID: w.ID, IntentID: in.ID, Err: err}
	case !holdsClaim(stored, in):
		return res, &IncompleteError{Stage: StageClaim, WorkspaceID: w.ID, IntentID: in.ID,
			Err: fmt.Errorf("the store answered the claim without the intent it was given: %w", errStoreBroken)}
	}
	r := &run{s: s, t: t, ctx: ctx, ws: stored}
	return r.drive()
}
