package gcp_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/ownership"
	"github.com/cloudswitch/cloudswitch/providers/gcp"
	"github.com/cloudswitch/cloudswitch/providers/gcp/gcptest"
	"github.com/cloudswitch/cloudswitch/providers/providertest"
)

// provisionIn provisions n VMs of owner in zone and returns their names.
func provisionIn(t *testing.T, d *gcp.Driver, owner, zone string, n int) []string {
	ctx := t.Context()
	t.Helper()
	var out []string
	for i := range n {
		req := request(owner, fmt.Sprintf("ws-%s-%d", zone, i))
		req.Compute.Region = zone
		inst, err := d.Provision(ctx, req)
		require.NoError(t, err)
		out = append(out, inst.ID)
	}
	return out
}

func TestInstancesFollowsEveryPageAcrossZones(t *testing.T) {
	e := newEnv(t, nil)
	var want []string
	for _, z := range []string{"asia-east1-a", "europe-west1-b", "us-central1-a"} {
		want = append(want, provisionIn(t, e.d, "owner", z, 3)...)
	}
	provisionIn(t, e.d, "other", zone, 2)
	e.srv.SetPageSize(2)
	e.srv.ResetCalls()

	got := list(t, e.d, "owner")
	if g := names(got); !sameSet(g, want) {
		t.Fatalf("Instances = %v; want %v", g, want)
	}
	for _, inst := range got {
		if inst.Provider != cloudswitch.GCP || inst.Region == "" || inst.WorkspaceID == "" || inst.Token == "" || inst.CreatedAt.IsZero() {
			t.Errorf("listed %+v; want zone, workspace, token and creation time", inst)
		}
	}
	if n, pages := e.srv.CallCount(gcptest.OpAggregatedList), 5; n != pages {
		t.Errorf("9 instances in pages of 2 took %d aggregatedList calls; want %d", n, pages)
	}
	if n := e.srv.CallCount(gcptest.OpList); n != 0 {
		t.Errorf("%d per-zone list calls; want none by default", n)
	}
}

func TestInstancesWithZonesListsThoseZonesOneByOne(t *testing.T) {
	e := newEnv(t, nil)
	wide := e.d
	a := provisionIn(t, wide, "owner", "us-central1-a", 3)
	b := provisionIn(t, wide, "owner", "us-central1-b", 2)
	provisionIn(t, wide, "owner", "europe-west1-b", 1)
	d := newDriver(t, e.srv.URL(), e.srv.Project(), e.secret, gcp.WithZones("us-central1-a", "us-central1-b"))
	e.srv.SetPageSize(2)
	e.srv.ResetCalls()

	if got, want := names(list(t, d, "owner")), append(a, b...); !sameSet(got, want) {
		t.Fatalf("Instances = %v; want the two zones' %v", got, want)
	}
	if n := e.srv.CallCount(gcptest.OpList); n != 3 {
		t.Errorf("%d list calls; want 3 (2 pages in one zone, 1 in the other)", n)
	}
	if n := e.srv.CallCount(gcptest.OpAggregatedList); n != 0 {
		t.Errorf("%d aggregatedList calls; want none with WithZones", n)
	}
}

func TestInstancesYieldsAsPagesArrive(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, nil)
	provisionIn(t, e.d, "owner", zone, 6)
	e.srv.SetPageSize(2)
	e.srv.ResetCalls()
	seen := 0
	for _, err := range e.d.Instances(ctx, "owner") {
		require.NoError(t, err)
		seen++
		if calls := e.srv.CallCount(gcptest.OpAggregatedList); calls != (seen+1)/2 {
			t.Fatalf("after %d instances, %d pages were fetched; want %d (one page at a time)", seen, calls, (seen+1)/2)
		}
		if seen == 3 {
			break
		}
	}
	if n := e.srv.CallCount(gcptest.OpAggregatedList); n != 2 {
		t.Errorf("stopping after 3 instances fetched %d pages; want 2", n)
	}
}

func TestInstancesListsInstancesWhateverTheirStatus(t *testing.T) {
	e := newEnv(t, nil)
	vms := provisionIn(t, e.d, "owner", zone, 3)
	e.srv.SetStatus(zone, vms[0], gcptest.StatusStopping)       // being stopped (or deleted)
	e.srv.SetStatus(zone, vms[1], gcptest.StatusTerminated)     // stopped: its disk still bills
	e.srv.SetStatus(zone, vms[2], gcptest.StatusDeprovisioning) // torn down, but it still exists
	if got := names(list(t, e.d, "owner")); !sameSet(got, vms) {
		t.Fatalf("Instances = %v; want %v (every instance that exists is listed)", got, vms)
	}
}

func TestInstancesListsOnlyTheOwnersLabelledInstances(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, nil)
	mine := provisionIn(t, e.d, "owner", zone, 1)
	provisionIn(t, e.d, "owner-2", zone, 1)
	e.srv.AddInstance(zone, "unlabelled", nil)
	bare := e.srv.AddInstance(zone, "owner-label-only", map[string]string{ownership.OwnerKey: "owner"})

	got := list(t, e.d, "owner")
	if !sameSet(names(got), append(mine, bare.Name)) {
		t.Fatalf("Instances = %v; want %v and %s", names(got), mine, bare.Name)
	}
	for _, inst := range got {
		if inst.ID == bare.Name && (inst.WorkspaceID != "" || inst.Token != "") {
			t.Errorf("an instance without workspace and token labels listed as %+v", inst)
		}
	}
	if _, err := providertest.Listed(ctx, e.d, "Not A Label"); !errors.Is(err, gcp.ErrInvalidRequest) {
		t.Errorf("Instances of an owner no label can hold: %v; want ErrInvalidRequest", err)
	}
}

func TestInstancesSkipsAnInstanceWithAnUndecodableLabel(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, nil)
	mine := provisionIn(t, e.d, "owner", zone, 1)
	e.srv.AddInstance(zone, "garbled", map[string]string{ownership.OwnerKey: "owner", ownership.WorkspaceKey: "x-zzzz"})
	got, err := providertest.Listed(ctx, e.d, "owner")
	if err != nil {
		t.Fatalf("Instances: %v; want the other instances listed: one foreign VM must not make every listing incomplete", err)
	}
	if !sameSet(names(got), mine) {
		t.Fatalf("Instances = %v; want %v: an unreadable workspace label must not pass for an orphan (of no workspace)", names(got), mine)
	}
}

func TestInstancesHonoursTheContextWhileAPageIsInFlight(t *testing.T) {
	ctx := t.Context()
	// The REST client sends listings without the caller's context; the
	// driver must not wait for a stalled page past the caller's deadline.
	e := newEnv(t, nil)
	e.srv.Inject(gcptest.Fault{Op: gcptest.OpAggregatedList, Latency: 10 * time.Second})
	dctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := providertest.Listed(dctx, e.d, "owner")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v; want context.DeadlineExceeded", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Instances returned %v after its deadline", took)
	}
}

// scriptedAPI serves one canned aggregatedList answer, for answers the
// emulator does not give.
func scriptedAPI(t *testing.T, body string) *gcp.Driver {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, body)
	}))
	t.Cleanup(ts.Close)
	return newDriver(t, ts.URL, "scripted-project", "unused")
}

func TestInstancesReportsAnUnreachableZoneAsAnIncompleteListing(t *testing.T) {
	ctx := t.Context()
	d := scriptedAPI(t, `{"items":{
		"zones/us-central1-a":{"instances":[{"name":"cs-1","zone":"https://www.googleapis.com/compute/v1/projects/p/zones/us-central1-a","status":"RUNNING","creationTimestamp":"2026-01-02T03:04:05.678-08:00","labels":{"cloudswitch-owner":"owner"}}]},
		"zones/us-central1-b":{"warning":{"code":"UNREACHABLE","message":"The zone 'us-central1-b' is unreachable."}}}}`)
	got, err := providertest.Listed(ctx, d, "owner")
	if !errors.Is(err, cloudswitch.ErrTransient) {
		t.Fatalf("got %v; want ErrTransient: a zone is missing from the listing", err)
	}
	if len(got) != 1 || got[0].ID != "cs-1" || got[0].Region != "us-central1-a" {
		t.Errorf("yielded %+v before the error; want cs-1 of us-central1-a", got)
	}
}

func TestInstancesRefusesAnInstanceWithoutACreationTime(t *testing.T) {
	ctx := t.Context()
	d := scriptedAPI(t, `{"items":{"zones/us-central1-a":{"instances":[
		{"name":"cs-1","zone":"zones/us-central1-a","status":"RUNNING","labels":{"cloudswitch-owner":"owner"}}]}}}`)
	if _, err := providertest.Listed(ctx, d, "owner"); err == nil || errors.Is(err, cloudswitch.ErrTransient) {
		t.Fatalf("got %v; want a permanent error: a reconciler needs the creation time to judge an orphan", err)
	}
}

// sameSet reports whether a and b hold the same names.
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func TestCloseWaitsForAListingItsCallerAbandoned(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, nil)
	e.srv.Inject(gcptest.Fault{Op: gcptest.OpAggregatedList, Times: 1, Latency: 300 * time.Millisecond})
	dctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := providertest.Listed(dctx, e.d, "owner"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v; want context.DeadlineExceeded", err)
	}
	start := time.Now()
	require.NoError(t, e.d.Close())
	if took := time.Since(start); took < 200*time.Millisecond {
		t.Errorf("Close returned after %v, before the abandoned page (300 ms) was answered", took)
	}
}
