// Package emulated runs the three cloud emulators together — EC2, Hetzner
// Cloud and Compute Engine — and connects the real drivers to them, in this
// process or in another: the examples' default mode, and the cloud that
// several test processes share.
//
// A Set serves, besides the emulators, a small control API (Handler): the
// endpoints other processes connect to, the ground truth of every VM, and
// fault injection. Remote is its client.
package emulated

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/aws/awstest"
	"github.com/cloudswitch/cloudswitch/providers/emulator"
	"github.com/cloudswitch/cloudswitch/providers/gcp/gcptest"
	"github.com/cloudswitch/cloudswitch/providers/hetzner/hetznertest"
)

// Endpoints is how a process reaches a Set.
type Endpoints struct {
	AWS struct {
		URL    string `json:"url"`
		Region string `json:"region"`
		// Regions are the regions the drivers create VMs in and list
		// (Region among them); empty: Region alone.
		Regions []string `json:"regions,omitempty"`
	} `json:"aws"`
	Hetzner struct {
		URL   string `json:"url"`
		Token string `json:"token"`
	} `json:"hetzner"`
	GCP struct {
		URL     string   `json:"url"`
		Project string   `json:"project"`
		Zones   []string `json:"zones"`
	} `json:"gcp"`
}

// AWSRegions are the EC2 regions a Set offers: the driver lists every one of
// them, so a VM created in any is found by a reconciler.
var AWSRegions = []string{awstest.DefaultRegion, "us-west-2", "eu-central-1", "eu-west-1"}

// Addrs are the listen addresses of the emulators ("127.0.0.1:0": any free
// port).
type Addrs struct{ AWS, Hetzner, GCP string }

// Set is the three emulators, running.
type Set struct {
	AWS     *awstest.Server
	Hetzner *hetznertest.Server
	GCP     *gcptest.Server
	persist *persistence // nil: state in memory only
}

// Start starts the three emulators on addrs (zero value: free loopback
// ports).
func Start(addrs Addrs) (*Set, error) {
	s := &Set{}
	for _, c := range cloudTable() {
		addr := c.addr(addrs)
		if addr == "" {
			addr = "127.0.0.1:0"
		}
		if err := c.start(s, addr); err != nil {
			s.Close()
			return nil, fmt.Errorf("starting the %s emulator: %w", c.what, err)
		}
	}
	return s, nil
}

// Close stops the emulators, then lets go of the state file of a
// persistent Set (without saving: every call was saved already).
func (s *Set) Close() {
	for _, c := range cloudTable() {
		if srv := c.server(s); srv != nil {
			srv.Close()
		}
	}
	if s.persist != nil {
		s.persist.lock.release()
	}
}

// Endpoints returns how to reach s.
func (s *Set) Endpoints() Endpoints {
	var e Endpoints
	for _, c := range cloudTable() {
		c.endpoint(s, &e)
	}
	return e
}

// VM is one VM of the ground truth, whatever the listings show.
type VM struct {
	Provider    string    `json:"provider"`
	ID          string    `json:"id"`
	Region      string    `json:"region"`
	Owner       string    `json:"owner,omitempty"`
	WorkspaceID string    `json:"workspace_id,omitempty"`
	Token       string    `json:"token,omitempty"`
	State       string    `json:"state"`
	Live        bool      `json:"live"`
	CreatedAt   time.Time `json:"created_at"`
}

// VMs returns every VM the emulators hold, live or not, sorted by provider
// and id. What a VM's tags or labels say of it is read as each emulator's
// Live reads it.
func (s *Set) VMs() []VM {
	var out []VM
	for _, c := range cloudTable() {
		out = append(out, c.vms(s)...)
	}
	slices.SortFunc(out, func(a, b VM) int {
		if a.Provider != b.Provider {
			return compare(a.Provider, b.Provider)
		}
		return compare(a.ID, b.ID)
	})
	return out
}

// vmOf is the VM of the ground truth that i is, with what its tags or
// labels say of it.
func vmOf(i cloudswitch.Instance, owner, state string, live bool) VM {
	return VM{Provider: i.Provider, ID: i.ID, Region: i.Region, Owner: owner,
		WorkspaceID: i.WorkspaceID, Token: i.Token, State: state, Live: live, CreatedAt: i.CreatedAt}
}

func compare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Fault is a fault for one emulator, as the control API takes it.
type Fault struct {
	Provider string        `json:"provider"` // aws, hetzner or gcp
	Op       string        `json:"op"`       // the emulator's operation name ("" = every one)
	Times    int           `json:"times"`    // 0: until cleared
	Status   int           `json:"status,omitempty"`
	Code     string        `json:"code,omitempty"`
	Latency  time.Duration `json:"latency,omitempty"`
	Drop     bool          `json:"drop,omitempty"`
}

// Inject applies f to its emulator. A provider without an emulator, or an
// operation its emulator does not serve, is an error; the fault is then not
// applied.
func (s *Set) Inject(f Fault) error {
	ef := emulator.Fault{Op: f.Op, Times: f.Times, Status: f.Status, Code: f.Code, Latency: f.Latency, Drop: f.Drop}
	for _, c := range cloudTable() {
		if c.name == f.Provider {
			return c.server(s).Inject(ef)
		}
	}
	return fmt.Errorf("no emulator for provider %q", f.Provider)
}

// ClearFaults drops every fault of every emulator.
func (s *Set) ClearFaults() {
	for _, c := range cloudTable() {
		c.server(s).ClearFaults()
	}
}

// Drivers returns the three real drivers connected to the emulators at e,
// with driver options suited to them (an image for EC2, fast polling). close
// releases the clients they hold.
func Drivers(ctx context.Context, e Endpoints) (drivers map[string]cloudswitch.Provider, close func(), err error) {
	return connect(ctx, e, http.DefaultTransport, nil)
}

// DriversThrough returns the three real drivers connected to the emulators
// at e, as Drivers does, each sending its HTTP requests through the
// transport wrap returns for its provider (cloudswitch.AWS, Hetzner, GCP)
// around the default one; wrap nil adds nothing.
func DriversThrough(ctx context.Context, e Endpoints, wrap func(provider string, next http.RoundTripper) http.RoundTripper) (drivers map[string]cloudswitch.Provider, close func(), err error) {
	return connect(ctx, e, http.DefaultTransport, wrap)
}

// Drivers returns the three real drivers connected to s, as the package's
// Drivers does; when s is persistent (StartPersistent), every call they make
// saves s before its answer reaches them.
func (s *Set) Drivers(ctx context.Context) (drivers map[string]cloudswitch.Provider, close func(), err error) {
	return s.DriversThrough(ctx, nil)
}

// DriversThrough returns the three real drivers connected to s, as
// s.Drivers does, each sending its HTTP requests through the transport wrap
// returns for its provider; wrap nil adds nothing. The wrapper sits in
// front of the save of a persistent Set: a call that reaches the emulator is
// saved before its answer goes back through the wrapper to the driver.
func (s *Set) DriversThrough(ctx context.Context, wrap func(provider string, next http.RoundTripper) http.RoundTripper) (drivers map[string]cloudswitch.Provider, close func(), err error) {
	var rt http.RoundTripper = http.DefaultTransport
	if s.persist != nil {
		rt = savingTransport{set: s, next: rt}
	}
	return connect(ctx, s.Endpoints(), rt, wrap)
}

func connect(ctx context.Context, e Endpoints, base http.RoundTripper, wrap func(provider string, next http.RoundTripper) http.RoundTripper) (drivers map[string]cloudswitch.Provider, close func(), err error) {
	clouds := cloudTable()
	for _, c := range clouds {
		if c.url(e) == "" {
			return nil, nil, errors.New("emulated: endpoints incomplete")
		}
	}
	var closers []func()
	closeAll := func() {
		for _, f := range closers {
			f()
		}
	}
	drivers = make(map[string]cloudswitch.Provider, len(clouds))
	for _, c := range clouds {
		rt := base
		if wrap != nil {
			rt = wrap(c.name, base)
		}
		drv, closeDrv, err := c.driver(ctx, e, rt)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		drivers[c.name] = drv
		if closeDrv != nil {
			closers = append(closers, closeDrv)
		}
	}
	return drivers, closeAll, nil
}
