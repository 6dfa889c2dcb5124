package gcp

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	compute "cloud.google.com/go/compute/apiv1"
	gax "github.com/googleapis/gax-go/v2"
	"google.golang.org/api/option"

	"github.com/cloudswitch/cloudswitch"
)

// Driver is the cloudswitch.Provider of Compute Engine: it creates, deletes
// and lists VM instances of one project through the REST instances client,
// and waits for their operations through the zone operations client. It is
// safe for concurrent use and holds no state between calls beyond its
// configuration.
type Driver struct {
	instances  *compute.InstancesClient
	operations *compute.ZoneOperationsClient
	project    string
	cfg        config
	owned      bool           // Close closes the clients
	fetches    sync.WaitGroup // listing pages still in flight, abandoned by their caller
}

var (
	_ cloudswitch.Provider    = (*Driver)(nil)
	_ cloudswitch.Preflighter = (*Driver)(nil)
)

// noRetry turns off the client's own retries on a call. By default Get and
// the operations' Get retry 503 and 504 without an attempt cap for up to
// 10 minutes and then report only "context deadline exceeded", hiding the
// cause; the caller (the Switcher, the Reconciler) retries transient errors
// itself, with its own policy.
var noRetry = gax.WithRetry(func() gax.Retryer { return nil })

// New returns a driver of project that uses the given clients, which the
// caller keeps and closes (after the driver's Close). It fails on a nil client, on a project id that
// is not one, and on an option that does not hold.
func New(instances *compute.InstancesClient, operations *compute.ZoneOperationsClient, project string, opts ...Option) (*Driver, error) {
	switch {
	case instances == nil:
		return nil, errors.New("gcp: New: nil instances client")
	case operations == nil:
		return nil, errors.New("gcp: New: nil zone operations client")
	case !projectPattern.MatchString(project):
		return nil, fmt.Errorf("gcp: New: %q is not a project id (6 to 30 lowercase letters, digits and hyphens, starting with a letter)", project)
	}
	cfg, err := configure(opts)
	if err != nil {
		return nil, err
	}
	return &Driver{instances: instances, operations: operations, project: project, cfg: cfg}, nil
}

// NewFromClientOptions returns a driver of project with REST clients made
// from clientOpts (credentials, endpoint, HTTP client: by default
// Application Default Credentials and compute.googleapis.com), configured
// by opts. Close closes the clients.
func NewFromClientOptions(ctx context.Context, project string, clientOpts []option.ClientOption, opts ...Option) (*Driver, error) {
	// Check the configuration before dialing, so that a bad option does not
	// cost a credentials lookup.
	if _, err := configure(opts); err != nil {
		return nil, err
	}
	if !projectPattern.MatchString(project) {
		return nil, fmt.Errorf("gcp: NewFromClientOptions: %q is not a project id (6 to 30 lowercase letters, digits and hyphens, starting with a letter)", project)
	}
	instances, err := compute.NewInstancesRESTClient(ctx, clientOpts...)
	if err != nil {
		return nil, scrub(fmt.Errorf("gcp: instances client: %w", err))
	}
	operations, err := compute.NewZoneOperationsRESTClient(ctx, clientOpts...)
	if err != nil {
		instances.Close()
		return nil, scrub(fmt.Errorf("gcp: zone operations client: %w", err))
	}
	machineTypes, err := compute.NewMachineTypesRESTClient(ctx, clientOpts...)
	if err != nil {
		instances.Close()
		operations.Close()
		return nil, scrub(fmt.Errorf("gcp: machine types client: %w", err))
	}
	images, err := compute.NewImagesRESTClient(ctx, clientOpts...)
	if err != nil {
		instances.Close()
		operations.Close()
		machineTypes.Close()
		return nil, scrub(fmt.Errorf("gcp: images client: %w", err))
	}
	d, err := New(instances, operations, project, append(slices.Clone(opts), WithLookupClients(machineTypes, images))...)
	if err != nil {
		instances.Close()
		operations.Close()
		machineTypes.Close()
		images.Close()
		return nil, err
	}
	d.owned = true
	return d, nil
}

// Close waits for the listing requests that Instances abandoned when its
// context ended (the REST client cannot cancel them) and then closes the
// clients NewFromClientOptions made. A driver made by New leaves its clients
// to the caller, who calls Close before closing them: closing a client while
// a request is in flight is a data race in the SDK. The driver must not be
// used after Close.
func (d *Driver) Close() error {
	d.fetches.Wait()
	if !d.owned {
		return nil
	}
	return errors.Join(d.instances.Close(), d.operations.Close(), d.cfg.machineTypes.Close(), d.cfg.images.Close())
}

// Project returns the project the driver manages VMs in.
func (d *Driver) Project() string { return d.project }
