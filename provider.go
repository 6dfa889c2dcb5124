package cloudswitch

import (
	"context"
	"fmt"
	"iter"
	"time"
)

// The providers cloudswitch ships drivers for. Provider names are lowercase;
// "AWS" is not "aws".
const (
	AWS     = "aws"
	GCP     = "gcp"
	Hetzner = "hetzner"
)

// Instance is one VM on one provider.
type Instance struct {
	// Provider is the name of the provider the VM runs on.
	Provider string `json:"provider"`
	// ID is the provider's identifier of the VM; opaque to everyone but its
	// driver.
	ID string `json:"id"`
	// Region is where the VM runs, in its provider's terms: an AWS region,
	// a GCP zone or a Hetzner location, for example.
	Region string `json:"region,omitempty"`
	// WorkspaceID is the workspace named by the VM's ownership tags.
	WorkspaceID string `json:"workspace_id,omitempty"`
	// Token is the idempotency key the VM was created with.
	Token string `json:"token,omitempty"`
	// Installation is the installation named by the VM's ownership tags
	// (see InstallationStore); empty for a VM created without one.
	Installation string `json:"installation,omitempty"`
	// InstanceType and Image are what the VM actually runs, as the driver
	// knows them (empty if unknown), so that a record never claims a
	// machine the VM is not.
	InstanceType string `json:"instance_type,omitempty"`
	Image        string `json:"image,omitempty"`
	// CreatedAt is when the provider created the VM (zero if unknown).
	CreatedAt time.Time `json:"created_at,omitzero"`
}

// ProvisionRequest asks a Provider for one VM.
type ProvisionRequest struct {
	// WorkspaceID is the workspace the VM belongs to; the driver records it in
	// the VM's ownership tags.
	WorkspaceID string
	// Compute is the machine to create. Its Provider is the driver's own;
	// an empty Region or Image selects the driver's default.
	Compute Compute
	// Token is the idempotency key: every request with the same Token yields
	// the same live VM, however often it is repeated and whatever became of
	// the earlier attempts' responses. The driver records it in the VM's
	// tags.
	Token string
	// Owner is the value of the ownership tag, which lets Provider.Instances
	// and the Reconciler find every VM this installation created.
	Owner string
	// Installation identifies the installation — the Store — that created
	// the VM (see InstallationStore); the driver records it in the VM's
	// tags when it is not empty. Reconcilers judge only the VMs of their own
	// installation, so installations sharing a cloud account and an owner
	// never touch each other's VMs.
	Installation string
}

// Check reports whether req is one a driver for provider can act on: a
// token, an owner and a workspace id, a Compute of that provider with an
// instance type. Drivers call it first and refuse what fails it
// (ErrRefused, since the cloud is never asked); it returns nil or an error
// naming the first missing field.
func (req ProvisionRequest) Check(provider string) error {
	switch {
	case req.Token == "":
		return Refused(fmt.Errorf("provision request: empty token"))
	case req.Owner == "":
		return Refused(fmt.Errorf("provision request: empty owner"))
	case req.WorkspaceID == "":
		return Refused(fmt.Errorf("provision request: empty workspace id"))
	case req.Compute.Provider != provider:
		return Refused(fmt.Errorf("provision request: a %q machine asked of provider %q", req.Compute.Provider, provider))
	case req.Compute.InstanceType == "":
		return Refused(fmt.Errorf("provision request: empty instance type"))
	}
	return nil
}

// Provider is a driver for one cloud. It is a small interface for
// implementers; the Switcher and the Reconciler add the retries, the journal
// and the ownership checks. providers/providertest checks an implementation
// against this contract.
//
// The contract is a driver's part of the guarantees listed in the package
// documentation. Creation is idempotent by token, every VM carries its
// ownership tags, destruction is fenced by them, a VM is "gone" only when
// the driver is sure, refusals and transient errors are marked, and no
// error carries a credential.
//
// Errors: a driver wraps an error the caller may retry (throttling, 5xx,
// timeouts, broken connections) so that it matches ErrTransient, and an
// instance the cloud does not know so that it matches ErrInstanceNotFound.
// Any other error is permanent: retrying it cannot help. An error the cloud
// returned before it acted (authorization, validation, quota, throttling) is
// a refusal and matches ErrRefused; every other error leaves the outcome of
// the call unknown, and the Switcher keeps the switch journaled rather than
// claim that nothing changed. A refusal speaks of the whole call: when the
// call sent more than one request (an SDK retry, an HTTP/2 request the
// client sent again), an earlier one may have acted, and no answer of the
// call is a refusal. An error met after the cloud accepted the call is
// never one either (see AfterEffect). Errors never carry credentials.
type Provider interface {
	// Provision creates the VM described by req, tagged with req.Owner,
	// req.Installation, req.WorkspaceID and req.Token, or returns the live
	// VM an earlier request with the same Token created: the same Token
	// never yields two live VMs. Once the token's VM is gone, a driver
	// refuses to create another (ErrTokenSpent). Past the cloud's
	// idempotency window, which no stateless driver can see, it may create
	// one instead; that one carries the same tags, so that the journal
	// holding the token, or the Reconciler, still finds it. A refusal
	// (ErrRefused) means no VM was created for the token by this call; any
	// other error leaves that unknown until Provision is called again with
	// it.
	Provision(ctx context.Context, req ProvisionRequest) (Instance, error)

	// Deprovision destroys inst. It returns nil once the VM is gone (billing
	// stopped). A VM that is already gone is success, reported either as
	// nil or as an error matching ErrInstanceNotFound. A driver returns that
	// error only when it is sure the VM does not exist, never for one it
	// merely cannot see yet. It destroys only a VM whose ownership tags
	// agree with inst. When inst.WorkspaceID (or inst.Installation) is set
	// and the VM's tags name another workspace (or installation), it
	// destroys nothing and returns an error matching ErrNotOurs. A VM
	// without such a tag (created outside cloudswitch, or before the tag
	// existed) is not fenced by it.
	Deprovision(ctx context.Context, inst Instance) error

	// Instances yields every live VM carrying owner's ownership tags, page by
	// page, with WorkspaceID and Token read from the tags. A non-nil error
	// ends the sequence: what was yielded before it is true, but the listing
	// is incomplete.
	Instances(ctx context.Context, owner string) iter.Seq2[Instance, error]
}

// Preflighter is a Provider that can tell, before anything is written or
// destroyed, whether it would create the VM req describes: the image, the
// instance type, the region and their combination exist, and the
// credentials may create it. The Switcher asks it before it claims a
// workspace on every path that creates a VM.
//
// Preflight returns nil when Provision would be accepted; a
// *ValidationError naming the field when the cloud says the request is not
// valid; an error matching ErrTransient when it could not find out for now;
// any other error when it cannot be asked. It creates nothing. What it
// accepts, Provision creates; what it refuses, Provision refuses.
type Preflighter interface {
	Provider
	Preflight(ctx context.Context, req ProvisionRequest) error
}

// Resizer is a Provider that can change a VM's instance type in place
// (stop, change the type, start), keeping its id, disks and addresses.
//
// Resize returns the VM as it is afterwards, with its new InstanceType. It is
// idempotent: resizing a VM that already has the type, or that is stopped
// half-way through an earlier resize, finishes the resize. Errors follow the
// Provider rules; a refusal (ErrRefused) leaves the VM as it was.
type Resizer interface {
	Provider
	Resize(ctx context.Context, inst Instance, instanceType string) (Instance, error)
}
