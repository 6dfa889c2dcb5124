package main

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/memprovider"
)

func TestDeleteNeedsConfirmationAndDestroysNothingWithout(t *testing.T) {
	f := newFixture(t)
	ws := f.create("ws-1", cloudswitch.AWS)
	require.NotNil(t, ws.Instance)
	r := f.do("DELETE", "/workspaces/ws-1", "")
	r.wantStatus(t, http.StatusPreconditionRequired)
	assert.Contains(t, r.problem(t).Detail, "confirm_destroy=true")
	assert.True(t, f.aws.Exists(ws.Instance.ID), "a DELETE without confirmation destroyed the VM")
	f.do("GET", "/workspaces/ws-1", "").wantStatus(t, http.StatusOK)
}

func TestDeleteDestroysTheVMThenTheRecord(t *testing.T) {
	f := newFixture(t)
	ws := f.create("ws-1", cloudswitch.AWS)
	f.do("DELETE", "/workspaces/ws-1?confirm_destroy=true", "", "If-Match", fmt.Sprintf(`"%d"`, ws.Version+1)).
		wantStatus(t, http.StatusPreconditionFailed)
	assert.True(t, f.aws.Exists(ws.Instance.ID), "a DELETE at a stale version destroyed the VM")

	f.do("DELETE", "/workspaces/ws-1?confirm_destroy=true", "", "If-Match", fmt.Sprintf(`"%d"`, ws.Version)).
		wantStatus(t, http.StatusNoContent)
	assert.False(t, f.aws.Exists(ws.Instance.ID))
	f.do("GET", "/workspaces/ws-1", "").wantStatus(t, http.StatusNotFound)
	f.do("DELETE", "/workspaces/ws-1?confirm_destroy=true", "").wantStatus(t, http.StatusNotFound)
}

func TestDeleteWhoseDestroyIsRefusedChangesNothing(t *testing.T) {
	f := newFixture(t)
	ws := f.create("ws-1", cloudswitch.AWS)
	f.aws.FailNext(memprovider.OpDeprovision, 1, memprovider.ErrDenied)
	r := f.do("DELETE", "/workspaces/ws-1?confirm_destroy=true", "")
	r.wantStatus(t, http.StatusBadGateway)
	assert.True(t, f.aws.Exists(ws.Instance.ID))
	got := f.do("GET", "/workspaces/ws-1", "")
	got.wantStatus(t, http.StatusOK)
	assert.Nil(t, got.workspace(t).Pending)
}

func TestDeleteRefusesABadConfirmValue(t *testing.T) {
	f := newFixture(t)
	f.create("ws-1", cloudswitch.AWS)
	f.do("DELETE", "/workspaces/ws-1?confirm_destroy=yes", "").wantStatus(t, http.StatusBadRequest)
}

func TestABadRegionOrImageIsA400WithNothingDestroyed(t *testing.T) {
	f := newFixture(t)
	ws := f.create("ws-1", cloudswitch.AWS)
	for _, body := range []string{
		`{"provider":"hetzner","image":"projects/attacker-project/global/images/backdoor","confirm_recreate":true}`,
		`{"provider":"hetzner","region":"mars-1","confirm_recreate":true}`,
	} {
		r := f.do("PATCH", "/workspaces/ws-1/compute", body)
		r.wantStatus(t, http.StatusBadRequest)
		assert.True(t, f.aws.Exists(ws.Instance.ID), "a refused target destroyed the VM: %s", body)
		assert.Empty(t, f.hetzner.Live())
	}
}

func TestATypeChangeOnTheSameCloudResizesTheVM(t *testing.T) {
	f := newFixture(t)
	ws := f.create("ws-1", cloudswitch.AWS)
	r := f.do("PATCH", "/workspaces/ws-1/compute", `{"instance_type":"t3.large"}`)
	r.wantStatus(t, http.StatusOK)
	got := r.workspace(t)
	assert.Equal(t, "t3.large", got.Compute.InstanceType)
	require.NotNil(t, got.Instance)
	assert.Equal(t, ws.Instance.ID, got.Instance.ID, "resized in place, not recreated")
	assert.True(t, f.aws.Exists(ws.Instance.ID))
}
