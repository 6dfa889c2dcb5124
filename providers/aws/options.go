package aws

import (
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cloudswitch/cloudswitch/ownership"
)

// Option configures a Driver. Options check their arguments: New and
// NewFromConfig return the first error an option reports.
type Option func(*config) error

// config is what the options set.
type config struct {
	image          string
	regionImages   map[string]string
	subnet         string
	securityGroups []string
	keyName        string
	userData       string // base64, as RunInstances takes it
	tags           map[string]string
	regions        []string
	waitRunning    bool
	waitTerminated bool
	pollInterval   time.Duration // 0: the SDK waiters' own (15 s growing to 120 s)
	waitTimeout    time.Duration
	// consistencyWindow is how long after its launch an instance EC2 does
	// not know may still exist (eventual consistency).
	consistencyWindow time.Duration
	logger            *slog.Logger
}

// EC2's limits the options check.
const (
	maxTags        = 50    // tags per instance
	maxTagKeyLen   = 128   // characters
	maxTagValueLen = 256   // characters
	maxUserData    = 16384 // bytes, before base64
)

// defaultWaitTimeout bounds a wait whose context has no deadline.
const defaultWaitTimeout = 10 * time.Minute

// DefaultConsistencyWindow is how long after an instance's launch the driver
// does not take EC2's InvalidInstanceID.NotFound for "gone": EC2's
// eventual-consistency guide advises backing off "up to five minutes" before
// trusting what a Describe says of a resource just created.
const DefaultConsistencyWindow = 5 * time.Minute

// reservedTags are the tag keys the driver writes on every instance.
var reservedTags = []string{ownership.OwnerKey, ownership.WorkspaceKey, ownership.TokenKey, ownership.InstallationKey, nameTag}

// nameTag is the tag EC2's console shows as the instance name.
const nameTag = "Name"

// regionName is the shape of an AWS region: "us-east-1", "eu-central-2",
// "us-gov-west-1", "ap-southeast-5".
var regionName = regexp.MustCompile(`^[a-z]{2}(-[a-z0-9]+)*-[0-9]+$`)

func checkRegion(r string) error {
	if !regionName.MatchString(r) {
		return fmt.Errorf("%q is not an AWS region name (such as us-east-1)", r)
	}
	return nil
}

// WithImage sets the image (AMI id, or "resolve:ssm:PARAMETER") of
// instances whose Compute names none and whose region WithRegionImages does
// not cover.
func WithImage(ami string) Option {
	return func(c *config) error {
		if strings.TrimSpace(ami) == "" {
			return errors.New("aws: WithImage: empty image")
		}
		c.image = ami
		return nil
	}
}

// WithRegionImages sets the image per region (AMI ids are regional), for
// instances whose Compute names no image. It takes precedence over
// WithImage.
func WithRegionImages(images map[string]string) Option {
	return func(c *config) error {
		for region, ami := range images {
			if err := checkRegion(region); err != nil {
				return fmt.Errorf("aws: WithRegionImages: %w", err)
			}
			if strings.TrimSpace(ami) == "" {
				return fmt.Errorf("aws: WithRegionImages: empty image for region %s", region)
			}
		}
		c.regionImages = maps.Clone(images)
		return nil
	}
}

// WithSubnet launches instances into subnet (a "subnet-…" id); without it
// EC2 picks the default VPC's subnet.
func WithSubnet(subnet string) Option {
	return func(c *config) error {
		if !strings.HasPrefix(subnet, "subnet-") {
			return fmt.Errorf("aws: WithSubnet: %q is not a subnet id (subnet-…)", subnet)
		}
		c.subnet = subnet
		return nil
	}
}

// WithSecurityGroups attaches security groups (by "sg-…" id) to instances.
func WithSecurityGroups(ids ...string) Option {
	return func(c *config) error {
		if len(ids) == 0 {
			return errors.New("aws: WithSecurityGroups: no security group")
		}
		for _, id := range ids {
			if !strings.HasPrefix(id, "sg-") {
				return fmt.Errorf("aws: WithSecurityGroups: %q is not a security group id (sg-…)", id)
			}
		}
		c.securityGroups = append([]string(nil), ids...)
		return nil
	}
}

// WithKeyName sets the EC2 key pair instances are launched with.
func WithKeyName(name string) Option {
	return func(c *config) error {
		if strings.TrimSpace(name) == "" {
			return errors.New("aws: WithKeyName: empty key name")
		}
		c.keyName = name
		return nil
	}
}

// WithUserData sets the user data (a cloud-init script, say) instances boot
// with, as plain text: the driver base64-encodes it. EC2 allows 16 KiB.
func WithUserData(data string) Option {
	return func(c *config) error {
		if len(data) > maxUserData {
			return fmt.Errorf("aws: WithUserData: %d bytes; EC2 allows %d", len(data), maxUserData)
		}
		c.userData = base64.StdEncoding.EncodeToString([]byte(data))
		return nil
	}
}

// WithTags adds tags to every instance, besides the ownership tags
// (cloudswitch-owner, cloudswitch-workspace, cloudswitch-token) and Name,
// which it may not set.
func WithTags(tags map[string]string) Option {
	return func(c *config) error {
		if len(tags) > maxTags-len(reservedTags) {
			return fmt.Errorf("aws: WithTags: %d tags; an instance holds %d besides the driver's %d", len(tags), maxTags-len(reservedTags), len(reservedTags))
		}
		for k, v := range tags {
			for _, r := range reservedTags {
				if strings.EqualFold(k, r) {
					return fmt.Errorf("aws: WithTags: tag %q is the driver's own", k)
				}
			}
			switch {
			case k == "":
				return errors.New("aws: WithTags: empty tag key")
			case strings.HasPrefix(strings.ToLower(k), "aws:"):
				return fmt.Errorf("aws: WithTags: tag keys starting with aws: are reserved by AWS (%q)", k)
			case utf8.RuneCountInString(k) > maxTagKeyLen:
				return fmt.Errorf("aws: WithTags: tag key %q is longer than %d characters", k, maxTagKeyLen)
			case utf8.RuneCountInString(v) > maxTagValueLen:
				return fmt.Errorf("aws: WithTags: the value of tag %q is longer than %d characters", k, maxTagValueLen)
			}
		}
		c.tags = maps.Clone(tags)
		return nil
	}
}

// WithRegions sets the regions Instances lists (default: the client's or
// the config's region), which are the regions Provision launches in: it
// refuses any other. A driver made by New serves its client's region only,
// so there it may name that region alone.
func WithRegions(regions ...string) Option {
	return func(c *config) error {
		if len(regions) == 0 {
			return errors.New("aws: WithRegions: no region")
		}
		c.regions = nil
		for _, r := range regions {
			if err := checkRegion(r); err != nil {
				return fmt.Errorf("aws: WithRegions: %w", err)
			}
			if !slices.Contains(c.regions, r) {
				c.regions = append(c.regions, r)
			}
		}
		return nil
	}
}

// WithWaitRunning(false) makes Provision return as soon as EC2 accepted the
// instance, still pending. By default (true) Provision returns only once the
// instance is running: EC2 advises checking that a launched instance goes
// from pending to running, not to terminated (a volume limit, a missing
// snapshot, an internal error end a launch that way), and a driver that does
// not wait reports such a dying instance provisioned.
func WithWaitRunning(on bool) Option {
	return func(c *config) error { c.waitRunning = on; return nil }
}

// WithWaitTerminated makes Deprovision return only once the instance is
// terminated (default false: shutting-down, when EC2 stops billing, is
// enough).
func WithWaitTerminated(on bool) Option {
	return func(c *config) error { c.waitTerminated = on; return nil }
}

// WithPollInterval makes the waits of WithWaitRunning and WithWaitTerminated
// poll DescribeInstances every d (default: at once, then from 50 ms
// doubling to 15 s).
func WithPollInterval(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("aws: WithPollInterval: %v is not positive", d)
		}
		c.pollInterval = d
		return nil
	}
}

// WithWaitTimeout bounds a wait of WithWaitRunning or WithWaitTerminated
// whose context has no earlier deadline (default 10 minutes). A wait that
// runs out fails with an error matching cloudswitch.ErrTransient.
func WithWaitTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("aws: WithWaitTimeout: %v is not positive", d)
		}
		c.waitTimeout = d
		return nil
	}
}

// WithConsistencyWindow sets how long after an instance's launch (its
// Instance.CreatedAt) Deprovision does not take InvalidInstanceID.NotFound
// for "gone" but for "not visible yet", a transient error (default
// DefaultConsistencyWindow). An Instance without CreatedAt is judged old.
func WithConsistencyWindow(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return fmt.Errorf("aws: WithConsistencyWindow: %v is negative", d)
		}
		c.consistencyWindow = d
		return nil
	}
}

// WithLogger sets the logger of the driver's debug lines (default: none).
// They name instances, regions and workspaces, never credentials or tokens.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("aws: WithLogger: nil logger")
		}
		c.logger = l
		return nil
	}
}
