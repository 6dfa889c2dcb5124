package hetznertest_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch/providers/hetzner/hetznertest"
)

func TestListServersFiltersByLabelSelector(t *testing.T) {
	ctx := t.Context()
	srv := hetznertest.NewServer(t)
	c := srv.Client()
	create(t, c, "a", map[string]string{"env": "prod", "team": "blue"})
	create(t, c, "b", map[string]string{"env": "staging", "team": "blue"})
	create(t, c, "c", map[string]string{"env": "dev"})
	create(t, c, "d", nil)
	for selector, want := range map[string][]string{
		"":                            {"a", "b", "c", "d"},
		"env=prod":                    {"a"},
		"env==prod":                   {"a"},
		"env!=prod":                   {"b", "c", "d"},
		"team":                        {"a", "b"},
		"!team":                       {"c", "d"},
		"env in (prod,dev)":           {"a", "c"},
		"env in (prod, staging)":      {"a", "b"},
		"env notin (prod,staging)":    {"c", "d"},
		"team=blue,env in (dev,prod)": {"a"},
		"team=blue,env!=prod":         {"b"},
		"env=nothing":                 nil,
	} {
		got, err := c.Server.AllWithOpts(ctx, hcloud.ServerListOpts{ListOpts: hcloud.ListOpts{LabelSelector: selector}})
		require.NoErrorf(t, err, "selector %q", selector)
		if !slices.Equal(names(got), want) {
			t.Errorf("selector %q selected %v; want %v", selector, names(got), want)
		}
	}
	for _, bad := range []string{"env=(prod", "env in prod", "=prod", "env=a b", ",env=prod"} {
		_, err := c.Server.AllWithOpts(ctx, hcloud.ServerListOpts{ListOpts: hcloud.ListOpts{LabelSelector: bad}})
		wantAPIError(t, err, hcloud.ErrorCodeInvalidInput, http.StatusBadRequest)
	}
}

func TestListServersByNameStatusAndSort(t *testing.T) {
	ctx := t.Context()
	srv := hetznertest.NewServer(t)
	c := srv.Client()
	for _, n := range []string{"b", "c", "a"} {
		create(t, c, n, nil)
	}
	got, err := c.Server.AllWithOpts(ctx, hcloud.ServerListOpts{Name: "c"})
	if err != nil || !slices.Equal(names(got), []string{"c"}) {
		t.Fatalf("name=c: %v, %v", names(got), err)
	}
	got, err = c.Server.AllWithOpts(ctx, hcloud.ServerListOpts{Sort: []string{"name:desc"}})
	if err != nil || !slices.Equal(names(got), []string{"c", "b", "a"}) {
		t.Fatalf("sort=name:desc: %v, %v", names(got), err)
	}
	got, err = c.Server.AllWithOpts(ctx, hcloud.ServerListOpts{Sort: []string{"id:desc"}})
	if err != nil || !slices.Equal(names(got), []string{"a", "c", "b"}) {
		t.Fatalf("sort=id:desc: %v, %v", names(got), err)
	}
	got, err = c.Server.AllWithOpts(ctx, hcloud.ServerListOpts{Status: []hcloud.ServerStatus{hcloud.ServerStatusOff}})
	if err != nil || len(got) != 0 {
		t.Fatalf("status=off: %v, %v; want none", names(got), err)
	}
	_, err = c.Server.AllWithOpts(ctx, hcloud.ServerListOpts{Sort: []string{"colour"}})
	wantAPIError(t, err, hcloud.ErrorCodeInvalidInput, http.StatusBadRequest)
}

func TestListServersPaginatesAsTheAPIDoes(t *testing.T) {
	ctx := t.Context()
	srv := hetznertest.NewServer(t)
	for i := range 120 {
		srv.AddInstance(fmt.Sprintf("s-%03d", i), map[string]string{"k": "v"})
	}
	status, _, body := call(t, srv, "GET", "/servers?label_selector=k%3Dv", srv.Token(), "")
	p := pagination(t, status, body)
	if p["page"] != 1.0 || p["per_page"] != 25.0 || p["previous_page"] != nil || p["next_page"] != 2.0 ||
		p["last_page"] != 5.0 || p["total_entries"] != 120.0 || len(body["servers"].([]any)) != 25 {
		t.Errorf("first page by default: %v with %d servers", p, len(body["servers"].([]any)))
	}
	status, _, body = call(t, srv, "GET", "/servers?page=3&per_page=100", srv.Token(), "")
	p = pagination(t, status, body)
	if p["page"] != 3.0 || p["per_page"] != 50.0 || p["previous_page"] != 2.0 || p["next_page"] != nil ||
		p["last_page"] != 3.0 || len(body["servers"].([]any)) != 20 {
		t.Errorf("last page, per_page clamped to 50: %v with %d servers", p, len(body["servers"].([]any)))
	}
	status, _, body = call(t, srv, "GET", "/servers?page=9", srv.Token(), "")
	if p = pagination(t, status, body); p["next_page"] != nil || len(body["servers"].([]any)) != 0 {
		t.Errorf("beyond the last page: %v with %d servers; want an empty page", p, len(body["servers"].([]any)))
	}
	if status, _, body := call(t, srv, "GET", "/servers?page=0", srv.Token(), ""); status != 400 || code(body) != "invalid_input" {
		t.Errorf("page=0: %d %v; want 400 invalid_input", status, body)
	}

	srv.SetPageSize(7)
	srv.ResetCalls()
	all, err := srv.Client().Server.AllWithOpts(ctx, hcloud.ServerListOpts{ListOpts: hcloud.ListOpts{PerPage: 50}})
	if err != nil || len(all) != 120 {
		t.Fatalf("AllWithOpts: %d servers, %v; want 120", len(all), err)
	}
	if calls := srv.CallCount(hetznertest.OpListServers); calls != 18 {
		t.Errorf("listing 120 servers in pages capped at 7 took %d calls; want 18", calls)
	}
	for i, s := range all {
		if want := fmt.Sprintf("s-%03d", i); s.Name != want {
			t.Fatalf("server %d is %s; want %s, in id order", i, s.Name, want)
		}
	}
	srv.SetPageSize(0)
	srv.ResetCalls()
	if _, err := srv.Client().Server.AllWithOpts(ctx, hcloud.ServerListOpts{}); err != nil || srv.CallCount(hetznertest.OpListServers) != 3 {
		t.Errorf("without a cap, 120 servers took %d calls of 50; want 3 (%v)", srv.CallCount(hetznertest.OpListServers), err)
	}
}

func pagination(t *testing.T, status int, body map[string]any) map[string]any {
	t.Helper()
	if status != http.StatusOK {
		t.Fatalf("status %d: %v", status, body)
	}
	m, _ := body["meta"].(map[string]any)
	p, ok := m["pagination"].(map[string]any)
	if !ok {
		t.Fatalf("no meta.pagination in %v", body)
	}
	return p
}

func TestListLagHidesNewServersFromListingsOnly(t *testing.T) {
	ctx := t.Context()
	srv := hetznertest.NewServer(t)
	c := srv.Client()
	create(t, c, "early", nil)
	srv.SetListLag(time.Hour)
	late := create(t, c, "late", nil)
	planted := srv.AddInstance("planted", nil)
	all, err := c.Server.All(ctx)
	if err != nil || !slices.Equal(names(all), []string{"early"}) {
		t.Fatalf("listing = %v, %v; want only the server created before the lag", names(all), err)
	}
	if byName, _, err := c.Server.GetByName(ctx, "late"); byName != nil || err != nil {
		t.Fatalf("GetByName(late) = %+v, %v; want nil: lookups by name are listings", byName, err)
	}
	for _, id := range []int64{late.ID, planted.ID} {
		if got, _, err := c.Server.GetByID(ctx, id); got == nil || err != nil {
			t.Fatalf("GetByID(%d) = %+v, %v; want the server", id, got, err)
		}
	}
	if n := len(srv.Instances()); n != 3 {
		t.Fatalf("Instances() has %d servers; want 3", n)
	}
}

func TestActionsAreListedByID(t *testing.T) {
	ctx := t.Context()
	srv := hetznertest.NewServer(t)
	c := srv.Client()
	res, _, err := c.Server.Create(ctx, createOpts("acted", nil))
	require.NoError(t, err)
	ids := []int64{res.NextActions[0].ID, res.Action.ID, 999}
	got, err := c.Action.AllWithOpts(ctx, hcloud.ActionListOpts{ID: ids, Sort: []string{"status", "id"}})
	if err != nil || len(got) != 2 || got[0].ID != res.Action.ID || got[0].Status != hcloud.ActionStatusSuccess {
		t.Fatalf("AllWithOpts(%v) = %+v, %v; want the two known actions, succeeded, by id", ids, got, err)
	}
	if status, _, body := call(t, srv, "GET", "/actions", srv.Token(), ""); status != 400 || code(body) != "invalid_input" {
		t.Errorf("GET /actions without ids: %d %v; want 400 invalid_input", status, body)
	}
	if a, _, err := c.Action.GetByID(ctx, 999); a != nil || err != nil {
		t.Errorf("GetByID(999) = %+v, %v; want nil, nil (404 not_found)", a, err)
	}
	a, _, err := c.Action.GetByID(ctx, res.Action.ID)
	if err != nil || a.Progress != 100 || a.Finished.IsZero() || len(a.Resources) != 1 || a.Resources[0].ID != res.Server.ID {
		t.Errorf("GetByID(create action) = %+v, %v", a, err)
	}
}

func TestListingsSeeChangesBetweenTheirPages(t *testing.T) {
	ctx := t.Context()
	srv := hetznertest.NewServer(t)
	c := srv.Client()
	for i := range 3 {
		create(t, c, fmt.Sprintf("s-%d", i), map[string]string{"k": "v"})
	}
	opts := hcloud.ServerListOpts{ListOpts: hcloud.ListOpts{Page: 1, PerPage: 2, LabelSelector: "k=v"}}
	if _, resp, err := c.Server.List(ctx, opts); err != nil || resp.Meta.Pagination.TotalEntries != 3 {
		t.Fatalf("page 1: %+v, %v; want 3 entries", resp.Meta.Pagination, err)
	}
	create(t, c, "s-3", map[string]string{"k": "v"})
	opts.Page = 2
	got, resp, err := c.Server.List(ctx, opts)
	if err != nil || resp.Meta.Pagination.TotalEntries != 4 || !slices.Equal(names(got), []string{"s-2", "s-3"}) {
		t.Fatalf("page 2 after a create: %v, %+v, %v; want s-2 and s-3 of 4", names(got), resp.Meta.Pagination, err)
	}
	srv.SetListLag(30 * time.Millisecond)
	create(t, c, "s-4", map[string]string{"k": "v"})
	if _, resp, _ := c.Server.List(ctx, opts); resp.Meta.Pagination.TotalEntries != 4 {
		t.Fatalf("within the lag: %d entries; want 4", resp.Meta.Pagination.TotalEntries)
	}
	time.Sleep(40 * time.Millisecond)
	if _, resp, _ := c.Server.List(ctx, opts); resp.Meta.Pagination.TotalEntries != 5 {
		t.Fatalf("after the lag: %d entries; want 5", resp.Meta.Pagination.TotalEntries)
	}
	del, _, err := c.Server.DeleteWithResult(ctx, got[0])
	require.NoError(t, err)
	require.NoError(t, c.Action.WaitFor(ctx, del.Action))
	if _, resp, _ := c.Server.List(ctx, opts); resp.Meta.Pagination.TotalEntries != 4 {
		t.Fatalf("after a delete: %d entries; want 4", resp.Meta.Pagination.TotalEntries)
	}
}
