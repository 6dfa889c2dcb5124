// Package memprovider is an in-memory cloudswitch.Provider with the semantics
// of a real cloud — idempotent creation by token, "not found" for a VM that
// is gone, listing by owner page by page, new VMs listed late — and fault
// injection: scripted errors per operation, latency, and calls that take
// effect and then fail, as when the response of an accepted call is lost.
//
// Use it to test code built on cloudswitch without a cloud:
//
//	aws := memprovider.New(cloudswitch.AWS)
//	aws.FailNext(memprovider.OpDeprovision, 2, memprovider.ErrThrottled) // two 503s, then success
//	sw, _ := cloudswitch.New(store, map[string]cloudswitch.Provider{cloudswitch.AWS: aws})
package memprovider

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/cloudswitch/cloudswitch"
)

// Op names a Provider method, for fault injection and the call log.
type Op string

// The operations of a Provider. OpList is one page of Instances.
const (
	OpProvision   Op = "provision"
	OpDeprovision Op = "deprovision"
	OpList        Op = "list"
	OpPreflight   Op = "preflight"
	OpResize      Op = "resize"
)

// Errors a test can inject, one per class a driver reports:
//
//   - ErrThrottled: transient and a refusal (cloudswitch.ErrTransient and
//     cloudswitch.ErrRefused): retry it, nothing happened.
//   - ErrUnavailable: transient with an unknown outcome (a 503 may come
//     after the cloud acted).
//   - ErrDenied, ErrQuota: permanent refusals.
//   - ErrUnexplained: permanent and unmarked, as a third-party driver's
//     error would be: the outcome is unknown.
var (
	ErrThrottled   = fmt.Errorf("memprovider: request limit exceeded: %w: %w", cloudswitch.ErrTransient, cloudswitch.ErrRefused)
	ErrUnavailable = fmt.Errorf("memprovider: service unavailable (503): %w", cloudswitch.ErrTransient)
	ErrDenied      = fmt.Errorf("memprovider: unauthorized operation (403): %w", cloudswitch.ErrRefused)
	ErrQuota       = fmt.Errorf("memprovider: instance limit exceeded: %w", cloudswitch.ErrRefused)
	ErrUnexplained = errors.New("memprovider: unexplained failure")
)

// Fault is what happens to one call.
type Fault struct {
	// Err is returned to the caller (nil: the call succeeds).
	Err error
	// AfterEffect makes the call take effect before Err is returned: the
	// cloud accepted it, the caller never heard.
	AfterEffect bool
	// Latency is added to the call, on top of the provider's latency.
	Latency time.Duration
}

// Call is one call the provider received, in the order received.
type Call struct {
	Seq         int
	Op          Op
	InstanceID  string // the VM deprovisioned or provisioned, if any
	WorkspaceID string
	Token       string
	Effect      bool  // the call changed the provider's state
	Err         error // what the caller got
}

// Provider is an in-memory cloud. It is safe for concurrent use; latency is
// simulated outside its lock, so concurrent calls overlap as on a real
// cloud.
type Provider struct {
	name     string
	pageSize int
	now      func() time.Time

	mu        sync.Mutex
	seq       int            // VMs created
	callSeq   int            // calls received
	vms       map[string]*vm // by id
	ids       []string       // every id ever issued, sorted
	byToken   map[string]string
	latency   time.Duration
	listDelay time.Duration
	queued    map[Op][]Fault
	faultFunc func(Call) Fault
	calls     []Call
	record    bool
	catalog   Catalog
}

// Catalog is what a Provider can create: the instance types, regions and
// images that exist. A nil list means anything exists.
type Catalog struct {
	InstanceTypes []string
	Regions       []string
	Images        []string
}

var (
	_ cloudswitch.Preflighter = (*Provider)(nil)
	_ cloudswitch.Resizer     = (*Provider)(nil)
)

type vm struct {
	inst      cloudswitch.Instance // its Installation is the installation tag
	owner     string
	compute   cloudswitch.Compute
	gone      bool
	visibleAt time.Time
}

var _ cloudswitch.Provider = (*Provider)(nil)

// fence refuses to act on v as inst when v's tags name another workspace or
// installation than inst does. A VM without the tag (created outside
// cloudswitch, or before installations were tagged) is not fenced by it.
func (v *vm) fence(inst cloudswitch.Instance) error {
	if inst.WorkspaceID != "" && v.inst.WorkspaceID != "" && v.inst.WorkspaceID != inst.WorkspaceID {
		return fmt.Errorf("tagged for workspace %q, not %q: %w", v.inst.WorkspaceID, inst.WorkspaceID, cloudswitch.ErrNotOurs)
	}
	if inst.Installation != "" && v.inst.Installation != "" && v.inst.Installation != inst.Installation {
		return fmt.Errorf("tagged for installation %q, not %q: %w", v.inst.Installation, inst.Installation, cloudswitch.ErrNotOurs)
	}
	return nil
}

// Option configures a Provider.
type Option func(*Provider)

// WithPageSize sets how many VMs one page of Instances holds (default 100).
func WithPageSize(n int) Option {
	return func(p *Provider) {
		if n > 0 {
			p.pageSize = n
		}
	}
}

// WithLatency adds d to every call.
func WithLatency(d time.Duration) Option { return func(p *Provider) { p.latency = d } }

// WithClock sets the clock VMs' CreatedAt and listing delays are measured by.
func WithClock(now func() time.Time) Option {
	return func(p *Provider) {
		if now != nil {
			p.now = now
		}
	}
}

// WithoutCallLog stops recording calls (Calls returns nil), for benchmarks
// and long soaks.
func WithoutCallLog() Option { return func(p *Provider) { p.record = false } }

// New returns an empty provider named name (the key it is registered under,
// such as cloudswitch.AWS). Its VMs get ids "<name>-00000001", … .
func New(name string, opts ...Option) *Provider {
	p := &Provider{
		name: name, pageSize: 100, now: time.Now, record: true,
		vms: make(map[string]*vm), byToken: make(map[string]string), queued: make(map[Op][]Fault),
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

// SetCatalog sets what the provider can create from now on: Provision and
// Resize refuse what is not in it, and Preflight says so.
func (p *Provider) SetCatalog(c Catalog) {
	p.mu.Lock()
	p.catalog = Catalog{InstanceTypes: slices.Clone(c.InstanceTypes), Regions: slices.Clone(c.Regions), Images: slices.Clone(c.Images)}
	p.mu.Unlock()
}

// unknown returns a *cloudswitch.ValidationError for the first field of c
// the catalog does not have; p.mu is held.
func (p *Provider) unknown(c cloudswitch.Compute) error {
	for _, f := range []struct {
		field, value string
		known        []string
	}{
		{"instance_type", c.InstanceType, p.catalog.InstanceTypes},
		{"region", c.Region, p.catalog.Regions},
		{"image", c.Image, p.catalog.Images},
	} {
		if f.known != nil && f.value != "" && !slices.Contains(f.known, f.value) {
			return &cloudswitch.ValidationError{Field: f.field, Value: f.value, Allowed: slices.Clone(f.known),
				Reason: fmt.Sprintf("does not exist on %s", p.name)}
		}
	}
	return nil
}

// Name returns the provider's name.
func (p *Provider) Name() string { return p.name }

// SetLatency sets the latency of every call from now on.
func (p *Provider) SetLatency(d time.Duration) {
	p.mu.Lock()
	p.latency = d
	p.mu.Unlock()
}

// SetPageSize sets how many VMs one page of Instances holds from now on.
func (p *Provider) SetPageSize(n int) {
	if n <= 0 {
		return
	}
	p.mu.Lock()
	p.pageSize = n
	p.mu.Unlock()
}

// SetListLag makes VMs created from now on invisible to Instances for d, as
// clouds list new VMs late.
func (p *Provider) SetListLag(d time.Duration) {
	p.mu.Lock()
	p.listDelay = d
	p.mu.Unlock()
}

// Inject makes the next times calls of op suffer f, after any faults already
// queued for op.
func (p *Provider) Inject(op Op, times int, f Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for range times {
		p.queued[op] = append(p.queued[op], f)
	}
}

// FailNext makes the next times calls of op fail with err, without effect.
func (p *Provider) FailNext(op Op, times int, err error) {
	p.Inject(op, times, Fault{Err: err})
}

// LoseResponse makes the next times calls of op take effect and then fail
// with err, as when the cloud accepted a call whose response was lost.
func (p *Provider) LoseResponse(op Op, times int, err error) {
	p.Inject(op, times, Fault{Err: err, AfterEffect: true})
}

// SetFaultFunc sets a function consulted for every call that has no queued
// fault (nil: none). It sees the call before it happens (Seq, Op and what
// the request names) and returns its fault. It is called without the
// provider's lock held and must be safe for concurrent use.
func (p *Provider) SetFaultFunc(f func(Call) Fault) {
	p.mu.Lock()
	p.faultFunc = f
	p.mu.Unlock()
}

// ClearFaults drops every queued fault and the fault function.
func (p *Provider) ClearFaults() {
	p.mu.Lock()
	clear(p.queued)
	p.faultFunc = nil
	p.mu.Unlock()
}

// Calls returns the calls received so far, in order.
func (p *Provider) Calls() []Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.calls)
}

// ResetCalls empties the call log, so Calls and CallCount count from now
// on; the Seq of later calls keeps counting from where it was.
func (p *Provider) ResetCalls() {
	p.mu.Lock()
	p.calls = nil
	p.mu.Unlock()
}

// CallCount returns how many calls of op were received, failed ones
// included ("" for every operation). It counts the call log: a provider
// made WithoutCallLog counts none.
func (p *Provider) CallCount(op Op) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, c := range p.calls {
		if op == "" || c.Op == op {
			n++
		}
	}
	return n
}

// Live returns every VM that exists, whatever its owner and however recently
// it was created, in id order.
func (p *Provider) Live() []cloudswitch.Instance {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []cloudswitch.Instance
	for _, id := range p.ids {
		if v := p.vms[id]; !v.gone {
			out = append(out, v.inst)
		}
	}
	return out
}

// Exists reports whether the VM with this id exists.
func (p *Provider) Exists(id string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	v, ok := p.vms[id]
	return ok && !v.gone
}

// Add creates a VM directly, as someone outside cloudswitch would (another
// owner, a user in the console), and returns it. An empty owner gives a VM
// without ownership tags, which Instances never lists.
func (p *Provider) Add(owner, workspaceID string, c cloudswitch.Compute) cloudswitch.Instance {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.create(owner, "", workspaceID, "", c, time.Time{})
}

// AddForInstallation is Add for a VM that also carries an installation tag,
// as the VMs a Switcher creates on an InstallationStore do.
func (p *Provider) AddForInstallation(owner, installation, workspaceID string, c cloudswitch.Compute) cloudswitch.Instance {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.create(owner, installation, workspaceID, "", c, time.Time{})
}

// Provision creates a VM for req, or returns the one created for req.Token.
// A token whose VM was destroyed cannot create another
// (cloudswitch.ErrTokenSpent): a token names one VM for good.
// A token reused with another workspace, owner, installation or compute is
// refused too. Every refusal matches cloudswitch.ErrRefused.
func (p *Provider) Provision(ctx context.Context, req cloudswitch.ProvisionRequest) (cloudswitch.Instance, error) {
	call := Call{Op: OpProvision, WorkspaceID: req.WorkspaceID, Token: req.Token}
	var inst cloudswitch.Instance
	err := p.do(ctx, &call, func() error {
		if err := req.Check(p.name); err != nil {
			return fmt.Errorf("memprovider: %w", err)
		}
		if err := p.unknown(req.Compute); err != nil {
			return cloudswitch.Refused(fmt.Errorf("memprovider: provision: %w", err))
		}
		if id, ok := p.byToken[req.Token]; ok {
			v := p.vms[id]
			if v.owner != req.Owner || v.inst.WorkspaceID != req.WorkspaceID || v.inst.Installation != req.Installation || v.compute != req.Compute {
				return cloudswitch.Refused(errors.New("memprovider: provision: token reused with different parameters (idempotent parameter mismatch)"))
			}
			if v.gone {
				return fmt.Errorf("memprovider: provision: the VM created with this token (%s) was destroyed: %w", id, cloudswitch.ErrTokenSpent)
			}
			inst = v.inst
			call.InstanceID = id
			return nil
		}
		inst = p.create(req.Owner, req.Installation, req.WorkspaceID, req.Token, req.Compute, p.now().Add(p.listDelay))
		call.InstanceID = inst.ID
		call.Effect = true
		return nil
	})
	if err != nil {
		return cloudswitch.Instance{}, err
	}
	return inst, nil
}

// create adds a VM; p.mu is held.
func (p *Provider) create(owner, installation, workspaceID, token string, c cloudswitch.Compute, visibleAt time.Time) cloudswitch.Instance {
	p.seq++
	id := fmt.Sprintf("%s-%08d", p.name, p.seq)
	region := c.Region
	if region == "" {
		region = p.name + "-1"
	}
	c.Provider = p.name
	inst := cloudswitch.Instance{Provider: p.name, ID: id, Region: region, WorkspaceID: workspaceID, Token: token,
		Installation: installation, InstanceType: c.InstanceType, Image: c.Image, CreatedAt: p.now()}
	p.vms[id] = &vm{inst: inst, owner: owner, compute: c, visibleAt: visibleAt}
	p.ids = append(p.ids, id) // sequential ids keep p.ids sorted
	if token != "" {
		p.byToken[token] = id
	}
	return inst
}

// Deprovision destroys the VM. A VM that is gone, or never existed, yields an
// error matching cloudswitch.ErrInstanceNotFound. A VM whose tags name
// another workspace or installation than inst does (when inst names one) is
// left alone: the error matches cloudswitch.ErrNotOurs.
func (p *Provider) Deprovision(ctx context.Context, inst cloudswitch.Instance) error {
	call := Call{Op: OpDeprovision, InstanceID: inst.ID, WorkspaceID: inst.WorkspaceID}
	return p.do(ctx, &call, func() error {
		v, ok := p.vms[inst.ID]
		if !ok || v.gone {
			return fmt.Errorf("memprovider: deprovision %s: %w", inst.ID, cloudswitch.ErrInstanceNotFound)
		}
		if err := v.fence(inst); err != nil {
			return fmt.Errorf("memprovider: deprovision %s: %w", inst.ID, err)
		}
		v.gone = true
		call.Effect = true
		return nil
	})
}

// Preflight reports whether Provision would create the VM req describes:
// nil, or a *cloudswitch.ValidationError naming what the catalog lacks. It
// creates nothing.
func (p *Provider) Preflight(ctx context.Context, req cloudswitch.ProvisionRequest) error {
	call := Call{Op: OpPreflight, WorkspaceID: req.WorkspaceID, Token: req.Token}
	return p.do(ctx, &call, func() error {
		if req.Compute.Provider != p.name {
			return &cloudswitch.ValidationError{Field: "provider", Value: req.Compute.Provider, Allowed: []string{p.name}}
		}
		return p.unknown(req.Compute)
	})
}

// Resize changes the VM's instance type in place, keeping its id. Resizing
// to the type the VM has is success; a VM that is gone yields an error
// matching cloudswitch.ErrInstanceNotFound; one tagged for another workspace
// or installation, cloudswitch.ErrNotOurs; a type the catalog lacks is
// refused.
func (p *Provider) Resize(ctx context.Context, inst cloudswitch.Instance, instanceType string) (cloudswitch.Instance, error) {
	call := Call{Op: OpResize, InstanceID: inst.ID, WorkspaceID: inst.WorkspaceID}
	var out cloudswitch.Instance
	err := p.do(ctx, &call, func() error {
		v, ok := p.vms[inst.ID]
		switch {
		case !ok || v.gone:
			return fmt.Errorf("memprovider: resize %s: %w", inst.ID, cloudswitch.ErrInstanceNotFound)
		}
		if err := v.fence(inst); err != nil {
			return fmt.Errorf("memprovider: resize %s: %w", inst.ID, err)
		}
		c := v.compute
		c.InstanceType = instanceType
		if err := p.unknown(c); err != nil {
			return cloudswitch.Refused(fmt.Errorf("memprovider: resize %s: %w", inst.ID, err))
		}
		if v.compute.InstanceType != instanceType {
			call.Effect = true
		}
		v.compute.InstanceType = instanceType
		v.inst.InstanceType = instanceType
		out = v.inst
		return nil
	})
	return out, err
}

// Instances yields the live VMs tagged with owner, in id order, one page per
// call; VMs created within the list delay are not yet listed.
func (p *Provider) Instances(ctx context.Context, owner string) iter.Seq2[cloudswitch.Instance, error] {
	return func(yield func(cloudswitch.Instance, error) bool) {
		after := ""
		for {
			var page []cloudswitch.Instance
			more := false
			call := Call{Op: OpList}
			err := p.do(ctx, &call, func() error {
				page, more = p.page(owner, after)
				return nil
			})
			if err != nil {
				yield(cloudswitch.Instance{}, err)
				return
			}
			for _, inst := range page {
				if !yield(inst, nil) {
					return
				}
			}
			if !more {
				return
			}
			after = page[len(page)-1].ID
		}
	}
}

// page returns up to pageSize listable VMs of owner with ids after after;
// p.mu is held.
func (p *Provider) page(owner, after string) ([]cloudswitch.Instance, bool) {
	now := p.now()
	i := sort.SearchStrings(p.ids, after)
	if i < len(p.ids) && p.ids[i] == after {
		i++
	}
	var page []cloudswitch.Instance
	for ; i < len(p.ids); i++ {
		v := p.vms[p.ids[i]]
		if v.gone || v.owner != owner || owner == "" || now.Before(v.visibleAt) {
			continue
		}
		if len(page) == p.pageSize {
			return page, true
		}
		page = append(page, v.inst)
	}
	return page, false
}

// do runs one call: its fault, its latency, its effect, its log entry.
func (p *Provider) do(ctx context.Context, call *Call, effect func() error) error {
	p.mu.Lock()
	p.callSeq++
	call.Seq = p.callSeq
	f, queued := p.popFault(call.Op)
	fn := p.faultFunc
	latency := p.latency
	p.mu.Unlock()
	if !queued && fn != nil {
		f = fn(*call)
	}
	latency += f.Latency

	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-ctx.Done():
			t.Stop()
			return p.log(call, fmt.Errorf("memprovider: %s: %w", call.Op, ctx.Err()))
		case <-t.C:
		}
	}
	if err := ctx.Err(); err != nil {
		return p.log(call, fmt.Errorf("memprovider: %s: %w", call.Op, err))
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	var err error
	switch {
	case f.Err != nil && !f.AfterEffect:
		err = f.Err
	case f.Err != nil:
		if e := effect(); e != nil {
			err = e
		} else {
			err = f.Err
		}
	default:
		err = effect()
	}
	call.Err = err
	if p.record {
		p.calls = append(p.calls, *call)
	}
	return err
}

func (p *Provider) log(call *Call, err error) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	call.Err = err
	if p.record {
		p.calls = append(p.calls, *call)
	}
	return err
}

// popFault pops the next queued fault of op; p.mu is held.
func (p *Provider) popFault(op Op) (Fault, bool) {
	q := p.queued[op]
	if len(q) == 0 {
		return Fault{}, false
	}
	p.queued[op] = q[1:]
	return q[0], true
}
