package switchtest

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sync"

	"github.com/cloudswitch/cloudswitch"
)

// errCrashed is what a dead process's calls return. It is neither transient
// nor a store sentinel: a dead process learns nothing from it, and does
// nothing after it.
var errCrashed = errors.New("switchtest: the process crashed")

// errLost is a response lost after the call took effect.
var errLost = fmt.Errorf("switchtest: connection reset after the call was accepted: %w", cloudswitch.ErrTransient)

// errUnmarked is an error a driver did not classify, returned after the call
// took effect: neither transient nor a refusal.
var errUnmarked = errors.New("switchtest: unexpected response from the cloud")

// errStoreLost is a store write whose response was lost.
var errStoreLost = errors.New("switchtest: database connection lost mid-statement")

// fault is what happens to one operation of a process.
type fault struct {
	before error // fail without effect
	after  error // take effect, then fail
	crash  bool  // take effect, then the process dies
}

// String marks an operation's fault in a process's trail.
func (f fault) String() string {
	switch {
	case f.crash:
		return "!crash"
	case f.before != nil:
		return "!fail(" + f.before.Error() + ")"
	case f.after != nil:
		return "!lost"
	}
	return ""
}

// process stands for one OS process using the Store and the Providers: it
// counts their operations, can die at a chosen one, and can suffer faults.
// Once dead, every further operation fails without effect.
type process struct {
	mu      sync.Mutex
	ops     int
	crashAt int // 1-based; 0: never
	dead    bool
	decide  func(op string) fault
	trail   []string
}

// do runs one operation under the process's fate.
func (p *process) do(op string, call func() error) error {
	p.mu.Lock()
	if p.dead {
		p.mu.Unlock()
		return errCrashed
	}
	p.ops++
	n := p.ops
	var f fault
	if p.decide != nil {
		f = p.decide(op)
	}
	if p.crashAt == n {
		f.crash = true
	}
	p.trail = append(p.trail, op+f.String())
	p.mu.Unlock()

	if f.before != nil {
		return f.before
	}
	err := call()
	if f.crash {
		p.mu.Lock()
		p.dead = true
		p.mu.Unlock()
		return errCrashed
	}
	if err == nil && f.after != nil {
		return f.after
	}
	return err
}

func (p *process) steps() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.trail...)
}

// store is a Store seen through a process.
type store struct {
	inner cloudswitch.Store
	p     *process
}

func (s store) Get(ctx context.Context, id string) (cloudswitch.Workspace, error) {
	var w cloudswitch.Workspace
	err := s.p.do("store.get", func() error {
		var err error
		w, err = s.inner.Get(ctx, id)
		return err
	})
	return w, err
}

// InstallationID forwards the inner store's installation id, so that the
// VMs a process creates are tagged as the Reconciler expects.
func (s store) InstallationID(ctx context.Context) (string, error) {
	is, ok := s.inner.(cloudswitch.InstallationStore)
	if !ok {
		return "", nil
	}
	var id string
	err := s.p.do("store.installation", func() error {
		var err error
		id, err = is.InstallationID(ctx)
		return err
	})
	return id, err
}

func (s store) Update(ctx context.Context, w cloudswitch.Workspace) (cloudswitch.Workspace, error) {
	var out cloudswitch.Workspace
	err := s.p.do("store.update", func() error {
		var err error
		out, err = s.inner.Update(ctx, w)
		return err
	})
	return out, err
}

func (s store) Pending(ctx context.Context) iter.Seq2[cloudswitch.Workspace, error] {
	return func(yield func(cloudswitch.Workspace, error) bool) {
		var rows []cloudswitch.Workspace
		err := s.p.do("store.pending", func() error {
			for w, err := range s.inner.Pending(ctx) {
				if err != nil {
					return err
				}
				rows = append(rows, w)
			}
			return nil
		})
		if err != nil {
			yield(cloudswitch.Workspace{}, err)
			return
		}
		for _, w := range rows {
			if !yield(w, nil) {
				return
			}
		}
	}
}

// provider is a Provider seen through a process.
type provider struct {
	name  string
	inner cloudswitch.Provider
	p     *process
}

func (pr provider) Provision(ctx context.Context, req cloudswitch.ProvisionRequest) (cloudswitch.Instance, error) {
	var inst cloudswitch.Instance
	err := pr.p.do(pr.name+".provision", func() error {
		var err error
		inst, err = pr.inner.Provision(ctx, req)
		return err
	})
	if err != nil {
		return cloudswitch.Instance{}, err
	}
	return inst, nil
}

func (pr provider) Deprovision(ctx context.Context, inst cloudswitch.Instance) error {
	return pr.p.do(pr.name+".deprovision", func() error { return pr.inner.Deprovision(ctx, inst) })
}

func (pr provider) Instances(ctx context.Context, owner string) iter.Seq2[cloudswitch.Instance, error] {
	return func(yield func(cloudswitch.Instance, error) bool) {
		var list []cloudswitch.Instance
		err := pr.p.do(pr.name+".list", func() error {
			for inst, err := range pr.inner.Instances(ctx, owner) {
				if err != nil {
					return err
				}
				list = append(list, inst)
			}
			return nil
		})
		if err != nil {
			yield(cloudswitch.Instance{}, err)
			return
		}
		for _, inst := range list {
			if !yield(inst, nil) {
				return
			}
		}
	}
}
