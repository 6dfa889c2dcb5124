package gcp_test

import (
	"errors"
	"net/http"
	"testing"

	compute "cloud.google.com/go/compute/apiv1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/gcp"
	"github.com/cloudswitch/cloudswitch/providers/gcp/gcptest"
)

// newLookupEnv is newEnv with the lookup clients Preflight asks.
func newLookupEnv(t *testing.T, srvOpts []gcptest.Option, opts ...gcp.Option) *env {
	ctx := t.Context()
	t.Helper()
	srv := gcptest.NewServer(t, srvOpts...)
	secret := "ya29.a0Planted" + randomHex(24) + "SecretToken"
	copts := clientOptions(t, srv.URL(), secret)
	mt, err := compute.NewMachineTypesRESTClient(ctx, copts...)
	require.NoError(t, err)
	img, err := compute.NewImagesRESTClient(ctx, copts...)
	require.NoError(t, err)
	t.Cleanup(func() { mt.Close(); img.Close() })
	d := newDriver(t, srv.URL(), srv.Project(), secret, append([]gcp.Option{gcp.WithLookupClients(mt, img)}, opts...)...)
	t.Cleanup(srv.Close)
	return &env{srv: srv, d: d, secret: secret}
}

// wantInvalidField fails unless err is a *cloudswitch.ValidationError
// naming field.
func wantInvalidField(t *testing.T, err error, field string) {
	t.Helper()
	var verr *cloudswitch.ValidationError
	require.ErrorAs(t, err, &verr, "want a *cloudswitch.ValidationError naming %s", field)
	assert.Equal(t, field, verr.Field, "%v", err)
	assert.ErrorIs(t, err, cloudswitch.ErrInvalid)
}

func TestPreflightAcceptsWhatProvisionCreates(t *testing.T) {
	ctx := t.Context()
	e := newLookupEnv(t, nil)
	req := request("owner", "ws")
	req.Compute.Image = "projects/ubuntu-os-cloud/global/images/family/ubuntu-2404-lts-amd64"
	require.NoError(t, e.d.Preflight(ctx, req))
	assert.Empty(t, e.srv.Instances(), "Preflight creates nothing")
	assert.Equal(t, 1, e.srv.CallCount(gcptest.OpMachineTypeGet))
	assert.Equal(t, 1, e.srv.CallCount(gcptest.OpImageFromFamily))
	_, err := e.d.Provision(ctx, req)
	assert.NoError(t, err)
}

func TestPreflightRefusesWhatProvisionWouldRefuseNamingTheField(t *testing.T) {
	ctx := t.Context()
	for name, c := range map[string]struct {
		mutate func(*cloudswitch.ProvisionRequest)
		field  string
	}{
		"a machine type the zone does not offer": {func(r *cloudswitch.ProvisionRequest) { r.Compute.InstanceType = "e2-standard-96" }, "instance_type"},
		"a machine type name that is none":       {func(r *cloudswitch.ProvisionRequest) { r.Compute.InstanceType = "E2 Standard" }, "instance_type"},
		"an image family that does not exist": {func(r *cloudswitch.ProvisionRequest) {
			r.Compute.Image = "projects/debian-cloud/global/images/family/debian-99"
		}, "image"},
		"an image that does not exist": {func(r *cloudswitch.ProvisionRequest) {
			r.Compute.Image = "projects/attacker-project/global/images/backdoor"
		}, "image"},
		"an image that is no path":            {func(r *cloudswitch.ProvisionRequest) { r.Compute.Image = "debian" }, "image"},
		"a zone Compute Engine does not have": {func(r *cloudswitch.ProvisionRequest) { r.Compute.Region = "mars-north1-a" }, "region"},
		"a zone that is no zone":              {func(r *cloudswitch.ProvisionRequest) { r.Compute.Region = "us-central1" }, "region"},
		"another provider's compute":          {func(r *cloudswitch.ProvisionRequest) { r.Compute.Provider = cloudswitch.AWS }, "provider"},
	} {
		t.Run(name, func(t *testing.T) {
			e := newLookupEnv(t, nil)
			req := request("owner", "ws")
			c.mutate(&req)
			wantInvalidField(t, e.d.Preflight(ctx, req), c.field)
			_, err := e.d.Provision(ctx, req)
			assert.Error(t, err, "what Preflight refuses, Provision refuses")
			assert.Empty(t, e.srv.Instances())
		})
	}
}

func TestPreflightKnowsWhatATestAddsToTheCatalogue(t *testing.T) {
	ctx := t.Context()
	e := newLookupEnv(t, nil)
	req := request("owner", "ws")
	req.Compute.InstanceType = "c3-standard-4"
	req.Compute.Image = "projects/my-project/global/images/golden-1"
	wantInvalidField(t, e.d.Preflight(ctx, req), "instance_type")
	e.srv.AddMachineType(zone, "c3-standard-4")
	wantInvalidField(t, e.d.Preflight(ctx, req), "image")
	e.srv.AddImage("projects/my-project/global/images/golden-1")
	require.NoError(t, e.d.Preflight(ctx, req))
	_, err := e.d.Provision(ctx, req)
	assert.NoError(t, err)
}

func TestPreflightErrorsThatAreNoVerdict(t *testing.T) {
	ctx := t.Context()
	e := newLookupEnv(t, nil)
	e.srv.Inject(gcptest.Fault{Op: gcptest.OpMachineTypeGet, Times: 1, Status: http.StatusServiceUnavailable})
	err := e.d.Preflight(ctx, request("owner", "ws"))
	assert.ErrorIs(t, err, cloudswitch.ErrTransient)
	var verr *cloudswitch.ValidationError
	assert.False(t, errors.As(err, &verr), "a 503 says nothing about the request: %v", err)

	e.srv.Inject(gcptest.Fault{Op: gcptest.OpImageFromFamily, Times: 1, Status: http.StatusForbidden})
	err = e.d.Preflight(ctx, request("owner", "ws"))
	require.Error(t, err)
	assert.False(t, errors.As(err, &verr), "a 403 is no verdict on the image: %v", err)
	assert.NotErrorIs(t, err, cloudswitch.ErrTransient)
}

func TestPreflightWithoutLookupClientsChecksWhatTheDriverCan(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, nil)
	req := request("owner", "ws")
	require.NoError(t, e.d.Preflight(ctx, req))
	req.Compute.InstanceType = "E2 Standard"
	wantInvalidField(t, e.d.Preflight(ctx, req), "instance_type")
	assert.Zero(t, e.srv.CallCount(""))
}

func TestPreflightOfADriverFromClientOptionsMakesTheLookups(t *testing.T) {
	ctx := t.Context()
	srv := gcptest.NewServer(t)
	d, err := gcp.NewFromClientOptions(ctx, srv.Project(), srv.ClientOptions(), gcp.WithZone(zone))
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, d.Close()) })
	req := request("owner", "ws")
	req.Compute.InstanceType = "e2-standard-96"
	wantInvalidField(t, d.Preflight(ctx, req), "instance_type")
}
