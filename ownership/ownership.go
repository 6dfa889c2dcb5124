// Package ownership is how every driver marks a VM as cloudswitch's: the tag
// (label) keys, the encoding of values into what every cloud accepts as a
// label, and the VM name derived from an idempotency token. The Provider
// contract requires these tags, so a driver written outside this module
// uses this package to write and read them the way the Reconciler expects:
//
//	tags := map[string]string{
//		ownership.OwnerKey:     req.Owner,
//		ownership.WorkspaceKey: req.WorkspaceID,
//		ownership.TokenKey:     req.Token,
//	}
//	if req.Installation != "" {
//		tags[ownership.InstallationKey] = req.Installation
//	}
//
// Clouds whose labels accept only lowercase letters, digits, '-' and '_'
// (GCP, Hetzner) store values through EncodeLabel and read them back with
// DecodeLabel; clouds that name VMs uniquely (GCP, Hetzner) derive the name
// from the token with Name, so that a repeated create finds the first VM.
package ownership

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
)

// The tag keys, the same on every cloud: valid AWS tag keys, Hetzner label
// keys and GCP label keys alike.
const (
	OwnerKey     = "cloudswitch-owner"
	WorkspaceKey = "cloudswitch-workspace"
	TokenKey     = "cloudswitch-token"
	// InstallationKey carries the installation id (see
	// cloudswitch.InstallationStore); a VM created without one has no such
	// tag.
	InstallationKey = "cloudswitch-installation"
)

// plain is what GCP label values and Hetzner label values both accept:
// lowercase letters, digits, '_' and '-', starting and ending with a letter
// or digit, at most 63 characters.
var plain = regexp.MustCompile(`^[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?$`)

// encodedPrefix marks a value encoded by EncodeLabel. Plain values that start
// with it are encoded too, so decoding is unambiguous.
const encodedPrefix = "x-"

var b32 = base32.NewEncoding("0123456789abcdefghijklmnopqrstuv").WithPadding(base32.NoPadding)

// MaxEncodedLen is the longest value (in bytes) EncodeLabel can encode when it
// is not plain.
const MaxEncodedLen = 38

// EncodeLabel returns v as a label value GCP and Hetzner both accept: v
// itself when it is plain (lowercase letters, digits, '_' and '-', at most 63
// characters), otherwise "x-" followed by v in lowercase base32. It fails for
// an empty value and for a value too long to encode in 63 characters.
func EncodeLabel(v string) (string, error) {
	if v == "" {
		return "", fmt.Errorf("empty label value")
	}
	if plain.MatchString(v) && !strings.HasPrefix(v, encodedPrefix) {
		return v, nil
	}
	if len(v) > MaxEncodedLen {
		return "", fmt.Errorf("value %q is not a plain label value (lowercase letters, digits, '_' and '-', at most 63) and is longer than %d bytes, too long to encode into one", v, MaxEncodedLen)
	}
	return encodedPrefix + b32.EncodeToString([]byte(v)), nil
}

// DecodeLabel reverses EncodeLabel.
func DecodeLabel(s string) (string, error) {
	if !strings.HasPrefix(s, encodedPrefix) {
		return s, nil
	}
	b, err := b32.DecodeString(s[len(encodedPrefix):])
	if err != nil {
		return "", fmt.Errorf("label value %q: %w", s, err)
	}
	return string(b), nil
}

var tokenName = regexp.MustCompile(`^[a-z0-9]{8,60}$`)

// Name returns the VM name derived from an idempotency token: "cs-" and the
// token when it is 8 to 60 lowercase letters and digits (as the Switcher's
// tokens are), else "cs-" and 40 hex digits of its SHA-256. The result is a
// valid GCE instance name and Hetzner server name, and the same token always
// gives the same name.
func Name(token string) string {
	if tokenName.MatchString(token) {
		return "cs-" + token
	}
	sum := sha256.Sum256([]byte(token))
	return "cs-" + hex.EncodeToString(sum[:])[:40]
}
