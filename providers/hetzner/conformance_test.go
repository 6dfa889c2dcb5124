package hetzner_test

import (
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch/providers/hetzner"
	"github.com/cloudswitch/cloudswitch/providers/hetzner/hetznertest"
	"github.com/cloudswitch/cloudswitch/providers/providertest"
)

// TestConformance runs the Provider conformance suite, switch suites
// included, against the driver speaking to the emulator through hcloud-go.
func TestConformance(t *testing.T) {
	providertest.Run(t, func(t *testing.T) providertest.Harness { return harness(t) })
}

// deleteAttempts is how many DELETEs one Deprovision of a locked server
// makes: the first, and one after each of its three waits for the lock.
const deleteAttempts = 4

// harness is the driver on an emulator, with every lever of the suite. The
// project has an SSH key, as real projects have (and the driver keeps its
// anchor), so the driver can tell that it sees the project.
func harness(t *testing.T, opts ...hetznertest.Option) providertest.Harness {
	srv := hetznertest.NewServer(t, append([]hetznertest.Option{hetznertest.WithSSHKeys("ops")}, opts...)...)
	creds := &credentials{base: http.DefaultTransport, foreign: srv.OtherProjectToken()}
	// No SDK retries: hcloud-go would retry a throttled call by itself,
	// and every scripted fault must reach the driver.
	d, err := hetzner.New(srv.Client(hcloud.WithRetryOpts(hcloud.RetryOpts{MaxRetries: 0}), hcloud.WithHTTPClient(&http.Client{Transport: creds})),
		hetzner.WithSSHKeys("ops"))
	require.NoError(t, err)
	h := srv.Harness(d)
	h.ForeignCredentials = creds.useForeign
	// The driver retries a delete of a locked server: every one of its
	// attempts must meet the lock.
	busy := h.Busy
	h.Busy = func(op providertest.Op, n int) { busy(op, n*deleteAttempts) }
	return h
}

// credentials is a transport that sends the token of another project
// instead of the driver's while foreign is on.
type credentials struct {
	base    http.RoundTripper
	foreign string
	on      atomic.Bool
}

func (c *credentials) useForeign(on bool) { c.on.Store(on) }

func (c *credentials) RoundTrip(r *http.Request) (*http.Response, error) {
	if c.on.Load() {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer "+c.foreign)
	}
	return c.base.RoundTrip(r)
}

// TestConformanceWithActionsThatTakeTime runs the suite, switch suites
// included, with actions that last a few milliseconds, as Hetzner's last
// seconds: a delete that follows a lost create answer can find the server
// locked by its create, and an adopted server may still be initializing.
func TestConformanceWithActionsThatTakeTime(t *testing.T) {
	if testing.Short() {
		t.Skip("the suite with slow actions is not short")
	}
	providertest.Run(t, func(t *testing.T) providertest.Harness {
		return harness(t, hetznertest.WithActionDuration(3*time.Millisecond))
	})
}
