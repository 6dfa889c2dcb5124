package cloudswitch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// Allowlist is what a workspace may run on, keyed by provider: the instance
// types, with the one a workspace gets when it moves to a provider without
// naming one, and — when set — the regions (each provider's regions, zones
// or locations) and images allowed, each with an optional default. A provider
// with no region (image) set accepts any well-formed region (image); a
// provider with one accepts only what it lists, exactly or by pattern. An
// Allowlist is immutable once built and safe for concurrent use.
//
// It marshals to and from JSON, so an operator can change it without a
// rebuild:
//
//	{"providers": {"aws": {"default": "t3.medium", "instance_types": ["t3.medium", "t3.large"],
//	  "regions": {"default": "eu-central-1", "allowed": ["eu-central-1", "eu-west-1"]},
//	  "images": {"allowed": ["resolve:ssm:/aws/service/canonical/ubuntu/*"]}}}}
type Allowlist struct {
	types    map[string][]string // provider → sorted instance types
	defaults map[string]string
	regions  map[string]choices // provider → allowed regions, if set
	images   map[string]choices // provider → allowed images, if set
}

// choices is an allowed set of regions or images: exact names, or patterns
// in which '*' stands for any run of characters, '/' included
// ("us-central1-*", "projects/debian-cloud/global/images/*"), with an
// optional default.
type choices struct {
	Default string   `json:"default,omitempty"`
	Allowed []string `json:"allowed"`
}

// allows reports whether v is one of c's names or matches one of its
// patterns.
func (c choices) allows(v string) bool {
	for _, a := range c.Allowed {
		if a == v || (strings.Contains(a, "*") && glob(a, v)) {
			return true
		}
	}
	return false
}

var (
	providerName = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)
	// instance type names across clouds: t3.medium, cpx31, e2-standard-2,
	// custom-4-16384.
	instanceTypeName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	// a provider's regions, zones or locations: eu-west-1, europe-west4-a,
	// fsn1.
	regionName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
)

// DefaultAllowlist returns the shipped allowlist: for AWS t3.medium t3.large
// t3.xlarge t3.2xlarge m6i.large m6i.xlarge c6i.xlarge (default t3.medium);
// for Hetzner cpx11 cpx21 cpx31 cpx41 cpx51 cax11 cax21 cax31 cax41 (default
// cpx31); for GCP e2-small e2-medium e2-standard-2 e2-standard-4
// e2-standard-8 (default e2-standard-2).
//
// Regions: the AWS regions of North America, Europe, Asia Pacific and South
// America; every Hetzner Cloud location (fsn1 nbg1 hel1 ash hil sin); the
// zones of the main GCP regions (us-central1, us-east1, us-east4, us-west1,
// europe-west1, europe-west2, europe-west3, europe-west4, asia-northeast1,
// asia-southeast1). Images: the public Ubuntu LTS and Amazon Linux 2023
// images on AWS (as resolve:ssm: parameters of Canonical and Amazon), the
// Ubuntu, Debian, Rocky and Alma images on Hetzner, and the images of the
// public debian-cloud, ubuntu-os-cloud, rocky-linux-cloud and
// cos-cloud projects on GCP. No default region or image is set: each
// driver's own (its client's region, its configured image) applies.
func DefaultAllowlist() *Allowlist {
	a, err := NewAllowlist(map[string][]string{
		AWS:     {"t3.medium", "t3.large", "t3.xlarge", "t3.2xlarge", "m6i.large", "m6i.xlarge", "c6i.xlarge"},
		Hetzner: {"cpx11", "cpx21", "cpx31", "cpx41", "cpx51", "cax11", "cax21", "cax31", "cax41"},
		GCP:     {"e2-small", "e2-medium", "e2-standard-2", "e2-standard-4", "e2-standard-8"},
	}, map[string]string{AWS: "t3.medium", Hetzner: "cpx31", GCP: "e2-standard-2"})
	if err != nil {
		// The shipped set is a constant; TestDefaultAllowlist proves it valid.
		return &Allowlist{}
	}
	for _, set := range []struct {
		provider      string
		regions       []string
		images        []string
		regionDefault string
	}{
		{AWS, []string{
			"us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1",
			"eu-central-1", "eu-central-2", "eu-west-1", "eu-west-2", "eu-west-3", "eu-north-1", "eu-south-1", "eu-south-2",
			"ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2", "ap-south-1",
			"sa-east-1",
		}, []string{
			"resolve:ssm:/aws/service/canonical/ubuntu/server/*",
			"resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-*",
		}, ""},
		{Hetzner, []string{"fsn1", "nbg1", "hel1", "ash", "hil", "sin"},
			[]string{"ubuntu-22.04", "ubuntu-24.04", "debian-12", "debian-13", "rocky-9", "alma-9"}, ""},
		{GCP, []string{
			"us-central1-*", "us-east1-*", "us-east4-*", "us-west1-*",
			"europe-west1-*", "europe-west2-*", "europe-west3-*", "europe-west4-*",
			"asia-northeast1-*", "asia-southeast1-*",
		}, []string{
			"projects/debian-cloud/global/images/*", "projects/ubuntu-os-cloud/global/images/*",
			"projects/rocky-linux-cloud/global/images/*", "projects/cos-cloud/global/images/*",
		}, ""},
	} {
		if a, err = a.WithRegions(set.provider, set.regions, set.regionDefault); err != nil {
			return &Allowlist{}
		}
		if a, err = a.WithImages(set.provider, set.images, ""); err != nil {
			return &Allowlist{}
		}
	}
	return a
}

// WithRegions returns a copy of a that allows provider's VMs only in the
// given regions: the provider's regions, zones or locations, as exact names
// or patterns where '*' matches any run of characters. def, if not empty,
// is the region a workspace gets when it moves to provider without naming
// one. A nil allowed lifts the restriction.
func (a *Allowlist) WithRegions(provider string, allowed []string, def string) (*Allowlist, error) {
	return a.withChoices(provider, "region", allowed, def, func(b *Allowlist) map[string]choices { return b.regions })
}

// WithImages returns a copy of a that allows provider's VMs only from the
// given images: exact names or patterns where '*' matches any run of
// characters, '/' included. def, if not empty, is the image a workspace
// gets when it moves to provider without naming one. A nil allowed lifts
// the restriction.
func (a *Allowlist) WithImages(provider string, allowed []string, def string) (*Allowlist, error) {
	return a.withChoices(provider, "image", allowed, def, func(b *Allowlist) map[string]choices { return b.images })
}

func (a *Allowlist) withChoices(provider, field string, allowed []string, def string, of func(*Allowlist) map[string]choices) (*Allowlist, error) {
	if _, ok := a.types[provider]; !ok {
		return nil, fmt.Errorf("cloudswitch: allowlist: %ss given for provider %q, which has no instance types", field, provider)
	}
	b := a.clone()
	m := of(b)
	if allowed == nil {
		delete(m, provider)
		return b, nil
	}
	c := choices{Default: def, Allowed: slices.Clone(allowed)}
	if err := c.check(provider, field); err != nil {
		return nil, err
	}
	m[provider] = c
	return b, nil
}

func (c choices) check(provider, field string) error {
	if len(c.Allowed) == 0 {
		return fmt.Errorf("cloudswitch: allowlist: provider %q allows no %s at all", provider, field)
	}
	for _, v := range c.Allowed {
		if v == "" || v == "*" || strings.TrimSpace(v) != v {
			return fmt.Errorf("cloudswitch: allowlist: provider %q: %s %q is not a name or a pattern narrower than everything", provider, field, v)
		}
	}
	if c.Default != "" && !c.allows(c.Default) {
		return fmt.Errorf("cloudswitch: allowlist: default %s %q of provider %q is not allowed", field, c.Default, provider)
	}
	return nil
}

// glob reports whether s matches pattern, where '*' matches any run of
// characters ('/' included) and every other character itself.
func glob(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, mid := range parts[1 : len(parts)-1] {
		i := strings.Index(s, mid)
		if i < 0 {
			return false
		}
		s = s[i+len(mid):]
	}
	return len(parts) > 1 && strings.HasSuffix(s, last)
}

func (a *Allowlist) clone() *Allowlist {
	b := &Allowlist{types: maps.Clone(a.types), defaults: maps.Clone(a.defaults),
		regions: maps.Clone(a.regions), images: maps.Clone(a.images)}
	if b.regions == nil {
		b.regions = make(map[string]choices)
	}
	if b.images == nil {
		b.images = make(map[string]choices)
	}
	return b
}

// Regions returns the regions (names and patterns) allowed for provider,
// nil when any is.
func (a *Allowlist) Regions(provider string) []string {
	return slices.Clone(a.regions[provider].Allowed)
}

// Images returns the images (names and patterns) allowed for provider, nil
// when any is.
func (a *Allowlist) Images(provider string) []string { return slices.Clone(a.images[provider].Allowed) }

// DefaultRegion returns the region a workspace gets when it moves to
// provider without naming one; "" leaves it to the driver.
func (a *Allowlist) DefaultRegion(provider string) string { return a.regions[provider].Default }

// DefaultImage returns the image a workspace gets when it moves to provider
// without naming one; "" leaves it to the driver.
func (a *Allowlist) DefaultImage(provider string) string { return a.images[provider].Default }

// NewAllowlist builds an Allowlist from instance types and defaults keyed by
// provider. Every provider needs at least one instance type and a default
// that is one of them; provider names are lowercase ([a-z][a-z0-9-]*).
func NewAllowlist(types map[string][]string, defaults map[string]string) (*Allowlist, error) {
	if len(types) == 0 {
		return nil, fmt.Errorf("cloudswitch: allowlist has no providers")
	}
	a := &Allowlist{types: make(map[string][]string, len(types)), defaults: make(map[string]string, len(types)),
		regions: make(map[string]choices), images: make(map[string]choices)}
	for p, ts := range types {
		if !providerName.MatchString(p) {
			return nil, fmt.Errorf("cloudswitch: allowlist: provider name %q must be lowercase letters, digits and dashes", p)
		}
		if len(ts) == 0 {
			return nil, fmt.Errorf("cloudswitch: allowlist: provider %q has no instance types", p)
		}
		for _, t := range ts {
			if !instanceTypeName.MatchString(t) {
				return nil, fmt.Errorf("cloudswitch: allowlist: provider %q: %q is not an instance type name", p, t)
			}
		}
		sorted := slices.Clone(ts)
		slices.Sort(sorted)
		sorted = slices.Compact(sorted)
		a.types[p] = sorted
		d, ok := defaults[p]
		if !ok || d == "" {
			return nil, fmt.Errorf("cloudswitch: allowlist: provider %q has no default instance type", p)
		}
		if _, found := slices.BinarySearch(sorted, d); !found {
			return nil, fmt.Errorf("cloudswitch: allowlist: default %q of provider %q is not one of its instance types", d, p)
		}
		a.defaults[p] = d
	}
	for p := range defaults {
		if _, ok := types[p]; !ok {
			return nil, fmt.Errorf("cloudswitch: allowlist: default given for provider %q, which has no instance types", p)
		}
	}
	return a, nil
}

// ReadAllowlist decodes an Allowlist from JSON (the format of
// Allowlist.MarshalJSON), rejecting unknown fields.
func ReadAllowlist(r io.Reader) (*Allowlist, error) {
	var a Allowlist
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		return nil, err
	}
	return &a, nil
}

type allowlistJSON struct {
	Providers map[string]providerJSON `json:"providers"`
}

type providerJSON struct {
	Default       string   `json:"default"`
	InstanceTypes []string `json:"instance_types"`
	Regions       *choices `json:"regions,omitempty"`
	Images        *choices `json:"images,omitempty"`
}

// MarshalJSON encodes the allowlist as
// {"providers": {NAME: {"default": TYPE, "instance_types": [TYPE…],
// "regions": {"default": R, "allowed": [R…]}, "images": {…}}}}, where
// regions and images appear only when set.
func (a *Allowlist) MarshalJSON() ([]byte, error) {
	out := allowlistJSON{Providers: make(map[string]providerJSON, len(a.types))}
	for p, ts := range a.types {
		pj := providerJSON{Default: a.defaults[p], InstanceTypes: ts}
		if c, ok := a.regions[p]; ok {
			pj.Regions = &c
		}
		if c, ok := a.images[p]; ok {
			pj.Images = &c
		}
		out.Providers[p] = pj
	}
	return json.Marshal(out)
}

// UnmarshalJSON decodes the format of MarshalJSON and validates it as
// NewAllowlist does; unknown fields are an error.
func (a *Allowlist) UnmarshalJSON(data []byte) error {
	var in allowlistJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return fmt.Errorf("cloudswitch: allowlist: %w", err)
	}
	types := make(map[string][]string, len(in.Providers))
	defaults := make(map[string]string, len(in.Providers))
	for p, pj := range in.Providers {
		types[p] = pj.InstanceTypes
		defaults[p] = pj.Default
	}
	b, err := NewAllowlist(types, defaults)
	if err != nil {
		return err
	}
	for _, p := range slices.Sorted(maps.Keys(in.Providers)) {
		pj := in.Providers[p]
		if pj.Regions != nil {
			if pj.Regions.Allowed == nil {
				pj.Regions.Allowed = []string{}
			}
			if b, err = b.WithRegions(p, pj.Regions.Allowed, pj.Regions.Default); err != nil {
				return err
			}
		}
		if pj.Images != nil {
			if pj.Images.Allowed == nil {
				pj.Images.Allowed = []string{}
			}
			if b, err = b.WithImages(p, pj.Images.Allowed, pj.Images.Default); err != nil {
				return err
			}
		}
	}
	*a = *b
	return nil
}

// Providers returns the allowed provider names, sorted.
func (a *Allowlist) Providers() []string {
	return slices.Sorted(maps.Keys(a.types))
}

// InstanceTypes returns the instance types allowed for provider, sorted (nil
// for a provider that is not allowed).
func (a *Allowlist) InstanceTypes(provider string) []string {
	return slices.Clone(a.types[provider])
}

// DefaultInstanceType returns the instance type a workspace gets when it moves
// to provider without naming one ("" for a provider that is not allowed).
func (a *Allowlist) DefaultInstanceType(provider string) string {
	return a.defaults[provider]
}

// Validate reports whether c may be switched to: nil, or a *ValidationError
// (matching ErrInvalid) naming the first field that is not allowed. The
// provider must be allowed exactly as spelled (no case folding), the instance
// type must be allowed for that provider, and Region and Image, when given,
// must be plausible names: Validate never rewrites its input.
func (a *Allowlist) Validate(c Compute) error {
	ts, ok := a.types[c.Provider]
	if !ok {
		e := &ValidationError{Field: "provider", Value: c.Provider, Allowed: a.Providers()}
		if lower := strings.ToLower(c.Provider); lower != c.Provider {
			if _, ok := a.types[lower]; ok {
				e.Reason = fmt.Sprintf("is not allowed; provider names are lowercase (%q)", lower)
			}
		}
		if c.Provider == "" {
			e.Reason = "is empty"
		}
		return e
	}
	if _, found := slices.BinarySearch(ts, c.InstanceType); !found {
		e := &ValidationError{Field: "instance_type", Value: c.InstanceType, Allowed: slices.Clone(ts)}
		if other := a.providerOf(c.InstanceType); other != "" {
			e.Reason = fmt.Sprintf("is an instance type of provider %q, not of %q", other, c.Provider)
		} else {
			e.Reason = fmt.Sprintf("is not allowed for provider %q", c.Provider)
		}
		return e
	}
	if err := checkRegion(c.Region); err != nil {
		return err
	}
	if set, ok := a.regions[c.Provider]; ok && c.Region != "" && !set.allows(c.Region) {
		return &ValidationError{Field: "region", Value: c.Region, Allowed: slices.Clone(set.Allowed),
			Reason: fmt.Sprintf("is not allowed for provider %q", c.Provider)}
	}
	if err := checkImage(c.Image); err != nil {
		return err
	}
	if set, ok := a.images[c.Provider]; ok && c.Image != "" && !set.allows(c.Image) {
		return &ValidationError{Field: "image", Value: c.Image, Allowed: slices.Clone(set.Allowed),
			Reason: fmt.Sprintf("is not allowed for provider %q", c.Provider)}
	}
	return nil
}

// providerOf returns a provider that allows instance type t, or "".
func (a *Allowlist) providerOf(t string) string {
	for _, p := range a.Providers() {
		if _, found := slices.BinarySearch(a.types[p], t); found {
			return p
		}
	}
	return ""
}

// checkRegion refuses a region that is not a plausible name; "" is the
// driver's default.
func checkRegion(region string) error {
	if region != "" && !regionName.MatchString(region) {
		return &ValidationError{Field: "region", Value: region,
			Reason: "must be lowercase letters, digits and dashes: the name of one of the provider's regions, zones or locations"}
	}
	return nil
}

func checkImage(image string) error {
	if len(image) > 1024 {
		return &ValidationError{Field: "image", Value: image[:32] + "…", Reason: "is longer than 1024 bytes"}
	}
	for _, r := range image {
		if r <= ' ' || r == 0x7f {
			return &ValidationError{Field: "image", Value: image, Reason: "contains spaces or control characters"}
		}
	}
	// A pattern's '*' spans '/', so a path that climbs out of an allowed
	// prefix ("projects/debian-cloud/global/images/../../../other/…") must
	// never reach it.
	for _, seg := range strings.Split(image, "/") {
		if seg == ".." || seg == "." {
			return &ValidationError{Field: "image", Value: image, Reason: "contains a '.' or '..' path segment"}
		}
	}
	if strings.Contains(image, "//") && !strings.Contains(image, "://") {
		return &ValidationError{Field: "image", Value: image, Reason: "contains an empty path segment"}
	}
	return nil
}

// NormalizeProvider maps the empty provider of a stored record to AWS, the
// provider of records written before providers existed. It rewrites nothing
// else: "AWS" stays "AWS" (and is not allowed).
func NormalizeProvider(p string) string {
	if p == "" {
		return AWS
	}
	return p
}
