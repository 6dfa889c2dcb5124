package aws

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/internal/redact"
	"github.com/cloudswitch/cloudswitch/internal/transport"
	"github.com/cloudswitch/cloudswitch/ownership"
)

// Deprovision terminates inst in inst's region, after reading the instance
// with DescribeInstances (an inst without a region is looked for in every
// region Instances lists and the default region, and is gone only if none
// knows it):
//
//   - it destroys nothing, and returns an error matching
//     cloudswitch.ErrNotOurs, when the instance's tags name another workspace
//     than inst.WorkspaceID or another installation than inst.Installation
//     (when they are set); an instance without such a tag (created outside
//     cloudswitch, or before installations were tagged) is not fenced by it;
//   - an instance EC2 does not know is gone (an error matching
//     cloudswitch.ErrInstanceNotFound) only once inst is older than the
//     consistency window (WithConsistencyWindow): EC2 may not know an
//     instance it launched moments ago, which "does not mean the instance
//     does not exist", so within the window the answer is transient; past
//     the window, a not-found answer by id is believed only once a
//     DescribeInstances filtered on the instance id (which EC2 answers with
//     a list, empty for an unknown instance) does not list it live either:
//     if it does, the answer is transient;
//   - a terminated instance is gone (nil); otherwise it calls
//     TerminateInstances and returns nil once EC2 reports the instance
//     shutting-down or terminated — billing stops at shutting-down — or,
//     with WithWaitTerminated, once it is terminated.
//
// An error after TerminateInstances was accepted is never a refusal.
func (d *Driver) Deprovision(ctx context.Context, inst cloudswitch.Instance) error {
	switch {
	case inst.ID == "":
		return errors.New("aws: deprovision: empty instance id")
	case inst.Provider != "" && inst.Provider != cloudswitch.AWS:
		return fmt.Errorf("aws: deprovision: instance %s is a %q instance", inst.ID, inst.Provider)
	}
	region, client, found, err := d.locate(ctx, inst)
	if err != nil {
		d.log.LogAttrs(ctx, slog.LevelDebug, "aws: DescribeInstances before terminating failed",
			slog.String("instance", inst.ID), slog.String("region", inst.Region), slog.String("error", err.Error()))
		return fmt.Errorf("aws: deprovision %s: %w", inst.ID, err)
	}
	if err := fence(inst, found); err != nil {
		return err
	}
	switch stateOf(found) {
	case types.InstanceStateNameTerminated:
		return nil
	case types.InstanceStateNameShuttingDown:
		if d.cfg.waitTerminated {
			return d.waitTerminated(ctx, client, inst.ID)
		}
		return nil
	}
	return d.terminate(ctx, client, region, inst)
}

// describe reads instance inst.ID. A not-found answer is
// cloudswitch.ErrInstanceNotFound only when inst is older than the
// consistency window or its age is unknown, and a DescribeInstances
// filtered on the id does not list it live (crossCheck); within the window
// it is transient.
func (d *Driver) describe(ctx context.Context, client *ec2.Client, inst cloudswitch.Instance) (types.Instance, error) {
	op := "DescribeInstances " + inst.ID
	out, err := client.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{inst.ID}}, d.bound)
	if err != nil {
		if classOf(ctx, err) == notFound && ctx.Err() == nil && d.mayBeUnseen(inst) {
			return types.Instance{}, fmt.Errorf("aws: %s: EC2 does not know the instance yet, %v after its launch, within the consistency window of %v: %w: %w",
				op, time.Since(inst.CreatedAt).Round(time.Millisecond), d.cfg.consistencyWindow, cloudswitch.ErrTransient, redact.Error(err))
		}
		if classOf(ctx, err) == notFound && ctx.Err() == nil {
			return d.crossCheck(ctx, client, inst, err)
		}
		return types.Instance{}, classify(ctx, op, err)
	}
	found := instanceIn(out, inst.ID)
	if awssdk.ToString(found.InstanceId) == "" {
		return types.Instance{}, fmt.Errorf("aws: %s answered without the instance: %w", op, cloudswitch.ErrTransient)
	}
	return found, nil
}

// crossCheck asks EC2 again about an instance a DescribeInstances by id
// answered notFound with: a DescribeInstances filtered on instance-id,
// which EC2 answers with a list (empty for an instance it does not know)
// rather than an error, and which is served by the listing side that
// Instances reads. It returns the instance if the list shows it shutting
// down or terminated (gone, and the caller knows it), a transient error if
// the list shows it live — EC2's answers disagree, so it is not gone — an
// error of the second call if it fails (neither answer is then believed),
// and cloudswitch.ErrInstanceNotFound only when the list is empty.
func (d *Driver) crossCheck(ctx context.Context, client *ec2.Client, inst cloudswitch.Instance, byID error) (types.Instance, error) {
	op := "DescribeInstances instance-id=" + inst.ID
	out, err := client.DescribeInstances(ctx, &ec2.DescribeInstancesInput{
		Filters: []types.Filter{{Name: awssdk.String("instance-id"), Values: []string{inst.ID}}},
	}, d.bound)
	if err != nil {
		return types.Instance{}, fmt.Errorf("aws: DescribeInstances %s answered not found (%s), and checking with a filtered DescribeInstances failed: %w",
			inst.ID, redact.Error(byID).Error(), classify(ctx, op, err))
	}
	found := instanceIn(out, inst.ID)
	switch s := stateOf(found); {
	case awssdk.ToString(found.InstanceId) == "":
		return types.Instance{}, fmt.Errorf("aws: DescribeInstances %s: not found, by id nor filtered on its id: %w: %w",
			inst.ID, cloudswitch.ErrInstanceNotFound, redact.Error(byID))
	case s == types.InstanceStateNameShuttingDown || s == types.InstanceStateNameTerminated:
		return found, nil
	default:
		return types.Instance{}, fmt.Errorf("aws: DescribeInstances %s answered not found, yet a DescribeInstances filtered on its id lists it %s: %w: %w",
			inst.ID, s, cloudswitch.ErrTransient, redact.Error(byID))
	}
}

// locate finds inst: in inst.Region, or, for an inst without a region, in
// every region Instances lists and the default region, in turn. It returns
// the region, its client and the instance as DescribeInstances read it. An
// inst without a region is cloudswitch.ErrInstanceNotFound only if every
// region answers not found; any other error of one region ends the search
// with that error, since the instance may be there.
func (d *Driver) locate(ctx context.Context, inst cloudswitch.Instance) (string, *ec2.Client, types.Instance, error) {
	regions := []string{inst.Region}
	if inst.Region == "" {
		regions = d.searchRegions()
	}
	var notFoundErr error
	for _, region := range regions {
		if err := checkRegion(region); err != nil {
			return "", nil, types.Instance{}, err
		}
		client, err := d.client(region)
		if err != nil {
			return "", nil, types.Instance{}, err
		}
		found, err := d.describe(ctx, client, inst)
		switch {
		case err == nil:
			return region, client, found, nil
		case len(regions) > 1 && errors.Is(err, cloudswitch.ErrInstanceNotFound):
			notFoundErr = err
			continue
		default:
			return "", nil, types.Instance{}, fmt.Errorf("in %s: %w", region, err)
		}
	}
	return "", nil, types.Instance{}, fmt.Errorf("the instance names no region, and none of %v knows it: %w", regions, notFoundErr)
}

// searchRegions are the regions an instance without a region may be in:
// every region Instances lists, and the default region.
func (d *Driver) searchRegions() []string {
	regions := slices.Clone(d.regions)
	if !slices.Contains(regions, d.defaultRegion) {
		regions = append(regions, d.defaultRegion)
	}
	return regions
}

// mayBeUnseen reports whether EC2 may not know inst yet: it was launched
// within the consistency window.
func (d *Driver) mayBeUnseen(inst cloudswitch.Instance) bool {
	return !inst.CreatedAt.IsZero() && time.Since(inst.CreatedAt) < d.cfg.consistencyWindow
}

// fence refuses to act on found as inst when its ownership tags name
// another workspace or installation than inst does (when inst names one). An
// instance without the tag — created outside cloudswitch, or before
// installations were tagged — is not fenced by it.
func fence(inst cloudswitch.Instance, found types.Instance) error {
	tags := make(map[string]string, len(found.Tags))
	for _, t := range found.Tags {
		tags[awssdk.ToString(t.Key)] = awssdk.ToString(t.Value)
	}
	if inst.WorkspaceID != "" && tags[ownership.WorkspaceKey] != "" && tags[ownership.WorkspaceKey] != inst.WorkspaceID {
		return fmt.Errorf("aws: deprovision %s: the instance is tagged for workspace %q, not %q: %w",
			inst.ID, tags[ownership.WorkspaceKey], inst.WorkspaceID, cloudswitch.ErrNotOurs)
	}
	if inst.Installation != "" && tags[ownership.InstallationKey] != "" && tags[ownership.InstallationKey] != inst.Installation {
		return fmt.Errorf("aws: deprovision %s: the instance is tagged for installation %q, not %q: %w",
			inst.ID, tags[ownership.InstallationKey], inst.Installation, cloudswitch.ErrNotOurs)
	}
	return nil
}

// terminate calls TerminateInstances on an instance describe just saw.
func (d *Driver) terminate(ctx context.Context, client *ec2.Client, region string, inst cloudswitch.Instance) error {
	op := "TerminateInstances " + inst.ID
	// Watched: a termination net/http sent twice may have acted the first
	// time, whatever the second attempt met.
	call := transport.Watch(ctx)
	out, err := client.TerminateInstances(call, &ec2.TerminateInstancesInput{InstanceIds: []string{inst.ID}}, d.bound)
	if err != nil {
		if classOf(call, err) == notFound && ctx.Err() == nil {
			// DescribeInstances has just seen it: EC2's answers have not
			// converged yet.
			err = fmt.Errorf("aws: %s: not found, though DescribeInstances just saw it: %w: %w", op, cloudswitch.ErrTransient, redact.Error(err))
		} else {
			err = classify(call, op, err)
		}
		d.log.LogAttrs(ctx, slog.LevelDebug, "aws: TerminateInstances failed",
			slog.String("instance", inst.ID), slog.String("region", region), slog.String("error", err.Error()))
		return err
	}
	state := types.InstanceStateName("")
	for _, ch := range out.TerminatingInstances {
		if awssdk.ToString(ch.InstanceId) == inst.ID && ch.CurrentState != nil {
			state = ch.CurrentState.Name
		}
	}
	d.log.LogAttrs(ctx, slog.LevelDebug, "aws: instance terminating",
		slog.String("instance", inst.ID), slog.String("region", region), slog.String("state", string(state)))
	switch {
	case state == types.InstanceStateNameTerminated:
		return nil
	case d.cfg.waitTerminated:
		return d.waitTerminated(ctx, client, inst.ID)
	case state == types.InstanceStateNameShuttingDown:
		return nil
	default:
		// Accepted, but not on its way out as far as the answer says:
		// terminating again is safe and tells.
		return fmt.Errorf("aws: %s answered state %q: %w", op, state, cloudswitch.ErrTransient)
	}
}
