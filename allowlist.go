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

// Allowlist is the set of instance types a workspace may run on, keyed by
// provider, with the instance type a workspace gets when it moves to a
// provider without naming one. An Allowlist is immutable once built and safe
// for concurrent use.
//
// It marshals to and from JSON, so an operator can change it without a
// rebuild:
//
//	{"providers": {"aws": {"default": "t3.medium", "instance_types": ["t3.medium", "t3.large"]}}}
type Allowlist struct {
	types    map[string][]string // provider → sorted instance types
	defaults map[string]string
}

var (
	providerName = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)
	// instance type names across clouds: t3.medium, cpx31, e2-standard-2,
	// custom-4-16384.
	instanceTypeName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	// AWS regions, GCP zones, Hetzner locations.
	regionName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
)

// DefaultAllowlist returns the shipped allowlist: for AWS t3.medium t3.large
// t3.xlarge t3.2xlarge m6i.large m6i.xlarge c6i.xlarge (default t3.medium);
// for Hetzner cpx11 cpx21 cpx31 cpx41 cpx51 cax11 cax21 cax31 cax41 (default
// cpx31); for GCP e2-small e2-medium e2-standard-2 e2-standard-4
// e2-standard-8 (default e2-standard-2).
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
	return a
}

// NewAllowlist builds an Allowlist from instance types and defaults keyed by
// provider. Every provider needs at least one instance type and a default
// that is one of them; provider names are lowercase ([a-z][a-z0-9-]*).
func NewAllowlist(types map[string][]string, defaults map[string]string) (*Allowlist, error) {
	if len(types) == 0 {
		return nil, fmt.Errorf("cloudswitch: allowlist has no providers")
	}
	a := &Allowlist{types: make(map[string][]string, len(types)), defaults: make(map[string]string, len(types))}
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
}

// MarshalJSON encodes the allowlist as
// {"providers": {NAME: {"default": TYPE, "instance_types": [TYPE…]}}}.
func (a *Allowlist) MarshalJSON() ([]byte, error) {
	out := allowlistJSON{Providers: make(map[string]providerJSON, len(a.types))}
	for p, ts := range a.types {
		out.Providers[p] = providerJSON{Default: a.defaults[p], InstanceTypes: ts}
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
	if c.Region != "" && !regionName.MatchString(c.Region) {
		return &ValidationError{Field: "region", Value: c.Region,
			Reason: "must be lowercase letters, digits and dashes (an AWS region, a GCP zone or a Hetzner location)"}
	}
	if err := checkImage(c.Image); err != nil {
		return err
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

func checkImage(image string) error {
	if len(image) > 1024 {
		return &ValidationError{Field: "image", Value: image[:32] + "…", Reason: "is longer than 1024 bytes"}
	}
	for _, r := range image {
		if r <= ' ' || r == 0x7f {
			return &ValidationError{Field: "image", Value: image, Reason: "contains spaces or control characters"}
		}
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
