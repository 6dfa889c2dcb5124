package cloudswitch_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
)

func TestDefaultAllowlistIsTheShippedSet(t *testing.T) {
	a := cloudswitch.DefaultAllowlist()
	want := map[string][]string{
		cloudswitch.AWS:     {"c6i.xlarge", "m6i.large", "m6i.xlarge", "t3.2xlarge", "t3.large", "t3.medium", "t3.xlarge"},
		cloudswitch.Hetzner: {"cax11", "cax21", "cax31", "cax41", "cpx11", "cpx21", "cpx31", "cpx41", "cpx51"},
		cloudswitch.GCP:     {"e2-medium", "e2-small", "e2-standard-2", "e2-standard-4", "e2-standard-8"},
	}
	if got := a.Providers(); !slices.Equal(got, []string{"aws", "gcp", "hetzner"}) {
		t.Fatalf("Providers() = %v", got)
	}
	for p, types := range want {
		if got := a.InstanceTypes(p); !slices.Equal(got, types) {
			t.Errorf("InstanceTypes(%s) = %v; want %v", p, got, types)
		}
	}
	for p, d := range map[string]string{"aws": "t3.medium", "hetzner": "cpx31", "gcp": "e2-standard-2"} {
		if got := a.DefaultInstanceType(p); got != d {
			t.Errorf("DefaultInstanceType(%s) = %q; want %q", p, got, d)
		}
	}
	if a.DefaultInstanceType("azure") != "" || a.InstanceTypes("azure") != nil {
		t.Error("an unknown provider must have no default and no types")
	}
}

func TestValidateNamesTheFieldAndTheAllowedValues(t *testing.T) {
	a := cloudswitch.DefaultAllowlist()
	cases := []struct {
		name  string
		c     cloudswitch.Compute
		field string
		hint  string
	}{
		{"unknown provider", cloudswitch.Compute{Provider: "azure", InstanceType: "b2s"}, "provider", "allowed: aws, gcp, hetzner"},
		{"wrong case", cloudswitch.Compute{Provider: "Hetzner", InstanceType: "cpx31"}, "provider", `lowercase ("hetzner")`},
		{"empty provider", cloudswitch.Compute{InstanceType: "t3.medium"}, "provider", "is empty"},
		{"type of another provider", cloudswitch.Compute{Provider: "gcp", InstanceType: "cpx31"}, "instance_type", `of provider "hetzner"`},
		{"unknown type", cloudswitch.Compute{Provider: "aws", InstanceType: "p5.48xlarge"}, "instance_type", "t3.medium"},
		{"empty type", cloudswitch.Compute{Provider: "aws"}, "instance_type", "allowed"},
		{"bad region", cloudswitch.Compute{Provider: "aws", InstanceType: "t3.medium", Region: "EU West"}, "region", "lowercase"},
		{"image with spaces", cloudswitch.Compute{Provider: "aws", InstanceType: "t3.medium", Image: "ami 1"}, "image", "spaces"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := a.Validate(c.c)
			var ve *cloudswitch.ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, cloudswitch.ErrInvalid) {
				t.Fatalf("Validate(%+v) = %v; want a *ValidationError matching ErrInvalid", c.c, err)
			}
			if ve.Field != c.field {
				t.Fatalf("field %q; want %q (%v)", ve.Field, c.field, err)
			}
			if !strings.Contains(err.Error(), c.hint) {
				t.Fatalf("%q does not tell the caller %q", err, c.hint)
			}
		})
	}
	for _, ok := range []cloudswitch.Compute{
		{Provider: "aws", InstanceType: "t3.medium"},
		{Provider: "gcp", InstanceType: "e2-small", Region: "europe-west1-b", Image: "projects/debian-cloud/global/images/family/debian-12"},
		{Provider: "hetzner", InstanceType: "cax41", Region: "fsn1"},
	} {
		if err := a.Validate(ok); err != nil {
			t.Errorf("Validate(%+v) = %v; want nil", ok, err)
		}
	}
}

func TestNormalizeProviderRewritesOnlyEmpty(t *testing.T) {
	for in, want := range map[string]string{"": "aws", "aws": "aws", "AWS": "AWS", "hetzner": "hetzner", " aws": " aws"} {
		if got := cloudswitch.NormalizeProvider(in); got != want {
			t.Errorf("NormalizeProvider(%q) = %q; want %q", in, got, want)
		}
	}
}

func TestNewAllowlistRefusesInconsistentInput(t *testing.T) {
	cases := map[string]struct {
		types    map[string][]string
		defaults map[string]string
	}{
		"no providers":           {nil, nil},
		"uppercase provider":     {map[string][]string{"AWS": {"t3.medium"}}, map[string]string{"AWS": "t3.medium"}},
		"provider without types": {map[string][]string{"aws": {}}, map[string]string{"aws": "t3.medium"}},
		"missing default":        {map[string][]string{"aws": {"t3.medium"}}, nil},
		"default not allowed":    {map[string][]string{"aws": {"t3.medium"}}, map[string]string{"aws": "t3.large"}},
		"default for unknown":    {map[string][]string{"aws": {"t3.medium"}}, map[string]string{"aws": "t3.medium", "gcp": "e2-small"}},
		"bad type name":          {map[string][]string{"aws": {"t3 medium"}}, map[string]string{"aws": "t3 medium"}},
	}
	for name, c := range cases {
		if _, err := cloudswitch.NewAllowlist(c.types, c.defaults); err == nil {
			t.Errorf("%s: NewAllowlist accepted it", name)
		}
	}
}

func TestAllowlistJSONRoundTrips(t *testing.T) {
	a := cloudswitch.DefaultAllowlist()
	data, err := json.Marshal(a)
	require.NoError(t, err)
	b, err := cloudswitch.ReadAllowlist(bytes.NewReader(data))
	require.NoError(t, err)
	for _, p := range a.Providers() {
		if !slices.Equal(a.InstanceTypes(p), b.InstanceTypes(p)) || a.DefaultInstanceType(p) != b.DefaultInstanceType(p) {
			t.Fatalf("provider %s did not survive a JSON round trip", p)
		}
	}
}

func TestAllowlistFromOperatorJSON(t *testing.T) {
	const doc = `{"providers": {
		"aws": {"default": "t3.large", "instance_types": ["t3.large", "m6i.large"]},
		"hetzner": {"default": "cpx21", "instance_types": ["cpx21"]}
	}}`
	a, err := cloudswitch.ReadAllowlist(strings.NewReader(doc))
	require.NoError(t, err)
	if a.DefaultInstanceType("aws") != "t3.large" || a.Validate(cloudswitch.Compute{Provider: "gcp", InstanceType: "e2-small"}) == nil {
		t.Fatal("the operator's allowlist was not the one loaded")
	}
	for name, bad := range map[string]string{
		"unknown field":  `{"providers": {"aws": {"default": "t3.large", "instance_types": ["t3.large"], "max": 3}}}`,
		"bad default":    `{"providers": {"aws": {"default": "t3.nano", "instance_types": ["t3.large"]}}}`,
		"not json":       `providers: aws`,
		"no providers":   `{"providers": {}}`,
		"top-level typo": `{"provider": {"aws": {"default": "t3.large", "instance_types": ["t3.large"]}}}`,
	} {
		if _, err := cloudswitch.ReadAllowlist(strings.NewReader(bad)); err == nil {
			t.Errorf("%s: ReadAllowlist accepted %s", name, bad)
		}
	}
}

// FuzzValidate: Validate never panics, and accepts exactly the allowed
// provider and instance-type pairs.
func FuzzValidate(f *testing.F) {
	f.Add("aws", "t3.medium", "", "")
	f.Add("AWS", "t3.medium", "eu-west-1", "ami-1")
	f.Add("hetzner", "t3.medium", "fsn1", "")
	f.Add("", "", "\x00", "a b")
	a := cloudswitch.DefaultAllowlist()
	f.Fuzz(func(t *testing.T, provider, typ, region, image string) {
		c := cloudswitch.Compute{Provider: provider, InstanceType: typ, Region: region, Image: image}
		err := a.Validate(c)
		allowed := slices.Contains(a.InstanceTypes(provider), typ)
		if allowed && region == "" && image == "" && err != nil {
			t.Fatalf("Validate(%+v) refused an allowed pair: %v", c, err)
		}
		if !allowed && err == nil {
			t.Fatalf("Validate(%+v) accepted a pair the allowlist does not hold", c)
		}
		if err != nil && !errors.Is(err, cloudswitch.ErrInvalid) {
			t.Fatalf("Validate error %v does not match ErrInvalid", err)
		}
	})
}

// FuzzComputeJSON: decoding any input into a Compute never panics, and what
// decodes re-encodes to the same value.
func FuzzComputeJSON(f *testing.F) {
	f.Add([]byte(`{"provider":"aws","instance_type":"t3.medium"}`))
	f.Add([]byte(`{"provider":null,"region":"\u0000"}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var c cloudswitch.Compute
		if err := json.Unmarshal(data, &c); err != nil {
			return
		}
		out, err := json.Marshal(c)
		require.NoErrorf(t, err, "Marshal(%+v)", c)
		var back cloudswitch.Compute
		if err := json.Unmarshal(out, &back); err != nil || back != c {
			t.Fatalf("round trip of %+v gave %+v, %v", c, back, err)
		}
	})
}

// FuzzReadAllowlist: loading any document never panics, and an allowlist
// that loads validates its own defaults.
func FuzzReadAllowlist(f *testing.F) {
	f.Add(`{"providers": {"aws": {"default": "t3.large", "instance_types": ["t3.large"]}}}`)
	f.Add(`{"providers": {"x": {"default": "", "instance_types": [""]}}}`)
	f.Fuzz(func(t *testing.T, doc string) {
		a, err := cloudswitch.ReadAllowlist(strings.NewReader(doc))
		if err != nil {
			return
		}
		for _, p := range a.Providers() {
			require.NoErrorf(t, a.Validate(cloudswitch.Compute{Provider: p, InstanceType: a.DefaultInstanceType(p)}), "a loaded allowlist refuses its own default for %s", p)
		}
	})
}
