package gcp_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/ownership"
	"github.com/cloudswitch/cloudswitch/providers/gcp"
	"github.com/cloudswitch/cloudswitch/providers/gcp/gcptest"
)

func TestProvisionInsertsALabelledInstanceNamedAfterTheToken(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, nil)
	req := request("team-a", "Workspace/42")
	inst, err := e.d.Provision(ctx, req)
	require.NoError(t, err)
	name := ownership.Name(req.Token)
	if inst.Provider != cloudswitch.GCP || inst.ID != name || inst.Region != zone || inst.WorkspaceID != req.WorkspaceID || inst.Token != req.Token {
		t.Errorf("Provision returned %+v; want gcp instance %s in %s for the request's workspace and token", inst, name, zone)
	}
	got := e.srv.Instances()
	if len(got) != 1 {
		t.Fatalf("%d instances exist; want 1", len(got))
	}
	vm := got[0]
	workspace, _ := ownership.EncodeLabel(req.WorkspaceID)
	switch {
	case vm.Name != name || vm.Zone != zone || vm.MachineType != "e2-standard-2" || vm.Status != gcptest.StatusRunning:
		t.Errorf("instance %+v; want %s, RUNNING e2-standard-2 in %s", vm, name, zone)
	case vm.Labels[ownership.OwnerKey] != "team-a" || vm.Labels[ownership.WorkspaceKey] != workspace || vm.Labels[ownership.TokenKey] != req.Token:
		t.Errorf("labels %v; want owner, encoded workspace and token", vm.Labels)
	case !inst.CreatedAt.Equal(vm.Created.Truncate(time.Millisecond)):
		t.Errorf("CreatedAt %v; want the creationTimestamp %v", inst.CreatedAt, vm.Created)
	case vm.SourceImage != gcp.DefaultSourceImage || !vm.BootDiskAutoDelete || vm.Network != "global/networks/default":
		t.Errorf("instance %+v; want the default image, a boot disk deleted with the instance, the default network", vm)
	}
}

func TestProvisionHonoursTheComputesZoneImageAndMachineTypePath(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, nil)
	req := request("owner", "ws")
	req.Compute.Region = "europe-west1-b"
	req.Compute.Image = "projects/ubuntu-os-cloud/global/images/family/ubuntu-2404-lts-amd64"
	req.Compute.InstanceType = "zones/europe-west1-b/machineTypes/e2-highmem-4"
	inst, err := e.d.Provision(ctx, req)
	require.NoError(t, err)
	vm := e.srv.Instances()[0]
	if inst.Region != "europe-west1-b" || vm.Zone != "europe-west1-b" || vm.MachineType != "e2-highmem-4" || vm.SourceImage != req.Compute.Image {
		t.Errorf("returned %+v, created %+v; want the request's zone, machine type and image", inst, vm)
	}
}

func TestProvisionIsIdempotentThroughTheRequestID(t *testing.T) {
	ctx := t.Context()
	// The insert's answer is lost; Compute Engine still knows the requestId
	// and answers the repeat with the first insert's operation.
	e := newEnv(t, nil)
	req := request("owner", "ws")
	e.srv.Inject(gcptest.Fault{Op: gcptest.OpInsert, Times: 1, Drop: true})
	if _, err := e.d.Provision(ctx, req); !errors.Is(err, cloudswitch.ErrTransient) {
		t.Fatalf("Provision with its answer lost: %v; want ErrTransient", err)
	}
	inst, err := e.d.Provision(ctx, req)
	require.NoError(t, err, "repeated Provision")
	if got := e.srv.Instances(); len(got) != 1 || got[0].Name != inst.ID {
		t.Fatalf("instances %v; want exactly %s", got, inst.ID)
	}
	if n := e.srv.CallCount(gcptest.OpInsert); n != 2 {
		t.Errorf("%d inserts; want 2", n)
	}
}

func TestProvisionIsIdempotentThroughAlreadyExists(t *testing.T) {
	ctx := t.Context()
	// The insert's answer is lost and its requestId forgotten (Compute
	// Engine keeps them for about an hour): the repeat finds the name taken,
	// 409 alreadyExists, and adopts the instance, whose labels are ours.
	e := newEnv(t, nil)
	req := request("owner", "ws")
	e.srv.Inject(gcptest.Fault{Op: gcptest.OpInsert, Times: 1, Drop: true})
	if _, err := e.d.Provision(ctx, req); !errors.Is(err, cloudswitch.ErrTransient) {
		t.Fatalf("Provision with its answer lost: %v; want ErrTransient", err)
	}
	e.srv.ExpireRequestIDs()
	inst, err := e.d.Provision(ctx, req)
	require.NoError(t, err, "repeated Provision")
	if got := e.srv.Instances(); len(got) != 1 || got[0].Name != inst.ID {
		t.Fatalf("instances %v; want exactly %s", got, inst.ID)
	}
	if inst.WorkspaceID != req.WorkspaceID || inst.Token != req.Token || inst.CreatedAt.IsZero() {
		t.Errorf("adopted %+v; want the request's workspace and token and a creation time", inst)
	}
}

func TestProvisionNeverAdoptsSomeoneElsesInstance(t *testing.T) {
	ctx := t.Context()
	req := request("owner", "ws")
	token, _ := ownership.EncodeLabel(req.Token)
	for name, labels := range map[string]map[string]string{
		"no labels":     nil,
		"another owner": {ownership.OwnerKey: "someone-else", ownership.WorkspaceKey: "ws", ownership.TokenKey: token},
		"another token": {ownership.OwnerKey: "owner", ownership.WorkspaceKey: "ws", ownership.TokenKey: "other-token"},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, nil)
			theirs := e.srv.AddInstance(zone, ownership.Name(req.Token), labels)
			_, err := e.d.Provision(ctx, req)
			if !errors.Is(err, cloudswitch.ErrNotOurs) || errors.Is(err, cloudswitch.ErrTransient) {
				t.Fatalf("got %v; want the permanent cloudswitch.ErrNotOurs", err)
			}
			got := e.srv.Instances()
			if len(got) != 1 || got[0].ID != theirs.ID || got[0].Status != gcptest.StatusRunning || len(got[0].Labels) != len(labels) {
				t.Errorf("instances %+v; want theirs alone and untouched", got)
			}
		})
	}
}

func TestProvisionRefusesATokenOfAnotherWorkspace(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, nil)
	req := request("owner", "ws-1")
	if _, err := e.d.Provision(ctx, req); err != nil {
		t.Fatal(err)
	}
	req.WorkspaceID = "ws-2"
	_, err := e.d.Provision(ctx, req)
	if err == nil || errors.Is(err, cloudswitch.ErrTransient) {
		t.Fatalf("the token of ws-1 reused for ws-2: %v; want a permanent error", err)
	}
	if errors.Is(err, cloudswitch.ErrRefused) {
		t.Errorf("the insert was answered with the first one's operation (same requestId), so it is not for the driver to say nothing happened: %v", err)
	}
	// Past the requestId window the insert is answered 409 alreadyExists:
	// refused, and the instance is another workspace's.
	e.srv.ExpireRequestIDs()
	_, err = e.d.Provision(ctx, req)
	if !errors.Is(err, cloudswitch.ErrNotOurs) {
		t.Fatalf("the token of ws-1 reused for ws-2 after the requestId window: %v; want ErrNotOurs", err)
	}
	if n := len(e.srv.Instances()); n != 1 {
		t.Errorf("%d instances; want 1", n)
	}
}

func TestProvisionFailedOperationIsPermanentAndLeavesNoInstance(t *testing.T) {
	ctx := t.Context()
	// The insert is accepted, then its operation finishes DONE with
	// QUOTA_EXCEEDED: the SDK's Wait would report success.
	e := newEnv(t, nil)
	e.srv.FailOperation(gcptest.OpInsert, 1, http.StatusForbidden, "QUOTA_EXCEEDED", "Quota 'CPUS' exceeded. Limit: 8.0 in region us-central1.")
	req := request("owner", "ws")
	inst, err := e.d.Provision(ctx, req)
	if err == nil {
		t.Fatalf("Provision succeeded with %+v although its operation failed", inst)
	}
	if errors.Is(err, cloudswitch.ErrTransient) || !strings.Contains(err.Error(), "QUOTA_EXCEEDED") {
		t.Errorf("got %v; want a permanent error saying QUOTA_EXCEEDED", err)
	}
	if got := e.srv.Instances(); len(got) != 0 {
		t.Errorf("instances %v remain after a failed insert", got)
	}
	// The requestId replays the failed operation: still permanent, still
	// nothing created.
	if _, err := e.d.Provision(ctx, req); err == nil || errors.Is(err, cloudswitch.ErrTransient) {
		t.Errorf("repeated Provision: %v; want the same permanent error", err)
	}
	if got := e.srv.Instances(); len(got) != 0 {
		t.Errorf("instances %v after the repeat", got)
	}
	// Another token is another insert.
	if _, err := e.d.Provision(ctx, request("owner", "ws")); err != nil {
		t.Errorf("Provision with a new token: %v", err)
	}
}

func TestProvisionOfADeletedTokenIsRefused(t *testing.T) {
	ctx := t.Context()
	// A token names one VM for good: once its instance is deleted, a repeat
	// (whose requestId replays the successful insert) must not report the
	// instance as alive nor create another.
	e := newEnv(t, nil)
	req := request("owner", "ws")
	inst, err := e.d.Provision(ctx, req)
	require.NoError(t, err)
	e.srv.RemoveInstance(zone, inst.ID)
	_, err = e.d.Provision(ctx, req)
	if err == nil || errors.Is(err, cloudswitch.ErrTransient) || errors.Is(err, cloudswitch.ErrInstanceNotFound) {
		t.Fatalf("got %v; want a permanent error", err)
	}
	if got := e.srv.Instances(); len(got) != 0 {
		t.Errorf("instances %v; want none", got)
	}
}

func TestProvisionUncertainOutcomesAreTransient(t *testing.T) {
	ctx := t.Context()
	// Once the insert is accepted, any failure is transient, even a 403: a
	// permanent error would claim that no VM exists for the token.
	for _, op := range []string{gcptest.OpOperationGet, gcptest.OpGet} {
		t.Run(op, func(t *testing.T) {
			e := newEnv(t, nil)
			e.srv.Inject(gcptest.Fault{Op: op, Times: 1, Status: http.StatusForbidden, Code: "forbidden"})
			req := request("owner", "ws")
			if _, err := e.d.Provision(ctx, req); !errors.Is(err, cloudswitch.ErrTransient) {
				t.Fatalf("got %v; want ErrTransient", err)
			}
			inst, err := e.d.Provision(ctx, req)
			require.NoError(t, err, "repeated Provision")
			if got := e.srv.Instances(); len(got) != 1 || got[0].Name != inst.ID {
				t.Errorf("instances %v; want exactly %s", got, inst.ID)
			}
		})
	}
}

func TestProvisionOfAStoppingInstanceIsTransient(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, nil)
	req := request("owner", "ws")
	inst, err := e.d.Provision(ctx, req)
	require.NoError(t, err)
	e.srv.SetStatus(zone, inst.ID, gcptest.StatusStopping)
	if _, err := e.d.Provision(ctx, req); !errors.Is(err, cloudswitch.ErrTransient) {
		t.Fatalf("got %v; want ErrTransient while the instance is STOPPING", err)
	}
	e.srv.SetStatus(zone, inst.ID, gcptest.StatusRunning)
	again, err := e.d.Provision(ctx, req)
	if err != nil || again.ID != inst.ID {
		t.Fatalf("Provision of the instance RUNNING again: %+v, %v; want it", again, err)
	}
}

func TestProvisionPollsAnOperationUntilItIsDone(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, []gcptest.Option{gcptest.WithOperationTime(30 * time.Millisecond)})
	if _, err := e.d.Provision(ctx, request("owner", "ws")); err != nil {
		t.Fatal(err)
	}
	if n := e.srv.CallCount(gcptest.OpOperationGet); n < 2 {
		t.Errorf("the operation was polled %d times; want until DONE (at least twice with a 30 ms operation)", n)
	}
	if vm := e.srv.Instances()[0]; vm.Status != gcptest.StatusRunning {
		t.Errorf("Provision returned before the instance was RUNNING: %s", vm.Status)
	}
}

func TestProvisionRefusesBadRequestsWithoutAnAPICall(t *testing.T) {
	ctx := t.Context()
	long := strings.Repeat("W", ownership.MaxEncodedLen+1)
	cases := map[string]struct {
		opts   []gcp.Option
		mutate func(*cloudswitch.ProvisionRequest)
	}{
		"empty token":             {nil, func(r *cloudswitch.ProvisionRequest) { r.Token = "" }},
		"empty owner":             {nil, func(r *cloudswitch.ProvisionRequest) { r.Owner = "" }},
		"owner not a label value": {nil, func(r *cloudswitch.ProvisionRequest) { r.Owner = "Team A" }},
		"empty workspace":         {nil, func(r *cloudswitch.ProvisionRequest) { r.WorkspaceID = "" }},
		"unencodable workspace":   {nil, func(r *cloudswitch.ProvisionRequest) { r.WorkspaceID = long }},
		"another provider":        {nil, func(r *cloudswitch.ProvisionRequest) { r.Compute.Provider = cloudswitch.AWS }},
		"empty machine type":      {nil, func(r *cloudswitch.ProvisionRequest) { r.Compute.InstanceType = "" }},
		"bad machine type":        {nil, func(r *cloudswitch.ProvisionRequest) { r.Compute.InstanceType = "E2 Standard" }},
		"machine type of elsewhere": {nil, func(r *cloudswitch.ProvisionRequest) {
			r.Compute.InstanceType = "zones/europe-west1-b/machineTypes/e2-small"
		}},
		"bad zone":               {nil, func(r *cloudswitch.ProvisionRequest) { r.Compute.Region = "us-central1" }},
		"zone outside WithZones": {[]gcp.Option{gcp.WithZones(zone)}, func(r *cloudswitch.ProvisionRequest) { r.Compute.Region = "europe-west1-b" }},
		"bad image":              {nil, func(r *cloudswitch.ProvisionRequest) { r.Compute.Image = "debian 12" }},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, nil, c.opts...)
			req := request("owner", "ws")
			c.mutate(&req)
			_, err := e.d.Provision(ctx, req)
			if !errors.Is(err, gcp.ErrInvalidRequest) || errors.Is(err, cloudswitch.ErrTransient) {
				t.Fatalf("got %v; want a permanent ErrInvalidRequest", err)
			}
			if n := e.srv.CallCount(""); n != 0 {
				t.Errorf("a refused request made %d API calls", n)
			}
		})
	}
}

func TestProvisionWithoutAZoneIsRefused(t *testing.T) {
	ctx := t.Context()
	srv := gcptest.NewServer(t)
	instances, operations, err := srv.Clients(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { instances.Close(); operations.Close() })
	d, err := gcp.New(instances, operations, srv.Project()) // no WithZone
	require.NoError(t, err)
	if _, err := d.Provision(ctx, request("owner", "ws")); !errors.Is(err, gcp.ErrInvalidRequest) {
		t.Fatalf("Provision with no zone anywhere: %v; want ErrInvalidRequest", err)
	}
	req := request("owner", "ws")
	req.Compute.Region = zone
	if _, err := d.Provision(ctx, req); err != nil {
		t.Fatalf("Provision naming its zone: %v", err)
	}
}

func TestProvisionWithACancelledContextMakesNoCall(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, nil)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := e.d.Provision(cctx, request("owner", "ws")); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v; want context.Canceled", err)
	}
	if n := e.srv.CallCount(""); n != 0 {
		t.Errorf("%d API calls", n)
	}
}
