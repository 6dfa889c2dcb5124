package wiring

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/internal/emulated"
	"github.com/cloudswitch/cloudswitch/providers/aws"
	"github.com/cloudswitch/cloudswitch/providers/gcp"
	"github.com/cloudswitch/cloudswitch/providers/hetzner"
)

// Mode says where one provider's VMs live.
type Mode string

const (
	// Emulated: in the emulator of that cloud (internal/emulated), in this
	// process or in the Set another process serves (-emulators). The real
	// driver talks to it over HTTP, so the SDK's code runs on the wire.
	Emulated Mode = "emulated"
	// Real: in the real cloud, with the SDK's usual credentials.
	Real Mode = "real"
	// Off: no driver. Workspaces cannot move to that provider, and a
	// workspace running there cannot be switched.
	Off Mode = "off"
)

// String returns the mode's name.
func (m *Mode) String() string { return string(*m) }

// Set parses a mode: emulated, real or off.
func (m *Mode) Set(s string) error {
	switch Mode(s) {
	case Emulated, Real, Off:
		*m = Mode(s)
		return nil
	}
	return fmt.Errorf("%q is not a mode: use emulated, real or off", s)
}

// Clouds says, per provider, where its VMs live, and how to reach them.
type Clouds struct {
	AWS, Hetzner, GCP Mode
	// Emulators is the control URL of a Set that examples/emulators serves
	// ("http://127.0.0.1:8089"); empty: emulators in this process, when
	// Connect allows it.
	Emulators string
	// AWSImage is the AMI of real EC2 instances (or resolve:ssm:PARAMETER).
	AWSImage string
	// AWSRegions are the regions of real EC2 instances, comma-separated:
	// the driver lists every one, so the reconciler sees a VM in any of
	// them; empty: the SDK configuration's region alone.
	AWSRegions string
	// GCPProject and GCPZone are the project and default zone of real
	// Compute Engine VMs.
	GCPProject, GCPZone string
	// StateFile, when set, is where emulators started in this process keep
	// their state (emulated.StartPersistent), so that they outlive the
	// process: a restart finds the VMs the records name.
	StateFile string
}

// Register defines the cloud flags on fs: -aws, -hetzner, -gcp (modes,
// default emulated), -emulators, -aws-image, -gcp-project and -gcp-zone.
func (c *Clouds) Register(fs *flag.FlagSet) {
	c.AWS, c.Hetzner, c.GCP = Emulated, Emulated, Emulated
	fs.Var(&c.AWS, "aws", "AWS EC2: emulated, real (the AWS SDK's default credentials and region, e.g. AWS_PROFILE and AWS_REGION; needs -aws-image) or off")
	fs.Var(&c.Hetzner, "hetzner", "Hetzner Cloud: emulated, real (a read & write API token in HCLOUD_TOKEN) or off")
	fs.Var(&c.GCP, "gcp", "GCP Compute Engine: emulated, real (Google application default credentials; needs -gcp-project and -gcp-zone) or off")
	fs.StringVar(&c.Emulators, "emulators", "", "control URL of the emulators served by examples/emulators, e.g. http://127.0.0.1:8089 (default: emulators in this process)")
	fs.StringVar(&c.AWSImage, "aws-image", "", "AMI id (or resolve:ssm:PARAMETER) of the instances on real AWS")
	fs.StringVar(&c.AWSRegions, "aws-regions", "", "comma-separated regions of the instances on real AWS, every one of them listed by the reconciler (default: the SDK configuration's region)")
	fs.StringVar(&c.GCPProject, "gcp-project", "", "project of the VMs on real GCP")
	fs.StringVar(&c.GCPZone, "gcp-zone", "", "default zone of the VMs on real GCP, e.g. europe-west1-b")
}

func (c *Clouds) modes() map[string]Mode {
	return map[string]Mode{cloudswitch.AWS: c.AWS, cloudswitch.Hetzner: c.Hetzner, cloudswitch.GCP: c.GCP}
}

// Connected holds the drivers Connect made, and what they need closed.
type Connected struct {
	// Drivers are the drivers of the providers that are not off, keyed by
	// provider name.
	Drivers map[string]cloudswitch.Provider
	// Modes is the mode of each provider.
	Modes map[string]Mode
	// Regions are, per provider, the regions (zones on GCP) its driver
	// lists, and so the only ones a server may create VMs in: a VM
	// elsewhere would be invisible to the reconciler. A provider missing
	// here lists every region (Hetzner lists its whole project).
	Regions map[string][]string
	// InProcess is the Set of emulators Connect started in this process,
	// nil when there is none.
	InProcess *emulated.Set
	// Restored reports whether InProcess was loaded from StateFile.
	Restored bool
	// EmulatedVMs returns the emulated clouds' ground truth: every VM they
	// hold, live or not; nil when no provider is emulated.
	EmulatedVMs func(context.Context) ([]emulated.VM, error)
	closers     []func()
}

// Providers returns the names of the providers with a driver, sorted.
func (c *Connected) Providers() []string {
	return slices.Sorted(maps.Keys(c.Drivers))
}

// Close releases the drivers' clients, then stops the in-process emulators.
func (c *Connected) Close() {
	for _, f := range slices.Backward(c.closers) {
		f()
	}
	c.closers = nil
}

// Connect makes the driver of every provider that is not off. Emulated
// providers reach the Set at c.Emulators, or — when that is empty and
// inProcess allows it — a Set Connect starts in this process (gone when the
// process ends; a program whose emulated VMs must outlive it, or that must
// see another program's, passes -emulators). Real providers use the SDKs'
// usual credential sources; nothing secret is logged or returned in errors.
func (c *Clouds) Connect(ctx context.Context, inProcess bool, logger *slog.Logger) (_ *Connected, err error) {
	conn := &Connected{Drivers: make(map[string]cloudswitch.Provider), Modes: c.modes(), Regions: make(map[string][]string)}
	defer func() {
		if err != nil {
			conn.Close()
		}
	}()
	var emulatedOnes, realOnes []string
	for _, p := range slices.Sorted(maps.Keys(conn.Modes)) {
		switch conn.Modes[p] {
		case Emulated:
			emulatedOnes = append(emulatedOnes, p)
		case Real:
			realOnes = append(realOnes, p)
		}
	}
	if len(emulatedOnes)+len(realOnes) == 0 {
		return nil, errors.New("every provider is off: set -aws, -hetzner or -gcp to emulated or real")
	}
	if len(emulatedOnes) > 0 {
		if err := c.connectEmulated(ctx, conn, emulatedOnes, inProcess, logger); err != nil {
			return nil, err
		}
	}
	for _, p := range realOnes {
		drv, regions, closeDrv, err := c.connectReal(ctx, p, logger)
		if err != nil {
			return nil, fmt.Errorf("real %s: %w", p, err)
		}
		if len(regions) > 0 {
			conn.Regions[p] = regions
		}
		conn.Drivers[p] = drv
		if closeDrv != nil {
			conn.closers = append(conn.closers, closeDrv)
		}
	}
	return conn, nil
}

func (c *Clouds) connectEmulated(ctx context.Context, conn *Connected, providers []string, inProcess bool, logger *slog.Logger) error {
	var ep emulated.Endpoints
	switch {
	case c.Emulators != "":
		remote := emulated.Remote{URL: c.Emulators, Client: &http.Client{Timeout: 10 * time.Second}}
		var err error
		if ep, err = remote.Endpoints(ctx); err != nil {
			return fmt.Errorf("reaching the emulators at %s (is examples/emulators running?): %w", c.Emulators, err)
		}
		logger.Info("using emulated clouds", "providers", providers, "control", c.Emulators)
		conn.EmulatedVMs = remote.VMs
	case inProcess:
		var (
			set *emulated.Set
			err error
		)
		if c.StateFile != "" {
			set, conn.Restored, err = emulated.StartPersistent(emulated.Addrs{}, c.StateFile)
		} else {
			set, err = emulated.Start(emulated.Addrs{})
		}
		if err != nil {
			return fmt.Errorf("starting the emulators: %w", err)
		}
		conn.InProcess = set
		conn.closers = append(conn.closers, set.Close)
		conn.EmulatedVMs = func(context.Context) ([]emulated.VM, error) { return set.VMs(), nil }
		ep = set.Endpoints()
		logger.Info("started emulated clouds in this process", "providers", providers, "state_file", c.StateFile,
			"restored", conn.Restored, "aws", ep.AWS.URL, "hetzner", ep.Hetzner.URL, "gcp", ep.GCP.URL)
		drivers, closeDrivers, err := set.Drivers(ctx)
		if err != nil {
			return err
		}
		conn.closers = append(conn.closers, closeDrivers)
		conn.addEmulated(providers, drivers, ep)
		return nil
	default:
		return fmt.Errorf("the emulated providers (%s) need -emulators: start go run ./examples/emulators and pass its control URL, so that this program sees the emulated clouds the server uses",
			strings.Join(providers, ", "))
	}
	drivers, closeDrivers, err := emulated.Drivers(ctx, ep)
	if err != nil {
		return err
	}
	conn.closers = append(conn.closers, closeDrivers)
	conn.addEmulated(providers, drivers, ep)
	return nil
}

// addEmulated records the drivers of the emulated providers, and the
// regions they list.
func (conn *Connected) addEmulated(providers []string, drivers map[string]cloudswitch.Provider, ep emulated.Endpoints) {
	for _, p := range providers {
		conn.Drivers[p] = drivers[p]
		switch p {
		case cloudswitch.AWS:
			conn.Regions[p] = []string{ep.AWS.Region}
			if len(ep.AWS.Regions) > 0 {
				conn.Regions[p] = slices.Clone(ep.AWS.Regions)
			}
		case cloudswitch.GCP:
			conn.Regions[p] = slices.Clone(ep.GCP.Zones)
		}
	}
}

// connectReal makes the driver of one real cloud, the regions it lists (nil:
// all), and what closes it (nil: nothing to close).
func (c *Clouds) connectReal(ctx context.Context, provider string, logger *slog.Logger) (cloudswitch.Provider, []string, func(), error) {
	switch provider {
	case cloudswitch.AWS:
		if c.AWSImage == "" {
			return nil, nil, nil, errors.New("-aws-image is required: the AMI id (or resolve:ssm:PARAMETER) new instances boot from")
		}
		cfg, err := awsconfig.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("loading the AWS configuration: %w", err)
		}
		if cfg.Region == "" {
			return nil, nil, nil, errors.New("no AWS region: set AWS_REGION or a region in the AWS profile")
		}
		regions := []string{cfg.Region}
		if c.AWSRegions != "" {
			regions = strings.Split(c.AWSRegions, ",")
		}
		drv, err := aws.NewFromConfig(cfg, aws.WithImage(c.AWSImage), aws.WithRegions(regions...), aws.WithLogger(logger))
		if err != nil {
			return nil, nil, nil, err
		}
		return drv, regions, nil, nil
	case cloudswitch.Hetzner:
		token := os.Getenv("HCLOUD_TOKEN")
		if token == "" {
			return nil, nil, nil, errors.New("HCLOUD_TOKEN is not set: create a read & write API token in the Hetzner Cloud console")
		}
		drv, err := hetzner.NewFromToken(token, hetzner.WithLogger(logger))
		if err != nil {
			return nil, nil, nil, err
		}
		return drv, nil, nil, nil
	case cloudswitch.GCP:
		if c.GCPProject == "" || c.GCPZone == "" {
			return nil, nil, nil, errors.New("-gcp-project and -gcp-zone are required")
		}
		// nil client options: Google application default credentials.
		drv, err := gcp.NewFromClientOptions(ctx, c.GCPProject, nil, gcp.WithZone(c.GCPZone), gcp.WithLogger(logger))
		if err != nil {
			return nil, nil, nil, err
		}
		return drv, []string{c.GCPZone}, func() { _ = drv.Close() }, nil
	}
	return nil, nil, nil, fmt.Errorf("no real driver for provider %q", provider)
}
