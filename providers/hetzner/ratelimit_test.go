package hetzner_test

import (
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/cloudswitch/cloudswitch"
	csfleet "github.com/cloudswitch/cloudswitch/fleet"
	"github.com/cloudswitch/cloudswitch/providers/hetzner"
	"github.com/cloudswitch/cloudswitch/providers/hetzner/hetznertest"
)

// routeFunc sends a request through one of two transports.
type routeFunc func(*http.Request) (*http.Response, error)

func (f routeFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// A rate-limited transport (fleet.LimitTransport) refuses a request it has
// no token for with an error matching cloudswitch.ErrRefused. When that
// request is a poll of an action the API already accepted — a create or a
// delete — the call acted: its error must not be a refusal.
func TestAPollTheRateLimitStoppedIsNoRefusalOfTheAcceptedCall(t *testing.T) {
	srv := hetznertest.NewServer(t, hetznertest.WithActionDuration(50*time.Millisecond))
	dry := csfleet.LimitTransport(cloudswitch.Hetzner, http.DefaultTransport, rate.NewLimiter(rate.Every(time.Hour), 0))
	var pollsLimited atomic.Bool
	transport := routeFunc(func(r *http.Request) (*http.Response, error) {
		if pollsLimited.Load() && r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/actions") {
			return dry.RoundTrip(r)
		}
		return http.DefaultTransport.RoundTrip(r)
	})
	d, err := hetzner.NewFromToken(srv.Token(), hetzner.WithClientOptions(
		hcloud.WithEndpoint(srv.URL()),
		hcloud.WithHTTPClient(&http.Client{Transport: transport}),
		hcloud.WithPollOpts(hcloud.PollOpts{BackoffFunc: hcloud.ConstantBackoff(time.Millisecond)}),
	))
	require.NoError(t, err)

	inst := provision(t, d, request("ws-limited"))
	pollsLimited.Store(true)
	err = d.Deprovision(t.Context(), inst)
	require.Error(t, err, "the delete's wait met the rate limit")
	if errors.Is(err, cloudswitch.ErrRefused) {
		t.Errorf("Deprovision = %v: a refusal, though the API accepted the delete", err)
	}

	_, err = d.Provision(t.Context(), request("ws-limited-2"))
	require.Error(t, err, "the create's wait met the rate limit")
	require.Len(t, srv.Instances(), 2, "the API did not create the second server")
	if errors.Is(err, cloudswitch.ErrRefused) {
		t.Errorf("Provision = %v: a refusal, though the API created the server", err)
	}
}
