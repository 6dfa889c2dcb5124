package gcp

import (
	"fmt"
	"path"
	"time"

	"cloud.google.com/go/compute/apiv1/computepb"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/internal/ownership"
)

// The instance statuses of the Compute Engine v1 API (Instance.status) and
// what each means to the driver. See the package documentation's table.
const (
	statusProvisioning   = "PROVISIONING"
	statusStaging        = "STAGING"
	statusRunning        = "RUNNING"
	statusRepairing      = "REPAIRING"
	statusPending        = "PENDING"
	statusPendingStop    = "PENDING_STOP"
	statusSuspending     = "SUSPENDING"
	statusStopping       = "STOPPING"
	statusDeprovisioning = "DEPROVISIONING"
	statusTerminated     = "TERMINATED"
	statusStopped        = "STOPPED"
	statusSuspended      = "SUSPENDED"
)

// live reports whether an instance of this status counts as a live VM,
// one Instances yields: every status but those of an instance being torn
// down. STOPPING (Compute Engine shows an instance being deleted so, and
// one being stopped becomes TERMINATED moments later) and DEPROVISIONING
// (halted, its network, addresses and disks being released) are not;
// everything else is, TERMINATED, STOPPED and SUSPENDED included, because
// such an instance still exists and bills for its disks (and reserved
// addresses) — a stopped orphan must be found and deleted like a running
// one. A status the driver does not know counts as live: an instance that
// exists is never hidden from a reconciler.
func live(status string) bool { return status != statusStopping && status != statusDeprovisioning }

// health is what Provision makes of the status of the token's instance.
type health int

const (
	// healthy: up or on its way up — PROVISIONING, STAGING, RUNNING, and
	// REPAIRING (Compute Engine repairs it after a host error and brings it
	// back itself). Provision returns it.
	healthy health = iota
	// settling: between two states — PENDING (waiting for capacity),
	// PENDING_STOP, STOPPING, SUSPENDING, DEPROVISIONING (being stopped,
	// suspended or deleted). Provision answers a transient error: call again
	// once it has settled (a deleted instance then answers 404).
	settling
	// down: TERMINATED, STOPPED, SUSPENDED, or a status the driver does not
	// know. The instance exists but is not running; Provision never reports
	// it provisioned, and answers a permanent error that is not a refusal
	// (the insert did happen).
	down
)

// healthOf classifies an instance status for Provision.
func healthOf(status string) health {
	switch status {
	case statusProvisioning, statusStaging, statusRunning, statusRepairing:
		return healthy
	case statusPending, statusPendingStop, statusStopping, statusSuspending, statusDeprovisioning:
		return settling
	}
	return down
}

// instanceOf reads a Compute Engine instance as a cloudswitch.Instance: the
// name is its ID, the zone its Region, the machine type's name its
// InstanceType, and the workspace, token and installation come from its
// ownership labels (empty when a label is missing). The image is not known:
// Compute Engine does not say what an instance's boot disk was created from. It fails when
// a label cannot be decoded or the creation time cannot be read, since a
// caller deciding whether the VM is an orphan needs both.
func instanceOf(i *computepb.Instance) (cloudswitch.Instance, error) {
	inst := cloudswitch.Instance{Provider: cloudswitch.GCP, ID: i.GetName(), Region: path.Base(i.GetZone())}
	labels := i.GetLabels()
	var err error
	if v, ok := labels[ownership.WorkspaceKey]; ok {
		if inst.WorkspaceID, err = ownership.DecodeLabel(v); err != nil {
			return cloudswitch.Instance{}, fmt.Errorf("instance %s in %s: label %s: %w", inst.ID, inst.Region, ownership.WorkspaceKey, err)
		}
	}
	if v, ok := labels[ownership.TokenKey]; ok {
		if inst.Token, err = ownership.DecodeLabel(v); err != nil {
			return cloudswitch.Instance{}, fmt.Errorf("instance %s in %s: label %s: %w", inst.ID, inst.Region, ownership.TokenKey, err)
		}
	}
	if v, ok := labels[ownership.InstallationKey]; ok {
		if inst.Installation, err = ownership.DecodeLabel(v); err != nil {
			return cloudswitch.Instance{}, fmt.Errorf("instance %s in %s: label %s: %w", inst.ID, inst.Region, ownership.InstallationKey, err)
		}
	}
	if mt := i.GetMachineType(); mt != "" {
		inst.InstanceType = path.Base(mt)
	}
	if inst.CreatedAt, err = time.Parse(time.RFC3339Nano, i.GetCreationTimestamp()); err != nil {
		return cloudswitch.Instance{}, fmt.Errorf("instance %s in %s: creationTimestamp %q: %w", inst.ID, inst.Region, i.GetCreationTimestamp(), err)
	}
	return inst, nil
}
