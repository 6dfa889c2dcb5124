package cloudswitch

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"
)

// Phase is the step a switch in flight must take next. It is what the journal
// records, so that Resume can take that step after a crash.
type Phase string

const (
	// PhaseDeprovision: the old VM is being destroyed. The record still
	// holds the old compute; going on means running the BeforeDeprovision
	// hook and the deprovision again (both idempotent), then committing.
	PhaseDeprovision Phase = "deprovision"

	// PhaseProvision: the new VM is being created with the intent's Token.
	// Going on means provisioning again with the same Token, which yields
	// the VM an earlier attempt created, if any.
	PhaseProvision Phase = "provision"

	// PhaseResize: the VM's instance type is being changed in place.
	// Going on means resizing again (idempotent), then recording the new
	// compute and the VM as it is now.
	PhaseResize Phase = "resize"

	// PhaseDecommission: the workspace is being deleted. Going on means
	// running the BeforeDeprovision hook (unless it completed), destroying
	// Old, then deleting the record.
	PhaseDecommission Phase = "decommission"

	// PhaseRollback: the switch was given up after its new VM was created.
	// Going on means destroying that VM and clearing the intent; the record
	// keeps its old compute and VM.
	PhaseRollback Phase = "rollback"
)

func (p Phase) valid() bool {
	switch p {
	case PhaseDeprovision, PhaseProvision, PhaseRollback, PhaseResize, PhaseDecommission:
		return true
	}
	return false
}

// Intent is the journal of one switch, stored in its workspace's record
// (Workspace.Pending) before the switch calls any provider, and updated with a
// compare-and-swap write at each point of no return. While it is pending no
// other switch may start on the workspace; once its lease has expired, Resume
// (or the Reconciler) finishes it or undoes it.
//
// Stores persist an Intent as an opaque JSON document, so fields can be added
// without a schema change.
//
// What a Store may read: whether a workspace has an intent at all
// (Workspace.Pending is non-nil). That is all Store.Pending selects on, and
// all the stores of this module read: sqlstore indexes the rows whose
// pending column is not NULL. Get and GetBatch look workspaces up by id
// alone. A Store may also read these fields, to index or query pending
// switches; their JSON names are stable:
//
//   - ID ("id"): which switch it is.
//   - Phase ("phase"): the step it takes next.
//   - LeaseExpires ("lease_expires"): when another process may take it over.
//
// A Store interprets no other field.
//
// Who may write: no one but a Switcher (through Switch, Resume,
// Decommission or a Reconciler) writes any field. A Store returns what it
// was given, field for field, and never derives, fills or clears one. An
// operator who edits a journal by hand takes over the guarantees. A journal
// this version cannot act on is refused, never guessed at (Resume aborts at
// StageValidate).
type Intent struct {
	// ID identifies the switch. It is unique and never reused.
	ID string `json:"id"`
	// Strategy is the order of the switch's steps, fixed when it started.
	Strategy Strategy `json:"strategy"`
	// Phase is the step to take next.
	Phase Phase `json:"phase"`
	// From is the compute the workspace had when the switch started;
	// To is the compute it switches to, with defaults applied.
	From Compute `json:"from"`
	To   Compute `json:"to"`
	// Old is the VM the switch destroys (nil: the workspace had none).
	Old *Instance `json:"old,omitempty"`
	// New is the VM the switch created, once it is known.
	New *Instance `json:"new,omitempty"`
	// Provision says whether the switch creates a VM on the new provider.
	Provision bool `json:"provision"`
	// Token is the idempotency key of the new VM, derived from ID, and
	// Owner and Installation the ownership tags it is created with.
	Token        string `json:"token,omitempty"`
	Owner        string `json:"owner,omitempty"`
	Installation string `json:"installation,omitempty"`
	// Hook says the switch must run the BeforeDeprovision hook before it
	// destroys Old: the Switcher that started it had one. A Switcher
	// without the hook refuses to advance such a switch past that point
	// (ErrHookRequired). HookDone records that the hook completed, so that
	// a resumed switch does not run it again, against a VM that may already
	// be gone.
	Hook     bool `json:"hook,omitempty"`
	HookDone bool `json:"hook_done,omitempty"`
	// Committed is true once the record holds the new compute: the switch
	// can then only go forward.
	Committed bool `json:"committed,omitempty"`
	// Holder identifies the process working on the intent now; each claim
	// (the start of the switch, and each Resume) picks a fresh one.
	Holder string `json:"holder"`
	// LeaseExpires is when the holder's claim ends. Until then no one else
	// acts on the intent, and the holder itself stops acting by then.
	LeaseExpires time.Time `json:"lease_expires"`
	// StartedAt is when the switch started; Claims counts how often it was
	// claimed (1 for a switch that was never resumed).
	StartedAt time.Time `json:"started_at"`
	Claims    int       `json:"claims"`
	// LastError is the redacted cause of the last failure, if any, for
	// operators reading the record.
	LastError string `json:"last_error,omitempty"`
}

// Clone returns a deep copy of i (nil for nil).
func (i *Intent) Clone() *Intent {
	if i == nil {
		return nil
	}
	c := *i
	if i.Old != nil {
		old := *i.Old
		c.Old = &old
	}
	if i.New != nil {
		n := *i.New
		c.New = &n
	}
	return &c
}

// Expired reports whether the intent's lease has ended at now, so that
// another process may claim it.
func (i *Intent) Expired(now time.Time) bool {
	return !now.Before(i.LeaseExpires)
}

// check reports whether a stored intent is one this version of the library
// can act on; anything else is refused rather than guessed at.
func (i *Intent) check() error {
	switch {
	case i.ID == "":
		return fmt.Errorf("intent has no id")
	case i.Claims < 1:
		return fmt.Errorf("intent %s has %d claims; every stored intent was claimed at least once", i.ID, i.Claims)
	case i.HookDone && !i.Hook:
		return fmt.Errorf("intent %s records a hook run but requires none", i.ID)
	case !i.Phase.valid():
		return fmt.Errorf("intent %s has unknown phase %q", i.ID, i.Phase)
	case !i.Strategy.valid():
		return fmt.Errorf("intent %s has unknown strategy %q", i.ID, i.Strategy)
	case i.Provision && i.Token == "":
		return fmt.Errorf("intent %s provisions but has no token", i.ID)
	case i.Phase == PhaseRollback && i.Committed:
		return fmt.Errorf("intent %s is committed and cannot roll back", i.ID)
	case i.Phase == PhaseProvision && !i.Provision:
		return fmt.Errorf("intent %s is at phase provision but does not provision", i.ID)
	case i.Committed && i.Phase != PhaseProvision:
		return fmt.Errorf("intent %s is committed at phase %s; only provisioning remains after a commit", i.ID, i.Phase)
	case i.Phase == PhaseDeprovision && i.Old == nil:
		return fmt.Errorf("intent %s deprovisions but names no old instance", i.ID)
	case (i.Phase == PhaseResize || i.Phase == PhaseDecommission) && (i.Old == nil || i.Provision || i.New != nil):
		return fmt.Errorf("intent %s at phase %s must name the VM it acts on and create none", i.ID, i.Phase)
	case i.Phase == PhaseResize && i.Old.Provider != i.To.Provider:
		return fmt.Errorf("intent %s resizes a VM of provider %q into one of %q", i.ID, i.Old.Provider, i.To.Provider)
	case i.To.Provider == "":
		return fmt.Errorf("intent %s has no target provider", i.ID)
	case i.Old != nil && (i.Old.Provider == "" || i.Old.ID == ""):
		return fmt.Errorf("intent %s names an old instance without provider or id", i.ID)
	case i.New != nil && (i.New.Provider == "" || i.New.ID == ""):
		return fmt.Errorf("intent %s names a new instance without provider or id", i.ID)
	}
	return nil
}

// newID returns a fresh random identifier: 32 lowercase hex digits, which
// every driver accepts in names, labels and idempotency keys.
func newID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand, Go 1.24+)
	return hex.EncodeToString(b[:])
}
