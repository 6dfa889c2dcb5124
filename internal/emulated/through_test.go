package emulated_test

import (
	"maps"
	"net/http"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/internal/emulated"
)

// countingTransport counts the requests one provider's client sends.
type countingTransport struct {
	mu       *sync.Mutex
	counts   map[string]int
	provider string
	next     http.RoundTripper
}

func (c countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.counts[c.provider]++
	c.mu.Unlock()
	return c.next.RoundTrip(req)
}

// Each driver sends every request through the transport given for its own
// provider, so a per-provider wrapper (a rate limit) sees all of that
// cloud's API calls and none of another's.
func TestDriversThroughSendEachProvidersRequestsThroughItsOwnTransport(t *testing.T) {
	set, err := emulated.Start(emulated.Addrs{})
	require.NoError(t, err)
	defer set.Close()
	var mu sync.Mutex
	counts := map[string]int{}
	ctx := t.Context()
	drivers, closeDrivers, err := emulated.DriversThrough(ctx, set.Endpoints(), func(provider string, next http.RoundTripper) http.RoundTripper {
		return countingTransport{mu: &mu, counts: counts, provider: provider, next: next}
	})
	require.NoError(t, err)
	defer closeDrivers()
	for _, p := range []string{cloudswitch.AWS, cloudswitch.Hetzner, cloudswitch.GCP} {
		mu.Lock()
		clear(counts)
		mu.Unlock()
		for _, err := range drivers[p].Instances(ctx, "acme") {
			require.NoError(t, err, "listing on %s", p)
		}
		mu.Lock()
		got := maps.Clone(counts)
		mu.Unlock()
		assert.Equal(t, []string{p}, slices.Collect(maps.Keys(got)), "listing on %s sent requests through the transports of %v", p, got)
		assert.Positive(t, got[p], "listing on %s sent no request through its transport", p)
	}
}
