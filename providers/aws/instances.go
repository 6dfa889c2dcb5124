package aws

import (
	"context"
	"errors"
	"iter"
	"log/slog"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/ownership"
)

// listPageSize is the MaxResults of a DescribeInstances page, EC2's
// largest: listing N instances takes ceil(N/1000) calls per region.
const listPageSize = 1000

// liveStates are the states of an instance that exists as a VM. A
// shutting-down or terminated instance is gone (it no longer bills) and is
// not an orphan.
var liveStates = []string{
	string(types.InstanceStateNamePending), string(types.InstanceStateNameRunning),
	string(types.InstanceStateNameStopping), string(types.InstanceStateNameStopped),
}

// Instances yields every live instance (pending, running, stopping, stopped)
// tagged cloudswitch-owner=owner in every region of WithRegions (default: the
// driver's region), region by region and page by page, with WorkspaceID and
// Token read from its tags. It makes one DescribeInstances call per page and
// none per instance. An error ends the sequence: what was yielded before it
// is true, but the listing is incomplete.
func (d *Driver) Instances(ctx context.Context, owner string) iter.Seq2[cloudswitch.Instance, error] {
	return func(yield func(cloudswitch.Instance, error) bool) {
		if owner == "" {
			yield(cloudswitch.Instance{}, errors.New("aws: instances: empty owner"))
			return
		}
		for _, region := range d.regions {
			if !d.listRegion(ctx, region, owner, yield) {
				return
			}
		}
	}
}

// listRegion yields the owner's live instances of one region; it reports
// whether the listing goes on.
func (d *Driver) listRegion(ctx context.Context, region, owner string, yield func(cloudswitch.Instance, error) bool) bool {
	client, err := d.client(region)
	if err != nil {
		yield(cloudswitch.Instance{}, err)
		return false
	}
	input := &ec2.DescribeInstancesInput{
		Filters: []types.Filter{
			{Name: awssdk.String("tag:" + ownership.OwnerKey), Values: []string{owner}},
			{Name: awssdk.String("instance-state-name"), Values: liveStates},
		},
		MaxResults: awssdk.Int32(listPageSize),
	}
	yielded := make(map[string]bool)
	restarts := 0
	pages := ec2.NewDescribeInstancesPaginator(client, input)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx, d.bound)
		if err != nil && isCode(err, "InvalidPaginationToken") && ctx.Err() == nil && restarts < maxListRestarts {
			// The NextToken expired between two pages: list again from
			// the start, yielding only what was not yielded yet.
			restarts++
			d.log.LogAttrs(ctx, slog.LevelDebug, "aws: listing restarted: page token expired", slog.String("region", region))
			pages = ec2.NewDescribeInstancesPaginator(client, input)
			continue
		}
		if err != nil {
			yield(cloudswitch.Instance{}, classify(ctx, "DescribeInstances in "+region, err))
			return false
		}
		for _, r := range page.Reservations {
			for _, i := range r.Instances {
				id := awssdk.ToString(i.InstanceId)
				if yielded[id] {
					continue
				}
				yielded[id] = true
				if !yield(instanceOf(region, i), nil) {
					return false
				}
			}
		}
	}
	d.log.LogAttrs(ctx, slog.LevelDebug, "aws: listed instances", slog.String("region", region), slog.Int("instances", len(yielded)))
	return true
}

// maxListRestarts is how often a listing of one region starts over when
// EC2 answers that its NextToken expired (InvalidPaginationToken) before it
// gives up.
const maxListRestarts = 3

// instanceOf reads an EC2 instance of region as a cloudswitch.Instance.
func instanceOf(region string, i types.Instance) cloudswitch.Instance {
	inst := cloudswitch.Instance{
		Provider:     cloudswitch.AWS,
		ID:           awssdk.ToString(i.InstanceId),
		Region:       region,
		InstanceType: string(i.InstanceType),
		Image:        awssdk.ToString(i.ImageId),
		CreatedAt:    awssdk.ToTime(i.LaunchTime),
	}
	for _, t := range i.Tags {
		switch awssdk.ToString(t.Key) {
		case ownership.WorkspaceKey:
			inst.WorkspaceID = awssdk.ToString(t.Value)
		case ownership.TokenKey:
			inst.Token = awssdk.ToString(t.Value)
		case ownership.InstallationKey:
			inst.Installation = awssdk.ToString(t.Value)
		}
	}
	return inst
}
