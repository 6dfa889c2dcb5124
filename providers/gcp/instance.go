package gcp

import (
	"fmt"
	"path"
	"time"

	"cloud.google.com/go/compute/apiv1/computepb"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/internal/ownership"
)

// statusStopping is the status of an instance being stopped or deleted.
const statusStopping = "STOPPING"

// live reports whether an instance of this status counts as a live VM.
//
// Every status but STOPPING does: PROVISIONING, STAGING and RUNNING, and
// also TERMINATED (stopped), SUSPENDED and the like, because such an
// instance still exists and still bills for its disks (and reserved
// addresses) — a stopped orphan must be found and deleted like a running
// one. STOPPING does not: Compute Engine shows an instance being deleted as
// STOPPING until it disappears, and one being stopped becomes TERMINATED
// (and listed again) moments later.
func live(status string) bool { return status != statusStopping }

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
