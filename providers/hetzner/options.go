package hetzner

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"regexp"
	"strconv"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"

	"github.com/cloudswitch/cloudswitch/ownership"
)

// The defaults of a Driver.
const (
	// DefaultImage is the image servers are created from when neither
	// WithImage nor Compute.Image names one.
	DefaultImage = "ubuntu-24.04"
	// DefaultLocation is where servers are created when neither
	// WithLocation nor Compute.Region names a location.
	DefaultLocation = "fsn1"
)

// maxUserData is the Hetzner API's limit on cloud-init user data.
const maxUserData = 32 << 10

// Option configures a Driver. New and NewFromToken check every option and
// return its error; an Option never panics.
type Option func(*config) error

// config is what the options set.
type config struct {
	image      string
	location   string
	sshKeys    []string
	networks   []int64
	firewalls  []int64
	userData   string
	labels     map[string]string
	logger     *slog.Logger
	clientOpts []hcloud.ClientOption
}

func defaultConfig() config {
	return config{image: DefaultImage, location: DefaultLocation, logger: slog.New(slog.DiscardHandler)}
}

// locationName is the shape of a Hetzner location name ("fsn1", "ash").
var locationName = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)

// WithImage sets the image servers are created from (default DefaultImage),
// by name ("ubuntu-24.04") or id; Compute.Image overrides it per request.
func WithImage(image string) Option {
	return func(c *config) error {
		if image == "" {
			return errors.New("hetzner: WithImage: empty image")
		}
		c.image = image
		return nil
	}
}

// WithLocation sets the location servers are created in when
// Compute.Region is empty (default DefaultLocation).
func WithLocation(location string) Option {
	return func(c *config) error {
		if !locationName.MatchString(location) {
			return fmt.Errorf("hetzner: WithLocation: %q is not a location name such as %q", location, DefaultLocation)
		}
		c.location = location
		return nil
	}
}

// WithSSHKeys names the SSH keys of the project to install on every server,
// by id ("123") or by name. Names are looked up (GET /ssh_keys) on every
// Provision, so a renamed or replaced key is picked up; a name no key has
// makes Provision fail with a permanent error.
func WithSSHKeys(keys ...string) Option {
	return func(c *config) error {
		for _, k := range keys {
			if k == "" {
				return errors.New("hetzner: WithSSHKeys: empty key name")
			}
			if id, err := strconv.ParseInt(k, 10, 64); err == nil && id < 1 {
				return fmt.Errorf("hetzner: WithSSHKeys: %q is not a key id", k)
			}
		}
		c.sshKeys = append(c.sshKeys, keys...)
		return nil
	}
}

// WithNetworks attaches every server to these private networks, by id.
func WithNetworks(ids ...int64) Option {
	return func(c *config) error {
		if err := checkIDs("WithNetworks", ids); err != nil {
			return err
		}
		c.networks = append(c.networks, ids...)
		return nil
	}
}

// WithFirewalls applies these firewalls to every server, by id.
func WithFirewalls(ids ...int64) Option {
	return func(c *config) error {
		if err := checkIDs("WithFirewalls", ids); err != nil {
			return err
		}
		c.firewalls = append(c.firewalls, ids...)
		return nil
	}
}

// WithUserData sets the cloud-init user data of every server (at most 32
// KiB, the API's limit).
func WithUserData(userData string) Option {
	return func(c *config) error {
		if len(userData) > maxUserData {
			return fmt.Errorf("hetzner: WithUserData: %d bytes, more than the API's limit of %d", len(userData), maxUserData)
		}
		c.userData = userData
		return nil
	}
}

// WithLabels adds labels to every server, besides the ownership labels
// (owner, workspace, token, installation), which they may not set. Keys and
// values must follow Hetzner's label rules (hcloud.ValidateResourceLabels).
func WithLabels(labels map[string]string) Option {
	return func(c *config) error {
		asAny := make(map[string]any, len(labels))
		for k, v := range labels {
			switch k {
			case ownership.OwnerKey, ownership.WorkspaceKey, ownership.TokenKey, ownership.InstallationKey:
				return fmt.Errorf("hetzner: WithLabels: %q is an ownership label, set by the driver", k)
			}
			asAny[k] = v
		}
		if _, err := hcloud.ValidateResourceLabels(asAny); err != nil {
			return fmt.Errorf("hetzner: WithLabels: %w", err)
		}
		if c.labels == nil {
			c.labels = make(map[string]string, len(labels))
		}
		maps.Copy(c.labels, labels)
		return nil
	}
}

// WithLogger sets the logger of the driver's debug and warning lines
// (default: none). Log lines never carry the API token.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("hetzner: WithLogger: nil logger")
		}
		c.logger = l
		return nil
	}
}

// WithClientOptions adds options to the hcloud client NewFromToken builds,
// after the driver's own (ClientOptions): another endpoint, an HTTP
// client, instrumentation. New refuses it: a caller with a client
// configures that client.
func WithClientOptions(opts ...hcloud.ClientOption) Option {
	return func(c *config) error {
		for _, o := range opts {
			if o == nil {
				return errors.New("hetzner: WithClientOptions: nil option")
			}
		}
		c.clientOpts = append(c.clientOpts, opts...)
		return nil
	}
}

func checkIDs(option string, ids []int64) error {
	for _, id := range ids {
		if id < 1 {
			return fmt.Errorf("hetzner: %s: %d is not an id", option, id)
		}
	}
	return nil
}
