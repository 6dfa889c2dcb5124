package gcp

import (
	"context"
	"fmt"

	"cloud.google.com/go/compute/apiv1/computepb"
	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"

	"github.com/cloudswitch/cloudswitch"
)

// Deprovision deletes the instance inst names (inst.ID in zone inst.Region)
// and waits for the delete operation to finish; it returns nil once the
// instance is gone, and also when it was gone already (a 404 naming the
// instance, from the call or from the operation). The boot disk goes with
// it (Provision creates it with autoDelete).
//
// Each call sends a fresh random requestId, so that a delete whose
// operation failed can be tried again. It never guesses a zone: an
// Instance without a Region is refused (ErrInvalidRequest), since a delete
// in the wrong zone would answer 404 and look done. Errors after the delete
// was accepted are transient (or the context's); a failed delete operation
// is classified by its HTTP status like an API error.
func (d *Driver) Deprovision(ctx context.Context, inst cloudswitch.Instance) error {
	switch {
	case inst.Provider != "" && inst.Provider != cloudswitch.GCP:
		return invalidf("deprovision: the gcp driver was given a %q instance", inst.Provider)
	case !instanceNamePattern.MatchString(inst.ID):
		return invalidf("deprovision: %q is not an instance name", inst.ID)
	case inst.Region == "":
		return invalidf("deprovision: instance %s has no zone (Region); the driver never guesses one", inst.ID)
	case !zonePattern.MatchString(inst.Region):
		return invalidf("deprovision: %q is not a zone (like us-central1-a)", inst.Region)
	}
	zone, name := inst.Region, inst.ID
	target := "zones/" + zone + "/instances/" + name
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("gcp: deprovision %s: %w", target, err)
	}
	rid, err := uuid.NewRandom()
	if err != nil {
		return fmt.Errorf("gcp: deprovision %s: a requestId: %w", target, err)
	}
	log := d.cfg.log.With("zone", zone, "instance", name)
	op, err := d.instances.Delete(ctx, &computepb.DeleteInstanceRequest{
		Project: d.project, Zone: zone, Instance: name, RequestId: proto.String(rid.String()),
	}, noRetry)
	if err != nil {
		if classify(ctx, target, err) == notFound {
			log.DebugContext(ctx, "gcp: instance already gone")
			return nil
		}
		return fail(ctx, "instances.delete "+target, target, err)
	}
	log.DebugContext(ctx, "gcp: delete accepted", "operation", op.Name())
	done, err := d.wait(ctx, zone, op.Proto())
	if err != nil {
		return uncertain(ctx, "zoneOperations.get (delete of "+target+")", err)
	}
	if opErr := operationError("delete", target, done); opErr != nil {
		switch classifyStatus(opErr.HTTPStatus, target, opErr.Message, opErr.Codes) {
		case notFound:
			log.DebugContext(ctx, "gcp: instance already gone")
			return nil
		case transient:
			return scrub(fmt.Errorf("gcp: deprovision: %w: %w", cloudswitch.ErrTransient, opErr))
		}
		return scrub(fmt.Errorf("gcp: deprovision: %w", opErr))
	}
	log.DebugContext(ctx, "gcp: deprovisioned")
	return nil
}
