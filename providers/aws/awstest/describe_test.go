package awstest_test

import (
	"slices"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch/providers/aws/awstest"
)

func TestDescribeInstancesFiltersByTagAndState(t *testing.T) {
	ctx := t.Context()
	srv := newServer(t)
	c := srv.Client("us-east-1")
	mine := awssdk.ToString(run(t, c, "", map[string]string{"owner": "me"}).InstanceId)
	gone := awssdk.ToString(run(t, c, "", map[string]string{"owner": "me"}).InstanceId)
	theirs := awssdk.ToString(run(t, c, "", map[string]string{"owner": "you"}).InstanceId)
	untagged := awssdk.ToString(run(t, c, "", nil).InstanceId)
	if _, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{gone}}); err != nil {
		t.Fatal(err)
	}
	live := stateFilter("pending", "running", "stopping", "stopped")

	cases := []struct {
		name    string
		filters []types.Filter
		want    []string
	}{
		{"owner and live state", []types.Filter{tagFilter("owner", "me"), live}, []string{mine}},
		{"owner only, terminated too", []types.Filter{tagFilter("owner", "me")}, []string{mine, gone}},
		{"any of several values", []types.Filter{tagFilter("owner", "me", "you"), live}, []string{mine, theirs}},
		{"wildcard", []types.Filter{tagFilter("owner", "y*")}, []string{theirs}},
		{"single-character wildcard", []types.Filter{tagFilter("owner", "m?")}, []string{mine, gone}},
		{"tag key", []types.Filter{{Name: awssdk.String("tag-key"), Values: []string{"owner"}}, live}, []string{mine, theirs}},
		{"instance id", []types.Filter{{Name: awssdk.String("instance-id"), Values: []string{untagged}}}, []string{untagged}},
		{"terminated", []types.Filter{stateFilter("terminated")}, []string{gone}},
		{"no filter", nil, []string{mine, gone, theirs, untagged}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := describe(t, c, 1000, tc.filters...)
			if !slices.Equal(ids(got), tc.want) {
				t.Fatalf("DescribeInstances lists %v; want %v", ids(got), tc.want)
			}
		})
	}

	_, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []types.Filter{{Name: awssdk.String("colour"), Values: []string{"red"}}}})
	wantAPIError(t, err, "InvalidParameterValue", 400)
}

func TestDescribeInstancesPaginates(t *testing.T) {
	ctx := t.Context()
	srv := newServer(t)
	c := srv.Client("us-east-1")
	var want []string
	for range 7 {
		want = append(want, awssdk.ToString(run(t, c, "", map[string]string{"owner": "me"}).InstanceId))
		run(t, c, "", map[string]string{"owner": "you"})
	}
	srv.SetPageSize(3)
	got, pages := describe(t, c, 1000, tagFilter("owner", "me"))
	if !slices.Equal(ids(got), want) {
		t.Fatalf("following every page lists %v; want %v", ids(got), want)
	}
	if pages != 3 {
		t.Errorf("7 instances in pages of 3 took %d pages; want 3", pages)
	}

	srv.SetPageSize(0)
	got, pages = describe(t, c, 5, tagFilter("owner", "me"))
	if !slices.Equal(ids(got), want) || pages != 2 {
		t.Errorf("MaxResults 5 gave %d pages listing %v; want 2 pages listing %v", pages, ids(got), want)
	}
	if _, pages = describe(t, c, 7, tagFilter("owner", "me")); pages != 1 {
		t.Errorf("exactly MaxResults instances took %d pages; want 1 (no empty last page)", pages)
	}

	first, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{MaxResults: awssdk.Int32(5), Filters: []types.Filter{tagFilter("owner", "me")}})
	require.NoError(t, err, "first page")
	if first.NextToken == nil {
		t.Fatal("a first page of 5 of 7 instances has no NextToken")
	}
	_, err = c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{MaxResults: awssdk.Int32(5), NextToken: first.NextToken,
		Filters: []types.Filter{tagFilter("owner", "you")}})
	wantAPIError(t, err, "InvalidPaginationToken", 400)
	_, err = c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{NextToken: awssdk.String("garbage")})
	wantAPIError(t, err, "InvalidPaginationToken", 400)
	_, err = srv.Client("eu-west-1").DescribeInstances(ctx, &ec2.DescribeInstancesInput{MaxResults: awssdk.Int32(5), NextToken: first.NextToken,
		Filters: []types.Filter{tagFilter("owner", "me")}})
	wantAPIError(t, err, "InvalidPaginationToken", 400)
}

func TestDescribeInstancesChecksMaxResults(t *testing.T) {
	ctx := t.Context()
	srv := newServer(t)
	c := srv.Client("us-east-1")
	id := awssdk.ToString(run(t, c, "", nil).InstanceId)
	for _, n := range []int32{4, 1001} {
		_, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{MaxResults: awssdk.Int32(n)})
		wantAPIError(t, err, "InvalidParameterValue", 400)
	}
	_, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{MaxResults: awssdk.Int32(5), InstanceIds: []string{id}})
	wantAPIError(t, err, "InvalidParameterCombination", 400)
}

func TestDescribeInstancesByIDAnswersNotFoundForUnknownIDs(t *testing.T) {
	ctx := t.Context()
	srv := newServer(t)
	c := srv.Client("us-east-1")
	id := awssdk.ToString(run(t, c, "", nil).InstanceId)
	_, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id, "i-0000000000000dead"}})
	wantAPIError(t, err, "InvalidInstanceID.NotFound", 400)
	_, err = c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{"box-1"}})
	wantAPIError(t, err, "InvalidInstanceID.Malformed", 400)
}

func TestRegionsAreSeparate(t *testing.T) {
	ctx := t.Context()
	srv := newServer(t)
	cfg := srv.Config()
	east := ec2.NewFromConfig(cfg)
	west := ec2.NewFromConfig(cfg, func(o *ec2.Options) { o.Region = "us-west-2" })
	inEast := awssdk.ToString(run(t, east, "", map[string]string{"owner": "me"}).InstanceId)
	inWest := awssdk.ToString(run(t, west, "", map[string]string{"owner": "me"}).InstanceId)

	if got, _ := describe(t, east, 0, tagFilter("owner", "me")); !slices.Equal(ids(got), []string{inEast}) {
		t.Errorf("%s lists %v; want only its own instance %s", awstest.DefaultRegion, ids(got), inEast)
	}
	if got, _ := describe(t, west, 0, tagFilter("owner", "me")); !slices.Equal(ids(got), []string{inWest}) {
		t.Errorf("us-west-2 lists %v; want only its own instance %s", ids(got), inWest)
	}
	_, err := east.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{inWest}})
	wantAPIError(t, err, "InvalidInstanceID.NotFound", 400)
	for _, inst := range srv.Instances() {
		if want := map[string]string{inEast: awstest.DefaultRegion, inWest: "us-west-2"}[inst.ID]; inst.Region != want {
			t.Errorf("ground truth puts %s in %q; want %q", inst.ID, inst.Region, want)
		}
	}
}

func TestListLagHidesNewInstancesFromDescribe(t *testing.T) {
	ctx := t.Context()
	srv := newServer(t)
	c := srv.Client("us-east-1")
	srv.SetListLag(time.Hour)
	late := awssdk.ToString(run(t, c, "", map[string]string{"owner": "me"}).InstanceId)
	if got, _ := describe(t, c, 0, tagFilter("owner", "me")); len(got) != 0 {
		t.Errorf("an instance within the listing lag is listed: %v", ids(got))
	}
	_, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{late}})
	wantAPIError(t, err, "InvalidInstanceID.NotFound", 400)
	if n := len(srv.Instances()); n != 1 {
		t.Errorf("the ground truth holds %d instances; want the lagging one", n)
	}
	srv.SetListLag(0)
	prompt := awssdk.ToString(run(t, c, "", map[string]string{"owner": "me"}).InstanceId)
	if got, _ := describe(t, c, 0, tagFilter("owner", "me")); !slices.Equal(ids(got), []string{prompt}) {
		t.Errorf("after the lag was lifted, new instances list as %v; want [%s] (the earlier one still lags)", ids(got), prompt)
	}
	if _, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{late}}); err != nil {
		t.Errorf("TerminateInstances must see an instance within the listing lag: %v", err)
	}
}

func TestManyReservationsPageByInstance(t *testing.T) {
	ctx := t.Context()
	srv := newServer(t)
	c := srv.Client("us-east-1")
	in := runInput("", map[string]string{"owner": "me"})
	in.MinCount, in.MaxCount = awssdk.Int32(4), awssdk.Int32(4)
	out, err := c.RunInstances(ctx, in)
	if err != nil || len(out.Instances) != 4 {
		t.Fatalf("RunInstances with MaxCount 4: %v, %d instances", err, len(out.Instances))
	}
	srv.SetPageSize(3)
	got, pages := describe(t, c, 1000, tagFilter("owner", "me"))
	if len(got) != 4 || pages != 2 {
		t.Errorf("4 instances of one reservation in pages of 3 listed %d in %d pages; want 4 in 2", len(got), pages)
	}
	for i, inst := range out.Instances {
		if awssdk.ToInt32(inst.AmiLaunchIndex) != int32(i) {
			t.Errorf("instance %d has launch index %d", i, awssdk.ToInt32(inst.AmiLaunchIndex))
		}
	}
}
