package hetzner_test

import (
	"net/http"
	"testing"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/hetzner"
	"github.com/cloudswitch/cloudswitch/providers/hetzner/hetznertest"
)

// A record written without an installation (before installations were
// tagged) names a server of project P1. The driver is then misconfigured
// with the token of project P2, which holds cloudswitch servers of its own
// (another installation's, created earlier). Deprovision must not call the
// P1 server gone: P2's servers prove only that the token sees P2.
func TestATokenOfAnotherProjectWithCloudswitchServersNeverReportsALegacyServerGone(t *testing.T) {
	ctx := t.Context()
	srv, d := setup(t, nil)
	other, err := hetzner.New(srv.Client(hcloud.WithToken(srv.OtherProjectToken()), hcloud.WithRetryOpts(hcloud.RetryOpts{MaxRetries: 0})))
	require.NoError(t, err)

	// P2: another installation's server, created first (smaller id).
	staging := request("ws-staging")
	staging.Owner = "someone-else"
	staging.Installation = "staging"
	provision(t, other, staging)

	// P1: a server recorded without an installation.
	inst := provision(t, d, request("ws-legacy"))
	inst.Installation = ""

	err = other.Deprovision(ctx, inst)
	_, alive := vmByID(t, srv, inst.ID)
	require.True(t, alive, "the P1 server still exists")
	assert.NotErrorIs(t, err, cloudswitch.ErrInstanceNotFound,
		"a token of another project reported a live server gone: its project's own cloudswitch servers are no evidence it sees the server's project")
}

// The Provider contract: a VM without an ownership tag (created outside
// cloudswitch, or before installations were tagged) is not fenced by it.
// The Hetzner driver fences a server whose installation label is missing.
func TestDeprovisionDoesNotFenceAServerWithoutAnInstallationLabel(t *testing.T) {
	ctx := t.Context()
	srv, d := setup(t, nil)
	inst := provision(t, d, request("ws-before-installations")) // no installation label
	inst.Installation = "inst-1"                                // the record, written later, names one
	err := d.Deprovision(ctx, inst)
	assert.NotErrorIs(t, err, cloudswitch.ErrNotOurs, "an untagged installation does not fence the server")
	require.NoError(t, err)
	_, alive := vmByID(t, srv, inst.ID)
	assert.False(t, alive, "the server is deleted")
}

// The Provider contract: "the same Token never yields two VMs". Hetzner
// keeps no idempotency key and nothing in a project remembers a deleted
// server's name, so a late Provision with a token whose server was deleted
// (a paused process waking after its switch was rolled back) creates a
// server again: the driver cannot tell the token was used. What must hold
// is that one token never has two LIVE servers — the name's uniqueness
// sees to that — and that the late server carries the token's labels, so
// that Instances lists it and the Reconciler, finding no record naming
// it, reports it as an orphan (and destroys it under WithDeleteOrphans): it
// is never a VM that nothing can find.
func TestASpentTokenNeverHasTwoLiveServersAndALateOneIsListed(t *testing.T) {
	ctx := t.Context()
	srv, d := setup(t, nil)
	req := request("ws-spent")
	first := provision(t, d, req)
	require.NoError(t, d.Deprovision(ctx, first))
	require.Empty(t, srv.Instances())

	again, err := d.Provision(ctx, req)
	require.NoError(t, err)
	_, err = d.Provision(ctx, req) // and once more: the live server is adopted
	require.NoError(t, err)
	assert.Len(t, srv.Instances(), 1, "two live servers exist for one token")
	var listed []cloudswitch.Instance
	for inst, err := range d.Instances(ctx, owner) {
		require.NoError(t, err)
		listed = append(listed, inst)
	}
	require.Len(t, listed, 1)
	assert.Equal(t, again.ID, listed[0].ID)
	assert.Equal(t, req.Token, listed[0].Token, "the late server carries its token, so the Reconciler can tell no record names it")
}

// A refusal says the cloud did not act. A Resize whose change_type is
// refused (no capacity for the new type) has already shut the server down
// and powers it on again: the cloud acted twice (the guest was stopped, its
// workload interrupted), yet the error is a refusal. The GCP driver's rule
// is the one the contract asks for: once the stop was accepted no error is
// a refusal.
func TestResizeIsNoRefusalOnceTheServerWasShutDown(t *testing.T) {
	ctx := t.Context()
	srv, d := setup(t, nil)
	inst := provision(t, d, request("ws-resize"))
	srv.SetUnavailable(hetznertest.Unavailable{ServerType: "cpx31"})
	_, err := d.Resize(ctx, inst, "cpx31")
	require.Error(t, err)
	require.Positive(t, srv.CallCount(hetznertest.OpShutdownServer)+srv.CallCount(hetznertest.OpPoweroffServer), "the server was shut down")
	assert.NotErrorIs(t, err, cloudswitch.ErrRefused, "the server was shut down and powered on again: the cloud acted")
}

// Instances pages with page numbers (offsets) sorted by id. A server of a
// lower id deleted between two pages — by a switch running alongside the
// Reconciler — shifts every later server one place back, and the one that
// slides across the page boundary is never listed, while the listing ends
// without an error: the Reconciler takes it for complete and may call that
// VM's record dangling, or miss it as an orphan.
func TestInstancesListsEveryServerThatLivesThroughTheListing(t *testing.T) {
	ctx := t.Context()
	srv, d := setup(t, nil)
	var insts []cloudswitch.Instance
	for _, ws := range []string{"ws-a", "ws-b", "ws-c", "ws-d"} {
		insts = append(insts, provision(t, d, request(ws)))
	}
	srv.SetPageSize(2)

	seen := map[string]bool{}
	n := 0
	for inst, err := range d.Instances(ctx, owner) {
		require.NoError(t, err)
		seen[inst.ID] = true
		n++
		if n == 2 { // the end of the first page: another switch deletes ws-a's server
			require.NoError(t, d.Deprovision(ctx, insts[0]))
		}
	}
	for _, inst := range insts[1:] {
		_, alive := vmByID(t, srv, inst.ID)
		require.True(t, alive)
		assert.True(t, seen[inst.ID], "server %s (%s) lived through the listing but was never listed", inst.ID, inst.WorkspaceID)
	}
}

// The SSH-key evidence of gone: a key named in WithSSHKeys found by name
// in the project the token sees. Key names are not unique across projects —
// operators upload the same "ops" key to each — so a token of another
// project that holds a key of that name makes every server of the first
// project "gone". (Two emulators stand for two projects.)
func TestAnSSHKeyOfTheSameNameInAnotherProjectIsNoEvidenceOfGone(t *testing.T) {
	ctx := t.Context()
	srv, d := setup(t, []hetznertest.Option{hetznertest.WithSSHKeys("ops")}, hetzner.WithSSHKeys("ops"))
	req := request("ws-p1")
	req.Installation = "inst-1"
	inst := provision(t, d, req)

	_, other := setup(t, []hetznertest.Option{hetznertest.WithSSHKeys("ops")}, hetzner.WithSSHKeys("ops")) // project P2, token misconfigured
	err := other.Deprovision(ctx, inst)
	_, alive := vmByID(t, srv, inst.ID)
	require.True(t, alive)
	assert.NotErrorIs(t, err, cloudswitch.ErrInstanceNotFound, "a key name found in another project vouched for a live server's deletion")
}

// The SDK must make one attempt of each call: with its retries on, a
// delete that timed out and was retried into rate_limit_exceeded would read
// as refused, though the first attempt may have acted.
func TestTheClientNewFromTokenBuildsMakesOneAttemptSoAnAnswerSpeaksOfTheOnlyAttempt(t *testing.T) {
	srv := hetznertest.NewServer(t)
	client := hcloud.NewClient(append(hetzner.ClientOptions(), hcloud.WithEndpoint(srv.URL()), hcloud.WithToken(srv.Token()))...)
	d, err := hetzner.New(client)
	require.NoError(t, err)
	inst := srv.AddInstance("victim", map[string]string{}).CloudswitchInstance()
	for _, code := range []string{"conflict", "rate_limit_exceeded", "timeout", "bad_gateway"} {
		srv.ResetCalls()
		require.NoError(t, srv.Inject(hetznertest.Fault{Op: hetznertest.OpGetServer, Times: 1, Status: http.StatusConflict, Code: code}))
		err := d.Deprovision(t.Context(), inst)
		require.Error(t, err, "%s: the injected answer reaches the driver", code)
		require.Equal(t, 1, srv.CallCount(hetznertest.OpGetServer), "%s: the SDK retried the call itself", code)
		srv.ClearFaults()
	}
}
