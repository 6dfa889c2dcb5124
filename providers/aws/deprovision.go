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
)

// Deprovision terminates inst with TerminateInstances in inst's region (the
// default region if it names none). It returns nil once EC2 reports the
// instance shutting-down or terminated — billing stops at shutting-down — or,
// with WithWaitTerminated, once it is terminated. An instance EC2 does not
// know yields an error matching cloudswitch.ErrInstanceNotFound: it is gone.
func (d *Driver) Deprovision(ctx context.Context, inst cloudswitch.Instance) error {
	switch {
	case inst.ID == "":
		return errors.New("aws: deprovision: empty instance id")
	case inst.Provider != "" && inst.Provider != cloudswitch.AWS:
		return fmt.Errorf("aws: deprovision: instance %s is a %q instance", inst.ID, inst.Provider)
	}
	region := d.region(inst.Region)
	if err := checkRegion(region); err != nil {
		return fmt.Errorf("aws: deprovision %s: %w", inst.ID, err)
	}
	client, err := d.client(region)
	if err != nil {
		return err
	}
	out, err := client.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{inst.ID}}, d.bound)
	if err != nil {
		err = classify(ctx, "TerminateInstances "+inst.ID, err)
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
		return fmt.Errorf("aws: TerminateInstances %s answered state %q: %w", inst.ID, state, cloudswitch.ErrTransient)
	}
}
