package emulated

import (
	"context"
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

// server is what the package asks of every running emulator.
type server interface {
	Inject(emulator.Fault) error
	ClearFaults()
	Close()
}

// running returns p as a server, nil when p is nil (an emulator that did
// not start).
func running[T any, P interface {
	*T
	server
}](p P) server {
	if p == nil {
		return nil
	}
	return p
}

// cloud is everything the package knows of one emulated cloud. Adding a
// cloud is one entry in cloudTable, and its fields in Addrs, Set,
// Endpoints and state.
type cloud struct {
	// name is the provider's name: the key of Fault.Provider and of the
	// drivers' map.
	name string
	// what names the emulated service in errors.
	what string
	// addr is the emulator's listen address in a; empty: a free port.
	addr func(a Addrs) string
	// start starts the emulator on addr and keeps it in s.
	start func(s *Set, addr string) error
	// server is the emulator s runs; nil when it has not started.
	server func(s *Set) server
	// endpoint writes into e how to reach the emulator s runs.
	endpoint func(s *Set, e *Endpoints)
	// url is the emulator's URL in e; empty: e does not reach it.
	url func(e Endpoints) string
	// vms is the emulator's ground truth.
	vms func(s *Set) []VM
	// save writes the emulator's state into st.
	save func(s *Set, st *state)
	// restore loads the emulator's state from st.
	restore func(s *Set, st *state) error
	// driver makes the real driver connected to the emulator at e, sending
	// its requests through rt. close releases its client; nil: nothing to
	// release.
	driver func(ctx context.Context, e Endpoints, rt http.RoundTripper) (_ cloudswitch.Provider, close func(), _ error)
}

// cloudTable lists the emulated clouds, in the order they start.
func cloudTable() []cloud {
	return []cloud{
		{
			name: cloudswitch.AWS,
			what: "EC2",
			addr: func(a Addrs) string { return a.AWS },
			start: func(s *Set, addr string) (err error) {
				s.AWS, err = awstest.Start(addr)
				return err
			},
			server: func(s *Set) server { return running(s.AWS) },
			endpoint: func(s *Set, e *Endpoints) {
				e.AWS.URL, e.AWS.Region, e.AWS.Regions = s.AWS.URL(), awstest.DefaultRegion, slices.Clone(AWSRegions)
			},
			url: func(e Endpoints) string { return e.AWS.URL },
			vms: func(s *Set) []VM {
				var out []VM
				for _, i := range s.AWS.Instances() {
					out = append(out, vmOf(i.CloudswitchInstance(), i.Tags[ownership.OwnerKey], i.State, i.Live()))
				}
				return out
			},
			save:    func(s *Set, st *state) { st.AWS = s.AWS.Snapshot() },
			restore: func(s *Set, st *state) error { return s.AWS.Restore(st.AWS) },
			driver:  connectAWS,
		},
		{
			name: cloudswitch.Hetzner,
			what: "Hetzner",
			addr: func(a Addrs) string { return a.Hetzner },
			start: func(s *Set, addr string) (err error) {
				s.Hetzner, err = hetznertest.Start(addr)
				return err
			},
			server: func(s *Set) server { return running(s.Hetzner) },
			endpoint: func(s *Set, e *Endpoints) {
				e.Hetzner.URL, e.Hetzner.Token = s.Hetzner.URL(), s.Hetzner.Token()
			},
			url: func(e Endpoints) string { return e.Hetzner.URL },
			vms: func(s *Set) []VM {
				var out []VM
				for _, i := range s.Hetzner.Instances() {
					out = append(out, vmOf(i.CloudswitchInstance(), i.Labels[ownership.OwnerKey], i.Status, i.Live()))
				}
				return out
			},
			save:    func(s *Set, st *state) { st.Hetzner = s.Hetzner.Snapshot() },
			restore: func(s *Set, st *state) error { return s.Hetzner.Restore(st.Hetzner) },
			driver:  connectHetzner,
		},
		{
			name: cloudswitch.GCP,
			what: "Compute Engine",
			addr: func(a Addrs) string { return a.GCP },
			start: func(s *Set, addr string) (err error) {
				s.GCP, err = gcptest.Start(addr)
				return err
			},
			server: func(s *Set) server { return running(s.GCP) },
			endpoint: func(s *Set, e *Endpoints) {
				e.GCP.URL, e.GCP.Project, e.GCP.Zones = s.GCP.URL(), s.GCP.Project(), s.GCP.Zones()
			},
			url: func(e Endpoints) string { return e.GCP.URL },
			vms: func(s *Set) []VM {
				var out []VM
				for _, i := range s.GCP.Instances() {
					out = append(out, vmOf(i.CloudswitchInstance(), i.Labels[ownership.OwnerKey], i.Status, i.Status != gcptest.StatusTerminated))
				}
				return out
			},
			save:    func(s *Set, st *state) { st.GCP = s.GCP.Snapshot() },
			restore: func(s *Set, st *state) error { return s.GCP.Restore(st.GCP) },
			driver:  connectGCP,
		},
	}
}

// connectAWS makes the EC2 driver of the emulator at e, listing every
// region of e.
func connectAWS(_ context.Context, e Endpoints, rt http.RoundTripper) (cloudswitch.Provider, func(), error) {
	cfg := awssdk.Config{
		Region:       e.AWS.Region,
		Credentials:  credentials.NewStaticCredentialsProvider(awstest.AccessKeyID, awstest.SecretAccessKey, ""),
		BaseEndpoint: awssdk.String(e.AWS.URL),
		HTTPClient:   &http.Client{Timeout: time.Minute, Transport: rt},
	}
	regions := e.AWS.Regions
	if len(regions) == 0 {
		regions = []string{e.AWS.Region}
	}
	drv, err := aws.NewFromConfig(cfg, aws.WithImage("ami-0e0a1a7ed00000000"), aws.WithRegions(regions...))
	if err != nil {
		return nil, nil, fmt.Errorf("emulated: EC2 driver: %w", err)
	}
	return drv, nil, nil
}

// connectHetzner makes the Hetzner driver of the emulator at e, polling
// fast.
func connectHetzner(_ context.Context, e Endpoints, rt http.RoundTripper) (cloudswitch.Provider, func(), error) {
	drv, err := hetzner.NewFromToken(e.Hetzner.Token, hetzner.WithClientOptions(
		hcloud.WithEndpoint(e.Hetzner.URL),
		hcloud.WithHTTPClient(&http.Client{Timeout: time.Minute, Transport: rt}),
		hcloud.WithPollOpts(hcloud.PollOpts{BackoffFunc: hcloud.ConstantBackoff(20 * time.Millisecond)}),
	))
	if err != nil {
		return nil, nil, fmt.Errorf("emulated: Hetzner driver: %w", err)
	}
	return drv, nil, nil
}

// connectGCP makes the Compute Engine driver of the emulator at e, in its
// first zone and listing every zone, polling fast.
func connectGCP(ctx context.Context, e Endpoints, rt http.RoundTripper) (cloudswitch.Provider, func(), error) {
	zone := ""
	if len(e.GCP.Zones) > 0 {
		zone = e.GCP.Zones[0]
	}
	drv, err := gcp.NewFromClientOptions(ctx, e.GCP.Project,
		[]option.ClientOption{option.WithEndpoint(e.GCP.URL), option.WithoutAuthentication(),
			option.WithHTTPClient(&http.Client{Transport: rt})},
		gcp.WithZone(zone), gcp.WithZones(e.GCP.Zones...), gcp.WithPollInterval(20*time.Millisecond))
	if err != nil {
		return nil, nil, fmt.Errorf("emulated: Compute Engine driver: %w", err)
	}
	return drv, func() { _ = drv.Close() }, nil
}
