package gcp_test

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	compute "cloud.google.com/go/compute/apiv1"
	"google.golang.org/api/option"

	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/gcp"
	"github.com/cloudswitch/cloudswitch/providers/gcp/gcptest"
	"github.com/cloudswitch/cloudswitch/providers/providertest"
)

// zone is the default zone of the drivers the tests make.
const zone = "us-central1-a"

// env is a driver speaking to an emulator through the real REST clients,
// which send a planted OAuth token with every request.
type env struct {
	srv    *gcptest.Server
	d      *gcp.Driver
	secret string // the planted access token
}

// bearer adds an Authorization header with a planted access token to every
// request, as an OAuth transport would.
type bearer struct {
	token string
	base  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.base.RoundTrip(r)
}

// clientOptions points the REST clients at url with a planted token.
func clientOptions(t testing.TB, url, secret string) []option.ClientOption {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	return []option.ClientOption{
		option.WithEndpoint(url),
		option.WithHTTPClient(&http.Client{Transport: bearer{token: secret, base: tr}}),
	}
}

// newEnv starts an emulator and a driver on it (default zone zone, polls
// every millisecond), with extra options.
func newEnv(t testing.TB, srvOpts []gcptest.Option, opts ...gcp.Option) *env {
	t.Helper()
	srv := gcptest.NewServer(t, srvOpts...)
	secret := "ya29.a0Planted" + randomHex(24) + "SecretToken"
	d := newDriver(t, srv.URL(), srv.Project(), secret, opts...)
	// Stop the server first (cleanups run last in, first out), so that a
	// listing a test abandoned fails at once and the driver's Close, which
	// waits for it, returns.
	t.Cleanup(srv.Close)
	return &env{srv: srv, d: d, secret: secret}
}

// newDriver returns a driver of project at url whose clients send secret.
func newDriver(t testing.TB, url, project, secret string, opts ...gcp.Option) *gcp.Driver {
	t.Helper()
	return newDriverFrom(t, clientOptions(t, url, secret), project, opts...)
}

// newDriverVia returns a driver of project at url whose clients send their
// requests with client.
func newDriverVia(t testing.TB, url string, client *http.Client, project string, opts ...gcp.Option) *gcp.Driver {
	t.Helper()
	return newDriverFrom(t, []option.ClientOption{option.WithEndpoint(url), option.WithoutAuthentication(), option.WithHTTPClient(client)}, project, opts...)
}

// newDriverFrom returns a driver of project whose clients are made with
// copts.
func newDriverFrom(t testing.TB, copts []option.ClientOption, project string, opts ...gcp.Option) *gcp.Driver {
	ctx := t.Context()
	t.Helper()
	instances, err := compute.NewInstancesRESTClient(ctx, copts...)
	require.NoError(t, err)
	operations, err := compute.NewZoneOperationsRESTClient(ctx, copts...)
	require.NoError(t, err)
	opts = append([]gcp.Option{gcp.WithZone(zone), gcp.WithPollInterval(time.Millisecond)}, opts...)
	d, err := gcp.New(instances, operations, project, opts...)
	if err != nil {
		instances.Close()
		operations.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		instances.Close()
		operations.Close()
	})
	return d
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// request is a valid provision request for a fresh token.
func request(owner, workspace string) cloudswitch.ProvisionRequest {
	return cloudswitch.ProvisionRequest{
		WorkspaceID: workspace, Token: randomHex(16), Owner: owner,
		Compute: cloudswitch.Compute{Provider: cloudswitch.GCP, InstanceType: "e2-standard-2"},
	}
}

// list collects what Instances yields for owner, failing the test on an
// error.
func list(t testing.TB, d *gcp.Driver, owner string) []cloudswitch.Instance {
	t.Helper()
	out, err := providertest.Listed(t.Context(), d, owner)
	require.NoErrorf(t, err, "Instances(%q)", owner)
	return out
}

// names returns the names of insts.
func names(insts []cloudswitch.Instance) []string {
	var out []string
	for _, i := range insts {
		out = append(out, i.ID)
	}
	return out
}

// noSecret fails the test if err's message carries secret.
func noSecret(t testing.TB, err error, secret string) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), secret) {
		t.Errorf("an error carries the planted secret: %v", err)
	}
}
