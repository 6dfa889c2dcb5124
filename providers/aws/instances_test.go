package aws_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/ownership"
	"github.com/cloudswitch/cloudswitch/providers/aws"
	"github.com/cloudswitch/cloudswitch/providers/aws/awstest"
)

func TestInstancesListsOnlyTheOwnersLiveInstances(t *testing.T) {
	ctx := t.Context()
	drv, srv := newDriver(t)
	mine, err := drv.Provision(ctx, request("acme", "ws-1", "tok-1"))
	require.NoError(t, err)
	gone, err := drv.Provision(ctx, request("acme", "ws-2", "tok-2"))
	require.NoError(t, err)
	require.NoError(t, drv.Deprovision(ctx, gone))
	if _, err := drv.Provision(ctx, request("acme-other", "ws-3", "tok-3")); err != nil {
		t.Fatal(err)
	}
	srv.AddInstance("us-east-1", map[string]string{ownership.OwnerKey: "someone-else", ownership.WorkspaceKey: "ws-1"})
	srv.AddInstance("us-east-1", nil)
	srv.AddInstance("us-east-1", map[string]string{ownership.WorkspaceKey: "ws-1", ownership.TokenKey: "tok-1"})
	srv.AddInstance("us-east-1", map[string]string{ownership.OwnerKey: "ACME"})
	srv.AddInstance("us-east-1", map[string]string{ownership.OwnerKey: "acme*"})

	got := list(t, drv, "acme")
	if !slices.Equal(ids(got), []string{mine.ID}) {
		t.Fatalf("Instances(acme) = %v; want only [%s]: another owner's, untagged and terminated instances are never listed", ids(got), mine.ID)
	}
	if g := got[0]; g.Provider != cloudswitch.AWS || g.Region != "us-east-1" || g.WorkspaceID != "ws-1" || g.Token != "tok-1" || !g.CreatedAt.Equal(mine.CreatedAt) {
		t.Errorf("Instances read back %+v; want workspace, token, region and launch time of %+v", g, mine)
	}
}

func TestInstancesFollowsEveryPageOfEveryRegion(t *testing.T) {
	ctx := t.Context()
	srv := awstest.NewServer(t)
	drv, err := aws.NewFromConfig(srv.Config(), aws.WithImage(testAMI), aws.WithRegions("us-east-1", "eu-west-1"))
	require.NoError(t, err)
	var want []string
	for i := range 12 {
		req := request("acme", fmt.Sprintf("ws-%d", i), fmt.Sprintf("tok-%d", i))
		if i >= 7 {
			req.Compute.Region = "eu-west-1"
		}
		inst, err := drv.Provision(ctx, req)
		require.NoError(t, err)
		want = append(want, inst.ID)
	}
	slices.Sort(want)
	srv.SetPageSize(3)
	srv.ResetCalls()
	got := list(t, drv, "acme")
	if !slices.Equal(ids(got), want) {
		t.Fatalf("Instances = %v; want all 12 of both regions: %v", ids(got), want)
	}
	if n := srv.CallCount(awstest.OpDescribeInstances); n != 5 {
		t.Errorf("7 + 5 instances in pages of 3 took %d DescribeInstances calls; want 3 + 2 = 5", n)
	}
	regions := map[string]int{}
	for _, i := range got {
		regions[i.Region]++
	}
	if regions["us-east-1"] != 7 || regions["eu-west-1"] != 5 {
		t.Errorf("instances by region %v; want 7 in us-east-1 and 5 in eu-west-1", regions)
	}
}

// Listing makes one DescribeInstances call per page of 1,000 and no call per
// instance.
func TestListingCostsOneCallPerPage(t *testing.T) {
	const n, pageSize = 10_000, 1000
	drv, srv := newDriver(t)
	for range n {
		srv.AddInstance("us-east-1", map[string]string{ownership.OwnerKey: "acme"})
	}
	srv.SetPageSize(pageSize)
	got := len(list(t, drv, "acme"))
	if got != n {
		t.Fatalf("listed %d instances; want %d", got, n)
	}
	if calls, pages := srv.CallCount(""), n/pageSize; calls != pages {
		t.Fatalf("listing %d instances in pages of %d made %d calls; want %d, one per page", n, pageSize, calls, pages)
	}
}

func TestInstancesStopsWhenTheCallerDoes(t *testing.T) {
	ctx := t.Context()
	drv, srv := newDriver(t)
	for range 7 {
		srv.AddInstance("us-east-1", map[string]string{ownership.OwnerKey: "acme"})
	}
	srv.SetPageSize(3)
	for range drv.Instances(ctx, "acme") {
		break
	}
	if n := srv.CallCount(awstest.OpDescribeInstances); n != 1 {
		t.Errorf("a listing stopped at its first instance made %d calls; want 1", n)
	}
}

func TestAnErrorMidListingEndsIt(t *testing.T) {
	ctx := t.Context()
	drv, srv := newDriver(t)
	for range 7 {
		srv.AddInstance("us-east-1", map[string]string{ownership.OwnerKey: "acme"})
	}
	srv.SetPageSize(3)
	var yielded int
	var errs []error
	for inst, err := range drv.Instances(ctx, "acme") {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if inst.ID == "" {
			t.Fatal("an instance without an id was yielded")
		}
		yielded++
		if yielded == 3 { // the first page is out; the next one fails
			srv.Inject(awstest.Fault{Op: awstest.OpDescribeInstances, Times: 1, Status: 503, Code: "RequestLimitExceeded"})
		}
	}
	if yielded != 3 || len(errs) != 1 || !errors.Is(errs[0], cloudswitch.ErrTransient) {
		t.Fatalf("a listing whose second page was throttled yielded %d instances and errors %v; want the first page's 3, then one transient error, then nothing", yielded, errs)
	}
}

func TestInstancesRefusesAnEmptyOwner(t *testing.T) {
	ctx := t.Context()
	drv, srv := newDriver(t)
	srv.AddInstance("us-east-1", map[string]string{ownership.OwnerKey: ""})
	for inst, err := range drv.Instances(ctx, "") {
		if err == nil {
			t.Fatalf("Instances(\"\") yielded %s; want an error", inst.ID)
		}
		break
	}
	if n := srv.CallCount(""); n != 0 {
		t.Errorf("Instances(\"\") made %d calls", n)
	}
}
