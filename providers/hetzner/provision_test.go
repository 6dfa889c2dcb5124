package hetzner_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/ownership"
	"github.com/cloudswitch/cloudswitch/providers/hetzner"
	"github.com/cloudswitch/cloudswitch/providers/hetzner/hetznertest"
)

func TestProvisionNamesTheServerAfterTheTokenAndLabelsIt(t *testing.T) {
	srv, d := setup(t, []hetznertest.Option{hetznertest.WithSSHKeys("ops", "ci")},
		hetzner.WithLabels(map[string]string{"team": "blue"}), hetzner.WithSSHKeys("ci", "1"),
		hetzner.WithNetworks(7), hetzner.WithFirewalls(9, 10), hetzner.WithUserData("#cloud-config\n"))
	req := request("ws-1")
	req.Compute.Region = "hel1"
	inst := provision(t, d, req)
	want := cloudswitch.Instance{
		Provider: cloudswitch.Hetzner, ID: inst.ID, Region: "hel1", WorkspaceID: "ws-1", Token: req.Token,
		InstanceType: "cpx21", Image: hetzner.DefaultImage, CreatedAt: inst.CreatedAt,
	}
	if inst != want || inst.CreatedAt.IsZero() {
		t.Fatalf("Provision = %+v; want %+v with a creation time", inst, want)
	}
	vm, ok := vmByID(t, srv, inst.ID)
	if !ok {
		t.Fatal("the server does not exist")
	}
	wantLabels := map[string]string{
		"team": "blue", ownership.OwnerKey: owner, ownership.WorkspaceKey: "ws-1", ownership.TokenKey: req.Token,
	}
	if vm.Name != ownership.Name(req.Token) || !maps.Equal(vm.Labels, wantLabels) {
		t.Errorf("server %s with labels %v; want name %s and labels %v", vm.Name, vm.Labels, ownership.Name(req.Token), wantLabels)
	}
	if vm.Type != "cpx21" || vm.Location != "hel1" || vm.Image != hetzner.DefaultImage || vm.Status != hetznertest.StatusRunning {
		t.Errorf("server %+v; want a running cpx21 in hel1 from %s", vm, hetzner.DefaultImage)
	}
	if !slices.Equal(vm.SSHKeys, []int64{2, 1}) || !slices.Equal(vm.Networks, []int64{7}) ||
		!slices.Equal(vm.Firewalls, []int64{9, 10}) || vm.UserData != "#cloud-config\n" {
		t.Errorf("server keys %v, networks %v, firewalls %v, user data %q; want the options' values", vm.SSHKeys, vm.Networks, vm.Firewalls, vm.UserData)
	}
	if n := srv.CallCount(hetznertest.OpListSSHKeys); n != 1 {
		t.Errorf("%d SSH key lookups; want 1: a key given by id needs none", n)
	}
}

func TestProvisionDefaultsLocationAndImageAndTakesTheComputes(t *testing.T) {
	srv, d := setup(t, nil, hetzner.WithLocation("nbg1"), hetzner.WithImage("debian-12"))
	a := provision(t, d, request("ws-defaults"))
	req := request("ws-chosen")
	req.Compute.Region, req.Compute.Image = "ash", "rocky-9"
	b := provision(t, d, req)
	va, _ := vmByID(t, srv, a.ID)
	vb, _ := vmByID(t, srv, b.ID)
	if va.Location != "nbg1" || va.Image != "debian-12" || a.Region != "nbg1" {
		t.Errorf("defaults: server in %s from %s, instance region %s; want nbg1 and debian-12", va.Location, va.Image, a.Region)
	}
	if vb.Location != "ash" || vb.Image != "rocky-9" || b.Region != "ash" {
		t.Errorf("compute: server in %s from %s; want ash and rocky-9", vb.Location, vb.Image)
	}
}

func TestALostCreateAnswerIsAdoptedByTheRepeat(t *testing.T) {
	ctx := t.Context()
	srv, d := setup(t, nil)
	req := request("ws-lost")
	srv.Inject(hetznertest.Fault{Op: hetznertest.OpCreateServer, Times: 1, Drop: true})
	if _, err := d.Provision(ctx, req); !errors.Is(err, cloudswitch.ErrTransient) {
		t.Fatalf("Provision with its answer lost: %v; want ErrTransient", err)
	}
	first := srv.Instances()
	if len(first) != 1 {
		t.Fatalf("%d servers after the lost answer; want the one created", len(first))
	}
	inst := provision(t, d, req)
	if inst.ID != itoa(first[0].ID) || inst.WorkspaceID != req.WorkspaceID || inst.Token != req.Token || inst.Region != first[0].Location {
		t.Fatalf("the repeat returned %+v; want server %d", inst, first[0].ID)
	}
	if vms := srv.Instances(); len(vms) != 1 {
		t.Fatalf("%d servers after the repeat; want exactly one", len(vms))
	}
	if creates, lookups := srv.CallCount(hetznertest.OpCreateServer), srv.CallCount(hetznertest.OpListServers); creates != 2 || lookups != 1 {
		t.Errorf("%d creates and %d lookups; want 2 and 1", creates, lookups)
	}
	// And once more: still the same server.
	if again := provision(t, d, req); again.ID != inst.ID {
		t.Fatalf("a third Provision returned %s; want %s", again.ID, inst.ID)
	}
}

func TestAServerWithOurNameButOtherLabelsIsNeverAdopted(t *testing.T) {
	ctx := t.Context()
	req := request("ws-mine")
	encodedToken, _ := ownership.EncodeLabel(req.Token)
	for name, labels := range map[string]map[string]string{
		"no labels":        nil,
		"another owner":    {ownership.OwnerKey: "someone-else", ownership.WorkspaceKey: "ws-mine", ownership.TokenKey: encodedToken},
		"another token":    {ownership.OwnerKey: owner, ownership.WorkspaceKey: "ws-mine", ownership.TokenKey: token()},
		"no token label":   {ownership.OwnerKey: owner, ownership.WorkspaceKey: "ws-mine"},
		"someone's own":    {"app": "billing"},
		"owner label only": {ownership.OwnerKey: owner},
	} {
		t.Run(name, func(t *testing.T) {
			srv, d := setup(t, nil)
			planted := srv.AddInstance(ownership.Name(req.Token), labels)
			_, err := d.Provision(ctx, req)
			if !errors.Is(err, cloudswitch.ErrNotOurs) || errors.Is(err, cloudswitch.ErrTransient) {
				t.Fatalf("Provision: %v; want the permanent ErrNotOurs", err)
			}
			vms := srv.Instances()
			if len(vms) != 1 || vms[0].ID != planted.ID || vms[0].Status != hetznertest.StatusRunning || !maps.Equal(vms[0].Labels, planted.Labels) {
				t.Fatalf("servers %+v; want only the planted server, untouched", vms)
			}
			if n := srv.CallCount(hetznertest.OpDeleteServer); n != 0 {
				t.Fatalf("%d deletes; want none", n)
			}
		})
	}
}

func TestATokenReusedForAnotherWorkspaceIsRefused(t *testing.T) {
	ctx := t.Context()
	srv, d := setup(t, nil)
	req := request("ws-first")
	provision(t, d, req)
	req.WorkspaceID = "ws-second"
	_, err := d.Provision(ctx, req)
	if err == nil || errors.Is(err, cloudswitch.ErrTransient) || !strings.Contains(err.Error(), "ws-first") {
		t.Fatalf("Provision with a token already used for ws-first: %v; want a permanent error naming it", err)
	}
	if n := len(srv.Instances()); n != 1 {
		t.Fatalf("%d servers; want 1", n)
	}
}

func TestANameTakenButNotYetListedIsTransient(t *testing.T) {
	ctx := t.Context()
	srv, d := setup(t, nil)
	srv.SetListLag(time.Hour)
	req := request("ws-lag")
	srv.Inject(hetznertest.Fault{Op: hetznertest.OpCreateServer, Times: 1, Drop: true})
	d.Provision(ctx, req)
	_, err := d.Provision(ctx, req)
	if !errors.Is(err, cloudswitch.ErrTransient) {
		t.Fatalf("Provision whose server is not listed yet: %v; want ErrTransient", err)
	}
	if n := len(srv.Instances()); n != 1 {
		t.Fatalf("%d servers; want 1", n)
	}
}

func TestAServerBeingDeletedIsNotAdopted(t *testing.T) {
	ctx := t.Context()
	srv, d := setup(t, []hetznertest.Option{hetznertest.WithActionDuration(time.Hour)})
	srv.SetLocking(false) // delete it while its create runs
	req := request("ws-deleting")
	short, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel()
	if _, err := d.Provision(short, req); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Provision waiting for an hour-long action: %v; want the deadline", err)
	}
	vm := srv.Instances()[0]
	if _, _, err := srv.Client().Server.DeleteWithResult(ctx, &hcloud.Server{ID: vm.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Provision(ctx, req); !errors.Is(err, cloudswitch.ErrTransient) {
		t.Fatalf("Provision whose server is being deleted: %v; want ErrTransient", err)
	}
}

func TestWaitingIsBoundedByTheContextAndTheRepeatAdoptsOnceCreated(t *testing.T) {
	ctx := t.Context()
	srv, d := setup(t, []hetznertest.Option{hetznertest.WithActionDuration(300 * time.Millisecond)})
	req := request("ws-wait")
	short, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := d.Provision(short, req)
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, cloudswitch.ErrTransient) {
		t.Fatalf("Provision past its deadline: %v; want context.DeadlineExceeded", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("Provision took %v past a 30 ms deadline", took)
	}
	// The repeat adopts the server, once its create and start actions
	// have ended well.
	inst := provision(t, d, req)
	vms := srv.Instances()
	if len(vms) != 1 || inst.ID != itoa(vms[0].ID) || vms[0].Status != hetznertest.StatusRunning {
		t.Fatalf("the repeat returned %+v with servers %+v; want the one server, running", inst, vms)
	}
}

func TestAFailedCreateActionDeletesTheServerAgain(t *testing.T) {
	ctx := t.Context()
	srv := hetznertest.NewServer(t)
	d := newProxy(t, srv, &proxy{body: failActions("create_server")})
	_, err := d.Provision(ctx, request("ws-failed"))
	var actionErr hcloud.ActionError
	if err == nil || errors.Is(err, cloudswitch.ErrTransient) || !errors.As(err, &actionErr) {
		t.Fatalf("Provision whose create action failed: %v; want a permanent error over the action's", err)
	}
	if vms := srv.Instances(); len(vms) != 0 {
		t.Fatalf("servers %+v; want none: a permanent error means no server exists", vms)
	}
}

func TestAFailedCreateActionThatCannotBeUndoneIsTransient(t *testing.T) {
	ctx := t.Context()
	srv := hetznertest.NewServer(t)
	d := newProxy(t, srv, &proxy{body: failActions("create_server")})
	srv.Inject(hetznertest.Fault{Op: hetznertest.OpDeleteServer, Status: 503, Code: "service_error"})
	req := request("ws-stuck")
	if _, err := d.Provision(ctx, req); !errors.Is(err, cloudswitch.ErrTransient) {
		t.Fatalf("Provision whose failed server could not be deleted: %v; want ErrTransient", err)
	}
	vms := srv.Instances()
	if len(vms) != 1 {
		t.Fatalf("%d servers; want the one that could not be deleted", len(vms))
	}
	// The repeat finds it, tracked by the token's name, but never adopts
	// a server whose creation failed: it tries to delete it again.
	_, err := d.Provision(ctx, req)
	if !errors.Is(err, cloudswitch.ErrTransient) || errors.Is(err, cloudswitch.ErrRefused) {
		t.Fatalf("the repeat: %v; want ErrTransient, not a refusal", err)
	}
	if n := len(srv.Instances()); n != 1 {
		t.Fatalf("%d servers; want the failed one still", n)
	}
}

func TestBadRequestsAreRefusedWithoutAnAPICall(t *testing.T) {
	ctx := t.Context()
	srv, d := setup(t, nil)
	for name, mutate := range map[string]func(*cloudswitch.ProvisionRequest){
		"empty token":           func(r *cloudswitch.ProvisionRequest) { r.Token = "" },
		"empty owner":           func(r *cloudswitch.ProvisionRequest) { r.Owner = "" },
		"empty workspace":       func(r *cloudswitch.ProvisionRequest) { r.WorkspaceID = "" },
		"empty provider":        func(r *cloudswitch.ProvisionRequest) { r.Compute.Provider = "" },
		"other provider":        func(r *cloudswitch.ProvisionRequest) { r.Compute.Provider = cloudswitch.GCP },
		"empty instance type":   func(r *cloudswitch.ProvisionRequest) { r.Compute.InstanceType = "" },
		"owner with spaces":     func(r *cloudswitch.ProvisionRequest) { r.Owner = "my team" },
		"owner too long":        func(r *cloudswitch.ProvisionRequest) { r.Owner = strings.Repeat("o", 64) },
		"workspace id too long": func(r *cloudswitch.ProvisionRequest) { r.WorkspaceID = strings.Repeat("W", ownership.MaxEncodedLen+1) },
		"token too long":        func(r *cloudswitch.ProvisionRequest) { r.Token = strings.Repeat("T", ownership.MaxEncodedLen+1) },
	} {
		req := request("ws-bad")
		mutate(&req)
		_, err := d.Provision(ctx, req)
		if err == nil || errors.Is(err, cloudswitch.ErrTransient) {
			t.Errorf("%s: %v; want a permanent error", name, err)
		}
	}
	if n := srv.CallCount(""); n != 0 {
		t.Fatalf("refused requests made %d API calls", n)
	}
	req := request("ws-bad")
	req.WorkspaceID = strings.Repeat("W", ownership.MaxEncodedLen+1)
	if _, err := d.Provision(ctx, req); !strings.Contains(err.Error(), "workspace id") {
		t.Errorf("an unencodable workspace id: %v; want an error saying so", err)
	}
}

func TestOddWorkspaceIDsRoundTripThroughLabels(t *testing.T) {
	srv, d := setup(t, nil)
	ids := []string{
		"ws-1", "Team_A.Workspace-42", "UPPER", "x-looks-encoded", "0f8fad5b-d9cb-469f-a165-70867728950e",
		"café", "a b/c", "-leading-dash", strings.Repeat("Z", ownership.MaxEncodedLen), strings.Repeat("z", 63),
	}
	byID := map[string]string{}
	for _, id := range ids {
		inst := provision(t, d, request(id))
		if inst.WorkspaceID != id {
			t.Errorf("Provision for %q returned workspace %q", id, inst.WorkspaceID)
		}
		byID[inst.ID] = id
	}
	for _, vm := range srv.Instances() {
		labels := map[string]any{}
		for k, v := range vm.Labels {
			labels[k] = v
		}
		if _, err := hcloud.ValidateResourceLabels(labels); err != nil {
			t.Errorf("server %d carries labels Hetzner refuses: %v", vm.ID, err)
		}
	}
	listed := list(t, d, owner)
	if len(listed) != len(ids) {
		t.Fatalf("Instances listed %d servers; want %d", len(listed), len(ids))
	}
	for _, inst := range listed {
		if want := byID[inst.ID]; inst.WorkspaceID != want {
			t.Errorf("Instances read workspace %q back as %q", want, inst.WorkspaceID)
		}
	}
}

func TestAnUnknownSSHKeyNameIsPermanent(t *testing.T) {
	ctx := t.Context()
	srv, d := setup(t, []hetznertest.Option{hetznertest.WithSSHKeys("ops")}, hetzner.WithSSHKeys("nobody"))
	_, err := d.Provision(ctx, request("ws-key"))
	if err == nil || errors.Is(err, cloudswitch.ErrTransient) || !strings.Contains(err.Error(), `"nobody"`) {
		t.Fatalf("Provision with an unknown key: %v; want a permanent error naming it", err)
	}
	if n := srv.CallCount(hetznertest.OpCreateServer); n != 0 {
		t.Fatalf("%d creates; want none", n)
	}
	srv.Inject(hetznertest.Fault{Op: hetznertest.OpListSSHKeys, Times: 1, Status: 503, Code: "service_error"})
	if _, err := d.Provision(ctx, request("ws-key")); !errors.Is(err, cloudswitch.ErrTransient) {
		t.Fatalf("Provision whose key lookup failed: %v; want ErrTransient", err)
	}
}
