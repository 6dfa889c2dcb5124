package hetzner_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch/providers/hetzner/hetznertest"
)

// listed is the fleet the listing benchmark and its test list: 10,000
// servers, in pages of 50 (the API's maximum per_page), so 200 pages, and
// 199 page boundaries, each checked by a one-server call after the page
// that follows it (see Instances).
const (
	fleet      = 10_000
	fleetPages = fleet / 50
	fleetCalls = 2*fleetPages - 1
)

func TestListing10000ServersTakesOneCallPerPageAndOnePerBoundary(t *testing.T) {
	srv, d := setup(t, nil)
	plant(srv, owner, fleet)
	srv.ResetCalls()
	if got := list(t, d, owner); len(got) != fleet {
		t.Fatalf("listed %d servers; want %d", len(got), fleet)
	}
	if calls := srv.CallCount(hetznertest.OpListServers); calls != fleetCalls {
		t.Fatalf("%d listing calls for %d servers; want %d, one per page of 50 and one per page boundary", calls, fleet, fleetCalls)
	}
	if calls := srv.CallCount(""); calls != fleetCalls {
		t.Fatalf("%d API calls in all; want only the %d listing calls", calls, fleetCalls)
	}
}

// BenchmarkProvisionDeprovision is one VM's round trip through hcloud-go
// and the emulator: create, wait for the create and start actions, delete,
// wait for the delete action; it reports the API calls one round trip takes.
func BenchmarkProvisionDeprovision(b *testing.B) {
	ctx := b.Context()
	srv, d := setup(b, nil)
	b.ReportAllocs()
	trips := 0
	for b.Loop() {
		inst := provision(b, d, request("ws-bench"))
		require.NoError(b, d.Deprovision(ctx, inst))
		trips++
	}
	b.StopTimer()
	b.ReportMetric(float64(srv.CallCount(""))/float64(trips), "calls/op")
	if n := len(srv.Instances()); n != 0 {
		b.Fatalf("%d servers left", n)
	}
}

// BenchmarkInstances10000 lists 10,000 servers of one owner (among 1,000 of
// another) and reports the API calls one listing takes.
func BenchmarkInstances10000(b *testing.B) {
	ctx := b.Context()
	srv, d := setup(b, nil)
	plant(srv, owner, fleet)
	plant(srv, "other-owner", fleet/10)
	srv.ResetCalls()
	b.ReportAllocs()
	listings := 0
	for b.Loop() {
		n := 0
		for _, err := range d.Instances(ctx, owner) {
			require.NoError(b, err)
			n++
		}
		if n != fleet {
			b.Fatalf("listed %d servers; want %d", n, fleet)
		}
		listings++
	}
	b.ReportMetric(float64(srv.CallCount(hetznertest.OpListServers))/float64(listings), "calls/op")
}
