package emulated_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
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
	// No Close, no Save: as if the process had been killed.
	closeDrivers()

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
