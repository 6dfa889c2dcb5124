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
// It reads the instance first and deletes it only if its labels agree with
// inst: when inst names a workspace (or an installation), the instance's
// cloudswitch-workspace (or cloudswitch-installation) label must name the
// same one, else nothing is deleted and the error matches
// cloudswitch.ErrNotOurs — a record naming another workspace's VM never
// destroys it.
//
// Each call sends a fresh random requestId, so that a delete whose
// operation failed can be tried again. It never guesses a zone: an
// Instance without a Region is refused (ErrInvalidRequest), since a delete
// in the wrong zone would answer 404 and look done. A 4xx answered to the
// read or to the delete is a refusal (cloudswitch.ErrRefused): nothing was
// deleted. Errors after the delete was accepted are transient (or the
// context's) and never refusals; a failed delete operation is classified by
// its HTTP status (transient or permanent), never as a refusal either.
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
	log := d.cfg.log.With("zone", zone, "instance", name)
	got, err := d.instances.Get(ctx, &computepb.GetInstanceRequest{Project: d.project, Zone: zone, Instance: name}, noRetry)
	if err != nil {
		if classify(ctx, target, err) == notFound {
			log.DebugContext(ctx, "gcp: instance already gone")
			return nil
		}
		return fail(ctx, "instances.get "+target, target, err)
	}
	if err := fence(target, inst, got); err != nil {
		log.WarnContext(ctx, "gcp: deprovision refused: the instance's labels name another workspace or installation")
		return err
	}
	rid, err := uuid.NewRandom()
	if err != nil {
		return fmt.Errorf("gcp: deprovision %s: a requestId: %w", target, err)
	}
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
