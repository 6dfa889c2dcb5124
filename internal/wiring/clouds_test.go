package wiring

import (
	"flag"
	"log/slog"
	"net/http"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/internal/emulated"
	"github.com/cloudswitch/cloudswitch/internal/wiring/wiringtest"
)

var quiet = slog.New(slog.DiscardHandler)

func TestConnectToEmulatorsInAnotherProcess(t *testing.T) {
	set, control := wiringtest.Emulators(t)
	c := Clouds{AWS: Emulated, Hetzner: Emulated, GCP: Off, Emulators: control}
	conn, err := c.Connect(t.Context(), false, quiet)
	require.NoError(t, err)
	defer conn.Close()
	if got := strings.Join(conn.Providers(), ","); got != "aws,hetzner" || conn.InProcess != nil {
		t.Fatalf("providers %s, in process %v", got, conn.InProcess)
	}
	inst, err := conn.Drivers[cloudswitch.Hetzner].Provision(t.Context(), cloudswitch.ProvisionRequest{
		WorkspaceID: "ws-1", Compute: cloudswitch.Compute{Provider: cloudswitch.Hetzner, InstanceType: "cpx11"},
		Token: "0123456789abcdef0123456789abcdef", Owner: cloudswitch.DefaultOwner})
	require.NoError(t, err)
	if vms := set.VMs(); len(vms) != 1 || vms[0].ID != inst.ID {
		t.Errorf("the driver did not reach the remote emulators: %+v", vms)
	}
}

func TestConnectStartsEmulatorsInProcessOnlyWhenAllowed(t *testing.T) {
	c := Clouds{AWS: Emulated, Hetzner: Emulated, GCP: Emulated}
	conn, err := c.Connect(t.Context(), true, quiet)
	require.NoError(t, err)
	if conn.InProcess == nil || len(conn.Drivers) != 3 {
		t.Errorf("in process %v, drivers %v", conn.InProcess, conn.Providers())
	}
	conn.Close()

	if _, err := c.Connect(t.Context(), false, quiet); err == nil || !strings.Contains(err.Error(), "-emulators") {
		t.Errorf("without -emulators and without in-process emulators: %v", err)
	}
}

func TestConnectRefusesIncompleteSettings(t *testing.T) {
	t.Setenv("HCLOUD_TOKEN", "")
	for _, tc := range []struct {
		name   string
		clouds Clouds
		want   string
	}{
		{"all off", Clouds{AWS: Off, Hetzner: Off, GCP: Off}, "every provider is off"},
		{"real AWS without an image", Clouds{AWS: Real, Hetzner: Off, GCP: Off}, "-aws-image"},
		{"real Hetzner without a token", Clouds{AWS: Off, Hetzner: Real, GCP: Off}, "HCLOUD_TOKEN"},
		{"real GCP without a project", Clouds{AWS: Off, Hetzner: Off, GCP: Real, GCPZone: "europe-west1-b"}, "-gcp-project"},
		{"unreachable emulators", Clouds{AWS: Emulated, Hetzner: Off, GCP: Off, Emulators: "http://127.0.0.1:1"}, "examples/emulators"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := tc.clouds.Connect(t.Context(), false, quiet)
			if err == nil {
				conn.Close()
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %s", err, tc.want)
			}
		})
	}
}

func TestModes(t *testing.T) {
	var m Mode
	for _, s := range []string{"emulated", "real", "off"} {
		if err := m.Set(s); err != nil || m.String() != s {
			t.Errorf("%s: %v", s, err)
		}
	}
	if err := m.Set("Real"); err == nil {
		t.Error("a mode is lowercase")
	}
}

func TestInProcessEmulatorsWithAStateFileOutliveTheProcess(t *testing.T) {
	ctx := t.Context()
	c := Clouds{AWS: Emulated, Hetzner: Emulated, GCP: Emulated, StateFile: filepath.Join(t.TempDir(), "ws.db.clouds")}
	conn, err := c.Connect(ctx, true, quiet)
	require.NoError(t, err)
	assert.False(t, conn.Restored)
	assert.Equal(t, emulated.AWSRegions, conn.Regions[cloudswitch.AWS], "the server may create AWS VMs only where the driver lists")
	assert.NotEmpty(t, conn.Regions[cloudswitch.GCP])
	_, limited := conn.Regions[cloudswitch.Hetzner]
	assert.False(t, limited, "Hetzner lists its whole project")
	inst, err := conn.Drivers[cloudswitch.AWS].Provision(ctx, cloudswitch.ProvisionRequest{WorkspaceID: "ws-1",
		Compute: cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.medium", Region: "eu-central-1"},
		Token:   "0123456789abcdef0123456789abcdef", Owner: cloudswitch.DefaultOwner})
	require.NoError(t, err)
	conn.Close()

	conn, err = c.Connect(ctx, true, quiet)
	require.NoError(t, err)
	defer conn.Close()
	assert.True(t, conn.Restored)
	vms, err := conn.EmulatedVMs(ctx)
	require.NoError(t, err)
	require.Len(t, vms, 1)
	assert.Equal(t, inst.ID, vms[0].ID)
	assert.Equal(t, "eu-central-1", vms[0].Region)
	listed := 0
	for vm, err := range conn.Drivers[cloudswitch.AWS].Instances(ctx, cloudswitch.DefaultOwner) {
		require.NoError(t, err)
		assert.Equal(t, inst.ID, vm.ID)
		listed++
	}
	assert.Equal(t, 1, listed, "the VM in eu-central-1 is not listed")
}

func TestEveryProviderOffIsRecognisable(t *testing.T) {
	c := Clouds{AWS: Off, Hetzner: Off, GCP: Off}
	_, err := c.Connect(t.Context(), true, quiet)
	require.ErrorIs(t, err, ErrEveryProviderOff)
	assert.Contains(t, err.Error(), "-aws")
	assert.Contains(t, err.Error(), "-hetzner")
	assert.Contains(t, err.Error(), "-gcp")
}

func TestRegisterDefinesAModeFlagPerProviderDefaultingToEmulated(t *testing.T) {
	var c Clouds
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	c.Register(fs)
	for _, name := range []string{"aws", "hetzner", "gcp", "emulators", "aws-image", "aws-regions", "gcp-project", "gcp-zone"} {
		assert.NotNil(t, fs.Lookup(name), "-%s", name)
	}
	assert.Equal(t, Clouds{AWS: Emulated, Hetzner: Emulated, GCP: Emulated}, c)
	require.NoError(t, fs.Parse([]string{"-hetzner", "off", "-gcp", "real"}))
	assert.Equal(t, Off, c.Hetzner)
	assert.Equal(t, Real, c.GCP)
}

func TestTransportWrapsEveryEmulatedDriver(t *testing.T) {
	var mu sync.Mutex
	seen := make(map[string]int)
	c := Clouds{AWS: Emulated, Hetzner: Emulated, GCP: Emulated,
		Transport: func(provider string, next http.RoundTripper) http.RoundTripper {
			return roundTripFunc(func(r *http.Request) (*http.Response, error) {
				mu.Lock()
				seen[provider]++
				mu.Unlock()
				return next.RoundTrip(r)
			})
		}}
	conn, err := c.Connect(t.Context(), true, quiet)
	require.NoError(t, err)
	defer conn.Close()
	for _, p := range conn.Providers() {
		for _, err := range conn.Drivers[p].Instances(t.Context(), cloudswitch.DefaultOwner) {
			require.NoError(t, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, p := range []string{cloudswitch.AWS, cloudswitch.Hetzner, cloudswitch.GCP} {
		assert.Positive(t, seen[p], "no request of %s passed through the wrapper", p)
	}

	// Emulators that keep their state in a file: their drivers pass the
	// wrapper too, and what passed it is saved.
	clear(seen)
	mu.Unlock()
	c.StateFile = filepath.Join(t.TempDir(), "clouds")
	conn, err = c.Connect(t.Context(), true, quiet)
	require.NoError(t, err)
	inst, err := conn.Drivers[cloudswitch.Hetzner].Provision(t.Context(), cloudswitch.ProvisionRequest{WorkspaceID: "ws-1",
		Compute: cloudswitch.Compute{Provider: cloudswitch.Hetzner, InstanceType: "cpx11"},
		Token:   "0123456789abcdef0123456789abcdef", Owner: cloudswitch.DefaultOwner})
	require.NoError(t, err)
	conn.Close()
	mu.Lock()
	assert.Positive(t, seen[cloudswitch.Hetzner], "no request of the persistent emulators passed through the wrapper")
	c.Transport = nil
	again, err := c.Connect(t.Context(), true, quiet)
	require.NoError(t, err)
	defer again.Close()
	vms, err := again.EmulatedVMs(t.Context())
	require.NoError(t, err)
	require.Len(t, vms, 1)
	assert.Equal(t, inst.ID, vms[0].ID, "the call through the wrapper was not saved")
}

func TestTwoProgramsCannotRunInProcessEmulatorsOnOneStateFile(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "solaris" || runtime.GOOS == "illumos" || runtime.GOOS == "aix" {
		t.Skip("no advisory file locks here")
	}
	c := Clouds{AWS: Emulated, Hetzner: Emulated, GCP: Emulated, StateFile: filepath.Join(t.TempDir(), "ws.db.clouds")}
	conn, err := c.Connect(t.Context(), true, quiet)
	require.NoError(t, err)
	_, err = c.Connect(t.Context(), true, quiet)
	require.ErrorIs(t, err, emulated.ErrStateInUse)
	conn.Close()
	conn, err = c.Connect(t.Context(), true, quiet)
	require.NoError(t, err, "closing lets go of the state file")
	conn.Close()
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// The control URL of the emulators may carry a password for the proxy in
// front of them: neither Connect's error nor its log line repeats it.
func TestConnectNeverEchoesTheEmulatorsPassword(t *testing.T) {
	var logged strings.Builder
	logger := slog.New(slog.NewTextHandler(&logged, nil))
	c := Clouds{AWS: Emulated, Hetzner: Off, GCP: Off, Emulators: "http://admin:s3cret-pw@127.0.0.1:1"}
	_, err := c.Connect(t.Context(), false, logger)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "s3cret-pw")
	c.Emulators = "http://admin:s3cret-pw@127.0.0.1:1/\x7f" // a URL net/url cannot parse, echoed by its error
	_, err = c.Connect(t.Context(), false, logger)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "s3cret-pw")

	_, control := wiringtest.Emulators(t)
	c.Emulators = strings.Replace(control, "://", "://admin:s3cret-pw@", 1)
	conn, err := c.Connect(t.Context(), false, logger)
	require.NoError(t, err)
	conn.Close()
	require.Contains(t, logged.String(), "using emulated clouds")
	assert.NotContains(t, logged.String(), "s3cret-pw")
}
