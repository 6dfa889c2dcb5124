package cloudswitch_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/memprovider"
)

// Specs of preflight: the target provider confirms that it would create the
// VM before anything is written or destroyed.

func TestPreflightRefusalIsAValidationErrorWithNothingDestroyed(t *testing.T) {
	ctx := t.Context()
	forEachStrategy(t, func(t *testing.T, strategy cloudswitch.Strategy) {
		f := newFixture(t)
		seeded := f.seed("ws", cloudswitch.AWS, "t3.medium", true)
		f.hz.SetCatalog(memprovider.Catalog{Images: []string{"ubuntu-24.04"}})
		_, err := f.switcher(cloudswitch.WithStrategy(strategy)).Switch(ctx, "ws", cloudswitch.Request{
			Compute: cloudswitch.Compute{Provider: cloudswitch.Hetzner, Image: "debian-12"}, ConfirmRecreate: true})
		var invalid *cloudswitch.ValidationError
		require.ErrorAs(t, err, &invalid, "a target the cloud would refuse is a 400, before anything is destroyed")
		require.Equal(t, "image", invalid.Field)
		require.ErrorIs(t, err, cloudswitch.ErrInvalid)
		f.requireNoWrites()
		require.True(t, f.aws.Exists(seeded.Instance.ID), "the old VM was destroyed for a switch that cannot finish")
		require.Empty(t, f.hz.Live())
	})
}

func TestPreflightGuardsAWorkspacesFirstVM(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	f.seed("ws", cloudswitch.AWS, "t3.medium", false)
	f.aws.SetCatalog(memprovider.Catalog{Regions: []string{"us-east-1"}})
	_, err := f.switcher().Switch(ctx, "ws", cloudswitch.Request{Compute: cloudswitch.Compute{Region: "eu-west-1"}})
	var invalid *cloudswitch.ValidationError
	require.ErrorAs(t, err, &invalid)
	require.Equal(t, "region", invalid.Field)
	f.requireNoWrites()
	require.Nil(t, f.get("ws").Pending)
}

func TestPreflightRetriesTransientErrorsAndAbortsWhenItCannotBeAsked(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	seeded := f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	f.hz.FailNext(memprovider.OpPreflight, 1, memprovider.ErrThrottled)
	_, err := f.switcher().Switch(ctx, "ws", toHetzner)
	require.NoError(t, err, "a throttled preflight is retried")

	f = newFixture(t)
	seeded = f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	f.hz.FailNext(memprovider.OpPreflight, 1, memprovider.ErrDenied)
	_, err = f.switcher().Switch(ctx, "ws", toHetzner)
	requireAbort(t, err, cloudswitch.StagePreflight)
	f.requireNoWrites()
	require.True(t, f.aws.Exists(seeded.Instance.ID))
}

func TestPreflightAgreesWithProvision(t *testing.T) {
	p := memprovider.New(cloudswitch.Hetzner)
	p.SetCatalog(memprovider.Catalog{InstanceTypes: []string{"cpx31"}})
	req := cloudswitch.ProvisionRequest{WorkspaceID: "ws", Token: "tok-0123456789", Owner: "o",
		Compute: cloudswitch.Compute{Provider: cloudswitch.Hetzner, InstanceType: "cpx51"}}
	require.Error(t, p.Preflight(t.Context(), req))
	_, err := p.Provision(t.Context(), req)
	require.ErrorIs(t, err, cloudswitch.ErrRefused, "what preflight refuses, provision refuses")
	req.Compute.InstanceType = "cpx31"
	require.NoError(t, p.Preflight(t.Context(), req))
	_, err = p.Provision(t.Context(), req)
	require.NoError(t, err, "what preflight accepts, provision creates")
}

// Specs of honest same-provider changes: a record never claims a machine
// the VM is not.

func TestSameProviderRegionOrImageChangeRecreatesThroughTheJournal(t *testing.T) {
	ctx := t.Context()
	for name, change := range map[string]cloudswitch.Compute{
		"region": {Region: "eu-west-1"},
		"image":  {Image: ubuntuAMI},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			seeded := f.seed("ws", cloudswitch.AWS, "t3.medium", true)
			_, err := f.switcher().Switch(ctx, "ws", cloudswitch.Request{Compute: change})
			require.ErrorIs(t, err, cloudswitch.ErrConfirmRequired, "a change that destroys the VM needs confirmation")
			f.requireNoWrites()

			res, err := f.switcher().Switch(ctx, "ws", cloudswitch.Request{Compute: change, ConfirmRecreate: true})
			require.NoError(t, err)
			require.True(t, res.Recreated)
			require.False(t, res.Switched, "the provider did not change")
			require.False(t, f.aws.Exists(seeded.Instance.ID), "the old VM must be gone")
			require.NotEqual(t, seeded.Instance.ID, res.Workspace.Instance.ID)
			if change.Region != "" {
				require.Equal(t, change.Region, res.Workspace.Instance.Region, "the VM runs where the record says")
			}
			if change.Image != "" {
				require.Equal(t, change.Image, res.Workspace.Instance.Image)
			}
			f.requireOnlyRecordedVM("ws")
		})
	}
}

type plainProvider struct{ cloudswitch.Provider }

func TestTypeChangeOnADriverThatCannotResizeRecreates(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	seeded := f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	sw := f.switcherOver(f.providersWith(cloudswitch.AWS, plainProvider{f.aws}))
	_, err := sw.Switch(ctx, "ws", cloudswitch.Request{Compute: cloudswitch.Compute{InstanceType: "t3.large"}})
	require.ErrorIs(t, err, cloudswitch.ErrConfirmRequired)
	res, err := sw.Switch(ctx, "ws", cloudswitch.Request{Compute: cloudswitch.Compute{InstanceType: "t3.large"}, ConfirmRecreate: true})
	require.NoError(t, err)
	require.True(t, res.Recreated)
	require.False(t, f.aws.Exists(seeded.Instance.ID))
	require.Equal(t, "t3.large", res.Workspace.Instance.InstanceType)
	f.requireOnlyRecordedVM("ws")
}

func TestResizeIsJournaledAndResumable(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	seeded := f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	f.aws.LoseResponse(memprovider.OpResize, 1, memprovider.ErrUnavailable)
	f.aws.FailNext(memprovider.OpResize, 2, memprovider.ErrUnavailable)
	_, err := f.switcher().Switch(ctx, "ws", cloudswitch.Request{Compute: cloudswitch.Compute{InstanceType: "t3.large"}})
	requireIncomplete(t, err, cloudswitch.StageResize)
	w := f.get("ws")
	require.NotNil(t, w.Pending)
	require.Equal(t, "t3.medium", w.Compute.InstanceType, "the record changes only once the resize is known done")

	res, err := f.resumer().Resume(ctx, "ws")
	require.NoError(t, err)
	require.True(t, res.Resized)
	require.Equal(t, seeded.Instance.ID, res.Workspace.Instance.ID)
	require.Equal(t, "t3.large", res.Workspace.Instance.InstanceType)
	require.Nil(t, res.Workspace.Pending)
}

func TestRefusedResizeAbortsWithNothingChanged(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	seeded := f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	f.aws.FailNext(memprovider.OpResize, 1, memprovider.ErrDenied)
	_, err := f.switcher().Switch(ctx, "ws", cloudswitch.Request{Compute: cloudswitch.Compute{InstanceType: "t3.large"}})
	requireAbort(t, err, cloudswitch.StageResize)
	w := f.get("ws")
	require.Nil(t, w.Pending)
	require.Equal(t, seeded.Compute, w.Compute)
}

func TestRecordOnlyEditWhenTheWorkspaceHasNoVM(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	f.seed("ws", cloudswitch.AWS, "t3.medium", false)
	_, err := f.switcher(cloudswitch.WithProvisioning(false)).Switch(ctx, "ws", cloudswitch.Request{Compute: cloudswitch.Compute{Region: "eu-west-1", InstanceType: "t3.large"}})
	require.NoError(t, err)
	require.Equal(t, 1, f.log.count("store.update"))
	f.requireNoProviderCalls()
}

func TestAllowlistRefusesRegionsAndImagesItDoesNotList(t *testing.T) {
	a := cloudswitch.DefaultAllowlist()
	for _, c := range []struct {
		compute cloudswitch.Compute
		field   string
	}{
		{cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.medium", Region: "mars-1"}, "region"},
		{cloudswitch.Compute{Provider: cloudswitch.GCP, InstanceType: "e2-small", Image: "projects/attacker-project/global/images/backdoor"}, "image"},
		{cloudswitch.Compute{Provider: cloudswitch.Hetzner, InstanceType: "cpx31", Region: "us-east-1"}, "region"},
	} {
		err := a.Validate(c.compute)
		var invalid *cloudswitch.ValidationError
		require.ErrorAs(t, err, &invalid, "%+v", c.compute)
		require.Equal(t, c.field, invalid.Field)
		require.NotEmpty(t, invalid.Allowed, "the error lists what is allowed")
	}
	require.NoError(t, a.Validate(cloudswitch.Compute{Provider: cloudswitch.GCP, InstanceType: "e2-small", Region: "us-central1-a",
		Image: "projects/debian-cloud/global/images/family/debian-12"}))
}

func TestAllowlistRegionsAndImagesRoundTripThroughJSON(t *testing.T) {
	a, err := cloudswitch.DefaultAllowlist().WithRegions(cloudswitch.Hetzner, []string{"fsn1", "nbg1"}, "nbg1")
	require.NoError(t, err)
	a, err = a.WithImages(cloudswitch.Hetzner, []string{"ubuntu-24.04"}, "ubuntu-24.04")
	require.NoError(t, err)
	data, err := a.MarshalJSON()
	require.NoError(t, err)
	var b cloudswitch.Allowlist
	require.NoError(t, b.UnmarshalJSON(data))
	require.Equal(t, "nbg1", b.DefaultRegion(cloudswitch.Hetzner))
	require.Equal(t, "ubuntu-24.04", b.DefaultImage(cloudswitch.Hetzner))
	require.Equal(t, []string{"fsn1", "nbg1"}, b.Regions(cloudswitch.Hetzner))
	_, err = a.WithRegions(cloudswitch.Hetzner, []string{"fsn1"}, "ash")
	require.Error(t, err, "a default outside the allowed set")
	_, err = a.WithImages(cloudswitch.Hetzner, []string{"*"}, "")
	require.Error(t, err, "a pattern that allows everything")
}

func TestProviderChangeTakesTheAllowlistsDefaultRegionAndImage(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	a, err := cloudswitch.DefaultAllowlist().WithRegions(cloudswitch.Hetzner, []string{"fsn1", "nbg1"}, "nbg1")
	require.NoError(t, err)
	a, err = a.WithImages(cloudswitch.Hetzner, []string{"ubuntu-24.04"}, "ubuntu-24.04")
	require.NoError(t, err)
	res, err := f.switcher(cloudswitch.WithAllowlist(a)).Switch(ctx, "ws", toHetzner)
	require.NoError(t, err)
	require.Equal(t, cloudswitch.Compute{Provider: cloudswitch.Hetzner, InstanceType: "cpx31", Region: "nbg1", Image: "ubuntu-24.04"}, res.Workspace.Compute)
	require.Equal(t, "nbg1", res.Workspace.Instance.Region)
}
