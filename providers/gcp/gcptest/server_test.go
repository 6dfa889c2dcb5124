package gcptest_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/api/googleapi"
	"google.golang.org/protobuf/proto"

	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch/providers/gcp/gcptest"
)

const rid = "2b6f0cc9-04c2-4a8f-9e0e-7a3c3f1d2e11"

func TestInsertAnswersARunningOperationThatIsDoneAtTheFirstPoll(t *testing.T) {
	ctx := t.Context()
	srv := gcptest.NewServer(t)
	ic, _ := clients(t, srv)
	op, err := insert(t.Context(), ic, srv.Project(), rid, resource("vm-1", map[string]string{"team": "a"}))
	require.NoError(t, err)
	if p := op.Proto(); p.GetStatus() != computepb.Operation_RUNNING || p.GetOperationType() != "insert" || !strings.HasSuffix(p.GetTargetLink(), "/zones/"+zone+"/instances/vm-1") {
		t.Errorf("insert answered %v; want a RUNNING insert operation targeting the instance", p)
	}
	start := time.Now()
	require.NoError(t, op.Wait(ctx, noRetry))
	if took := time.Since(start); took > 500*time.Millisecond || !op.Done() || srv.CallCount(gcptest.OpOperationGet) != 1 {
		t.Errorf("Wait took %v and %d polls; want DONE at the first poll", took, srv.CallCount(gcptest.OpOperationGet))
	}
	got, err := ic.Get(ctx, &computepb.GetInstanceRequest{Project: srv.Project(), Zone: zone, Instance: "vm-1"}, noRetry)
	require.NoError(t, err)
	if got.GetStatus() != gcptest.StatusRunning || got.GetLabels()["team"] != "a" || got.GetId() == 0 ||
		!strings.HasSuffix(got.GetMachineType(), "/zones/"+zone+"/machineTypes/e2-small") || !strings.HasSuffix(got.GetZone(), "/zones/"+zone) {
		t.Errorf("get answered %v", got)
	}
	if _, err := time.Parse(time.RFC3339, got.GetCreationTimestamp()); err != nil {
		t.Errorf("creationTimestamp %q: %v", got.GetCreationTimestamp(), err)
	}
}

func TestInsertWithASeenRequestIDAnswersTheFirstOperation(t *testing.T) {
	srv := gcptest.NewServer(t)
	ic, _ := clients(t, srv)
	first, err := insert(t.Context(), ic, srv.Project(), rid, resource("vm-1", nil))
	require.NoError(t, err)
	again, err := insert(t.Context(), ic, srv.Project(), rid, resource("vm-1", nil))
	require.NoError(t, err, "a repeated insert with the same requestId")
	if again.Name() != first.Name() {
		t.Errorf("operations %s and %s; want the same", first.Name(), again.Name())
	}
	if n := len(srv.Instances()); n != 1 {
		t.Errorf("%d instances; want 1", n)
	}
	srv.ExpireRequestIDs()
	_, err = insert(t.Context(), ic, srv.Project(), rid, resource("vm-1", nil))
	wantAPIError(t, err, http.StatusConflict, "alreadyExists")
}

func TestInsertRefusesAnInvalidRequestID(t *testing.T) {
	srv := gcptest.NewServer(t)
	ic, _ := clients(t, srv)
	for _, id := range []string{"00000000-0000-0000-0000-000000000000", "not-a-uuid", "2b6f0cc904c24a8f9e0e7a3c3f1d2e11"} {
		_, err := insert(t.Context(), ic, srv.Project(), id, resource("vm-1", nil))
		wantAPIError(t, err, http.StatusBadRequest, "invalid")
	}
	if n := len(srv.Instances()); n != 0 {
		t.Errorf("%d instances; want none", n)
	}
}

func TestInsertOfATakenNameIsAlreadyExists(t *testing.T) {
	ctx := t.Context()
	srv := gcptest.NewServer(t)
	ic, _ := clients(t, srv)
	mustInsert(t, srv, ic, "vm-1", nil)
	_, err := insert(t.Context(), ic, srv.Project(), "", resource("vm-1", nil))
	gerr := wantAPIError(t, err, http.StatusConflict, "alreadyExists")
	if !strings.Contains(gerr.Message, "projects/"+srv.Project()+"/zones/"+zone+"/instances/vm-1") {
		t.Errorf("message %q does not name the instance", gerr.Message)
	}
	// Names are unique per zone, not per project.
	r := resource("vm-1", nil)
	r.MachineType = proto.String("zones/us-central1-b/machineTypes/e2-small")
	if _, err := ic.Insert(ctx, &computepb.InsertInstanceRequest{Project: srv.Project(), Zone: "us-central1-b", InstanceResource: r}, noRetry); err != nil {
		t.Errorf("the same name in another zone: %v", err)
	}
}

func TestInsertChecksTheInstanceAsComputeEngineWould(t *testing.T) {
	cases := map[string]func(*computepb.Instance){
		"bad name": func(r *computepb.Instance) { r.Name = proto.String("VM_1") },
		"machine type elsewhere": func(r *computepb.Instance) {
			r.MachineType = proto.String("zones/europe-west1-b/machineTypes/e2-small")
		},
		"no machine type":        func(r *computepb.Instance) { r.MachineType = nil },
		"no boot disk":           func(r *computepb.Instance) { r.Disks = nil },
		"no source image":        func(r *computepb.Instance) { r.Disks[0].InitializeParams = nil },
		"disk too small":         func(r *computepb.Instance) { r.Disks[0].InitializeParams.DiskSizeGb = proto.Int64(5) },
		"no network interface":   func(r *computepb.Instance) { r.NetworkInterfaces = nil },
		"label key upper case":   func(r *computepb.Instance) { r.Labels = map[string]string{"Team": "a"} },
		"label value upper case": func(r *computepb.Instance) { r.Labels = map[string]string{"team": "A"} },
		"bad metadata key": func(r *computepb.Instance) {
			r.Metadata = &computepb.Metadata{Items: []*computepb.Items{{Key: proto.String("a b"), Value: proto.String("x")}}}
		},
		"two service accounts": func(r *computepb.Instance) {
			r.ServiceAccounts = []*computepb.ServiceAccount{{Email: proto.String("a@b.c")}, {Email: proto.String("d@e.f")}}
		},
	}
	srv := gcptest.NewServer(t)
	ic, _ := clients(t, srv)
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			r := resource("vm-1", nil)
			mutate(r)
			_, err := insert(t.Context(), ic, srv.Project(), "", r)
			wantAPIError(t, err, http.StatusBadRequest, "invalid")
			if n := len(srv.Instances()); n != 0 {
				t.Errorf("a refused insert created %d instances", n)
			}
		})
	}
}

func TestAFailedOperationIsDoneWithItsErrorAndUndoesItsEffect(t *testing.T) {
	ctx := t.Context()
	srv := gcptest.NewServer(t)
	ic, oc := clients(t, srv)
	srv.FailOperation(gcptest.OpInsert, 1, http.StatusForbidden, "QUOTA_EXCEEDED", "Quota 'CPUS' exceeded.")
	op, err := insert(t.Context(), ic, srv.Project(), rid, resource("vm-1", nil))
	require.NoError(t, err, "the insert must be accepted before it fails")
	got, err := oc.Get(ctx, &computepb.GetZoneOperationRequest{Project: srv.Project(), Zone: zone, Operation: op.Name()}, noRetry)
	require.NoError(t, err)
	if got.GetStatus() != computepb.Operation_DONE || got.GetHttpErrorStatusCode() != http.StatusForbidden || got.GetHttpErrorMessage() == "" ||
		len(got.GetError().GetErrors()) != 1 || got.GetError().GetErrors()[0].GetCode() != "QUOTA_EXCEEDED" || got.GetError().GetErrors()[0].GetMessage() != "Quota 'CPUS' exceeded." {
		t.Errorf("the failed operation reads %v", got)
	}
	if n := len(srv.Instances()); n != 0 {
		t.Errorf("a failed insert left %d instances", n)
	}
	// The SDK's Wait reports it only because the status is not 2xx.
	var gerr *googleapi.Error
	if err := op.Wait(ctx, noRetry); !errors.As(err, &gerr) || gerr.Code != http.StatusForbidden {
		t.Errorf("Wait: %v; want the operation's 403", err)
	}

	mustInsert(t, srv, ic, "vm-2", nil)
	srv.FailOperation(gcptest.OpDelete, 1, http.StatusServiceUnavailable, "INTERNAL_ERROR", "try again")
	del, err := ic.Delete(ctx, &computepb.DeleteInstanceRequest{Project: srv.Project(), Zone: zone, Instance: "vm-2"}, noRetry)
	require.NoError(t, err)
	if err := del.Wait(ctx, noRetry); err == nil {
		t.Error("the failed delete's Wait reported success")
	}
	if vms := srv.Instances(); len(vms) != 1 || vms[0].Status != gcptest.StatusRunning {
		t.Errorf("after a failed delete, instances %+v; want vm-2 RUNNING", vms)
	}
}

func TestDeleteAndGetAnswerNotFoundNamingWhatIsMissing(t *testing.T) {
	ctx := t.Context()
	srv := gcptest.NewServer(t)
	ic, _ := clients(t, srv)
	mustInsert(t, srv, ic, "vm-1", nil)
	del, err := ic.Delete(ctx, &computepb.DeleteInstanceRequest{Project: srv.Project(), Zone: zone, Instance: "vm-1", RequestId: proto.String(rid)}, noRetry)
	require.NoError(t, err)
	require.NoError(t, del.Wait(ctx, noRetry))
	if n := len(srv.Instances()); n != 0 {
		t.Fatalf("%d instances after the delete", n)
	}
	for _, c := range []struct{ project, zone, what string }{
		{srv.Project(), zone, "projects/" + srv.Project() + "/zones/" + zone + "/instances/vm-1"},
		{srv.Project(), "mars-north1-a", "projects/" + srv.Project() + "/zones/mars-north1-a"},
		{"other-project", zone, "projects/other-project"},
	} {
		_, err := ic.Get(ctx, &computepb.GetInstanceRequest{Project: c.project, Zone: c.zone, Instance: "vm-1"}, noRetry)
		gerr := wantAPIError(t, err, http.StatusNotFound, "notFound")
		if want := "The resource '" + c.what + "' was not found"; gerr.Message != want {
			t.Errorf("message %q; want %q", gerr.Message, want)
		}
		_, err = ic.Delete(ctx, &computepb.DeleteInstanceRequest{Project: c.project, Zone: c.zone, Instance: "vm-1"}, noRetry)
		wantAPIError(t, err, http.StatusNotFound, "notFound")
	}
}

func TestInstancesLiveThroughTheirLifecycle(t *testing.T) {
	ctx := t.Context()
	srv := gcptest.NewServer(t, gcptest.WithOperationTime(100*time.Millisecond))
	ic, _ := clients(t, srv)
	op, err := insert(t.Context(), ic, srv.Project(), "", resource("vm-1", nil))
	require.NoError(t, err)
	if vms := srv.Instances(); len(vms) != 1 || vms[0].Status != gcptest.StatusProvisioning {
		t.Fatalf("while the insert runs: %+v; want vm-1 PROVISIONING", vms)
	}
	if op.Proto().GetStatus() != computepb.Operation_RUNNING {
		t.Fatalf("the insert answered %v; want RUNNING", op.Proto().GetStatus())
	}
	time.Sleep(150 * time.Millisecond)
	if vms := srv.Instances(); vms[0].Status != gcptest.StatusRunning {
		t.Fatalf("after the insert: %s; want RUNNING", vms[0].Status)
	}
	if _, err := ic.Delete(ctx, &computepb.DeleteInstanceRequest{Project: srv.Project(), Zone: zone, Instance: "vm-1"}, noRetry); err != nil {
		t.Fatal(err)
	}
	got, err := ic.Get(ctx, &computepb.GetInstanceRequest{Project: srv.Project(), Zone: zone, Instance: "vm-1"}, noRetry)
	if err != nil || got.GetStatus() != gcptest.StatusStopping {
		t.Fatalf("while the delete runs: %v, %v; want vm-1 STOPPING", got.GetStatus(), err)
	}
	time.Sleep(150 * time.Millisecond)
	if vms := srv.Instances(); len(vms) != 0 {
		t.Errorf("after the delete: %+v; want none", vms)
	}
	srv.AddInstance(zone, "vm-2", nil)
	if !srv.SetStatus(zone, "vm-2", gcptest.StatusTerminated) || srv.Instances()[0].Status != gcptest.StatusTerminated {
		t.Error("SetStatus did not stop vm-2")
	}
	if srv.SetStatus(zone, "vm-3", gcptest.StatusTerminated) || srv.SetStatus(zone, "vm-2", "SLEEPING") {
		t.Error("SetStatus accepted an unknown instance or status")
	}
}

func TestStartServesAProgramUntilClose(t *testing.T) {
	srv, err := gcptest.Start("127.0.0.1:0", gcptest.WithProject("my-program"), gcptest.WithZones("europe-west4-a"))
	require.NoError(t, err)
	if srv.Project() != "my-program" || len(srv.Zones()) != 1 || srv.Zones()[0] != "europe-west4-a" {
		t.Errorf("project %q zones %v", srv.Project(), srv.Zones())
	}
	if status, _ := raw(t, srv, "GET", "/compute/v1/projects/my-program/aggregated/instances"); status != http.StatusOK {
		t.Errorf("aggregatedList answered %d", status)
	}
	srv.Close()
	srv.Close() // twice is fine
	if _, err := http.Get(srv.URL() + "/compute/v1/projects/my-program/aggregated/instances"); err == nil {
		t.Error("the server still answers after Close")
	}
	if _, err := gcptest.Start("127.0.0.1:0", gcptest.WithZones("Mars")); err == nil {
		t.Error("Start accepted a zone that is not one")
	}
	if _, err := gcptest.Start("127.0.0.1:0", gcptest.WithProject("X")); err == nil {
		t.Error("Start accepted a project id that is not one")
	}
}

func TestMisuseIsReportedToTheTest(t *testing.T) {
	rec := &recorder{TB: t}
	srv := gcptest.NewServer(rec)
	srv.Inject(gcptest.Fault{Op: "instances.insrt", Status: 503})
	srv.FailOperation(gcptest.OpGet, 1, 403, "X", "x")
	if got := srv.AddInstance("mars-north1-a", "vm-1", nil); got.Name != "" {
		t.Errorf("AddInstance into an unknown zone returned %+v", got)
	}
	srv.AddInstance(zone, "vm-1", nil)
	srv.AddInstance(zone, "vm-1", nil)
	srv.AddInstance(zone, "VM", nil)
	srv.AddInstance(zone, "vm-2", map[string]string{"Bad": "x"})
	if len(rec.errs) != 6 {
		t.Errorf("%d misuses reported: %q; want 6", len(rec.errs), rec.errs)
	}
	if n := len(srv.Instances()); n != 1 {
		t.Errorf("%d instances; want the one valid AddInstance", n)
	}
}
