package gcptest_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	compute "cloud.google.com/go/compute/apiv1"
	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/api/iterator"
	"google.golang.org/protobuf/proto"

	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch/providers/gcp/gcptest"
)

// listAll lists zone with filter in pages of size and returns the names in
// order.
func listAll(t *testing.T, ic *compute.InstancesClient, project, zone, filter string, size uint32) []string {
	ctx := t.Context()
	t.Helper()
	it := ic.List(ctx, &computepb.ListInstancesRequest{Project: project, Zone: zone, Filter: proto.String(filter), MaxResults: proto.Uint32(size)}, noRetry)
	var out []string
	for {
		i, err := it.Next()
		if err == iterator.Done {
			return out
		}
		require.NoError(t, err)
		out = append(out, i.GetName())
	}
}

func TestListFiltersByLabelAndFollowsPages(t *testing.T) {
	srv := gcptest.NewServer(t)
	ic, _ := clients(t, srv)
	var want []string
	for i := range 5 {
		name := fmt.Sprintf("mine-%d", i)
		srv.AddInstance(zone, name, map[string]string{"owner": "me", "n": fmt.Sprint(i)})
		want = append(want, name)
	}
	srv.AddInstance(zone, "theirs", map[string]string{"owner": "them"})
	srv.AddInstance(zone, "unlabelled", nil)
	srv.AddInstance("us-central1-b", "mine-elsewhere", map[string]string{"owner": "me"})

	got := listAll(t, ic, srv.Project(), zone, `labels.owner = "me"`, 2)
	if !slices.Equal(got, want) {
		t.Errorf("listed %v; want %v", got, want)
	}
	if n := srv.CallCount(gcptest.OpList); n != 3 {
		t.Errorf("5 instances in pages of 2 took %d calls; want 3", n)
	}
	for filter, want := range map[string][]string{
		`labels.owner = me AND labels.n = "3"`:       {"mine-3"},
		`(labels.owner = "me") (labels.n != "3")`:    {"mine-0", "mine-1", "mine-2", "mine-4"},
		`labels.owner != "me"`:                       {"theirs", "unlabelled"},
		`name = "theirs"`:                            {"theirs"},
		`status = RUNNING AND labels.owner = "them"`: {"theirs"},
		`labels.absent = "x"`:                        nil,
	} {
		if got := listAll(t, ic, srv.Project(), zone, filter, 0); !slices.Equal(got, want) {
			t.Errorf("filter %s listed %v; want %v", filter, got, want)
		}
	}
}

func TestListRefusesWhatComputeEngineRefuses(t *testing.T) {
	srv := gcptest.NewServer(t)
	base := "/compute/v1/projects/" + srv.Project() + "/zones/" + zone + "/instances?"
	for name, query := range map[string]url.Values{
		"maxResults over 500":     {"maxResults": {"501"}},
		"maxResults not a number": {"maxResults": {"many"}},
		"unsupported filter":      {"filter": {`labels.a = "x" OR labels.b = "y"`}},
		"unknown field":           {"filter": {`color = "red"`}},
		"bad page token":          {"pageToken": {"%%%"}},
	} {
		status, body := raw(t, srv, "GET", base+query.Encode())
		if status != http.StatusBadRequest {
			t.Errorf("%s: status %d, %v; want 400", name, status, body)
		}
	}
	if status, _ := raw(t, srv, "GET", "/compute/v1/projects/"+srv.Project()+"/aggregated/instances?maxResults=500"); status != http.StatusOK {
		t.Errorf("maxResults=500 answered %d; want 200", status)
	}
}

func TestAggregatedListGroupsEachPageByZone(t *testing.T) {
	ctx := t.Context()
	srv := gcptest.NewServer(t, gcptest.WithZones("us-central1-a", "us-central1-b", "europe-west1-b"))
	srv.AddInstance("us-central1-a", "a-1", map[string]string{"owner": "me"})
	srv.AddInstance("us-central1-b", "b-1", map[string]string{"owner": "me"})
	srv.AddInstance("us-central1-b", "b-2", map[string]string{"owner": "me"})
	srv.AddInstance("us-central1-b", "b-3", map[string]string{"owner": "them"})

	status, body := raw(t, srv, "GET", "/compute/v1/projects/"+srv.Project()+"/aggregated/instances?"+url.Values{"filter": {`labels.owner = "me"`}, "maxResults": {"2"}}.Encode())
	if status != http.StatusOK {
		t.Fatalf("status %d: %v", status, body)
	}
	items := body["items"].(map[string]any)
	if len(items) != 3 {
		t.Fatalf("items %v; want one entry per zone", items)
	}
	eu := items["zones/europe-west1-b"].(map[string]any)
	if eu["warning"].(map[string]any)["code"] != "NO_RESULTS_ON_PAGE" {
		t.Errorf("an empty zone reads %v; want a NO_RESULTS_ON_PAGE warning", eu)
	}
	if body["nextPageToken"] == nil {
		t.Error("a full page with more to come has no nextPageToken")
	}

	ic, _ := clients(t, srv)
	it := ic.AggregatedList(ctx, &computepb.AggregatedListInstancesRequest{Project: srv.Project(), Filter: proto.String(`labels.owner = "me"`), MaxResults: proto.Uint32(2)}, noRetry)
	var got []string
	for {
		pair, err := it.Next()
		if err == iterator.Done {
			break
		}
		require.NoError(t, err)
		for _, i := range pair.Value.GetInstances() {
			got = append(got, pair.Key+"/"+i.GetName())
		}
	}
	if want := []string{"zones/us-central1-a/a-1", "zones/us-central1-b/b-1", "zones/us-central1-b/b-2"}; !slices.Equal(got, want) {
		t.Errorf("listed %v; want %v", got, want)
	}
	if n := srv.CallCount(gcptest.OpAggregatedList); n != 3 {
		t.Errorf("%d aggregatedList calls; want 1 raw and 2 pages", n)
	}
}

func TestSetPageSizeCapsPagesBelowMaxResults(t *testing.T) {
	srv := gcptest.NewServer(t)
	ic, _ := clients(t, srv)
	for i := range 7 {
		srv.AddInstance(zone, fmt.Sprintf("vm-%d", i), map[string]string{"owner": "me"})
	}
	srv.SetPageSize(3)
	if got := listAll(t, ic, srv.Project(), zone, `labels.owner = "me"`, 500); len(got) != 7 {
		t.Fatalf("listed %v", got)
	}
	if n := srv.CallCount(gcptest.OpList); n != 3 {
		t.Errorf("7 instances with a page cap of 3 took %d calls; want 3", n)
	}
	srv.SetPageSize(0)
	srv.ResetCalls()
	listAll(t, ic, srv.Project(), zone, `labels.owner = "me"`, 500)
	if n := srv.CallCount(gcptest.OpList); n != 1 {
		t.Errorf("without a cap, %d calls; want 1", n)
	}
}

func TestListLagHidesNewInstancesFromListingsOnly(t *testing.T) {
	ctx := t.Context()
	srv := gcptest.NewServer(t)
	ic, _ := clients(t, srv)
	srv.SetListLag(100 * time.Millisecond)
	mustInsert(t, srv, ic, "late", map[string]string{"owner": "me"})
	if got := listAll(t, ic, srv.Project(), zone, `labels.owner = "me"`, 0); len(got) != 0 {
		t.Errorf("listed %v within the lag; want nothing", got)
	}
	if _, err := ic.Get(ctx, &computepb.GetInstanceRequest{Project: srv.Project(), Zone: zone, Instance: "late"}, noRetry); err != nil {
		t.Errorf("get within the lag: %v; want the instance", err)
	}
	time.Sleep(150 * time.Millisecond)
	if got := listAll(t, ic, srv.Project(), zone, `labels.owner = "me"`, 0); !slices.Equal(got, []string{"late"}) {
		t.Errorf("listed %v after the lag; want [late]", got)
	}
}
