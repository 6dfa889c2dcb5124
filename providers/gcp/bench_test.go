package gcp_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch/ownership"
	"github.com/cloudswitch/cloudswitch/providers/gcp/gcptest"
)

// fleet is the listing benchmark's size: 10,000 instances of one owner,
// listed in pages of 500 (Compute Engine's largest), among 1,000 of another
// owner.
const (
	fleet      = 10_000
	fleetPages = fleet / 500
)

// addFleet adds n instances of owner, spread over the server's zones, with
// ownership labels as Provision writes them.
func addFleet(t testing.TB, srv *gcptest.Server, owner string, n int) {
	zones := srv.Zones()
	for i := range n {
		name := fmt.Sprintf("cs-%s-%06d", owner, i)
		workspace, _ := ownership.EncodeLabel(fmt.Sprintf("Workspace-%d", i))
		srv.AddInstance(zones[i%len(zones)], name, map[string]string{
			ownership.OwnerKey: owner, ownership.WorkspaceKey: workspace, ownership.TokenKey: fmt.Sprintf("%032x", i),
		})
	}
}

func TestListingTenThousandInstancesTakesOneCallAPage(t *testing.T) {
	if testing.Short() {
		t.Skip("lists 10,000 instances")
	}
	e := newEnv(t, nil)
	addFleet(t, e.srv, "owner", fleet)
	addFleet(t, e.srv, "other", fleet/10)
	e.srv.ResetCalls()
	if got := len(list(t, e.d, "owner")); got != fleet {
		t.Fatalf("listed %d instances; want %d", got, fleet)
	}
	if n := e.srv.CallCount(gcptest.OpAggregatedList); n != fleetPages {
		t.Errorf("listing %d instances took %d calls; want %d, one per page of 500", fleet, n, fleetPages)
	}
}

// BenchmarkProvisionDeprovision is one VM's round trip through the REST
// clients and the emulator: insert, poll, get; get (the labels Deprovision
// checks before it deletes), delete, poll.
func BenchmarkProvisionDeprovision(b *testing.B) {
	ctx := b.Context()
	e := newEnv(b, nil)
	b.ReportAllocs()
	for b.Loop() {
		inst, err := e.d.Provision(ctx, request("owner", "ws"))
		require.NoError(b, err)
		require.NoError(b, e.d.Deprovision(ctx, inst))
	}
}

// BenchmarkInstances10000 lists 10,000 instances in pages of 500 and
// reports the API calls one listing takes.
func BenchmarkInstances10000(b *testing.B) {
	ctx := b.Context()
	e := newEnv(b, nil)
	addFleet(b, e.srv, "owner", fleet)
	addFleet(b, e.srv, "other", fleet/10)
	e.srv.ResetCalls()
	b.ReportAllocs()
	listings := 0
	for b.Loop() {
		n := 0
		for _, err := range e.d.Instances(ctx, "owner") {
			require.NoError(b, err)
			n++
		}
		if n != fleet {
			b.Fatalf("listed %d instances; want %d", n, fleet)
		}
		listings++
	}
	b.ReportMetric(float64(e.srv.CallCount(gcptest.OpAggregatedList))/float64(listings), "calls/op")
}
