package gcp_test

import (
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	compute "cloud.google.com/go/compute/apiv1"

	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch/ownership"
	"github.com/cloudswitch/cloudswitch/providers/gcp"
	"github.com/cloudswitch/cloudswitch/providers/gcp/gcptest"
)

func TestOptionsThatDoNotHoldAreRefusedByNew(t *testing.T) {
	ctx := t.Context()
	srv := gcptest.NewServer(t)
	instances, operations, err := srv.Clients(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { instances.Close(); operations.Close() })
	tooMany := map[string]string{}
	for i := range 62 {
		tooMany["k"+strings.Repeat("x", i%5)+string(rune('a'+i%26))+string(rune('a'+i/26))] = "v"
	}
	cases := map[string][]gcp.Option{
		"bad zone":                      {gcp.WithZone("us-central1")},
		"no zones":                      {gcp.WithZones()},
		"bad zones":                     {gcp.WithZones("us-central1-a", "Europe")},
		"zone twice":                    {gcp.WithZones("us-central1-a", "us-central1-a")},
		"default zone not among zones":  {gcp.WithZone("us-central1-a"), gcp.WithZones("europe-west1-b")},
		"bad image":                     {gcp.WithSourceImage("debian 12")},
		"empty image":                   {gcp.WithSourceImage("")},
		"bad network":                   {gcp.WithNetwork("my net")},
		"bad subnetwork":                {gcp.WithSubnetwork("")},
		"bad service account":           {gcp.WithServiceAccount("not-an-email")},
		"bad scope":                     {gcp.WithServiceAccount("vm@p.iam.gserviceaccount.com", "two words")},
		"owner label":                   {gcp.WithLabels(map[string]string{ownership.OwnerKey: "me"})},
		"workspace label":               {gcp.WithLabels(map[string]string{ownership.WorkspaceKey: "ws"})},
		"token label":                   {gcp.WithLabels(map[string]string{ownership.TokenKey: "t"})},
		"label key upper case":          {gcp.WithLabels(map[string]string{"Team": "a"})},
		"label key starting with digit": {gcp.WithLabels(map[string]string{"1team": "a"})},
		"label value upper case":        {gcp.WithLabels(map[string]string{"team": "A"})},
		"label value too long":          {gcp.WithLabels(map[string]string{"team": strings.Repeat("a", 64)})},
		"too many labels":               {gcp.WithLabels(tooMany)},
		"bad metadata key":              {gcp.WithMetadata(map[string]string{"startup script": "x"})},
		"metadata too large":            {gcp.WithMetadata(map[string]string{"startup-script": strings.Repeat("x", 512<<10)})},
		"disk too small":                {gcp.WithDiskSizeGB(9)},
		"disk too large":                {gcp.WithDiskSizeGB(65537)},
		"poll interval":                 {gcp.WithPollInterval(0)},
		"nil logger":                    {gcp.WithLogger(nil)},
		"nil option":                    {nil},
	}
	for name, opts := range cases {
		t.Run(name, func(t *testing.T) {
			d, err := gcp.New(instances, operations, srv.Project(), opts...)
			if err == nil || d != nil {
				t.Fatalf("New = %v, %v; want an error", d, err)
			}
			if !strings.HasPrefix(err.Error(), "gcp: ") {
				t.Errorf("error %q does not say where it comes from", err)
			}
		})
	}
	if len(tooMany) != 62 {
		t.Fatalf("the label set has %d labels; want 62", len(tooMany))
	}
}

func TestNewRefusesMissingClientsAndBadProjects(t *testing.T) {
	ctx := t.Context()
	srv := gcptest.NewServer(t)
	instances, operations, err := srv.Clients(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { instances.Close(); operations.Close() })
	for name, c := range map[string]struct {
		i       *compute.InstancesClient
		o       *compute.ZoneOperationsClient
		project string
	}{
		"nil instances client":  {nil, operations, "my-project"},
		"nil operations client": {instances, nil, "my-project"},
		"empty project":         {instances, operations, ""},
		"project too short":     {instances, operations, "abc"},
		"project upper case":    {instances, operations, "My-Project"},
		"project with a slash":  {instances, operations, "my-project/zones"},
	} {
		t.Run(name, func(t *testing.T) {
			if d, err := gcp.New(c.i, c.o, c.project); err == nil || d != nil {
				t.Fatalf("New = %v, %v; want an error", d, err)
			}
		})
	}
	for _, project := range []string{"my-project", "example.com:my-project", srv.Project()} {
		if _, err := gcp.New(instances, operations, project); err != nil {
			t.Errorf("New with project %q: %v", project, err)
		}
	}
}

func TestOptionsShapeTheInstances(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, nil,
		gcp.WithSourceImage("projects/cos-cloud/global/images/family/cos-stable"),
		gcp.WithNetwork("workspaces"),
		gcp.WithSubnetwork("workspaces-eu"),
		gcp.WithServiceAccount("vm@proj.iam.gserviceaccount.com"),
		gcp.WithLabels(map[string]string{"team": "infra", "cost-center": "42"}),
		gcp.WithMetadata(map[string]string{"startup-script": "#!/bin/sh\necho hello"}),
		gcp.WithDiskSizeGB(50),
		gcp.WithLogger(slog.New(slog.DiscardHandler)),
	)
	req := request("owner", "ws")
	req.Compute.Region = "europe-west1-b"
	if _, err := e.d.Provision(ctx, req); err != nil {
		t.Fatal(err)
	}
	vm := e.srv.Instances()[0]
	switch {
	case vm.SourceImage != "projects/cos-cloud/global/images/family/cos-stable":
		t.Errorf("image %q", vm.SourceImage)
	case vm.Network != "global/networks/workspaces" || vm.Subnetwork != "regions/europe-west1/subnetworks/workspaces-eu":
		t.Errorf("network %q, subnetwork %q; want the named network and the subnetwork in the zone's region", vm.Network, vm.Subnetwork)
	case vm.ServiceAccount != "vm@proj.iam.gserviceaccount.com" || !slices.Equal(vm.Scopes, gcp.DefaultScopes):
		t.Errorf("service account %q scopes %v; want the account with the default scopes", vm.ServiceAccount, vm.Scopes)
	case vm.Labels["team"] != "infra" || vm.Labels["cost-center"] != "42" || vm.Labels[ownership.OwnerKey] != "owner" || len(vm.Labels) != 5:
		t.Errorf("labels %v; want the extra labels beside the three ownership labels", vm.Labels)
	case !maps.Equal(vm.Metadata, map[string]string{"startup-script": "#!/bin/sh\necho hello"}):
		t.Errorf("metadata %v", vm.Metadata)
	case vm.DiskSizeGB != 50 || !vm.BootDiskAutoDelete:
		t.Errorf("disk %d GB, autoDelete %v; want 50 GB deleted with the instance", vm.DiskSizeGB, vm.BootDiskAutoDelete)
	}
}

func TestOptionsPathsArePassedAsGiven(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, nil,
		gcp.WithNetwork("projects/host/global/networks/shared"),
		gcp.WithSubnetwork("projects/host/regions/us-central1/subnetworks/shared-us"),
		gcp.WithServiceAccount("default", "https://www.googleapis.com/auth/devstorage.read_only"),
	)
	if _, err := e.d.Provision(ctx, request("owner", "ws")); err != nil {
		t.Fatal(err)
	}
	vm := e.srv.Instances()[0]
	if vm.Network != "projects/host/global/networks/shared" || vm.Subnetwork != "projects/host/regions/us-central1/subnetworks/shared-us" {
		t.Errorf("network %q, subnetwork %q; want the paths as given (Shared VPC)", vm.Network, vm.Subnetwork)
	}
	if vm.ServiceAccount != "default" || !slices.Equal(vm.Scopes, []string{"https://www.googleapis.com/auth/devstorage.read_only"}) {
		t.Errorf("service account %q scopes %v", vm.ServiceAccount, vm.Scopes)
	}
}

func TestNewFromClientOptionsMakesClientsThatCloseCloses(t *testing.T) {
	ctx := t.Context()
	srv := gcptest.NewServer(t)
	d, err := gcp.NewFromClientOptions(ctx, srv.Project(), srv.ClientOptions(), gcp.WithZone(zone), gcp.WithPollInterval(time.Millisecond))
	require.NoError(t, err)
	inst, err := d.Provision(ctx, request("owner", "ws"))
	require.NoError(t, err)
	require.NoError(t, d.Deprovision(ctx, inst))
	require.NoError(t, d.Close(), "Close")
	if _, err := gcp.NewFromClientOptions(ctx, srv.Project(), srv.ClientOptions(), gcp.WithZone("nowhere")); err == nil {
		t.Error("NewFromClientOptions accepted a bad option")
	}
	if _, err := gcp.NewFromClientOptions(ctx, "Bad Project", srv.ClientOptions()); err == nil {
		t.Error("NewFromClientOptions accepted a bad project")
	}
}

func TestCloseLeavesTheCallersClientsOpen(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, nil)
	require.NoError(t, e.d.Close())
	if _, err := e.d.Provision(ctx, request("owner", "ws")); err != nil {
		t.Fatalf("Provision after Close of a driver made by New: %v; the clients are the caller's", err)
	}
}
