package hetzner_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/hetzner"
	"github.com/cloudswitch/cloudswitch/providers/hetzner/hetznertest"
)

func TestPreflightAcceptsWhatProvisionCreatesAndCreatesNothing(t *testing.T) {
	ctx := t.Context()
	srv, d := setup(t, []hetznertest.Option{hetznertest.WithImages("my-distro-1")})
	for _, c := range []cloudswitch.Compute{
		{Provider: cloudswitch.Hetzner, InstanceType: "cpx31"},
		{Provider: cloudswitch.Hetzner, InstanceType: "cax21", Region: "hel1", Image: "debian-12"},
		{Provider: cloudswitch.Hetzner, InstanceType: "cpx11", Region: "ash", Image: "my-distro-1"},
	} {
		req := request("ws-pre")
		req.Compute = c
		require.NoError(t, d.Preflight(ctx, req), "Preflight(%+v)", c)
	}
	assert.Empty(t, srv.Instances(), "Preflight created a server")
	assert.Zero(t, srv.CallCount(hetznertest.OpCreateServer))
}

func TestPreflightNamesTheFieldTheCloudRefuses(t *testing.T) {
	ctx := t.Context()
	srv, d := setup(t, nil)
	srv.SetUnavailable(hetznertest.Unavailable{ServerType: "cpx51", Location: "sin"})
	for name, c := range map[string]struct {
		compute cloudswitch.Compute
		field   string
	}{
		"unknown type":       {cloudswitch.Compute{InstanceType: "cx99"}, "instance_type"},
		"unknown location":   {cloudswitch.Compute{InstanceType: "cpx31", Region: "mars1"}, "region"},
		"unknown image":      {cloudswitch.Compute{InstanceType: "cpx31", Image: "windows-95"}, "image"},
		"unknown image id":   {cloudswitch.Compute{InstanceType: "cpx31", Image: "424242"}, "image"},
		"type not available": {cloudswitch.Compute{InstanceType: "cpx51", Region: "sin"}, "instance_type"},
	} {
		t.Run(name, func(t *testing.T) {
			req := request("ws-pre")
			c.compute.Provider = cloudswitch.Hetzner
			req.Compute = c.compute
			err := d.Preflight(ctx, req)
			var v *cloudswitch.ValidationError
			require.ErrorAs(t, err, &v)
			assert.Equal(t, c.field, v.Field)
			assert.ErrorIs(t, err, cloudswitch.ErrInvalid)
		})
	}
}

func TestPreflightRefusesWhatTheDriverRefusesAndClassifiesLookupErrors(t *testing.T) {
	ctx := t.Context()
	_, d := setup(t, nil, hetzner.WithSSHKeys("missing"))
	err := d.Preflight(ctx, request("ws-keys"))
	require.Error(t, err, "an SSH key that does not exist")
	assert.ErrorIs(t, err, cloudswitch.ErrRefused)

	_, d = setup(t, nil)
	bad := request("ws-bad")
	bad.Compute.InstanceType = ""
	assert.ErrorIs(t, d.Preflight(ctx, bad), cloudswitch.ErrRefused)

	srv, d := setup(t, nil)
	srv.Inject(hetznertest.Fault{Op: hetznertest.OpListServerTypes, Times: 1, Status: http.StatusServiceUnavailable, Code: "service_error"})
	err = d.Preflight(ctx, request("ws-503"))
	assert.ErrorIs(t, err, cloudswitch.ErrTransient)
	assert.False(t, errors.As(err, new(*cloudswitch.ValidationError)), "a failed lookup is not a validation error")
}
