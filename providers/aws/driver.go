package aws

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/aws/internal/httpbody"
)

// sdkMaxAttempts is how many attempts the SDK makes of one call: one, so
// the Switcher's retry policy is the only one and a lost answer reaches it
// (the SDK would otherwise retry up to three times inside every attempt of
// the Switcher's).
const sdkMaxAttempts = 1

// perCall adjusts the options of every call the driver makes: one SDK
// attempt, and request bodies sent from memory (see package httpbody: the
// SDK would otherwise, now and then, break the connection of a call that
// succeeded).
func perCall(o *ec2.Options) {
	o.RetryMaxAttempts = sdkMaxAttempts
	if o.HTTPClient != nil {
		o.HTTPClient = httpbody.Wrap(o.HTTPClient)
	}
}

// Driver is a cloudswitch.Provider on Amazon EC2. It is safe for concurrent
// use.
type Driver struct {
	cfg           config
	defaultRegion string
	regions       []string                        // the regions Instances lists
	newClient     func(region string) *ec2.Client // nil: the one client New was given
	bound         func(*ec2.Options)              // applied to every call: perCall
	log           *slog.Logger

	mu      sync.Mutex
	clients map[string]*ec2.Client
}

var _ cloudswitch.Provider = (*Driver)(nil)

// New returns a driver that makes every call through client, in the
// client's region only (Compute.Region must be empty or that region). The
// client keeps its credentials, endpoint and HTTP client; the driver limits
// its retries per call.
func New(client *ec2.Client, opts ...Option) (*Driver, error) {
	if client == nil {
		return nil, errors.New("aws: New: nil client")
	}
	region := client.Options().Region
	if err := checkRegion(region); err != nil {
		return nil, fmt.Errorf("aws: New: the client's region: %w", err)
	}
	d, err := newDriver(region, opts)
	if err != nil {
		return nil, err
	}
	for _, r := range d.regions {
		if r != region {
			return nil, fmt.Errorf("aws: New: WithRegions names %s, but a driver made from one client serves its region %s only (use NewFromConfig for several regions)", r, region)
		}
	}
	d.clients[region] = client
	return d, nil
}

// NewFromConfig returns a driver that makes one EC2 client per region from
// cfg, on first use, and keeps it. Compute.Region picks the region of a new
// instance; an empty one means cfg.Region (or, if that is empty, the first
// region of WithRegions). Every client is made with bounded SDK retries.
func NewFromConfig(cfg awssdk.Config, opts ...Option) (*Driver, error) {
	d, err := newDriver(cfg.Region, opts)
	if err != nil {
		return nil, err
	}
	d.newClient = func(r string) *ec2.Client {
		return ec2.NewFromConfig(cfg, func(o *ec2.Options) {
			o.Region = r
			o.RetryMaxAttempts = sdkMaxAttempts
		})
	}
	return d, nil
}

// newDriver applies opts to a driver whose default region is region, or,
// if region is empty, the first region of WithRegions.
func newDriver(region string, opts []Option) (*Driver, error) {
	c := config{
		waitRunning:       true,
		waitTimeout:       defaultWaitTimeout,
		consistencyWindow: DefaultConsistencyWindow,
		logger:            slog.New(slog.DiscardHandler),
	}
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("aws: nil option")
		}
		if err := o(&c); err != nil {
			return nil, err
		}
	}
	if region == "" {
		if len(c.regions) == 0 {
			return nil, errors.New("aws: no region: the config names none and WithRegions names none")
		}
		region = c.regions[0]
	}
	if err := checkRegion(region); err != nil {
		return nil, fmt.Errorf("aws: default region: %w", err)
	}
	d := &Driver{
		cfg:           c,
		defaultRegion: region,
		regions:       c.regions,
		bound:         perCall,
		log:           c.logger,
		clients:       make(map[string]*ec2.Client),
	}
	if len(d.regions) == 0 {
		d.regions = []string{region}
	}
	return d, nil
}

// client returns the client of region, making it on first use.
func (d *Driver) client(region string) (*ec2.Client, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if c, ok := d.clients[region]; ok {
		return c, nil
	}
	if d.newClient == nil {
		return nil, fmt.Errorf("aws: region %s: this driver was made from one client and serves its region %s only", region, d.defaultRegion)
	}
	if err := checkRegion(region); err != nil {
		return nil, fmt.Errorf("aws: %w", err)
	}
	c := d.newClient(region)
	d.clients[region] = c
	return c, nil
}

// region returns the region r names, or the default region for "".
func (d *Driver) region(r string) string {
	if r == "" {
		return d.defaultRegion
	}
	return r
}
