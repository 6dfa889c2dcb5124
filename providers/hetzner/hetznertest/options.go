package hetznertest

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"golang.org/x/net/http/httpguts"
)

// Option configures an emulator. Options are checked when the emulator
// starts: Start returns their error, NewServer fails the test with it.
type Option func(*config) error

// config is what the options set.
type config struct {
	token          string
	serverTypes    []string
	locations      []string
	sshKeys        []string
	images         []string
	actionDuration time.Duration
}

// DefaultServerTypes are the server types an emulator offers unless
// WithServerTypes says otherwise: Hetzner's shared x86 (cpx…) and Arm
// (cax…) types.
var DefaultServerTypes = []string{
	"cpx11", "cpx21", "cpx31", "cpx41", "cpx51",
	"cpx12", "cpx22", "cpx32", "cpx42", "cpx52", "cpx62",
	"cax11", "cax21", "cax31", "cax41",
}

// DefaultLocations are the locations an emulator offers unless
// WithLocations says otherwise. The first is where a server is created when
// the request names no location.
var DefaultLocations = []string{"fsn1", "nbg1", "hel1", "ash", "hil", "sin"}

var identifier = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// WithToken sets the API token the emulator accepts (default: a random
// 64-character token, as Hetzner issues). Requests bearing another token
// are answered 401 unauthorized.
func WithToken(token string) Option {
	return func(c *config) error {
		if token == "" {
			return errors.New("hetznertest: WithToken: empty token")
		}
		if !httpguts.ValidHeaderFieldValue(token) {
			return errors.New("hetznertest: WithToken: the token contains characters an HTTP header cannot carry")
		}
		c.token = token
		return nil
	}
}

// WithServerTypes sets the server type names POST /servers accepts
// (default DefaultServerTypes); any other is answered 400 invalid_input.
func WithServerTypes(names ...string) Option {
	return func(c *config) error {
		if err := checkNames("WithServerTypes", names, identifier); err != nil {
			return err
		}
		c.serverTypes = slices.Clone(names)
		return nil
	}
}

// WithLocations sets the location names POST /servers accepts (default
// DefaultLocations); the first is the default location.
func WithLocations(names ...string) Option {
	return func(c *config) error {
		if err := checkNames("WithLocations", names, identifier); err != nil {
			return err
		}
		c.locations = slices.Clone(names)
		return nil
	}
}

// WithSSHKeys creates SSH keys with these names in the emulated project,
// with ids 1, 2, … in order. GET /ssh_keys finds them by name, and POST
// /servers accepts their ids (and refuses other ids with invalid_input).
func WithSSHKeys(names ...string) Option {
	return func(c *config) error {
		if err := checkNames("WithSSHKeys", names, nil); err != nil {
			return err
		}
		c.sshKeys = slices.Clone(names)
		return nil
	}
}

// WithActionDuration sets how long the actions of creating, starting and
// deleting a server run. With the default, 0, an action is "running" in the
// answer that starts it and "success" on every later look, so a client
// waiting for it never sleeps; a deleted server is gone by the next request.
func WithActionDuration(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return fmt.Errorf("hetznertest: WithActionDuration: negative duration %v", d)
		}
		c.actionDuration = d
		return nil
	}
}

// checkNames refuses an empty list, duplicates, empty names and, when
// pattern is set, names it does not match.
func checkNames(option string, names []string, pattern *regexp.Regexp) error {
	if len(names) == 0 {
		return fmt.Errorf("hetznertest: %s: no names", option)
	}
	for i, n := range names {
		if n == "" || (pattern != nil && !pattern.MatchString(n)) {
			return fmt.Errorf("hetznertest: %s: %q is not a valid name", option, n)
		}
		if slices.Contains(names[:i], n) {
			return fmt.Errorf("hetznertest: %s: %q appears twice", option, n)
		}
	}
	return nil
}
