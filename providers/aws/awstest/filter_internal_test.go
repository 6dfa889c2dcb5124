package awstest

import "testing"

func TestGlobMatchesEC2FilterWildcards(t *testing.T) {
	for _, tc := range []struct {
		pattern, s string
		want       bool
	}{
		{"owner", "owner", true},
		{"owner", "owners", false},
		{"own*", "owner", true},
		{"*", "", true},
		{"*er", "owner", true},
		{"o?ner", "owner", true},
		{"o?ner", "oner", false},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false},
		{`a\*`, "a*", true},
		{`a\*`, "ab", false},
		{`a\?`, "a?", true},
		{"é?", "éa", true},
		{"", "", true},
		{"", "x", false},
	} {
		if got := glob(tc.pattern, tc.s); got != tc.want {
			t.Errorf("glob(%q, %q) = %v; want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
}

func TestSignedRegionReadsTheCredentialScope(t *testing.T) {
	for _, tc := range []struct {
		header, region string
		ok             bool
	}{
		{"AWS4-HMAC-SHA256 Credential=AKID/20250101/eu-west-3/ec2/aws4_request, SignedHeaders=host, Signature=ab", "eu-west-3", true},
		{"AWS4-HMAC-SHA256 SignedHeaders=host,Credential=AKID/20250101/us-east-2/ec2/aws4_request,Signature=ab", "us-east-2", true},
		{"", "", false},
		{"Bearer abc", "", false},
		{"AWS4-HMAC-SHA256 Credential=AKID/20250101//ec2/aws4_request", "", false},
		{"AWS4-HMAC-SHA256 Credential=AKID/eu-west-3", "", false},
	} {
		region, ok := signedRegion(tc.header)
		if region != tc.region || ok != tc.ok {
			t.Errorf("signedRegion(%q) = %q, %v; want %q, %v", tc.header, region, ok, tc.region, tc.ok)
		}
	}
}
