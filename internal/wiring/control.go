package wiring

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/cloudswitch/cloudswitch"
)

// Control is how both programs configure their Switcher and Reconciler, so
// that a server and a reconciler sharing a database agree on the owner of
// their VMs, the lease of a switch and the allowlist.
type Control struct {
	// Owner is the value of the ownership tag on every VM.
	Owner string
	// Lease bounds a switch; an intent whose lease expired is resumed.
	Lease time.Duration
	// Grace is how old an unreferenced VM must be to count as an orphan.
	Grace time.Duration
	// Allowlist is a JSON allowlist file (cloudswitch.ReadAllowlist); empty:
	// cloudswitch.DefaultAllowlist.
	Allowlist string
}

// Register defines -owner, -lease, -grace and -allowlist on fs.
func (c *Control) Register(fs *flag.FlagSet) {
	fs.StringVar(&c.Owner, "owner", cloudswitch.DefaultOwner, "ownership tag of the VMs this installation creates and reconciles")
	fs.DurationVar(&c.Lease, "lease", cloudswitch.DefaultLease, "how long a switch may run; an interrupted switch is resumed once its lease has expired")
	fs.DurationVar(&c.Grace, "grace", cloudswitch.DefaultGracePeriod, "how old a VM no record points at must be before the reconciler calls it an orphan; keep it longer than -lease, as clouds list new VMs late")
	fs.StringVar(&c.Allowlist, "allowlist", "", "JSON file of the instance types allowed per provider (default: cloudswitch.DefaultAllowlist)")
}

// Check reports settings that cannot work together.
func (c *Control) Check() error {
	var errs []error
	if c.Lease <= 0 {
		errs = append(errs, fmt.Errorf("-lease must be positive, got %v", c.Lease))
	}
	if c.Grace < 0 {
		errs = append(errs, fmt.Errorf("-grace must not be negative, got %v", c.Grace))
	}
	return errors.Join(errs...)
}

// LoadAllowlist returns the allowlist of c.Allowlist.
func (c *Control) LoadAllowlist() (*cloudswitch.Allowlist, error) {
	if c.Allowlist == "" {
		return cloudswitch.DefaultAllowlist(), nil
	}
	f, err := os.Open(c.Allowlist)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	a, err := cloudswitch.ReadAllowlist(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.Allowlist, err)
	}
	return a, nil
}

// SwitchOptions are the options of a Switcher — and of the Switcher a
// Reconciler resumes with — for these settings.
func (c *Control) SwitchOptions(allowlist *cloudswitch.Allowlist, logger *slog.Logger, obs cloudswitch.Observer) []cloudswitch.Option {
	opts := []cloudswitch.Option{
		cloudswitch.WithOwner(c.Owner),
		cloudswitch.WithLease(c.Lease),
		cloudswitch.WithAllowlist(allowlist),
		cloudswitch.WithLogger(logger),
	}
	if obs != nil {
		opts = append(opts, cloudswitch.WithObserver(obs))
	}
	return opts
}

// ReconcilerOptions are the options of a Reconciler for these settings,
// destroying orphans when deleteOrphans is set and only reporting them
// otherwise. They go to the Switcher's own Reconciler
// ((*cloudswitch.Switcher).Reconciler), which resumes with that Switcher —
// its owner, hooks, installation, logger and observer — so that what a
// reconciler lists and how it finishes a switch cannot drift from how the
// switch started.
func (c *Control) ReconcilerOptions(deleteOrphans bool) []cloudswitch.ReconcilerOption {
	return []cloudswitch.ReconcilerOption{
		cloudswitch.WithGracePeriod(c.Grace),
		cloudswitch.WithDeleteOrphans(deleteOrphans),
	}
}
