package aws

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/internal/transport"
)

var _ cloudswitch.Resizer = (*Driver)(nil)

// Resize changes inst's instance type in place, as EC2 allows it only for a
// stopped instance: StopInstances, ModifyInstanceAttribute InstanceType,
// StartInstances, waiting for stopped and then for running. It keeps the
// instance's id, volumes and private addresses (a public IPv4 address that
// is not an Elastic IP changes on start).
//
// An instance that is terminated (or shutting down), or that EC2 does not
// know past the consistency window, is cloudswitch.ErrInstanceNotFound.
//
// It is idempotent: it reads the instance first and does only what is left
// — an instance that runs with the type already is returned as it is; one
// stopped (or stopping) by an earlier Resize is modified and started. It
// resizes only an instance whose ownership tags agree with inst, as
// Deprovision destroys one (cloudswitch.ErrNotOurs otherwise). A refusal of
// StopInstances leaves the instance as it was, and is a refusal; once the
// stop took effect no error is a refusal (cloudswitch.AfterEffect): a
// refused ModifyInstanceAttribute (an instance type EC2 does not offer)
// starts the instance again with its old type and returns the cause — not
// a refusal, since the guest was stopped and may have changed host and
// public IPv4 address — and every other error after the stop was accepted
// is transient: calling Resize again finishes.
func (d *Driver) Resize(ctx context.Context, inst cloudswitch.Instance, instanceType string) (cloudswitch.Instance, error) {
	switch {
	case inst.ID == "":
		return cloudswitch.Instance{}, errors.New("aws: resize: empty instance id")
	case inst.Provider != "" && inst.Provider != cloudswitch.AWS:
		return cloudswitch.Instance{}, fmt.Errorf("aws: resize: instance %s is a %q instance", inst.ID, inst.Provider)
	case instanceType == "":
		return cloudswitch.Instance{}, &cloudswitch.ValidationError{Field: "instance_type", Value: "", Reason: "is empty"}
	}
	region, client, found, err := d.locate(ctx, inst)
	if err != nil {
		return cloudswitch.Instance{}, fmt.Errorf("aws: resize %s: %w", inst.ID, err)
	}
	if err := fence(inst, found); err != nil {
		return cloudswitch.Instance{}, err
	}
	id := inst.ID
	state, current := stateOf(found), string(found.InstanceType)
	switch state {
	case types.InstanceStateNameShuttingDown, types.InstanceStateNameTerminated:
		// Gone: no resize can bring it back, and retrying must not wedge
		// the workspace.
		return cloudswitch.Instance{}, fmt.Errorf("aws: resize %s: the instance is %s: %w", id, state, cloudswitch.ErrInstanceNotFound)
	case types.InstanceStateNameRunning, types.InstanceStateNamePending:
		if current == instanceType {
			return d.finishResize(ctx, client, region, id, state == types.InstanceStateNamePending)
		}
		call := transport.Watch(ctx)
		if _, err := client.StopInstances(call, &ec2.StopInstancesInput{InstanceIds: []string{id}}, d.bound); err != nil {
			return cloudswitch.Instance{}, classify(call, "StopInstances "+id, err)
		}
		d.log.LogAttrs(ctx, slog.LevelDebug, "aws: resize: instance stopping", slog.String("instance", id), slog.String("to", instanceType))
		fallthrough
	case types.InstanceStateNameStopping:
		if err := d.waitStopped(ctx, client, id); err != nil {
			return cloudswitch.Instance{}, err
		}
	}
	// Stopped, by this call or an earlier one.
	if current != instanceType {
		call := transport.Watch(ctx)
		_, err := client.ModifyInstanceAttribute(call, &ec2.ModifyInstanceAttributeInput{
			InstanceId:   awssdk.String(id),
			InstanceType: &types.AttributeValue{Value: awssdk.String(instanceType)},
		}, d.bound)
		if err != nil {
			err = classify(call, "ModifyInstanceAttribute "+id, err)
			if !errors.Is(err, cloudswitch.ErrRefused) {
				return cloudswitch.Instance{}, afterAccepted(ctx, "resize "+id, err)
			}
			// Put the instance back under its old type, then report the
			// refusal as an error after the stop took effect: the guest
			// was stopped, and a stop and start moves the instance to
			// another host and changes a public IPv4 address that is not
			// an Elastic IP, so EC2 did act. The driver cannot know the
			// instance is exactly as it was.
			if _, serr := d.start(ctx, client, region, id); serr != nil {
				return cloudswitch.Instance{}, fmt.Errorf("aws: resize %s: ModifyInstanceAttribute was refused (%s), and starting the instance again failed: %w",
					id, err.Error(), serr)
			}
			return cloudswitch.Instance{}, cloudswitch.AfterEffect(fmt.Errorf(
				"aws: resize %s: the instance was stopped, its type change refused, and it was started again with its old type %s: %w", id, current, err))
		}
	}
	return d.start(ctx, client, region, id)
}

// start starts stopped instance id and waits until it runs. Errors after
// StopInstances was accepted are never refusals.
func (d *Driver) start(ctx context.Context, client *ec2.Client, region, id string) (cloudswitch.Instance, error) {
	if _, err := client.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}}, d.bound); err != nil {
		return cloudswitch.Instance{}, afterAccepted(ctx, "StartInstances "+id, classify(ctx, "StartInstances", err))
	}
	return d.finishResize(ctx, client, region, id, true)
}

// finishResize waits (when wait) until id runs and returns it as it is.
func (d *Driver) finishResize(ctx context.Context, client *ec2.Client, region, id string, wait bool) (cloudswitch.Instance, error) {
	if wait {
		if err := d.waitRunning(ctx, client, id); err != nil {
			return cloudswitch.Instance{}, err
		}
	}
	out, err := client.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}, d.bound)
	if err != nil {
		return cloudswitch.Instance{}, afterAccepted(ctx, "DescribeInstances "+id, err)
	}
	found := instanceIn(out, id)
	if awssdk.ToString(found.InstanceId) == "" {
		return cloudswitch.Instance{}, fmt.Errorf("aws: DescribeInstances %s answered without the instance: %w", id, cloudswitch.ErrTransient)
	}
	return instanceOf(region, found), nil
}

// waitStopped waits until instance id is stopped, polling DescribeInstances
// with the SDK's InstanceStopped waiter.
func (d *Driver) waitStopped(ctx context.Context, client *ec2.Client, id string) error {
	maxWait, byCtx, err := d.maxWait(ctx)
	if err != nil {
		return fmt.Errorf("aws: waiting for %s to stop: %w", id, err)
	}
	w := ec2.NewInstanceStoppedWaiter(client, func(o *ec2.InstanceStoppedWaiterOptions) {
		d.pollSchedule(&o.MinDelay, &o.MaxDelay)
		o.ClientOptions = append(o.ClientOptions, d.bound)
		o.Retryable = func(ctx context.Context, _ *ec2.DescribeInstancesInput, out *ec2.DescribeInstancesOutput, err error) (bool, error) {
			if err != nil {
				return keepPolling(ctx, err, true)
			}
			i := instanceIn(out, id)
			switch s := stateOf(i); s {
			case types.InstanceStateNameStopped:
				return false, nil
			case types.InstanceStateNameStopping, types.InstanceStateNameRunning, types.InstanceStateNamePending, "":
				return true, nil
			default:
				return false, &errWrongState{id: id, state: s, want: types.InstanceStateNameStopped, reason: stateReason(i)}
			}
		}
	})
	err = w.Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}, maxWait)
	return d.waitError(ctx, byCtx, "waiting for "+id+" to stop", err)
}
