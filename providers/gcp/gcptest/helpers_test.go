package gcptest_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	compute "cloud.google.com/go/compute/apiv1"
	"cloud.google.com/go/compute/apiv1/computepb"
	"github.com/googleapis/gax-go/v2"
	"github.com/stretchr/testify/require"
	"google.golang.org/api/googleapi"
	"google.golang.org/protobuf/proto"

	"github.com/cloudswitch/cloudswitch/providers/gcp/gcptest"
)

const zone = "us-central1-a"

// noRetry keeps the clients from retrying, so tests see every answer.
var noRetry = gax.WithRetry(func() gax.Retryer { return nil })

// clients returns SDK clients pointed at srv.
func clients(t *testing.T, srv *gcptest.Server) (*compute.InstancesClient, *compute.ZoneOperationsClient) {
	ctx := t.Context()
	t.Helper()
	instances, operations, err := srv.Clients(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { instances.Close(); operations.Close() })
	return instances, operations
}

// resource is a valid instance to insert.
func resource(name string, labels map[string]string) *computepb.Instance {
	return &computepb.Instance{
		Name:        proto.String(name),
		MachineType: proto.String("zones/" + zone + "/machineTypes/e2-small"),
		Labels:      labels,
		Disks: []*computepb.AttachedDisk{{
			Boot: proto.Bool(true), AutoDelete: proto.Bool(true),
			InitializeParams: &computepb.AttachedDiskInitializeParams{SourceImage: proto.String("projects/debian-cloud/global/images/family/debian-12")},
		}},
		NetworkInterfaces: []*computepb.NetworkInterface{{Network: proto.String("global/networks/default")}},
	}
}

// insert inserts resource into zone with requestId rid ("" for none).
func insert(ctx context.Context, ic *compute.InstancesClient, project, rid string, r *computepb.Instance) (*compute.Operation, error) {
	req := &computepb.InsertInstanceRequest{Project: project, Zone: zone, InstanceResource: r}
	if rid != "" {
		req.RequestId = proto.String(rid)
	}
	return ic.Insert(ctx, req, noRetry)
}

// mustInsert inserts a valid instance and waits for it.
func mustInsert(t *testing.T, srv *gcptest.Server, ic *compute.InstancesClient, name string, labels map[string]string) {
	ctx := t.Context()
	t.Helper()
	op, err := insert(t.Context(), ic, srv.Project(), "", resource(name, labels))
	require.NoError(t, err)
	require.NoError(t, op.Wait(ctx, noRetry))
}

// wantAPIError fails unless err is the API error status/reason.
func wantAPIError(t *testing.T, err error, status int, reason string) *googleapi.Error {
	t.Helper()
	var gerr *googleapi.Error
	if !errors.As(err, &gerr) {
		t.Fatalf("got %v; want an API error %d %s", err, status, reason)
	}
	if gerr.Code != status || len(gerr.Errors) != 1 || gerr.Errors[0].Reason != reason {
		t.Fatalf("got %d %+v; want %d %s", gerr.Code, gerr.Errors, status, reason)
	}
	return gerr
}

// raw sends a request to srv and returns the status and the JSON answer.
func raw(t *testing.T, srv *gcptest.Server, method, path string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL()+path, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q; want application/json", ct)
	}
	var out map[string]any
	require.NoErrorf(t, json.Unmarshal(body, &out), "answer %q is not JSON", body)
	return resp.StatusCode, out
}

// recorder is a testing.TB that records the errors reported to it.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, format)
}
