package aws

import (
	"context"
	"errors"
	"fmt"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/cloudswitch/cloudswitch"
)

// errWrongState is a wait that cannot succeed: the instance went into a
// state it does not leave for the one awaited (a launch that failed into
// shutting-down, say).
type errWrongState struct {
	id          string
	state, want types.InstanceStateName
}

func (e *errWrongState) Error() string {
	return fmt.Sprintf("instance %s is %s and will not be %s", e.id, e.state, e.want)
}

// waitRunning waits until instance id runs, polling DescribeInstances with
// the SDK's InstanceRunning waiter.
func (d *Driver) waitRunning(ctx context.Context, client *ec2.Client, id string) error {
	maxWait, byCtx, err := d.maxWait(ctx)
	if err != nil {
		return fmt.Errorf("aws: waiting for %s to run: %w", id, err)
	}
	w := ec2.NewInstanceRunningWaiter(client, func(o *ec2.InstanceRunningWaiterOptions) {
		d.pollSchedule(&o.MinDelay, &o.MaxDelay)
		o.ClientOptions = append(o.ClientOptions, d.bound)
		o.Retryable = func(ctx context.Context, _ *ec2.DescribeInstancesInput, out *ec2.DescribeInstancesOutput, err error) (bool, error) {
			if err != nil {
				return keepPolling(ctx, err, true)
			}
			switch s := stateIn(out, id); s {
			case types.InstanceStateNameRunning:
				return false, nil
			case types.InstanceStateNamePending, "":
				return true, nil // "": not listed yet (EC2 lists new instances late)
			default:
				return false, &errWrongState{id: id, state: s, want: types.InstanceStateNameRunning}
			}
		}
	})
	err = w.Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}, maxWait)
	return d.waitError(ctx, byCtx, "waiting for "+id+" to run", err)
}

// waitTerminated waits until instance id is terminated, or gone, polling
// DescribeInstances with the SDK's InstanceTerminated waiter.
func (d *Driver) waitTerminated(ctx context.Context, client *ec2.Client, id string) error {
	maxWait, byCtx, err := d.maxWait(ctx)
	if err != nil {
		return fmt.Errorf("aws: waiting for %s to terminate: %w", id, err)
	}
	w := ec2.NewInstanceTerminatedWaiter(client, func(o *ec2.InstanceTerminatedWaiterOptions) {
		d.pollSchedule(&o.MinDelay, &o.MaxDelay)
		o.ClientOptions = append(o.ClientOptions, d.bound)
		o.Retryable = func(ctx context.Context, _ *ec2.DescribeInstancesInput, out *ec2.DescribeInstancesOutput, err error) (bool, error) {
			if err != nil {
				if classOf(err) == notFound {
					return false, nil // EC2 forgot it: terminated long enough
				}
				return keepPolling(ctx, err, false)
			}
			switch stateIn(out, id) {
			case types.InstanceStateNameTerminated, "":
				return false, nil
			default:
				return true, nil
			}
		}
	})
	err = w.Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}, maxWait)
	return d.waitError(ctx, byCtx, "waiting for "+id+" to terminate", err)
}

// keepPolling decides on a failed poll: go on through transient errors (and
// through not-found when the instance may not be listed yet), stop on
// anything else.
func keepPolling(ctx context.Context, err error, notFoundIsLate bool) (bool, error) {
	if ctx.Err() != nil {
		return false, err
	}
	switch classOf(err) {
	case transient:
		return true, nil
	case notFound:
		if notFoundIsLate {
			return true, nil
		}
	}
	return false, err
}

// waitError turns the error of a waiter into the driver's: the context's
// error if ctx ended (or its deadline, byCtx, is what the wait ran out of),
// permanent if the instance cannot reach the state, classified if a poll
// failed for good, and transient if the wait ran out of the wait timeout
// (the instance may still get there; waiting again is safe).
func (d *Driver) waitError(ctx context.Context, byCtx bool, what string, err error) error {
	if err == nil {
		return nil
	}
	var ws *errWrongState
	var ae smithy.APIError
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("aws: %s: %w", what, ctx.Err())
	case errors.As(err, &ws):
		return fmt.Errorf("aws: %s: %w", what, err)
	case errors.As(err, &ae):
		return classify(ctx, what, err)
	case byCtx:
		// The waiter stops polling when the time left is shorter than a
		// poll interval, just before the context's deadline.
		return fmt.Errorf("aws: %s: %w: %w", what, context.DeadlineExceeded, err)
	default:
		return fmt.Errorf("aws: %s: %w: %w", what, cloudswitch.ErrTransient, err)
	}
}

// maxWait is how long a wait may take: until ctx's deadline (byCtx), at
// most the configured wait timeout.
func (d *Driver) maxWait(ctx context.Context) (limit time.Duration, byCtx bool, err error) {
	if err := ctx.Err(); err != nil {
		return 0, false, err
	}
	limit = d.cfg.waitTimeout
	if dl, ok := ctx.Deadline(); ok {
		left := time.Until(dl)
		if left <= 0 {
			return 0, true, context.DeadlineExceeded
		}
		if left < limit {
			limit, byCtx = left, true
		}
	}
	return limit, byCtx, nil
}

// pollSchedule sets a waiter's delays: every WithPollInterval if set, else
// the SDK's own schedule.
func (d *Driver) pollSchedule(minDelay, maxDelay *time.Duration) {
	if d.cfg.pollInterval > 0 {
		*minDelay, *maxDelay = d.cfg.pollInterval, d.cfg.pollInterval
	}
}

// stateIn returns the state of instance id in a DescribeInstances answer,
// "" if it is not there.
func stateIn(out *ec2.DescribeInstancesOutput, id string) types.InstanceStateName {
	if out == nil {
		return ""
	}
	for _, r := range out.Reservations {
		for _, i := range r.Instances {
			if awssdk.ToString(i.InstanceId) == id {
				return stateOf(i)
			}
		}
	}
	return ""
}
