package gcp

import (
	"errors"
	"fmt"
	"path"
	"time"

	"cloud.google.com/go/compute/apiv1/computepb"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/ownership"
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
// Compute Engine does not say what an instance's boot disk was created from. It fails with
// an *unreadableField when a label cannot be decoded or the creation time
// cannot be read, since a caller deciding whether the VM is an orphan needs
// both.
func instanceOf(i *computepb.Instance) (cloudswitch.Instance, error) {
	inst := cloudswitch.Instance{Provider: cloudswitch.GCP, ID: i.GetName(), Region: path.Base(i.GetZone())}
	labels, err := ownership.DecodeLabels(i.GetLabels())
	if le := (*ownership.LabelError)(nil); errors.As(err, &le) {
		return cloudswitch.Instance{}, &unreadableField{instance: inst.ID, zone: inst.Region, field: "label " + le.Key, label: true, err: le.Err}
	}
	inst.WorkspaceID, inst.Token, inst.Installation = labels.Workspace, labels.Token, labels.Installation
	if mt := i.GetMachineType(); mt != "" {
		inst.InstanceType = path.Base(mt)
	}
	created, err := time.Parse(time.RFC3339Nano, i.GetCreationTimestamp())
	if err != nil {
		return cloudswitch.Instance{}, &unreadableField{instance: inst.ID, zone: inst.Region, field: "creationTimestamp", err: err}
	}
	inst.CreatedAt = created
	return inst, nil
}

// unreadableField is the error of instanceOf: field of the instance (a
// label, or the creation time) cannot be read. Its message carries the
// field's value (in err); field alone names it without the value. label
// says the field is an ownership label.
type unreadableField struct {
	instance, zone, field string
	label                 bool
	err                   error
}

func (e *unreadableField) Error() string {
	return fmt.Sprintf("instance %s in %s: %s: %v", e.instance, e.zone, e.field, e.err)
}

func (e *unreadableField) Unwrap() error { return e.err }
