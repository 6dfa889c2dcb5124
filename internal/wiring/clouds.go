package wiring

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/internal/emulated"
	"github.com/cloudswitch/cloudswitch/internal/redact"
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

// ErrEveryProviderOff is the error of Connect when no provider has a driver
// to make.
var ErrEveryProviderOff = errors.New("every provider is off")

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
	// process: a restart finds the VMs the records name. One program at a
	// time may hold it: Connect fails with emulated.ErrStateInUse while
	// another runs on it.
	StateFile string
	// Transport, when set, wraps the HTTP transport of each driver's SDK
	// client, emulated or real, given the provider's name: every request
	// the driver makes passes through what it returns (in front of the
	// save of StateFile's emulators). It is not a flag.
	Transport func(provider string, next http.RoundTripper) http.RoundTripper
}

// Register defines the cloud flags on fs: one mode flag per provider (-aws,
// -hetzner, -gcp; default emulated), -emulators, and the settings of the
// real clouds (-aws-image, -aws-regions, -gcp-project, -gcp-zone).
func (c *Clouds) Register(fs *flag.FlagSet) {
	for _, cl := range cloudTable() {
		m := cl.mode(c)
		*m = Emulated
		fs.Var(m, cl.name, cl.usage)
		if cl.register != nil {
			cl.register(c, fs)
		}
	}
	fs.StringVar(&c.Emulators, "emulators", "", "control URL of the emulators served by examples/emulators, e.g. http://127.0.0.1:8089 (default: emulators in this process)")
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
// When every provider is off, the error is ErrEveryProviderOff.
func (c *Clouds) Connect(ctx context.Context, inProcess bool, logger *slog.Logger) (_ *Connected, err error) {
	conn := &Connected{Drivers: make(map[string]cloudswitch.Provider), Modes: make(map[string]Mode), Regions: make(map[string][]string)}
	defer func() {
		if err != nil {
			conn.Close()
		}
	}()
	var emulatedOnes, realOnes []cloud
	var flags []string
	for _, cl := range cloudTable() {
		mode := *cl.mode(c)
		conn.Modes[cl.name] = mode
		flags = append(flags, "-"+cl.name)
		switch mode {
		case Emulated:
			emulatedOnes = append(emulatedOnes, cl)
		case Real:
			realOnes = append(realOnes, cl)
		}
	}
	if len(emulatedOnes)+len(realOnes) == 0 {
		return nil, fmt.Errorf("%w: set %s or %s to emulated or real", ErrEveryProviderOff,
			strings.Join(flags[:len(flags)-1], ", "), flags[len(flags)-1])
	}
	if len(emulatedOnes) > 0 {
		if err := c.connectEmulated(ctx, conn, emulatedOnes, inProcess, logger); err != nil {
			return nil, err
		}
	}
	for _, cl := range realOnes {
		d, err := cl.connectReal(ctx, c, logger)
		if err != nil {
			return nil, fmt.Errorf("real %s: %w", cl.name, err)
		}
		if len(d.regions) > 0 {
			conn.Regions[cl.name] = d.regions
		}
		conn.Drivers[cl.name] = d.driver
		if d.close != nil {
			conn.closers = append(conn.closers, d.close)
		}
	}
	return conn, nil
}

func (c *Clouds) connectEmulated(ctx context.Context, conn *Connected, clouds []cloud, inProcess bool, logger *slog.Logger) error {
	var providers []string
	for _, cl := range clouds {
		providers = append(providers, cl.name)
	}
	var (
		ep           emulated.Endpoints
		drivers      map[string]cloudswitch.Provider
		closeDrivers func()
		err          error
	)
	switch {
	case c.Emulators != "":
		remote := emulated.Remote{URL: c.Emulators, Client: &http.Client{Timeout: 10 * time.Second}}
		// The URL may hold the password of a proxy in front of the Set.
		control := redact.String(c.Emulators)
		if ep, err = remote.Endpoints(ctx); err != nil {
			return fmt.Errorf("reaching the emulators at %s (is examples/emulators running?): %w", control, redact.Error(err))
		}
		logger.Info("using emulated clouds", "providers", providers, "control", control)
		conn.EmulatedVMs = remote.VMs
		drivers, closeDrivers, err = emulated.DriversThrough(ctx, ep, c.Transport)
	case inProcess:
		var set *emulated.Set
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
		// The Set's own drivers save a persistent Set after every call.
		drivers, closeDrivers, err = set.DriversThrough(ctx, c.Transport)
	default:
		return fmt.Errorf("the emulated providers (%s) need -emulators: start go run ./examples/emulators and pass its control URL, so that this program sees the emulated clouds the server uses",
			strings.Join(providers, ", "))
	}
	if err != nil {
		return err
	}
	conn.closers = append(conn.closers, closeDrivers)
	for _, cl := range clouds {
		conn.Drivers[cl.name] = drivers[cl.name]
		if cl.emulatedRegions != nil {
			conn.Regions[cl.name] = cl.emulatedRegions(ep)
		}
	}
	return nil
}
