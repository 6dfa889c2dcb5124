package ownership

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var gceName = regexp.MustCompile(`^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$`)

func TestEncodeLabelRoundTripsAndStaysValid(t *testing.T) {
	for _, v := range []string{
		"ws-1", "a", "Workspace-UPPER", "team/ws 1", "x-looks-encoded", "ümlaut", "0123456789abcdef0123456789abcdef",
		strings.Repeat("a", 63), "ends-with-dash-", "_leading",
	} {
		enc, err := EncodeLabel(v)
		require.NoErrorf(t, err, "EncodeLabel(%q)", v)
		if !plain.MatchString(enc) {
			t.Errorf("EncodeLabel(%q) = %q, which GCP or Hetzner would refuse", v, enc)
		}
		dec, err := DecodeLabel(enc)
		if err != nil || dec != v {
			t.Errorf("DecodeLabel(EncodeLabel(%q)) = %q, %v", v, dec, err)
		}
	}
}

func TestEncodeLabelKeepsPlainValuesReadable(t *testing.T) {
	if enc, _ := EncodeLabel("ws-42"); enc != "ws-42" {
		t.Fatalf("a plain value was encoded: %q", enc)
	}
}

func TestEncodeLabelRefusesWhatCannotFit(t *testing.T) {
	if _, err := EncodeLabel(""); err == nil {
		t.Error("an empty value must be refused")
	}
	if _, err := EncodeLabel(strings.Repeat("A", MaxEncodedLen+1)); err == nil {
		t.Error("a value too long to encode must be refused")
	}
}

func FuzzEncodeLabel(f *testing.F) {
	f.Add("ws-1")
	f.Add("Team/Ws 1")
	f.Add("x-abc")
	f.Fuzz(func(t *testing.T, v string) {
		enc, err := EncodeLabel(v)
		if err != nil {
			return
		}
		if !plain.MatchString(enc) {
			t.Fatalf("EncodeLabel(%q) = %q is not a valid label value", v, enc)
		}
		if dec, err := DecodeLabel(enc); err != nil || dec != v {
			t.Fatalf("round trip of %q gave %q, %v", v, dec, err)
		}
	})
}

func TestNameIsAValidInstanceNameAndStable(t *testing.T) {
	for _, tok := range []string{"3f2a9c0d1e4b5a6978c0d1e2f3a4b5c6", "Some Token/With:Chars", "x", strings.Repeat("z", 200)} {
		n := Name(tok)
		if !gceName.MatchString(n) || len(n) > 63 {
			t.Errorf("Name(%q) = %q is not a valid GCE/Hetzner name", tok, n)
		}
		if Name(tok) != n {
			t.Errorf("Name(%q) is not deterministic", tok)
		}
	}
	if Name("a") == Name("b") {
		t.Error("different tokens gave the same name")
	}
}
