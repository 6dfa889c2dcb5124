package hetzner

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
	"golang.org/x/net/http/httpguts"

	"github.com/cloudswitch/cloudswitch"
)

// Driver is the cloudswitch.Provider of Hetzner Cloud: it creates, deletes
// and lists servers through hcloud-go. It is safe for concurrent use and
// holds no state between calls beyond its configuration and the names of
// the project anchors it has ensured.
type Driver struct {
	client    *hcloud.Client
	image     string
	location  string
	sshKeys   []string
	networks  []int64
	firewalls []int64
	userData  string
	labels    map[string]string
	log       *slog.Logger
	secret    string   // the API token, when the driver built the client
	anchors   sync.Map // the names of the project anchors ensured (see ensureAnchor)
}

var _ cloudswitch.Provider = (*Driver)(nil)

// A client NewFromToken builds makes one attempt of each call: the
// Switcher's retry policy is the only one. An SDK retry would hide the
// first attempt's outcome — a create or delete that timed out may have
// acted — behind the last attempt's answer, so a refused retry could be
// taken for a call that did nothing.
const (
	sdkMaxRetries  = 0
	pollBase       = 500 * time.Millisecond
	pollMultiplier = 1.5
	pollCap        = 5 * time.Second
)

// ClientOptions returns the hcloud client options NewFromToken uses besides
// the token: no SDK retries, and action polling that starts at 500 ms and
// grows to 5 s, suited to servers that take tens of seconds to create. A
// caller building its own client for New should turn the SDK's retries off
// the same way. hcloud-go retries five times by default, and an error then
// speaks only of the last attempt: a delete that timed out and was retried
// into rate_limit_exceeded would read as refused though it may have acted.
// The Switcher retries transient errors itself:
//
//	client := hcloud.NewClient(append(hetzner.ClientOptions(), hcloud.WithToken(token))...)
func ClientOptions() []hcloud.ClientOption {
	return []hcloud.ClientOption{
		hcloud.WithApplication("cloudswitch", ""),
		hcloud.WithRetryOpts(hcloud.RetryOpts{MaxRetries: sdkMaxRetries}),
		hcloud.WithPollOpts(hcloud.PollOpts{
			BackoffFunc: hcloud.ExponentialBackoffWithOpts(hcloud.ExponentialBackoffOpts{
				Base: pollBase, Multiplier: pollMultiplier, Cap: pollCap,
			}),
		}),
	}
}

// New returns a driver that uses client. The client should make no retries
// of its own (see ClientOptions): the Switcher's retry policy is meant to
// be the only one. A client that does retry costs no guarantee: the driver
// counts the requests each create, delete or action call writes (see
// internal/transport's Watch), and an answer to a call written more than
// once is no refusal. It fails on a nil client, on an option that does not
// hold, and on WithClientOptions, which only NewFromToken takes.
func New(client *hcloud.Client, opts ...Option) (*Driver, error) {
	if client == nil {
		return nil, errors.New("hetzner: New: nil client")
	}
	cfg, err := configure(opts)
	if err != nil {
		return nil, err
	}
	if len(cfg.clientOpts) > 0 {
		return nil, errors.New("hetzner: New: WithClientOptions is for NewFromToken; configure the client you pass instead")
	}
	return newDriver(client, cfg, ""), nil
}

// NewFromToken returns a driver with a client of its own for the API token,
// configured with ClientOptions and then WithClientOptions. The token needs
// read & write permission (a read-only token can list servers but not create
// or delete them). The token never appears in the driver's errors or logs.
func NewFromToken(token string, opts ...Option) (*Driver, error) {
	if token == "" {
		return nil, errors.New("hetzner: NewFromToken: empty API token")
	}
	if !httpguts.ValidHeaderFieldValue(token) {
		return nil, errors.New("hetzner: NewFromToken: the API token contains characters an HTTP header cannot carry")
	}
	cfg, err := configure(opts)
	if err != nil {
		return nil, err
	}
	clientOpts := append(ClientOptions(), hcloud.WithToken(token))
	client := hcloud.NewClient(append(clientOpts, cfg.clientOpts...)...)
	return newDriver(client, cfg, token), nil
}

func configure(opts []Option) (config, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		if o == nil {
			return cfg, errors.New("hetzner: nil Option")
		}
		if err := o(&cfg); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}

func newDriver(client *hcloud.Client, cfg config, secret string) *Driver {
	return &Driver{
		client: client, image: cfg.image, location: cfg.location,
		sshKeys: cfg.sshKeys, networks: cfg.networks, firewalls: cfg.firewalls,
		userData: cfg.userData, labels: cfg.labels, log: cfg.logger, secret: secret,
	}
}

// name is the provider name of every Instance the driver returns.
const name = cloudswitch.Hetzner

// errorf makes a permanent error of the driver.
func errorf(format string, args ...any) error {
	return fmt.Errorf("hetzner: "+format, args...)
}

// refusef makes a permanent error of a call the driver refuses before any
// API call: it matches cloudswitch.ErrRefused, since nothing was done.
func refusef(format string, args ...any) error {
	return cloudswitch.Refused(errorf(format, args...))
}
