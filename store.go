package cloudswitch

import (
	"context"
	"iter"
)

// Compute describes the machine a workspace runs on: which cloud, which instance
// type, where, from which image.
//
// An empty Provider in a stored record means [AWS], for records written before
// providers existed (see [NormalizeProvider]); an empty Provider in a [Request]
// means "keep the current provider". Region is a region, zone or location in
// the provider's terms (an AWS region, a GCP zone, a Hetzner location). Region
// and Image may be empty, in which case the provider's driver chooses its
// defaults.
type Compute struct {
	Provider     string `json:"provider,omitempty"`
	InstanceType string `json:"instance_type,omitempty"`
	Region       string `json:"region,omitempty"`
	Image        string `json:"image,omitempty"`
}

// Workspace is one record of the Store: a workspace, the compute it should run
// on, the VM it runs on now, and the journal of a switch in flight.
//
// Every VM cloudswitch creates is either the Instance of its workspace or
// held by the workspace's Pending intent; that is the invariant the Switcher,
// Resume and the Reconciler maintain together.
type Workspace struct {
	ID      string
	Compute Compute
	// Instance is the VM the workspace runs on; nil when it has none.
	Instance *Instance
	// Pending is the journal of a switch in flight; nil when none is.
	Pending *Intent
	// Version is changed by the Store on every successful Update. It is the
	// precondition of compare-and-swap writes (see Store.Update), and never
	// repeats for a workspace id: a workspace deleted and created again with
	// the same id never takes a version its predecessor had.
	Version int64
}

// Clone returns a deep copy of w: mutating the copy never changes w.
func (w Workspace) Clone() Workspace {
	c := w
	if w.Instance != nil {
		inst := *w.Instance
		c.Instance = &inst
	}
	if w.Pending != nil {
		c.Pending = w.Pending.Clone()
	}
	return c
}

// Store persists workspaces. Implementations must make Update a true
// compare-and-swap on Version, across every process that shares the store:
// the switch protocol's safety rests on it. store/storetest checks an
// implementation against this contract.
//
// Versions never repeat for an id, across deletion and re-creation: a
// compare-and-swap prepared against a deleted workspace must fail on its
// successor. A Store may draw versions from one counter for all its records
// (as memstore and sqlstore do), so a new version is any value the id never
// had, not necessarily the old one plus one.
//
// Errors: ErrNotFound only when the workspace does not exist; ErrConflict only
// when Update's precondition failed and nothing was written. Any other error
// means the operation could not be carried out or its outcome is unknown, and
// must not match either sentinel.
type Store interface {
	// Get returns the workspace with the given id, or an error matching
	// ErrNotFound when there is none.
	Get(ctx context.Context, id string) (Workspace, error)

	// Update writes w only if the stored Version equals w.Version, and returns
	// what was stored with its new Version, one the id never had before. If the versions differ it returns
	// an error matching ErrConflict and writes nothing; if the workspace does
	// not exist, an error matching ErrNotFound.
	Update(ctx context.Context, w Workspace) (Workspace, error)

	// Pending yields every workspace whose Pending intent is non-nil. It may
	// yield workspaces written after it started, or miss some; callers that
	// need completeness call it again. An error about one workspace (a record
	// that cannot be decoded) is yielded and the sequence goes on, so that
	// one bad record hides no other; any other error ends the sequence.
	// Callers record errors and keep ranging.
	Pending(ctx context.Context) iter.Seq2[Workspace, error]
}

// InstallationStore is a Store that knows the identity of its installation:
// an id minted once for the store (at creation, or by its first migration)
// and never changed. Switchers tag every VM they create with it, and a
// Reconciler judges only the VMs of its own installation, so installations
// that share a cloud account and an owner name never touch each other's VMs.
type InstallationStore interface {
	Store
	// InstallationID returns the installation's id: 1 to 63 lowercase
	// letters, digits, '-' or '_', the same on every call and in every
	// process that shares the store.
	InstallationID(ctx context.Context) (string, error)
}

// BatchGetter is a Store that reads many workspaces in one call. A
// Reconciler whose store implements it reads the workspaces of a page of
// listed VMs at once instead of one Get each.
type BatchGetter interface {
	Store
	// GetBatch returns one Lookup per id, in the order of ids. A Lookup's
	// Err matches ErrNotFound only when the store is sure the workspace does
	// not exist, and is any other error when that one workspace could not be
	// read (a record that does not decode). A non-nil error means no
	// workspace was read.
	GetBatch(ctx context.Context, ids []string) ([]Lookup, error)
}

// Lookup is one workspace read by BatchGetter.GetBatch: the workspace, or
// why it could not be had.
type Lookup struct {
	ID        string
	Workspace Workspace
	Err       error
}

// Deleter is a Store that can delete a workspace with compare-and-swap, as
// Switcher.Decommission needs.
type Deleter interface {
	Store
	// DeleteIf deletes the workspace w.ID only if its stored Version equals
	// w.Version. If the versions differ it returns an error matching
	// ErrConflict and deletes nothing; if the workspace does not exist, an
	// error matching ErrNotFound.
	DeleteIf(ctx context.Context, w Workspace) error
}
