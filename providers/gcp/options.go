package gcp

import (
	compute "cloud.google.com/go/compute/apiv1"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/cloudswitch/cloudswitch/ownership"
)

// DefaultSourceImage is the boot image of a VM when neither
// Compute.Image nor WithSourceImage names one.
const DefaultSourceImage = "projects/debian-cloud/global/images/family/debian-12"

// DefaultScopes are the OAuth scopes of WithServiceAccount when it is given
// none.
var DefaultScopes = []string{"https://www.googleapis.com/auth/cloud-platform"}

// The polling of operations: the first poll is immediate, then the pause
// starts at the poll interval and grows by half each time up to maxPoll
// (or the interval, if larger).
const (
	defaultPoll = time.Second
	maxPoll     = 5 * time.Second
)

// Option configures a Driver. Options are checked by New, which fails on the
// first that does not hold; they never panic.
type Option func(*config) error

// config is what the options set.
type config struct {
	zone           string
	zones          []string
	sourceImage    string
	network        string
	subnetwork     string
	serviceAccount string
	scopes         []string
	labels         map[string]string
	metadata       map[string]string
	diskSizeGB     int64
	poll           time.Duration
	log            *slog.Logger
	machineTypes   *compute.MachineTypesClient // for Preflight; nil: no lookups
	images         *compute.ImagesClient       // for Preflight; nil: no lookups
}

var (
	// zonePattern is a zone: region and letter, "us-central1-a".
	zonePattern = regexp.MustCompile(`^[a-z]+-[a-z]+[0-9]+-[a-z]$`)
	// projectPattern is a project id, optionally with a legacy domain
	// prefix ("example.com:my-project").
	projectPattern = regexp.MustCompile(`^([a-z0-9][-a-z0-9.]*[a-z0-9]:)?[a-z][-a-z0-9]{4,28}[a-z0-9]$`)
	// labelKeyPattern and labelValuePattern are Compute Engine's label
	// rules, restricted to ASCII.
	labelKeyPattern   = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)
	labelValuePattern = regexp.MustCompile(`^[a-z0-9_-]{0,63}$`)
	// metadataKeyPattern is a metadata key.
	metadataKeyPattern = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,128}$`)
	// instanceNamePattern is an instance name (RFC 1035, at most 63).
	instanceNamePattern = regexp.MustCompile(`^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$`)
	// resourcePattern is a name or a path of names ("my-net",
	// "projects/p/global/networks/my-net", a full URL).
	resourcePattern = regexp.MustCompile(`^[A-Za-z0-9:/._-]+$`)
	// emailPattern is a service account: an email address or "default".
	emailPattern = regexp.MustCompile(`^(default|[^@\s]+@[^@\s]+\.[^@\s]+)$`)
)

// Limits of Compute Engine the options are checked against.
const (
	maxLabels        = 64
	maxMetadataBytes = 512 << 10
	minDiskGB        = 10
	maxDiskGB        = 65536
)

// WithZone sets the zone of a VM whose Compute.Region is empty. Without it,
// Provision refuses such a request.
func WithZone(zone string) Option {
	return func(c *config) error {
		if !zonePattern.MatchString(zone) {
			return fmt.Errorf("gcp: WithZone: %q is not a zone (like us-central1-a)", zone)
		}
		c.zone = zone
		return nil
	}
}

// WithZones makes Instances list these zones one by one (instances.list)
// instead of every zone of the project in one aggregated listing
// (instances.aggregatedList, the default), and makes Provision refuse any
// other zone, so that every VM the driver creates is one Instances can find.
// Use it when the credentials may list only some zones; a VM created in
// another zone by other means is then not listed.
func WithZones(zones ...string) Option {
	return func(c *config) error {
		if len(zones) == 0 {
			return errors.New("gcp: WithZones: no zone")
		}
		for _, z := range zones {
			if !zonePattern.MatchString(z) {
				return fmt.Errorf("gcp: WithZones: %q is not a zone (like us-central1-a)", z)
			}
			if slices.Contains(c.zones, z) {
				return fmt.Errorf("gcp: WithZones: zone %q given twice", z)
			}
			c.zones = append(c.zones, z)
		}
		return nil
	}
}

// WithSourceImage sets the boot image of a VM whose Compute.Image is empty
// (default DefaultSourceImage): an image or image family path such as
// "projects/ubuntu-os-cloud/global/images/family/ubuntu-2404-lts-amd64".
func WithSourceImage(image string) Option {
	return func(c *config) error {
		if !resourcePattern.MatchString(image) {
			return fmt.Errorf("gcp: WithSourceImage: %q is not an image path", image)
		}
		c.sourceImage = image
		return nil
	}
}

// WithNetwork attaches VMs to this VPC network: a name ("my-vpc", in the
// driver's project) or a path ("projects/host/global/networks/my-vpc").
// Default: the project's "default" network. VMs get no external IP address.
func WithNetwork(network string) Option {
	return func(c *config) error {
		if !resourcePattern.MatchString(network) {
			return fmt.Errorf("gcp: WithNetwork: %q is not a network name or path", network)
		}
		if !strings.Contains(network, "/") {
			network = "global/networks/" + network
		}
		c.network = network
		return nil
	}
}

// WithSubnetwork attaches VMs to this subnetwork: a name (in the region of
// the VM's zone) or a path ("projects/host/regions/r/subnetworks/s", as a
// Shared VPC needs).
func WithSubnetwork(subnetwork string) Option {
	return func(c *config) error {
		if !resourcePattern.MatchString(subnetwork) {
			return fmt.Errorf("gcp: WithSubnetwork: %q is not a subnetwork name or path", subnetwork)
		}
		c.subnetwork = subnetwork
		return nil
	}
}

// WithServiceAccount runs VMs as this service account ("default" for the
// project's default compute service account) with these OAuth scopes
// (default DefaultScopes). The caller needs iam.serviceAccounts.actAs on it.
func WithServiceAccount(email string, scopes ...string) Option {
	return func(c *config) error {
		if !emailPattern.MatchString(email) {
			return fmt.Errorf("gcp: WithServiceAccount: %q is not a service account email", email)
		}
		for _, s := range scopes {
			if s == "" || strings.ContainsAny(s, " \t\n") {
				return fmt.Errorf("gcp: WithServiceAccount: %q is not an OAuth scope", s)
			}
		}
		c.serviceAccount = email
		c.scopes = slices.Clone(scopes)
		if len(c.scopes) == 0 {
			c.scopes = slices.Clone(DefaultScopes)
		}
		return nil
	}
}

// WithLabels adds labels to every VM, beside the ownership labels, which
// they may not set. Keys and values follow Compute Engine's rules
// (lowercase letters, digits, '_' and '-'; keys start with a letter; at
// most 63 characters); a VM carries at most 64 labels in all.
func WithLabels(labels map[string]string) Option {
	return func(c *config) error {
		if c.labels == nil {
			c.labels = make(map[string]string, len(labels))
		}
		for _, k := range slices.Sorted(maps.Keys(labels)) {
			v := labels[k]
			switch {
			case k == ownership.OwnerKey || k == ownership.WorkspaceKey || k == ownership.TokenKey:
				return fmt.Errorf("gcp: WithLabels: %q is an ownership label, which only the driver sets", k)
			case !labelKeyPattern.MatchString(k):
				return fmt.Errorf("gcp: WithLabels: key %q breaks Compute Engine's label rules (a lowercase letter, then up to 62 lowercase letters, digits, '_' or '-')", k)
			case !labelValuePattern.MatchString(v):
				return fmt.Errorf("gcp: WithLabels: value %q of %q breaks Compute Engine's label rules (up to 63 lowercase letters, digits, '_' or '-')", v, k)
			}
			c.labels[k] = v
		}
		if len(c.labels)+3 > maxLabels {
			return fmt.Errorf("gcp: WithLabels: %d labels and the 3 ownership labels exceed Compute Engine's %d", len(c.labels), maxLabels)
		}
		return nil
	}
}

// WithMetadata sets metadata on every VM, such as "startup-script". Keys
// are letters, digits, '_' and '-' (at most 128); the total is at most
// 512 KiB.
func WithMetadata(metadata map[string]string) Option {
	return func(c *config) error {
		if c.metadata == nil {
			c.metadata = make(map[string]string, len(metadata))
		}
		for _, k := range slices.Sorted(maps.Keys(metadata)) {
			if !metadataKeyPattern.MatchString(k) {
				return fmt.Errorf("gcp: WithMetadata: key %q is not a metadata key (letters, digits, '_' and '-', at most 128)", k)
			}
			c.metadata[k] = metadata[k]
		}
		total := 0
		for k, v := range c.metadata {
			total += len(k) + len(v)
		}
		if total > maxMetadataBytes {
			return fmt.Errorf("gcp: WithMetadata: %d bytes of metadata exceed Compute Engine's %d", total, maxMetadataBytes)
		}
		return nil
	}
}

// WithDiskSizeGB sets the size of the boot disk, 10 to 65536 GB (default:
// the image's size). The disk is deleted with the VM.
func WithDiskSizeGB(gb int64) Option {
	return func(c *config) error {
		if gb < minDiskGB || gb > maxDiskGB {
			return fmt.Errorf("gcp: WithDiskSizeGB: %d GB is outside %d to %d", gb, minDiskGB, maxDiskGB)
		}
		c.diskSizeGB = gb
		return nil
	}
}

// WithPollInterval sets the first pause between two polls of an insert or
// delete operation (default 1 s); the pause grows by half each time up to
// 5 s (or d, if larger). The first poll is always immediate.
func WithPollInterval(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("gcp: WithPollInterval: %v is not positive", d)
		}
		c.poll = d
		return nil
	}
}

// WithLogger sets where the driver logs what it does (at debug level, and a
// warning when it meets an instance it cannot read). The default discards
// everything. Log lines carry zones, instance names and operation names,
// never credentials.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("gcp: WithLogger: nil logger")
		}
		c.log = l
		return nil
	}
}

// configure applies opts over the defaults and checks that they agree.
func configure(opts []Option) (config, error) {
	c := config{sourceImage: DefaultSourceImage, poll: defaultPoll, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		if o == nil {
			return config{}, errors.New("gcp: nil Option")
		}
		if err := o(&c); err != nil {
			return config{}, err
		}
	}
	if c.zone != "" && len(c.zones) > 0 && !slices.Contains(c.zones, c.zone) {
		return config{}, fmt.Errorf("gcp: the default zone %q is not among WithZones %v", c.zone, c.zones)
	}
	if c.network == "" && c.subnetwork == "" {
		c.network = "global/networks/default"
	}
	return c, nil
}

// WithLookupClients gives a driver made by New the clients its Preflight
// asks whether a machine type is offered in a zone (machineTypes.get) and
// whether an image exists (images.get, images.getFromFamily). The caller
// keeps and closes them, after the driver's Close. Without them Preflight
// checks only what the driver can check itself. NewFromClientOptions makes
// its own.
func WithLookupClients(machineTypes *compute.MachineTypesClient, images *compute.ImagesClient) Option {
	return func(c *config) error {
		if machineTypes == nil || images == nil {
			return errors.New("gcp: WithLookupClients: nil client")
		}
		c.machineTypes, c.images = machineTypes, images
		return nil
	}
}
