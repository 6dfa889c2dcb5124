package hetznertest_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch/providers/hetzner/hetznertest"
)

func TestAFailedCreateActionEndsInErrorAndLeavesTheServerOff(t *testing.T) {
	ctx := t.Context()
	srv := hetznertest.NewServer(t)
	srv.FailActions(hetznertest.ActionFailure{Command: hetznertest.CommandCreateServer, Times: 1, Code: "create_failed"})
	c := srv.Client()
	res, _, err := c.Server.Create(ctx, createOpts("broken", nil))
	require.NoError(t, err, "the create is accepted; its action fails later")
	err = c.Action.WaitFor(ctx, append([]*hcloud.Action{res.Action}, res.NextActions...)...)
	var actionErr hcloud.ActionError
	require.ErrorAs(t, err, &actionErr, "waiting for a failed create action")
	assert.Equal(t, "create_failed", actionErr.Code)
	vms := srv.Instances()
	require.Len(t, vms, 1, "the server of a failed create stays")
	assert.Equal(t, hetznertest.StatusOff, vms[0].Status)

	actions, _, err := c.Server.Action.ListFor(ctx, res.Server, hcloud.ActionListOpts{Status: []hcloud.ActionStatus{hcloud.ActionStatusError}})
	require.NoError(t, err)
	require.Len(t, actions, 2, "GET /servers/{id}/actions?status=error lists the failed create and start")
	assert.Equal(t, "create_server", actions[0].Command)

	ok := create(t, c, "fine", nil)
	assert.NotZero(t, ok.ID, "only the queued number of actions fails")
}

func TestAFailedDeleteActionLeavesTheServerAsItWas(t *testing.T) {
	ctx := t.Context()
	srv := hetznertest.NewServer(t)
	c := srv.Client()
	s := create(t, c, "stays", nil)
	srv.FailActions(hetznertest.ActionFailure{Command: hetznertest.CommandDeleteServer, Times: 1})
	res, _, err := c.Server.DeleteWithResult(ctx, s)
	require.NoError(t, err)
	require.Error(t, c.Action.WaitFor(ctx, res.Action))
	vms := srv.Instances()
	require.Len(t, vms, 1)
	assert.Equal(t, hetznertest.StatusRunning, vms[0].Status)
}

func TestDeletingAServerWhileAnActionRunsIsLocked(t *testing.T) {
	ctx := t.Context()
	srv := hetznertest.NewServer(t, hetznertest.WithActionDuration(time.Hour))
	c := srv.Client(hcloud.WithRetryOpts(hcloud.RetryOpts{MaxRetries: 0}))
	res, _, err := c.Server.Create(ctx, createOpts("busy", nil))
	require.NoError(t, err)
	_, _, err = c.Server.DeleteWithResult(ctx, res.Server)
	wantAPIError(t, err, hcloud.ErrorCodeLocked, http.StatusLocked)
	assert.Equal(t, hetznertest.StatusInitializing, srv.Instances()[0].Status, "a locked delete has no effect")

	srv.SetLocking(false)
	_, _, err = c.Server.DeleteWithResult(ctx, res.Server)
	require.NoError(t, err, "with locking off the delete is accepted")
}

func TestCapacityTheProjectLacksIsRefused(t *testing.T) {
	ctx := t.Context()
	srv := hetznertest.NewServer(t)
	c := srv.Client(hcloud.WithRetryOpts(hcloud.RetryOpts{MaxRetries: 0}))
	srv.SetUnavailable(hetznertest.Unavailable{ServerType: "cpx31", Location: "nbg1"})
	_, _, err := c.Server.Create(ctx, createOpts("no-room", nil))
	wantAPIError(t, err, hcloud.ErrorCodeResourceUnavailable, http.StatusPreconditionFailed)

	srv.ClearUnavailable()
	srv.SetUnavailable(hetznertest.Unavailable{Location: "nbg1", Placement: true})
	_, _, err = c.Server.Create(ctx, createOpts("no-room", nil))
	wantAPIError(t, err, hcloud.ErrorCodePlacementError, http.StatusUnprocessableEntity)
	assert.Empty(t, srv.Instances(), "a refused create creates nothing")

	srv.ClearUnavailable()
	create(t, c, "room", nil)
}

func TestATokenOfAnotherProjectSeesNoneOfTheProjectsServers(t *testing.T) {
	ctx := t.Context()
	srv := hetznertest.NewServer(t, hetznertest.WithSSHKeys("ops"))
	mine := create(t, srv.Client(), "mine", map[string]string{"k": "v"})
	other := srv.Client(hcloud.WithToken(srv.OtherProjectToken()))
	got, _, err := other.Server.GetByID(ctx, mine.ID)
	require.NoError(t, err)
	assert.Nil(t, got, "another project's token gets 404 for every server of this one")
	_, _, err = other.Server.DeleteWithResult(ctx, mine)
	wantAPIError(t, err, hcloud.ErrorCodeNotFound, http.StatusNotFound)
	all, err := other.Server.All(ctx)
	require.NoError(t, err)
	assert.Empty(t, all)
	key, _, err := other.SSHKey.GetByName(ctx, "ops")
	require.NoError(t, err)
	assert.Nil(t, key, "SSH keys belong to their project")

	theirs := create(t, other, "mine", nil)
	assert.NotEqual(t, mine.ID, theirs.ID, "server ids are unique across projects")
	require.Len(t, srv.Instances(), 1, "Instances is the project of Token")
}
