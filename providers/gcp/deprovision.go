package gcp

import (
	"context"
	"errors"
	"fmt"

	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/api/iterator"
	"google.golang.org/protobuf/proto"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/internal/transport"
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
// Every attempt to delete one instance sends the same requestId,
// DeleteRequestID(zone, name, id) of the unique numeric id the read
// returned, so that a delete repeated after a lost answer is answered with
// the first one's operation instead of a second delete (which Compute
// Engine refuses with 400 resourceNotReady while the first runs), while a
// later instance of the same name — another id — is never answered with
// the earlier instance's finished delete; when that operation
// failed, the delete is sent again under the next requestId of a
// deterministic chain. 400 resourceNotReady — another operation runs on
// the instance — is transient and not a refusal.
//
// A 404 naming the instance is taken for "gone" only once the credentials
// are shown to see the project: a listing of the zone filtered by the name
// must succeed and list nothing (see confirmGone). Credentials of another
// project therefore never make a VM look destroyed. The Instance does not
// record its project — its ID is the instance name, as in every record
// written before — so the driver must be the one for the project its VMs
// were created in. It never guesses a zone: an
// Instance without a Region is refused (ErrInvalidRequest), since a delete
// in the wrong zone would answer 404 and look done. A 4xx answered to the
// read or to the delete is a refusal (cloudswitch.ErrRefused): nothing was
// deleted. Errors after the delete was accepted are transient (or the
// context's) and never refusals; a failed delete operation is classified by
// its HTTP status (transient or permanent), never as a refusal either.
func (d *Driver) Deprovision(ctx context.Context, inst cloudswitch.Instance) error {
	if err := checkInstance("deprovision", inst); err != nil {
		return err
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
			return d.confirmGone(ctx, zone, name, target, err)
		}
		return fail(ctx, "instances.get "+target, target, err)
	}
	if err := fence(target, inst, got); err != nil {
		log.WarnContext(ctx, "gcp: deprovision refused: the instance's labels name another workspace or installation")
		return err
	}
	rid := DeleteRequestID(zone, name, got.GetId())
	for hop := 0; ; hop++ {
		// Watched: a delete net/http sent twice may have acted the first
		// time, whatever the second attempt met.
		call := transport.Watch(ctx)
		op, err := d.instances.Delete(call, &computepb.DeleteInstanceRequest{
			Project: d.project, Zone: zone, Instance: name, RequestId: proto.String(rid),
		}, noRetry)
		if err != nil {
			if classify(call, target, err) == notFound {
				gone := d.confirmGone(ctx, zone, name, target, err)
				if transport.Resent(call) {
					// The 404 answered a second attempt: the first may
					// have deleted the instance, so confirming that
					// cannot be refused.
					gone = cloudswitch.AfterEffect(gone)
				}
				return gone
			}
			return fail(call, "instances.delete "+target, target, err)
		}
		answer := op.Proto()
		if answer.GetStatus() == computepb.Operation_DONE && operationError("delete", target, answer) != nil && hop < maxDeleteRetries {
			// An earlier attempt's delete, answered again for its
			// requestId, failed: send the next requestId of the chain.
			log.DebugContext(ctx, "gcp: an earlier delete failed; deleting again", "operation", answer.GetName())
			rid = retryRequestID(rid, answer.GetName())
			continue
		}
		log.DebugContext(ctx, "gcp: delete accepted", "operation", answer.GetName())
		done, err := d.wait(ctx, zone, answer)
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
}

// maxDeleteRetries bounds how many failed earlier deletes, answered again
// for their requestIds, one Deprovision steps over.
const maxDeleteRetries = 8

// confirmGone decides what a 404 naming the instance (cause) means. It is
// "gone" — success — only when the credentials can see the driver's
// project and the instance is not in it: a listing of the zone, filtered by
// the instance's name, must succeed and list nothing. Credentials of
// another project, which may be answered 404 for every instance, fail that
// listing (403, or 404 for the project), and the error says so: the VM is
// not taken for gone. An instance the listing does show is transient: the
// 404 was not the last word.
func (d *Driver) confirmGone(ctx context.Context, zone, name, target string, cause error) error {
	it := d.instances.List(ctx, &computepb.ListInstancesRequest{
		Project: d.project, Zone: zone, Filter: proto.String(fmt.Sprintf("name = %q", name)), MaxResults: proto.Uint32(1),
	}, noRetry)
	_, err := next[*computepb.Instance](ctx, &d.fetches, it)
	switch {
	case errors.Is(err, iterator.Done):
		d.cfg.log.DebugContext(ctx, "gcp: instance already gone", "zone", zone, "instance", name)
		return nil
	case err != nil:
		return scrub(fmt.Errorf("gcp: deprovision %s: answered 404 (%v), but these credentials cannot list project %s, so the instance is not taken for gone: %w",
			target, cause, d.project, fail(ctx, "instances.list zones/"+zone, "", err)))
	}
	return scrub(fmt.Errorf("gcp: deprovision %s: answered 404 (%v) while its zone lists it: %w", target, cause, cloudswitch.ErrTransient))
}

// checkInstance refuses an Instance the driver cannot act on: another
// provider's, one whose ID is no instance name, one without a zone (the
// driver never guesses one: a call in the wrong zone would answer 404).
func checkInstance(call string, inst cloudswitch.Instance) error {
	switch {
	case inst.Provider != "" && inst.Provider != cloudswitch.GCP:
		return invalidf("%s: the gcp driver was given a %q instance", call, inst.Provider)
	case !instanceNamePattern.MatchString(inst.ID):
		return invalidf("%s: %q is not an instance name", call, inst.ID)
	case inst.Region == "":
		return invalidf("%s: instance %s has no zone (Region); the driver never guesses one", call, inst.ID)
	case !zonePattern.MatchString(inst.Region):
		return invalidf("%s: %q is not a zone (like us-central1-a)", call, inst.Region)
	}
	return nil
}
