package hetzner_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/ownership"
	"github.com/cloudswitch/cloudswitch/providers/hetzner"
	"github.com/cloudswitch/cloudswitch/providers/hetzner/hetznertest"
	"github.com/cloudswitch/cloudswitch/providers/providertest"
)

// plant adds n servers labelled as the driver labels them, for owner.
func plant(srv *hetznertest.Server, owner string, n int) {
	for i := range n {
		srv.AddInstance(fmt.Sprintf("cs-%s-%05d", owner, i), map[string]string{
			ownership.OwnerKey: owner, ownership.WorkspaceKey: fmt.Sprintf("ws-%d", i), ownership.TokenKey: fmt.Sprintf("tok%05d", i),
		})
	}
}

// Each page is one call, and each boundary between two pages one more: the
// last server of a page is read again after the next page, to catch a
// shift (see TestInstancesListsEveryServerThatLivesThroughTheListing).
func TestInstancesFollowsEveryPageWithOneCallEachAndOnePerBoundary(t *testing.T) {
	for _, c := range []struct{ servers, cap, calls int }{
		{0, 0, 1}, {50, 0, 1}, {51, 0, 3}, {120, 0, 5}, {120, 7, 35}, {7, 3, 5},
	} {
		t.Run(fmt.Sprintf("%d servers, pages capped at %d", c.servers, c.cap), func(t *testing.T) {
			srv, d := setup(t, nil)
			plant(srv, owner, c.servers)
			plant(srv, "other-owner", 30)
			srv.SetPageSize(c.cap)
			srv.ResetCalls()
			got := list(t, d, owner)
			if len(got) != c.servers {
				t.Fatalf("listed %d servers; want %d", len(got), c.servers)
			}
			for i, inst := range got {
				if inst.WorkspaceID != fmt.Sprintf("ws-%d", i) || inst.Token != fmt.Sprintf("tok%05d", i) || inst.Provider != cloudswitch.Hetzner {
					t.Fatalf("instance %d = %+v; want workspace ws-%d in id order", i, inst, i)
				}
			}
			if calls := srv.CallCount(hetznertest.OpListServers); calls != c.calls {
				t.Fatalf("%d listing calls; want %d, one per page and one per page boundary", calls, c.calls)
			}
		})
	}
}

func TestInstancesLeavesOutServersBeingDeleted(t *testing.T) {
	ctx := t.Context()
	srv, d := setup(t, []hetznertest.Option{hetznertest.WithActionDuration(time.Hour)})
	plant(srv, owner, 3)
	vm := srv.Instances()[1]
	if _, _, err := srv.Client().Server.DeleteWithResult(ctx, serverRef(vm.ID)); err != nil {
		t.Fatal(err)
	}
	got := list(t, d, owner)
	if len(got) != 2 || got[0].ID == itoa(vm.ID) || got[1].ID == itoa(vm.ID) {
		t.Fatalf("Instances = %+v; want the two servers not being deleted", got)
	}
}

func TestInstancesStopsWhenTheCallerStops(t *testing.T) {
	ctx := t.Context()
	srv, d := setup(t, nil)
	plant(srv, owner, 120)
	srv.ResetCalls()
	for range d.Instances(ctx, owner) {
		break
	}
	if calls := srv.CallCount(hetznertest.OpListServers); calls != 1 {
		t.Fatalf("stopping at the first server took %d calls; want 1", calls)
	}
}

func TestAnErrorOnALaterPageEndsTheListing(t *testing.T) {
	ctx := t.Context()
	srv, d := setup(t, nil)
	plant(srv, owner, 75)
	srv.Inject(hetznertest.Fault{Op: hetznertest.OpListServers, Times: 1})                                   // page 1 passes
	srv.Inject(hetznertest.Fault{Op: hetznertest.OpListServers, Times: 1, Status: 503, Code: "maintenance"}) // page 2 fails
	got, err := providertest.Listed(ctx, d, owner)
	if len(got) != 50 || !errors.Is(err, cloudswitch.ErrTransient) {
		t.Fatalf("listed %d servers, then %v; want the first page's 50, then ErrTransient", len(got), err)
	}
}

func TestInstancesNeverReportsAServerWithoutTheOwnerLabel(t *testing.T) {
	srv := hetznertest.NewServer(t)
	plant(srv, owner, 2)
	plant(srv, "other-owner", 3)
	srv.AddInstance("unlabelled", nil)
	// An API that ignores the selector still cannot make us claim them.
	d := newProxy(t, srv, &proxy{query: func(_ string, q url.Values) { q.Del("label_selector") }})
	got := list(t, d, owner)
	if len(got) != 2 {
		t.Fatalf("Instances = %+v; want only the 2 servers labelled %s", got, owner)
	}
}

func TestInstancesRefusesPaginationThatGoesBackwards(t *testing.T) {
	ctx := t.Context()
	srv := hetznertest.NewServer(t)
	plant(srv, owner, 60)
	d := newProxy(t, srv, &proxy{body: func(path string, answer map[string]any) {
		if path == "/servers" {
			answer["meta"].(map[string]any)["pagination"].(map[string]any)["next_page"] = 1
		}
	}})
	got, err := providertest.Listed(ctx, d, owner)
	if len(got) != 50 || err == nil || errors.Is(err, cloudswitch.ErrTransient) {
		t.Fatalf("listed %d, then %v; want the first page, then a permanent error instead of a loop", len(got), err)
	}
}

func TestInstancesYieldsUndecodableLabelsAsTheyAreAndWarns(t *testing.T) {
	var logs bytes.Buffer
	srv, d := setup(t, nil, hetzner.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	srv.AddInstance("odd", map[string]string{ownership.OwnerKey: owner, ownership.WorkspaceKey: "x-!!", ownership.TokenKey: "tok"})
	got := list(t, d, owner)
	if len(got) != 1 || got[0].WorkspaceID != "x-!!" || got[0].Token != "tok" {
		t.Fatalf("Instances = %+v; want the server with its raw workspace label", got)
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "x-!!") {
		t.Fatalf("log: %q; want a warning naming the label", logs.String())
	}
}

func TestInstancesRefusesAnInvalidOwnerWithoutAnAPICall(t *testing.T) {
	ctx := t.Context()
	srv, d := setup(t, nil)
	for _, o := range []string{"", "two words", "a,b", "x=y", strings.Repeat("o", 64)} {
		if _, err := providertest.Listed(ctx, d, o); err == nil || errors.Is(err, cloudswitch.ErrTransient) {
			t.Errorf("Instances(%q): %v; want a permanent error", o, err)
		}
	}
	if n := srv.CallCount(""); n != 0 {
		t.Fatalf("%d API calls; want none", n)
	}
}

// A listing whose servers keep shifting never ends as complete: after a
// bounded number of restarts it ends with a transient error, and it never
// yields a server twice.
func TestInstancesThatKeepShiftingEndInATransientErrorAndNeverRepeatAServer(t *testing.T) {
	ctx := t.Context()
	srv, d := setup(t, nil)
	var insts []cloudswitch.Instance
	for i := range 20 {
		insts = append(insts, provision(t, d, request(fmt.Sprintf("ws-%d", i))))
	}
	srv.SetPageSize(2)

	seen := map[string]int{}
	var last error
	n := 0
	for inst, err := range d.Instances(ctx, owner) {
		if err != nil {
			last = err
			break
		}
		seen[inst.ID]++
		n++
		if n%2 == 0 { // at every page boundary another switch deletes the oldest server
			require.NoError(t, d.Deprovision(ctx, insts[0]))
			insts = insts[1:]
		}
	}
	require.Error(t, last, "the servers shifted at every page, yet the listing ended as complete")
	assert.ErrorIs(t, last, cloudswitch.ErrTransient)
	for id, times := range seen {
		assert.Equal(t, 1, times, "server %s was yielded %d times", id, times)
	}
}
