package fleet

import (
	"iter"
	"time"

	"github.com/cloudswitch/cloudswitch"
)

// Action is what applying a Step does to its workspace.
type Action string

// The actions of a plan, as cloudswitch.Switcher.Switch would carry them out.
const (
	// ActionNone: the workspace already has the target compute; nothing is
	// written or called.
	ActionNone Action = "none"
	// ActionEdit: a record-only edit. The compute is written (one
	// compare-and-swap); no VM is destroyed or created.
	ActionEdit Action = "edit"
	// ActionResize: the VM's instance type changes in place, its driver
	// being a cloudswitch.Resizer; nothing is destroyed.
	ActionResize Action = "resize"
	// ActionProvision: the workspace stays on its provider and has no VM;
	// one is created.
	ActionProvision Action = "provision"
	// ActionRecreate: the workspace moves to another provider, or to
	// another region or image (or, on a driver that cannot resize, another
	// instance type) on its own. Its VM, if any, is destroyed and a new one
	// created (when provisioning is on).
	ActionRecreate Action = "recreate"
	// ActionRefuse: the switch would be refused (Reason says why); applying
	// the plan skips it.
	ActionRefuse Action = "refuse"
)

// Acts reports whether applying a step of this action calls the Switcher.
func (a Action) Acts() bool {
	switch a {
	case ActionEdit, ActionResize, ActionProvision, ActionRecreate:
		return true
	}
	return false
}

// Step is the plan of one workspace.
type Step struct {
	// WorkspaceID is the workspace, and Version its version when planned:
	// applying the step refuses a workspace whose version changed since.
	WorkspaceID string `json:"workspace_id"`
	Version     int64  `json:"version"`
	// Action is what applying the step does.
	Action Action `json:"action"`
	// From is the workspace's compute when planned, its provider normalised
	// (an empty stored provider is AWS); To is the compute it would have,
	// with the defaults a provider change applies.
	From cloudswitch.Compute `json:"from"`
	To   cloudswitch.Compute `json:"to"`
	// Destroy is the VM the switch would destroy (nil: none).
	Destroy *cloudswitch.Instance `json:"destroy,omitempty"`
	// Create is the VM the switch would create, on To.Provider (nil: none).
	Create *cloudswitch.Compute `json:"create,omitempty"`
	// Resize is the VM whose instance type would change in place to
	// To.InstanceType (nil: none).
	Resize *cloudswitch.Instance `json:"resize,omitempty"`
	// Reason says why a step is refused, or why it does nothing.
	Reason string `json:"reason,omitempty"`
	// Warning is what planning could not establish, such as a preflight
	// check the cloud could not answer for now; the step is still planned.
	Warning string `json:"warning,omitempty"`
}

// Provider is the provider whose API the step's creation, if any, uses: the
// target provider.
func (s Step) Provider() string { return s.To.Provider }

// Header describes a plan: the request it applies to every workspace, when
// and for which selection it was made.
type Header struct {
	// Format names the plan file format; ReadPlan refuses any other.
	Format string `json:"format"`
	// Request is the switch every step applies. Its IfVersion is unused:
	// each step carries its workspace's version.
	Request cloudswitch.Request `json:"request"`
	// Selection describes which workspaces were selected, for people.
	Selection string `json:"selection,omitempty"`
	// CreatedAt is when planning started.
	CreatedAt time.Time `json:"created_at"`
}

// PlanFormat is the Format of the plans this package writes.
const PlanFormat = "cloudswitch-plan/v1"

// Plan is a plan held in memory: its header and every step, in the order
// planned. Large fleets stream plans instead (Planner.Steps, WritePlan,
// ReadPlan); Apply takes either.
type Plan struct {
	Header Header
	Steps  []Step
}

// All yields the plan's steps, for Apply.
func (p *Plan) All() iter.Seq2[Step, error] {
	return func(yield func(Step, error) bool) {
		for _, s := range p.Steps {
			if !yield(s, nil) {
				return
			}
		}
	}
}

// Counts tallies the steps of a plan by action and provider.
type Counts struct {
	// Steps counts every step.
	Steps int `json:"steps"`
	// ByAction counts the steps of each action.
	ByAction map[Action]int `json:"by_action"`
	// Destroy and Create count the VMs the plan would destroy and create,
	// per provider.
	Destroy map[string]int `json:"destroy"`
	Create  map[string]int `json:"create"`
}

// Add counts s.
func (c *Counts) Add(s Step) {
	if c.ByAction == nil {
		c.ByAction = make(map[Action]int)
		c.Destroy = make(map[string]int)
		c.Create = make(map[string]int)
	}
	c.Steps++
	c.ByAction[s.Action]++
	if s.Destroy != nil {
		c.Destroy[s.Destroy.Provider]++
	}
	if s.Create != nil {
		c.Create[s.Create.Provider]++
	}
}

// Counts tallies the plan's steps.
func (p *Plan) Counts() Counts {
	var c Counts
	for _, s := range p.Steps {
		c.Add(s)
	}
	return c
}
