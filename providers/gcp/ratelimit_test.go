package gcp_test

import (
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/cloudswitch/cloudswitch"
	csfleet "github.com/cloudswitch/cloudswitch/fleet"
	"github.com/cloudswitch/cloudswitch/providers/gcp/gcptest"
)

// routeFunc sends a request through one of two transports.
type routeFunc func(*http.Request) (*http.Response, error)

func (f routeFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// A rate-limited transport (fleet.LimitTransport) refuses a request it has
// no token for with an error matching cloudswitch.ErrRefused. When that
// request is a poll of an operation Compute Engine already accepted — an
// insert or a delete — the call acted: its error must not be a refusal.
func TestAPollTheRateLimitStoppedIsNoRefusalOfTheAcceptedCall(t *testing.T) {
	srv := gcptest.NewServer(t)
	dry := csfleet.LimitTransport(cloudswitch.GCP, http.DefaultTransport, rate.NewLimiter(rate.Every(time.Hour), 0))
	var pollsLimited atomic.Bool
	client := &http.Client{Transport: routeFunc(func(r *http.Request) (*http.Response, error) {
		if pollsLimited.Load() && r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/operations/") {
			return dry.RoundTrip(r)
		}
		return http.DefaultTransport.RoundTrip(r)
	})}
	d := newDriverVia(t, srv.URL(), client, srv.Project())

	inst, err := d.Provision(t.Context(), request("owner", "ws-limited"))
	require.NoError(t, err)
	pollsLimited.Store(true)
	err = d.Deprovision(t.Context(), inst)
	require.Error(t, err, "the delete's wait met the rate limit")
	if errors.Is(err, cloudswitch.ErrRefused) {
		t.Errorf("Deprovision = %v: a refusal, though Compute Engine accepted the delete", err)
	}

	_, err = d.Provision(t.Context(), request("owner", "ws-limited-2"))
	require.Error(t, err, "the insert's wait met the rate limit")
	if errors.Is(err, cloudswitch.ErrRefused) {
		t.Errorf("Provision = %v: a refusal, though Compute Engine accepted the insert", err)
	}
}
