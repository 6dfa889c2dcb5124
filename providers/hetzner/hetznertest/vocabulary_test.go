package hetznertest_test

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"testing"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/ownership"
	"github.com/cloudswitch/cloudswitch/providers/emulator"
	"github.com/cloudswitch/cloudswitch/providers/hetzner/hetznertest"
	"github.com/cloudswitch/cloudswitch/providers/providertest"
)

// A Fault naming an operation the emulator does not serve is refused,
// loudly: a typo never passes as a fault that silently never fires.
func TestInjectRefusesAnOperationItDoesNotServe(t *testing.T) {
	rec := &recorder{TB: t}
	srv := hetznertest.NewServer(rec)
	err := srv.Inject(hetznertest.Fault{Op: "POST /server", Status: 503})
	if !errors.Is(err, emulator.ErrUnknownOp) {
		t.Fatalf("Inject of an unknown operation: %v; want ErrUnknownOp", err)
	}
	if len(rec.errors) != 1 {
		t.Errorf("test errors %q; want the unknown operation reported once", rec.errors)
	}
	for _, op := range []string{"", hetznertest.OpCreateServer, hetznertest.OpListServers, hetznertest.OpGetServer,
		hetznertest.OpDeleteServer, hetznertest.OpListServerActions, hetznertest.OpListActions, hetznertest.OpGetAction,
		hetznertest.OpListSSHKeys, hetznertest.OpGetSSHKey, hetznertest.OpPoweronServer, hetznertest.OpShutdownServer,
		hetznertest.OpPoweroffServer, hetznertest.OpChangeServerType, hetznertest.OpListPlacementGroups,
		hetznertest.OpCreatePlacementGroup, hetznertest.OpListServerTypes, hetznertest.OpListLocations,
		hetznertest.OpListImages, hetznertest.OpGetImage} {
		if err := srv.Inject(hetznertest.Fault{Op: op, Times: 1}); err != nil {
			t.Errorf("Inject(%q): %v", op, err)
		}
	}
	if len(rec.errors) != 1 {
		t.Errorf("test errors %q after served operations; want only the first", rec.errors)
	}

	started, err := hetznertest.Start("127.0.0.1:0")
	require.NoError(t, err)
	defer started.Close()
	if err := started.Inject(hetznertest.Fault{Op: "GET /server"}); !errors.Is(err, emulator.ErrUnknownOp) {
		t.Errorf("a started server's Inject of an unknown operation: %v; want ErrUnknownOp", err)
	}
}

// Live is the ground truth of the servers that exist, with what their
// labels encode about their owner.
func TestLiveIsTheGroundTruthWithOwnership(t *testing.T) {
	srv := hetznertest.NewServer(t)
	token, err := ownership.EncodeLabel("Tok/1")
	require.NoError(t, err)
	planted := srv.AddInstance("planted", map[string]string{
		ownership.WorkspaceKey: "ws-1", ownership.TokenKey: token, ownership.InstallationKey: "inst-1",
	})
	want := []cloudswitch.Instance{{
		Provider: cloudswitch.Hetzner, ID: strconv.FormatInt(planted.ID, 10), Region: planted.Location,
		WorkspaceID: "ws-1", Token: "Tok/1", Installation: "inst-1",
		InstanceType: planted.Type, Image: planted.Image, CreatedAt: planted.Created,
	}}
	if got := srv.Live(); !slices.Equal(got, want) {
		t.Errorf("Live() = %+v; want %+v", got, want)
	}
}

// The harness's levers act on the emulator as Hetzner would answer.
func TestHarnessLeversActOnTheEmulator(t *testing.T) {
	ctx := t.Context()
	srv := hetznertest.NewServer(t)
	h := srv.Harness(nil)
	if h.Name != cloudswitch.Hetzner || h.Compute.Provider != cloudswitch.Hetzner || h.Fail == nil || h.LoseResponse == nil ||
		h.Live == nil || h.FailCreate == nil || h.Busy == nil || h.SetDown == nil || h.SetPageSize == nil || h.ListCalls == nil {
		t.Fatalf("Harness leaves a lever the emulator serves unset: %+v", h)
	}
	if !slices.Contains(h.Secrets, srv.Token()) || !slices.Contains(h.Secrets, srv.OtherProjectToken()) {
		t.Errorf("Harness.Secrets lacks a token of the emulator")
	}
	c := srv.Client(hcloud.WithRetryOpts(hcloud.RetryOpts{MaxRetries: 0}))
	h.Fail(providertest.OpList, 1, providertest.Throttled)
	_, _, err := c.Server.List(ctx, hcloud.ServerListOpts{})
	wantAPIError(t, err, hcloud.ErrorCodeRateLimitExceeded, http.StatusTooManyRequests)
	if n := h.ListCalls(); n != 1 {
		t.Errorf("ListCalls() = %d; want 1", n)
	}
	s := create(t, c, "busy", nil)
	h.Busy(providertest.OpDeprovision, 1)
	_, _, err = c.Server.DeleteWithResult(ctx, s)
	wantAPIError(t, err, hcloud.ErrorCodeLocked, http.StatusLocked)
	h.SetDown(cloudswitch.Instance{ID: strconv.FormatInt(s.ID, 10)})
	if got := srv.Instances(); len(got) != 1 || got[0].Status != hetznertest.StatusOff {
		t.Errorf("after SetDown, Instances() = %+v; want the server off", got)
	}
}
