package gcp

import (
	"context"
	"fmt"
	"path"

	compute "cloud.google.com/go/compute/apiv1"
	"cloud.google.com/go/compute/apiv1/computepb"
	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/internal/transport"
)

var _ cloudswitch.Resizer = (*Driver)(nil)

// maxResizeSteps bounds the stop, setMachineType and start calls one Resize
// makes; three suffice, the rest absorbs the instance moving under it.
const maxResizeSteps = 6

// resizeRequestIDSpace is the namespace of the requestIds Resize sends.
var resizeRequestIDSpace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://github.com/cloudswitch/cloudswitch/providers/gcp#resize"))

// Resize changes the machine type of the instance inst names to
// instanceType in place — stop, setMachineType, start — keeping its name,
// disks and addresses, and returns it as it is afterwards, RUNNING (or on
// its way up) with its new InstanceType.
//
// It reads the instance first and acts only on one whose labels agree with
// inst (as Deprovision does: cloudswitch.ErrNotOurs otherwise), and then
// does only the steps still due, so it is idempotent: an instance that
// already has the type and runs is returned as is, one stopped half-way
// through an earlier resize is finished. Each step's requestId is derived
// from the instance, the step, the type and the instance's last start or
// stop, so a step repeated after a lost answer is answered with the first
// one's operation, while a later resize sends new ones.
//
// Errors: an instance that does not exist is cloudswitch.ErrInstanceNotFound,
// once confirmed as Deprovision confirms a 404. A 4xx answered before any
// step took effect is a refusal
// (cloudswitch.ErrRefused) and leaves the VM as it was; once the stop has
// been accepted no error is a refusal (cloudswitch.AfterEffect), nor is any
// error of a resize that finds the instance stopped (TERMINATED or
// STOPPED): it may be down because of an earlier attempt's stop, which the
// driver cannot tell from a stop by someone else. An instance being stopped, started
// or deleted by someone else (or with an operation running:
// resourceNotReady) is transient; a SUSPENDED one is refused, since
// resuming it is not Resize's to decide. A machine type the zone does not
// offer is refused before the stop (a *cloudswitch.ValidationError that is
// a refusal) when the driver has its lookup clients; without them Compute
// Engine refuses it only after the stop, which is then no refusal.
func (d *Driver) Resize(ctx context.Context, inst cloudswitch.Instance, instanceType string) (cloudswitch.Instance, error) {
	if err := checkInstance("resize", inst); err != nil {
		return cloudswitch.Instance{}, err
	}
	zone, name := inst.Region, inst.ID
	target := "zones/" + zone + "/instances/" + name
	mt, err := machineType(zone, instanceType)
	if err != nil {
		return cloudswitch.Instance{}, err
	}
	want := path.Base(mt)
	if err := ctx.Err(); err != nil {
		return cloudswitch.Instance{}, fmt.Errorf("gcp: resize %s: %w", target, err)
	}
	log := d.cfg.log.With("zone", zone, "instance", name, "machine_type", want)
	// acted: a step took effect, in this call or — the instance being
	// found stopped — perhaps in an earlier one; no later error is a
	// refusal.
	acted := false
	afterEffect := func(err error) error {
		if acted {
			return cloudswitch.AfterEffect(err)
		}
		return err
	}
	failed := func(ctx context.Context, call string, err error) error {
		if acted {
			return afterEffect(failUnrefused(ctx, call, target, err))
		}
		return fail(ctx, call, target, err)
	}
	got, err := d.instances.Get(ctx, &computepb.GetInstanceRequest{Project: d.project, Zone: zone, Instance: name}, noRetry)
	if err != nil {
		if classify(ctx, target, err) == notFound {
			// ErrInstanceNotFound only when sure: the credentials see the
			// project and its zone lists no such instance.
			if cerr := d.confirmGone(ctx, zone, name, target, err); cerr != nil {
				return cloudswitch.Instance{}, cerr
			}
		}
		return cloudswitch.Instance{}, failed(ctx, "instances.get "+target, err)
	}
	if err := fence(target, inst, got); err != nil {
		return cloudswitch.Instance{}, err
	}
	if s := got.GetStatus(); s == statusTerminated || s == statusStopped {
		// A stopped instance may be stopped by an earlier attempt of this
		// resize, which stopped it and failed before starting it again:
		// the driver cannot tell that from a stop by someone else, and a
		// refusal now — the machine type's lookup's included — would claim
		// "nothing changed" while the resize's own stop keeps the instance
		// down.
		acted = true
	}
	if err := d.offered(ctx, zone, want, path.Base(got.GetMachineType())); err != nil {
		return cloudswitch.Instance{}, afterEffect(err)
	}
	for range maxResizeSteps {
		status, current := got.GetStatus(), path.Base(got.GetMachineType())
		var (
			step string
			call func(ctx context.Context, rid string) (*compute.Operation, error)
		)
		switch {
		case current == want && healthOf(status) == healthy:
			out, err := instanceOf(got)
			if err != nil {
				return cloudswitch.Instance{}, afterEffect(scrub(fmt.Errorf("gcp: resize: %w", err)))
			}
			out.Image = inst.Image
			log.DebugContext(ctx, "gcp: resized", "status", status)
			return out, nil
		case status == statusSuspended || status == statusSuspending:
			return cloudswitch.Instance{}, afterEffect(invalidf("resize %s: the instance is %s; resume it first", target, status))
		case healthOf(status) == settling:
			return cloudswitch.Instance{}, fmt.Errorf("gcp: resize %s: the instance is %s; call again once it has settled: %w", target, status, cloudswitch.ErrTransient)
		case status != statusTerminated && status != statusStopped:
			step = "stop"
			call = func(ctx context.Context, rid string) (*compute.Operation, error) {
				return d.instances.Stop(ctx, &computepb.StopInstanceRequest{Project: d.project, Zone: zone, Instance: name, RequestId: proto.String(rid)}, noRetry)
			}
		case current != want:
			step = "setMachineType"
			call = func(ctx context.Context, rid string) (*compute.Operation, error) {
				return d.instances.SetMachineType(ctx, &computepb.SetMachineTypeInstanceRequest{
					Project: d.project, Zone: zone, Instance: name, RequestId: proto.String(rid),
					InstancesSetMachineTypeRequestResource: &computepb.InstancesSetMachineTypeRequest{MachineType: proto.String("zones/" + zone + "/machineTypes/" + want)},
				}, noRetry)
			}
		default:
			step = "start"
			call = func(ctx context.Context, rid string) (*compute.Operation, error) {
				return d.instances.Start(ctx, &computepb.StartInstanceRequest{Project: d.project, Zone: zone, Instance: name, RequestId: proto.String(rid)}, noRetry)
			}
		}
		rid := uuid.NewSHA1(resizeRequestIDSpace, []byte(zone+"/"+name+"/"+step+"/"+want+"/"+got.GetLastStartTimestamp()+"/"+got.GetLastStopTimestamp())).String()
		// Watched: a step net/http sent twice may have acted the first time.
		watched := transport.Watch(ctx)
		op, err := call(watched, rid)
		if err != nil {
			return cloudswitch.Instance{}, failed(watched, "instances."+step+" "+target, err)
		}
		acted = true
		log.DebugContext(ctx, "gcp: resize step accepted", "step", step, "operation", op.Name())
		done, err := d.wait(ctx, zone, op.Proto())
		if err != nil {
			return cloudswitch.Instance{}, afterEffect(uncertain(ctx, "zoneOperations.get ("+step+" of "+target+")", err))
		}
		if opErr := operationError(step, target, done); opErr != nil {
			if classifyStatus(opErr.HTTPStatus, target, opErr.Message, opErr.Codes) == transient {
				return cloudswitch.Instance{}, afterEffect(scrub(fmt.Errorf("gcp: resize: %w: %w", cloudswitch.ErrTransient, opErr)))
			}
			return cloudswitch.Instance{}, afterEffect(scrub(fmt.Errorf("gcp: resize: %w", opErr)))
		}
		if got, err = d.instances.Get(ctx, &computepb.GetInstanceRequest{Project: d.project, Zone: zone, Instance: name}, noRetry); err != nil {
			return cloudswitch.Instance{}, afterEffect(uncertain(ctx, "instances.get "+target, err))
		}
	}
	return cloudswitch.Instance{}, fmt.Errorf("gcp: resize %s: the instance kept changing under %d steps (now %s, %s): %w",
		target, maxResizeSteps, got.GetStatus(), path.Base(got.GetMachineType()), cloudswitch.ErrTransient)
}

// offered refuses, before anything is done, a machine type want that zone
// does not offer, when the driver can ask (its lookup clients) and the
// instance does not have it already (current).
func (d *Driver) offered(ctx context.Context, zone, want, current string) error {
	if d.cfg.machineTypes == nil || want == current {
		return nil
	}
	mtPath := "zones/" + zone + "/machineTypes/" + want
	if _, err := d.cfg.machineTypes.Get(ctx, &computepb.GetMachineTypeRequest{Project: d.project, Zone: zone, MachineType: want}, noRetry); err != nil {
		if isNotFound(err, mtPath) {
			return cloudswitch.Refused(&cloudswitch.ValidationError{Field: "instance_type", Value: want, Reason: "is not offered in zone " + zone})
		}
		return fail(ctx, "machineTypes.get "+mtPath, "", err)
	}
	return nil
}
