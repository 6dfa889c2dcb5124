package hetznertest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch/providers/hetzner/hetznertest"
)

func TestCreateServerStartsRunningActionsThatSucceedOnTheNextLook(t *testing.T) {
	ctx := t.Context()
	srv := hetznertest.NewServer(t)
	c := srv.Client()
	res, _, err := c.Server.Create(ctx, createOpts("web-1", map[string]string{"team": "blue"}))
	require.NoError(t, err)
	if res.Action.Status != hcloud.ActionStatusRunning || res.Action.Command != "create_server" {
		t.Fatalf("create action = %s %s; want create_server running", res.Action.Command, res.Action.Status)
	}
	if len(res.NextActions) != 1 || res.NextActions[0].Command != "start_server" {
		t.Fatalf("next actions = %+v; want one start_server", res.NextActions)
	}
	if res.Server.Status != hcloud.ServerStatusInitializing || res.Server.Name != "web-1" ||
		res.Server.ServerType.Name != "cpx31" || res.Server.Location.Name != "nbg1" || res.Server.Labels["team"] != "blue" {
		t.Fatalf("created server = %+v", res.Server)
	}
	require.NoError(t, c.Action.WaitFor(ctx, append([]*hcloud.Action{res.Action}, res.NextActions...)...), "WaitFor")
	if n := srv.CallCount(hetznertest.OpListActions); n != 1 {
		t.Errorf("waiting took %d polls; want 1: actions succeed on the next look", n)
	}
	got, _, err := c.Server.GetByID(ctx, res.Server.ID)
	if err != nil || got == nil || got.Status != hcloud.ServerStatusRunning {
		t.Fatalf("GetByID after the actions = %+v, %v; want a running server", got, err)
	}
	vms := srv.Instances()
	if len(vms) != 1 || vms[0].ID != res.Server.ID || vms[0].Status != hetznertest.StatusRunning ||
		vms[0].Type != "cpx31" || vms[0].Location != "nbg1" || vms[0].Image != "ubuntu-24.04" || !vms[0].Live() {
		t.Fatalf("Instances() = %+v", vms)
	}
}

func TestActionDurationKeepsServersInitializingAndDeleting(t *testing.T) {
	ctx := t.Context()
	srv := hetznertest.NewServer(t, hetznertest.WithActionDuration(time.Hour))
	srv.SetLocking(false) // delete it while its create runs
	c := srv.Client()
	res, _, err := c.Server.Create(ctx, createOpts("slow", nil))
	require.NoError(t, err)
	a, _, err := c.Action.GetByID(ctx, res.Action.ID)
	if err != nil || a.Status != hcloud.ActionStatusRunning {
		t.Fatalf("GetByID(create action) = %+v, %v; want running for an hour", a, err)
	}
	if vms := srv.Instances(); vms[0].Status != hetznertest.StatusInitializing {
		t.Fatalf("status %q; want initializing while the create action runs", vms[0].Status)
	}
	del, _, err := c.Server.DeleteWithResult(ctx, res.Server)
	require.NoError(t, err)
	again, _, err := c.Server.DeleteWithResult(ctx, res.Server)
	if err != nil || again.Action.ID != del.Action.ID {
		t.Fatalf("deleting a server being deleted = %+v, %v; want the running delete action %d", again, err, del.Action.ID)
	}
	vms := srv.Instances()
	if len(vms) != 1 || vms[0].Status != hetznertest.StatusDeleting || vms[0].Live() {
		t.Fatalf("Instances() = %+v; want the server deleting, not live", vms)
	}
	wait, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := c.Action.WaitFor(wait, del.Action); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitFor an hour-long action: %v; want the deadline", err)
	}
}

func TestDeletedServersAreGone(t *testing.T) {
	ctx := t.Context()
	srv := hetznertest.NewServer(t)
	c := srv.Client()
	s := create(t, c, "doomed", nil)
	res, _, err := c.Server.DeleteWithResult(ctx, s)
	require.NoError(t, err)
	if res.Action.Command != "delete_server" || res.Action.Status != hcloud.ActionStatusRunning {
		t.Fatalf("delete action = %+v", res.Action)
	}
	require.NoError(t, c.Action.WaitFor(ctx, res.Action))
	if got, _, err := c.Server.GetByID(ctx, s.ID); got != nil || err != nil {
		t.Fatalf("GetByID of a deleted server = %+v, %v; want nil, nil (404 not_found)", got, err)
	}
	_, _, err = c.Server.DeleteWithResult(ctx, s)
	wantAPIError(t, err, hcloud.ErrorCodeNotFound, http.StatusNotFound)
	if vms := srv.Instances(); len(vms) != 0 {
		t.Fatalf("Instances() = %+v; want none", vms)
	}
	// The name is free again.
	create(t, c, "doomed", nil)
}

func TestCreateServerRefusesATakenName(t *testing.T) {
	ctx := t.Context()
	srv := hetznertest.NewServer(t)
	c := srv.Client()
	first := create(t, c, "taken", map[string]string{"who": "first"})
	_, _, err := c.Server.Create(ctx, createOpts("taken", map[string]string{"who": "second"}))
	wantAPIError(t, err, hcloud.ErrorCodeUniquenessError, http.StatusConflict)
	vms := srv.Instances()
	if len(vms) != 1 || vms[0].ID != first.ID || vms[0].Labels["who"] != "first" {
		t.Fatalf("Instances() = %+v; want only the first server, untouched", vms)
	}
}

func TestCreateServerChecksTheRequest(t *testing.T) {
	ctx := t.Context()
	srv := hetznertest.NewServer(t, hetznertest.WithSSHKeys("ops"))
	c := srv.Client()
	for field, mutate := range map[string]func(*hcloud.ServerCreateOpts){
		"name":        func(o *hcloud.ServerCreateOpts) { o.Name = "not a hostname" },
		"server_type": func(o *hcloud.ServerCreateOpts) { o.ServerType = &hcloud.ServerType{Name: "cx999"} },
		"location":    func(o *hcloud.ServerCreateOpts) { o.Location = &hcloud.Location{Name: "mars1"} },
		"ssh_keys":    func(o *hcloud.ServerCreateOpts) { o.SSHKeys = []*hcloud.SSHKey{{ID: 2}} },
		"labels":      func(o *hcloud.ServerCreateOpts) { o.Labels = map[string]string{"ok": "white space"} },
		"user_data":   func(o *hcloud.ServerCreateOpts) { o.UserData = strings.Repeat("x", 32<<10+1) },
		"firewalls": func(o *hcloud.ServerCreateOpts) {
			o.Firewalls = []*hcloud.ServerCreateFirewall{{Firewall: hcloud.Firewall{ID: -1}}}
		},
		"networks": func(o *hcloud.ServerCreateOpts) { o.Networks = []*hcloud.Network{{ID: -3}} },
	} {
		opts := createOpts("checked", nil)
		mutate(&opts)
		_, _, err := c.Server.Create(ctx, opts)
		apiErr := wantAPIError(t, err, hcloud.ErrorCodeInvalidInput, http.StatusBadRequest)
		details, ok := apiErr.Details.(hcloud.ErrorDetailsInvalidInput)
		if !ok || len(details.Fields) != 1 || details.Fields[0].Name != field {
			t.Errorf("invalid %s: details %+v; want the field named", field, apiErr.Details)
		}
	}
	status, ctype, body := call(t, srv, "POST", "/servers", srv.Token(), "{not json")
	if status != http.StatusBadRequest || !strings.HasPrefix(ctype, "application/json") || code(body) != "json_error" {
		t.Errorf("malformed JSON: %d %s %v; want 400 json_error", status, ctype, body)
	}
	if status, _, body := call(t, srv, "POST", "/servers", srv.Token(), `{"name":"no-image","server_type":"cpx11"}`); status != 400 || code(body) != "invalid_input" {
		t.Errorf("no image: %d %v; want 400 invalid_input", status, body)
	}
	if vms := srv.Instances(); len(vms) != 0 {
		t.Fatalf("refused requests created %+v", vms)
	}
}

func TestCreateServerRecordsKeysNetworksFirewallsAndUserData(t *testing.T) {
	ctx := t.Context()
	srv := hetznertest.NewServer(t, hetznertest.WithSSHKeys("ops", "ci"), hetznertest.WithServerTypes("cx22"),
		hetznertest.WithLocations("hel1", "fsn1"))
	c := srv.Client()
	key, _, err := c.SSHKey.GetByName(ctx, "ci")
	if err != nil || key == nil || key.ID != 2 {
		t.Fatalf("GetByName(ci) = %+v, %v; want key 2", key, err)
	}
	if missing, _, err := c.SSHKey.GetByName(ctx, "nobody"); missing != nil || err != nil {
		t.Fatalf("GetByName(nobody) = %+v, %v; want nil, nil", missing, err)
	}
	opts := hcloud.ServerCreateOpts{
		Name: "full", ServerType: &hcloud.ServerType{Name: "cx22"}, Image: &hcloud.Image{ID: 67794396},
		SSHKeys: []*hcloud.SSHKey{key}, Networks: []*hcloud.Network{{ID: 7}},
		Firewalls: []*hcloud.ServerCreateFirewall{{Firewall: hcloud.Firewall{ID: 9}}}, UserData: "#cloud-config\n",
	}
	res, _, err := c.Server.Create(ctx, opts)
	require.NoError(t, err)
	if res.RootPassword != "" {
		t.Errorf("a server with SSH keys got a root password")
	}
	if res.Server.Location.Name != "hel1" || len(res.Server.PrivateNet) != 1 || res.Server.PrivateNet[0].Network.ID != 7 ||
		len(res.Server.PublicNet.Firewalls) != 1 || res.Server.PublicNet.Firewalls[0].Firewall.ID != 9 {
		t.Errorf("created server = %+v; want the default location hel1, network 7, firewall 9", res.Server)
	}
	vm := srv.Instances()[0]
	if vm.Image != "67794396" || !slices.Equal(vm.SSHKeys, []int64{2}) || !slices.Equal(vm.Networks, []int64{7}) ||
		!slices.Equal(vm.Firewalls, []int64{9}) || vm.UserData != "#cloud-config\n" || vm.Location != "hel1" {
		t.Errorf("ground truth = %+v", vm)
	}
	_, _, err = c.Server.Create(ctx, createOpts("other-type", nil))
	wantAPIError(t, err, hcloud.ErrorCodeInvalidInput, http.StatusBadRequest)
}

func TestWrongTokenIsUnauthorized(t *testing.T) {
	ctx := t.Context()
	srv := hetznertest.NewServer(t, hetznertest.WithToken("right-token"))
	if srv.Token() != "right-token" {
		t.Fatalf("Token() = %q", srv.Token())
	}
	c := srv.Client(hcloud.WithToken("wrong-token"))
	_, err := c.Server.All(ctx)
	wantAPIError(t, err, hcloud.ErrorCodeUnauthorized, http.StatusUnauthorized)
	status, ctype, body := call(t, srv, "GET", "/servers", "", "")
	if status != http.StatusUnauthorized || !strings.HasPrefix(ctype, "application/json") || code(body) != "unauthorized" {
		t.Fatalf("no token: %d %s %v; want 401 unauthorized as JSON", status, ctype, body)
	}
	if n := srv.CallCount(hetznertest.OpListServers); n != 2 {
		t.Errorf("Calls = %d; want the 2 refused calls counted", n)
	}
}

func TestUnknownEndpointsAreNotFound(t *testing.T) {
	srv := hetznertest.NewServer(t)
	status, ctype, body := call(t, srv, "GET", "/volumes", srv.Token(), "")
	if status != http.StatusNotFound || !strings.HasPrefix(ctype, "application/json") || code(body) != "not_found" {
		t.Fatalf("GET /volumes: %d %s %v; want 404 not_found", status, ctype, body)
	}
	if status, _, body := call(t, srv, "GET", "/servers/abc", srv.Token(), ""); status != 400 || code(body) != "invalid_input" {
		t.Fatalf("GET /servers/abc: %d %v; want 400 invalid_input", status, body)
	}
}

func TestAddInstancePlantsAServerCreatedElsewhere(t *testing.T) {
	ctx := t.Context()
	srv := hetznertest.NewServer(t)
	vm := srv.AddInstance("cs-planted", map[string]string{"cloudswitch-owner": "someone-else"})
	if vm.ID == 0 || vm.Status != hetznertest.StatusRunning || vm.Labels["cloudswitch-owner"] != "someone-else" {
		t.Fatalf("AddInstance = %+v", vm)
	}
	got, _, err := srv.Client().Server.GetByName(ctx, "cs-planted")
	if err != nil || got == nil || got.ID != vm.ID {
		t.Fatalf("GetByName = %+v, %v; want the planted server", got, err)
	}
	_, _, err = srv.Client().Server.Create(ctx, createOpts("cs-planted", nil))
	wantAPIError(t, err, hcloud.ErrorCodeUniquenessError, http.StatusConflict)

	rec := &recorder{TB: t}
	again := hetznertest.NewServer(rec)
	again.AddInstance("twice", nil)
	if vm := again.AddInstance("twice", nil); vm.ID != 0 || len(rec.errors) != 1 {
		t.Fatalf("AddInstance of a taken name = %+v, test errors %q; want the zero Instance and a test error", vm, rec.errors)
	}
}

// recorder is a testing.TB that records Errorf instead of failing.
type recorder struct {
	testing.TB
	errors []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

// code is the error code of a decoded error envelope.
func code(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func TestActionsEndAfterTheirDuration(t *testing.T) {
	ctx := t.Context()
	srv := hetznertest.NewServer(t, hetznertest.WithActionDuration(30*time.Millisecond))
	c := srv.Client()
	start := time.Now()
	res, _, err := c.Server.Create(ctx, createOpts("timed", nil))
	require.NoError(t, err)
	if a, _, err := c.Action.GetByID(ctx, res.Action.ID); err != nil || a.Status != hcloud.ActionStatusRunning {
		t.Fatalf("right after the create: %+v, %v; want running", a, err)
	}
	require.NoError(t, c.Action.WaitFor(ctx, res.Action))
	if took := time.Since(start); took < 30*time.Millisecond {
		t.Fatalf("a 30 ms action ended after %v", took)
	}
}
