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

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/hetznercloud/hcloud-go/v2/hcloud"
	"google.golang.org/api/option"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/ownership"
	"github.com/cloudswitch/cloudswitch/providers/aws"
	"github.com/cloudswitch/cloudswitch/providers/aws/awstest"
	"github.com/cloudswitch/cloudswitch/providers/emulator"
	"github.com/cloudswitch/cloudswitch/providers/gcp"
	"github.com/cloudswitch/cloudswitch/providers/gcp/gcptest"
	"github.com/cloudswitch/cloudswitch/providers/hetzner"
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
	addr := func(a string) string {
		if a == "" {
			return "127.0.0.1:0"
		}
		return a
	}
	s := &Set{}
	var err error
	if s.AWS, err = awstest.Start(addr(addrs.AWS)); err != nil {
		return nil, fmt.Errorf("starting the EC2 emulator: %w", err)
	}
	if s.Hetzner, err = hetznertest.Start(addr(addrs.Hetzner)); err != nil {
		s.Close()
		return nil, fmt.Errorf("starting the Hetzner emulator: %w", err)
	}
	if s.GCP, err = gcptest.Start(addr(addrs.GCP)); err != nil {
		s.Close()
		return nil, fmt.Errorf("starting the Compute Engine emulator: %w", err)
	}
	return s, nil
}

// Close stops the emulators.
func (s *Set) Close() {
	if s.AWS != nil {
		s.AWS.Close()
	}
	if s.Hetzner != nil {
		s.Hetzner.Close()
	}
	if s.GCP != nil {
		s.GCP.Close()
	}
}

// Endpoints returns how to reach s.
func (s *Set) Endpoints() Endpoints {
	var e Endpoints
	e.AWS.URL, e.AWS.Region, e.AWS.Regions = s.AWS.URL(), awstest.DefaultRegion, slices.Clone(AWSRegions)
	e.Hetzner.URL, e.Hetzner.Token = s.Hetzner.URL(), s.Hetzner.Token()
	e.GCP.URL, e.GCP.Project, e.GCP.Zones = s.GCP.URL(), s.GCP.Project(), s.GCP.Zones()
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
	vm := func(i cloudswitch.Instance, owner, state string, live bool) VM {
		return VM{Provider: i.Provider, ID: i.ID, Region: i.Region, Owner: owner,
			WorkspaceID: i.WorkspaceID, Token: i.Token, State: state, Live: live, CreatedAt: i.CreatedAt}
	}
	for _, i := range s.AWS.Instances() {
		out = append(out, vm(i.CloudswitchInstance(), i.Tags[ownership.OwnerKey], i.State, i.Live()))
	}
	for _, i := range s.Hetzner.Instances() {
		out = append(out, vm(i.CloudswitchInstance(), i.Labels[ownership.OwnerKey], i.Status, i.Live()))
	}
	for _, i := range s.GCP.Instances() {
		out = append(out, vm(i.CloudswitchInstance(), i.Labels[ownership.OwnerKey], i.Status, i.Status != gcptest.StatusTerminated))
	}
	slices.SortFunc(out, func(a, b VM) int {
		if a.Provider != b.Provider {
			return compare(a.Provider, b.Provider)
		}
		return compare(a.ID, b.ID)
	})
	return out
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
	switch f.Provider {
	case cloudswitch.AWS:
		return s.AWS.Inject(ef)
	case cloudswitch.Hetzner:
		return s.Hetzner.Inject(ef)
	case cloudswitch.GCP:
		return s.GCP.Inject(ef)
	}
	return fmt.Errorf("no emulator for provider %q", f.Provider)
}

// ClearFaults drops every fault of every emulator.
func (s *Set) ClearFaults() {
	s.AWS.ClearFaults()
	s.Hetzner.ClearFaults()
	s.GCP.ClearFaults()
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
	var rt http.RoundTripper = http.DefaultTransport
	if s.persist != nil {
		rt = savingTransport{set: s, next: rt}
	}
	return connect(ctx, s.Endpoints(), rt, nil)
}

func connect(ctx context.Context, e Endpoints, base http.RoundTripper, wrap func(provider string, next http.RoundTripper) http.RoundTripper) (drivers map[string]cloudswitch.Provider, close func(), err error) {
	if e.AWS.URL == "" || e.Hetzner.URL == "" || e.GCP.URL == "" {
		return nil, nil, errors.New("emulated: endpoints incomplete")
	}
	through := func(provider string) http.RoundTripper {
		if wrap == nil {
			return base
		}
		return wrap(provider, base)
	}
	cfg := awssdk.Config{
		Region:       e.AWS.Region,
		Credentials:  credentials.NewStaticCredentialsProvider(awstest.AccessKeyID, awstest.SecretAccessKey, ""),
		BaseEndpoint: awssdk.String(e.AWS.URL),
		HTTPClient:   &http.Client{Timeout: time.Minute, Transport: through(cloudswitch.AWS)},
	}
	regions := e.AWS.Regions
	if len(regions) == 0 {
		regions = []string{e.AWS.Region}
	}
	awsDrv, err := aws.NewFromConfig(cfg, aws.WithImage("ami-0e0a1a7ed00000000"), aws.WithRegions(regions...))
	if err != nil {
		return nil, nil, fmt.Errorf("emulated: EC2 driver: %w", err)
	}
	hzDrv, err := hetzner.NewFromToken(e.Hetzner.Token, hetzner.WithClientOptions(
		hcloud.WithEndpoint(e.Hetzner.URL),
		hcloud.WithHTTPClient(&http.Client{Timeout: time.Minute, Transport: through(cloudswitch.Hetzner)}),
		hcloud.WithPollOpts(hcloud.PollOpts{BackoffFunc: hcloud.ConstantBackoff(20 * time.Millisecond)}),
	))
	if err != nil {
		return nil, nil, fmt.Errorf("emulated: Hetzner driver: %w", err)
	}
	zone := ""
	if len(e.GCP.Zones) > 0 {
		zone = e.GCP.Zones[0]
	}
	gcpDrv, err := gcp.NewFromClientOptions(ctx, e.GCP.Project,
		[]option.ClientOption{option.WithEndpoint(e.GCP.URL), option.WithoutAuthentication(),
			option.WithHTTPClient(&http.Client{Transport: through(cloudswitch.GCP)})},
		gcp.WithZone(zone), gcp.WithZones(e.GCP.Zones...), gcp.WithPollInterval(20*time.Millisecond))
	if err != nil {
		return nil, nil, fmt.Errorf("emulated: Compute Engine driver: %w", err)
	}
	return map[string]cloudswitch.Provider{cloudswitch.AWS: awsDrv, cloudswitch.Hetzner: hzDrv, cloudswitch.GCP: gcpDrv},
		func() { _ = gcpDrv.Close() }, nil
}
