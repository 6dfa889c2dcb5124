package fleet

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"iter"
	"maps"
	"slices"
	"time"

	"github.com/cloudswitch/cloudswitch"
)

// Planner computes what switching a selection of workspaces would do,
// following the rules of cloudswitch.Switcher.Switch: it must be configured
// as the Switcher that applies the plan is (the same store, drivers,
// allowlist, provisioning and owner).
//
// Planning writes nothing, and calls no provider but for
// cloudswitch.Preflighter.Preflight on the drivers that have it, once for
// each workspace the switch would create or resize a VM for, with the
// request the Switcher would send.
type Planner struct {
	store        cloudswitch.Store
	providers    map[string]cloudswitch.Provider
	allowlist    *cloudswitch.Allowlist
	provisioning bool
	owner        string
	now          func() time.Time
}

// PlannerOption configures a Planner.
type PlannerOption func(*Planner)

// WithAllowlist sets the allowlist targets are validated against (default
// cloudswitch.DefaultAllowlist), as cloudswitch.WithAllowlist does for a
// Switcher.
func WithAllowlist(a *cloudswitch.Allowlist) PlannerOption {
	return func(p *Planner) {
		if a != nil {
			p.allowlist = a
		}
	}
}

// WithProvisioning says whether the Switcher creates VMs (default true), as
// cloudswitch.WithProvisioning does.
func WithProvisioning(on bool) PlannerOption {
	return func(p *Planner) { p.provisioning = on }
}

// WithOwner sets the ownership tag preflight checks name (default
// cloudswitch.DefaultOwner), as cloudswitch.WithOwner does.
func WithOwner(owner string) PlannerOption {
	return func(p *Planner) { p.owner = owner }
}

// WithPlanClock sets the clock that dates plans (default time.Now).
func WithPlanClock(now func() time.Time) PlannerOption {
	return func(p *Planner) {
		if now != nil {
			p.now = now
		}
	}
}

// NewPlanner returns a Planner over store and the drivers in providers.
func NewPlanner(store cloudswitch.Store, providers map[string]cloudswitch.Provider, opts ...PlannerOption) (*Planner, error) {
	if store == nil {
		return nil, errors.New("fleet: NewPlanner: the store is nil")
	}
	p := &Planner{
		store: store, providers: maps.Clone(providers), allowlist: cloudswitch.DefaultAllowlist(),
		provisioning: true, owner: cloudswitch.DefaultOwner, now: time.Now,
	}
	for _, o := range opts {
		if o != nil {
			o(p)
		}
	}
	return p, nil
}

// Check refuses a request that no workspace could be switched to, before
// anything is read: a negative IfVersion, and a named provider or instance
// type the allowlist does not allow (a *cloudswitch.ValidationError), as
// Switch refuses it before any I/O.
func (p *Planner) Check(req cloudswitch.Request) error {
	if req.IfVersion < 0 {
		return &cloudswitch.ValidationError{Field: "if_version", Value: fmt.Sprint(req.IfVersion), Reason: "must not be negative"}
	}
	c := req.Compute
	if c.Provider == "" {
		// Without a provider only the syntax of the region and image can be
		// checked: validate them against an allowlist that restricts
		// neither.
		c.Provider, c.InstanceType = "any", "any"
		return syntaxOnly.Validate(c)
	}
	if c.InstanceType == "" {
		c.InstanceType = p.allowlist.DefaultInstanceType(c.Provider)
	}
	return p.allowlist.Validate(c)
}

// syntaxOnly is an allowlist of one provider with one type and no region or
// image restriction: its Validate checks only the syntax of regions and
// images, as the Switcher does before it knows the provider.
var syntaxOnly, _ = cloudswitch.NewAllowlist(map[string][]string{"any": {"any"}}, map[string]string{"any": "any"})

// Plan plans req for every selected workspace and holds the plan in memory.
// It fails only when req is refused outright (Check) or the selection cannot
// be read; a workspace that cannot be switched is a refused step.
func (p *Planner) Plan(ctx context.Context, sel Selection, req cloudswitch.Request) (*Plan, error) {
	plan := &Plan{Header: p.Header(sel, req)}
	for s, err := range p.Steps(ctx, sel, req) {
		if err != nil {
			return nil, err
		}
		plan.Steps = append(plan.Steps, s)
	}
	return plan, nil
}

// Header returns the header of a plan of req over sel, dated now.
func (p *Planner) Header(sel Selection, req cloudswitch.Request) Header {
	return Header{Format: PlanFormat, Request: req, Selection: sel.String(), CreatedAt: p.now().UTC()}
}

// Steps streams the plan of req over sel, one step per selected workspace,
// holding one workspace at a time. A non-nil error ends the sequence: the
// request is refused (Check), the store cannot list or be read, or ctx
// ended.
func (p *Planner) Steps(ctx context.Context, sel Selection, req cloudswitch.Request) iter.Seq2[Step, error] {
	return func(yield func(Step, error) bool) {
		if err := p.Check(req); err != nil {
			yield(Step{}, fmt.Errorf("fleet: the target is refused: %w", err))
			return
		}
		pf := preflights{p: p}
		for l := range sel.workspaces(ctx, p.store) {
			if err := ctx.Err(); err != nil {
				yield(Step{}, err)
				return
			}
			if l.err != nil && l.id == "" {
				yield(Step{}, fmt.Errorf("fleet: reading the selection: %w", l.err))
				return
			}
			if !yield(p.step(ctx, &pf, l, req), nil) {
				return
			}
		}
	}
}

// step plans one workspace as Switcher.Switch would carry it out: the
// checks in its order, then what it destroys and creates.
func (p *Planner) step(ctx context.Context, pf *preflights, l lookup, req cloudswitch.Request) Step {
	s := Step{WorkspaceID: l.id, Action: ActionRefuse}
	switch {
	case l.id == "":
		s.Reason = "the workspace id is empty"
		return s
	case errors.Is(l.err, cloudswitch.ErrNotFound):
		s.Reason = "no such workspace"
		return s
	case l.err != nil:
		s.Reason = "could not be read: " + l.err.Error()
		return s
	}
	w := l.w
	s.Version = w.Version
	s.From = w.Compute
	s.From.Provider = cloudswitch.NormalizeProvider(w.Compute.Provider)

	target, change, err := p.resolve(w, req.Compute)
	s.To = target
	if err != nil {
		s.Reason = err.Error()
		return s
	}
	if w.Pending != nil {
		s.Reason = fmt.Sprintf("switch %s is pending at phase %s: resume it first", w.Pending.ID, w.Pending.Phase)
		return s
	}
	if req.IfVersion != 0 && req.IfVersion != w.Version {
		s.Reason = fmt.Sprintf("the workspace is at version %d, not %d", w.Version, req.IfVersion)
		return s
	}
	recreate, resize := change, false
	if !change {
		recreate, resize = p.sameProviderChange(w, target)
	}
	if recreate && !req.ConfirmRecreate {
		if change {
			s.Reason = fmt.Sprintf("moving from %s to %s recreates the VM and needs confirmation", s.From.Provider, target.Provider)
		} else {
			s.Reason = fmt.Sprintf("a change of region or image on %s recreates the VM and needs confirmation", target.Provider)
		}
		return s
	}
	var old *cloudswitch.Instance
	if w.Instance != nil && (recreate || resize) {
		inst, err := p.oldInstance(w)
		if err != nil {
			s.Reason = err.Error()
			return s
		}
		old = &inst
	}
	provision := p.provisioning && (recreate || w.Instance == nil)
	if provision {
		if _, ok := p.providers[target.Provider]; !ok {
			s.Reason = fmt.Sprintf("provider %q has no driver configured", target.Provider)
			return s
		}
	}
	switch {
	case old == nil && !provision && target == w.Compute:
		s.Action = ActionNone
		s.Reason = "already at the target"
		return s
	case old == nil && !provision:
		s.Action = ActionEdit
		return s
	case resize:
		s.Action = ActionResize
		s.Resize = old
	case recreate:
		s.Action = ActionRecreate
		s.Destroy = old
	default:
		s.Action = ActionProvision
	}
	if provision {
		c := target
		s.Create = &c
	}
	if provision || resize {
		if err := pf.check(ctx, w.ID, target); err != nil {
			var invalid *cloudswitch.ValidationError
			if errors.As(err, &invalid) || !errors.Is(err, cloudswitch.ErrTransient) {
				s.Action = ActionRefuse
				s.Reason = "preflight: " + err.Error()
			} else {
				s.Warning = "preflight could not tell: " + err.Error()
			}
		}
	}
	return s
}

// sameProviderChange mirrors the Switcher's judgement of a change on the
// same provider: a region or image the VM does not have recreates it; an
// instance type it does not have resizes it in place when the driver is a
// cloudswitch.Resizer, and recreates it otherwise; the VM's own recorded
// type, region and image count as what it has.
func (p *Planner) sameProviderChange(w cloudswitch.Workspace, target cloudswitch.Compute) (recreate, resize bool) {
	if w.Instance == nil {
		return false, false
	}
	differs := func(want, recorded, actual string) bool {
		return want != recorded && (actual == "" || want != actual)
	}
	recordedType := w.Compute.InstanceType
	if recordedType == "" {
		recordedType = p.allowlist.DefaultInstanceType(target.Provider)
	}
	if differs(target.Region, w.Compute.Region, w.Instance.Region) || differs(target.Image, w.Compute.Image, w.Instance.Image) {
		return true, false
	}
	if differs(target.InstanceType, recordedType, w.Instance.InstanceType) {
		if _, ok := p.providers[target.Provider].(cloudswitch.Resizer); ok {
			return false, true
		}
		return true, false
	}
	return false, false
}

// resolve mirrors the Switcher's resolution of a request against a stored
// workspace: an empty provider keeps the current one and every empty field
// its current value; a provider change takes the new provider's default
// instance type, region and image (an empty default leaves it to the
// driver).
func (p *Planner) resolve(w cloudswitch.Workspace, want cloudswitch.Compute) (cloudswitch.Compute, bool, error) {
	cur := w.Compute
	cur.Provider = cloudswitch.NormalizeProvider(cur.Provider)
	target := want
	if target.Provider == "" {
		target.Provider = cur.Provider
	}
	change := target.Provider != cur.Provider
	if change {
		if target.InstanceType == "" {
			target.InstanceType = p.allowlist.DefaultInstanceType(target.Provider)
		}
		if target.Region == "" {
			target.Region = p.allowlist.DefaultRegion(target.Provider)
		}
		if target.Image == "" {
			target.Image = p.allowlist.DefaultImage(target.Provider)
		}
	} else {
		if target.InstanceType == "" {
			target.InstanceType = cur.InstanceType
		}
		if target.InstanceType == "" {
			target.InstanceType = p.allowlist.DefaultInstanceType(target.Provider)
		}
		if target.Region == "" {
			target.Region = cur.Region
		}
		if target.Image == "" {
			target.Image = cur.Image
		}
	}
	return target, change, p.allowlist.Validate(target)
}

// oldInstance mirrors the Switcher's refusal to guess which VM to destroy.
func (p *Planner) oldInstance(w cloudswitch.Workspace) (cloudswitch.Instance, error) {
	inst := *w.Instance
	stored := cloudswitch.NormalizeProvider(w.Compute.Provider)
	if inst.Provider == "" {
		inst.Provider = stored
	}
	switch {
	case inst.Provider != stored:
		return inst, fmt.Errorf("the record names instance %s on provider %q but compute on %q", inst.ID, inst.Provider, stored)
	case inst.ID == "":
		return inst, fmt.Errorf("the record names an instance without an id on provider %q", inst.Provider)
	case inst.WorkspaceID != "" && inst.WorkspaceID != w.ID:
		return inst, fmt.Errorf("the record names instance %s, whose ownership names workspace %q", inst.ID, inst.WorkspaceID)
	}
	if _, ok := p.providers[inst.Provider]; !ok {
		return inst, fmt.Errorf("provider %q has no driver here, so its VM cannot be destroyed", inst.Provider)
	}
	return inst, nil
}

// preflights asks each target driver about each workspace, as the Switcher
// does before it creates or resizes that workspace's VM: drivers judge the
// whole ProvisionRequest — the workspace id and the token as well as the
// compute (a workspace id no label can carry is refused) — so no answer is
// reused for another workspace. Only the store's installation id, which
// names no workspace, is read once.
type preflights struct {
	p            *Planner
	installation *string
}

func (pf *preflights) check(ctx context.Context, workspaceID string, target cloudswitch.Compute) error {
	drv, ok := pf.p.providers[target.Provider].(cloudswitch.Preflighter)
	if !ok {
		return nil
	}
	inst, err := pf.installationID(ctx)
	if err != nil {
		return err // not kept: the store may answer next time
	}
	// The request has the shape of the Switcher's: the token is one it
	// could have drawn (drivers check its form); preflight creates nothing,
	// so it names no VM.
	return drv.Preflight(ctx, cloudswitch.ProvisionRequest{
		WorkspaceID: workspaceID, Compute: target, Token: newToken(), Owner: pf.p.owner, Installation: inst,
	})
}

func (pf *preflights) installationID(ctx context.Context) (string, error) {
	if pf.installation != nil {
		return *pf.installation, nil
	}
	is, ok := pf.p.store.(cloudswitch.InstallationStore)
	if !ok {
		empty := ""
		pf.installation = &empty
		return "", nil
	}
	id, err := is.InstallationID(ctx)
	if err != nil {
		return "", fmt.Errorf("reading the store's installation id: %w", err)
	}
	pf.installation = &id
	return id, nil
}

// newToken returns a random token of the form the Switcher gives its
// switches: 32 hexadecimal digits.
func newToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand, Go 1.24+)
	return hex.EncodeToString(b[:])
}

// Providers returns the names of the planner's drivers, sorted.
func (p *Planner) Providers() []string { return slices.Sorted(maps.Keys(p.providers)) }
