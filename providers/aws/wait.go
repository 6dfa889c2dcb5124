package aws

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/cloudswitch/cloudswitch"
)

// ErrLaunchFailed: the instance RunInstances launched for the request's
// token went from pending to shutting-down or terminated (or stopped) instead
// of running — a volume limit, a snapshot that does not exist, an internal
// error: its state reason says which. Provision returns it (not a refusal:
// EC2 acted) rather than report a dying VM provisioned; the token names that
// dead instance for good, so calling Provision with it again is refused.
var ErrLaunchFailed = errors.New("aws: the instance failed to launch")

// errWrongState is a wait that cannot succeed: the instance went into a
// state it does not leave for the one awaited (a launch that failed into
// shutting-down, say).
type errWrongState struct {
	id          string
	state, want types.InstanceStateName
	reason      string // the instance's StateReason, "code: message"
}

func (e *errWrongState) Error() string {
	msg := fmt.Sprintf("instance %s is %s and will not be %s", e.id, e.state, e.want)
	if e.reason != "" {
		msg += " (" + e.reason + ")"
	}
	return msg
}

// Is makes a launch that failed match ErrLaunchFailed.
func (e *errWrongState) Is(target error) bool {
	return target == ErrLaunchFailed && e.want == types.InstanceStateNameRunning
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
			i := instanceIn(out, id)
			switch s := stateOf(i); s {
			case types.InstanceStateNameRunning:
				return false, nil
			case types.InstanceStateNamePending, "":
				return true, nil // "": not listed yet (EC2 lists new instances late)
			default:
				return false, &errWrongState{id: id, state: s, want: types.InstanceStateNameRunning, reason: stateReason(i)}
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
				if classOf(ctx, err) == notFound {
					return false, nil // EC2 forgot it: terminated long enough
				}
				return keepPolling(ctx, err, false)
			}
			switch stateOf(instanceIn(out, id)) {
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
	switch classOf(ctx, err) {
	case transient:
		return true, nil
	case notFound:
		if notFoundIsLate {
			return true, nil
		}
	}
	return false, err
}

// waitError turns the error of a waiter into the driver's. Every wait
// follows a change EC2 accepted, so no error of it is a refusal: the
// context's error if ctx ended (or its deadline, byCtx, is what the wait ran
// out of); ErrLaunchFailed, permanent, if the instance cannot reach the state
// it was launched for; and otherwise transient — a poll that failed, however
// it failed, or a wait that ran out of the wait timeout leaves the instance
// on its way, and calling again (with the same token, or the same id) is
// safe and tells.
func (d *Driver) waitError(ctx context.Context, byCtx bool, what string, err error) error {
	if err == nil {
		return nil
	}
	var ws *errWrongState
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("aws: %s: %w", what, ctx.Err())
	case errors.As(err, &ws):
		return fmt.Errorf("aws: %s: %w", what, err)
	case byCtx && !isAPIError(err):
		// The waiter stops polling when the time left is shorter than a
		// poll interval, just before the context's deadline.
		return cloudswitch.AfterEffect(fmt.Errorf("aws: %s: %w: %w", what, context.DeadlineExceeded, err))
	default:
		return afterAccepted(ctx, what, err)
	}
}

func isAPIError(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae)
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

// The default schedule of the waits: a first poll at once, then from
// defaultMinPoll doubling to defaultMaxPoll, as EC2's eventual-consistency
// guide advises (exponential backoff from a short delay). The SDK waiters'
// own schedule starts at 15 s, which would make every Provision last 15 s
// whenever its first poll comes before the instance is visible.
const (
	defaultMinPoll = 50 * time.Millisecond
	defaultMaxPoll = 15 * time.Second
)

// pollSchedule sets a waiter's delays: every WithPollInterval if set, else
// the default schedule.
func (d *Driver) pollSchedule(minDelay, maxDelay *time.Duration) {
	if d.cfg.pollInterval > 0 {
		*minDelay, *maxDelay = d.cfg.pollInterval, d.cfg.pollInterval
		return
	}
	*minDelay, *maxDelay = defaultMinPoll, defaultMaxPoll
}

// instanceIn returns instance id of a DescribeInstances answer, the zero
// Instance if it is not there.
func instanceIn(out *ec2.DescribeInstancesOutput, id string) types.Instance {
	if out == nil {
		return types.Instance{}
	}
	for _, r := range out.Reservations {
		for _, i := range r.Instances {
			if awssdk.ToString(i.InstanceId) == id {
				return i
			}
		}
	}
	return types.Instance{}
}

// stateReason is an instance's StateReason as "code: message" ("" if none).
func stateReason(i types.Instance) string {
	if i.StateReason == nil {
		return ""
	}
	return strings.TrimSuffix(awssdk.ToString(i.StateReason.Code)+": "+awssdk.ToString(i.StateReason.Message), ": ")
}
