package emulated_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/internal/emulated"
)

func TestAPersistentSetKeepsEveryVMAcrossARestart(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "clouds.json")

	set, restored, err := emulated.StartPersistent(emulated.Addrs{}, path)
	require.NoError(t, err)
	require.False(t, restored, "a missing file restored something")
	drivers, closeDrivers, err := set.Drivers(ctx)
	require.NoError(t, err)
	made := map[string]cloudswitch.Instance{}
	types := map[string]string{cloudswitch.AWS: "t3.medium", cloudswitch.Hetzner: "cpx11", cloudswitch.GCP: "e2-small"}
	for p, typ := range types {
		inst, err := drivers[p].Provision(ctx, cloudswitch.ProvisionRequest{WorkspaceID: "ws-" + p,
			Compute: cloudswitch.Compute{Provider: p, InstanceType: typ},
			Token:   strings.Repeat("ab", 16), Owner: cloudswitch.DefaultOwner})
		require.NoError(t, err, p)
		made[p] = inst
	}
	before := set.VMs()
	// No Close, no Save: as if the process had been killed. The file as it
	// is now is what a killed process leaves; a copy of it is started
	// again, since the running Set still holds path.
	closeDrivers()
	left, err := os.ReadFile(path)
	require.NoError(t, err)
	path = filepath.Join(t.TempDir(), "clouds.json")
	require.NoError(t, os.WriteFile(path, left, 0o600))

	again, restored, err := emulated.StartPersistent(emulated.Addrs{}, path)
	require.NoError(t, err)
	defer again.Close()
	defer set.Close()
	require.True(t, restored)
	after := again.VMs()
	require.Len(t, after, len(before))
	for i := range before {
		assert.Equal(t, before[i].ID, after[i].ID)
		assert.Equal(t, before[i].WorkspaceID, after[i].WorkspaceID)
		assert.Equal(t, before[i].Token, after[i].Token)
		assert.True(t, after[i].Live, "%s/%s is not live after the restart", after[i].Provider, after[i].ID)
	}

	// A retried create, with the same token, finds the VM on every cloud.
	drivers, closeDrivers, err = again.Drivers(ctx)
	require.NoError(t, err)
	defer closeDrivers()
	for p, inst := range made {
		got, err := drivers[p].Provision(ctx, cloudswitch.ProvisionRequest{WorkspaceID: "ws-" + p,
			Compute: cloudswitch.Compute{Provider: p, InstanceType: types[p]},
			Token:   strings.Repeat("ab", 16), Owner: cloudswitch.DefaultOwner})
		if assert.NoError(t, err, p) {
			assert.Equal(t, inst.ID, got.ID, "%s: a retried create after the restart made a second VM", p)
		}
	}
	assert.Len(t, again.VMs(), len(before))
}

func TestOnePersistentSetAtATimeHoldsAStateFile(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "solaris" || runtime.GOOS == "illumos" || runtime.GOOS == "aix" {
		t.Skip("no advisory file locks here")
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ws.db.clouds")
	first, _, err := emulated.StartPersistent(emulated.Addrs{}, path)
	require.NoError(t, err)
	drivers, closeDrivers, err := first.Drivers(ctx)
	require.NoError(t, err)
	defer closeDrivers()
	inst, err := drivers[cloudswitch.Hetzner].Provision(ctx, cloudswitch.ProvisionRequest{WorkspaceID: "ws-1",
		Compute: cloudswitch.Compute{Provider: cloudswitch.Hetzner, InstanceType: "cpx11"},
		Token:   strings.Repeat("cd", 16), Owner: cloudswitch.DefaultOwner})
	require.NoError(t, err)
	saved, err := os.ReadFile(path)
	require.NoError(t, err)

	second, _, err := emulated.StartPersistent(emulated.Addrs{}, path)
	require.ErrorIs(t, err, emulated.ErrStateInUse, "a second Set on the same file would keep its own copy, and the last to save wins")
	assert.Nil(t, second)
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, saved, after, "the refused Set wrote the state file")

	first.Close()
	again, restored, err := emulated.StartPersistent(emulated.Addrs{}, path)
	require.NoError(t, err, "Close lets go of the file")
	defer again.Close()
	assert.True(t, restored)
	vms := again.VMs()
	require.Len(t, vms, 1)
	assert.Equal(t, inst.ID, vms[0].ID)
}

func TestAPersistentSetSavesCallsThatPassAWrapper(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ws.db.clouds")
	set, _, err := emulated.StartPersistent(emulated.Addrs{}, path)
	require.NoError(t, err)
	var mu sync.Mutex
	var wrapped []string
	drivers, closeDrivers, err := set.DriversThrough(ctx, func(provider string, next http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			mu.Lock()
			wrapped = append(wrapped, provider)
			mu.Unlock()
			return next.RoundTrip(r)
		})
	})
	require.NoError(t, err)
	inst, err := drivers[cloudswitch.AWS].Provision(ctx, cloudswitch.ProvisionRequest{WorkspaceID: "ws-1",
		Compute: cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.medium"},
		Token:   strings.Repeat("ef", 16), Owner: cloudswitch.DefaultOwner})
	require.NoError(t, err)
	closeDrivers()
	set.Close()
	assert.Contains(t, wrapped, cloudswitch.AWS, "the call did not pass the wrapper")

	again, restored, err := emulated.StartPersistent(emulated.Addrs{}, path)
	require.NoError(t, err)
	defer again.Close()
	assert.True(t, restored)
	vms := again.VMs()
	require.Len(t, vms, 1)
	assert.Equal(t, inst.ID, vms[0].ID, "the call through the wrapper was not saved")
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestTheInspectionAPINeverServesCredentials(t *testing.T) {
	set, err := emulated.Start(emulated.Addrs{})
	require.NoError(t, err)
	defer set.Close()
	srv := httptest.NewServer(set.InspectHandler())
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/endpoints")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "the endpoints, with the Hetzner token, are served")

	resp, err = http.Get(srv.URL + "/vms")
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.True(t, json.Valid(b))
	assert.NotContains(t, string(b), set.Hetzner.Token())
}
