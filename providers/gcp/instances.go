package gcp

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"path"
	"sync"

	compute "cloud.google.com/go/compute/apiv1"
	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/api/iterator"
	"google.golang.org/protobuf/proto"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/ownership"
)

// pageSize is how many instances one listing call asks for: Compute
// Engine's largest page.
const pageSize = 500

// incompleteWarnings are the warning codes of an aggregated listing's scope
// that mean its instances are missing from the answer.
var incompleteWarnings = map[string]bool{
	computepb.Warning_UNREACHABLE.String():     true,
	computepb.Warning_PARTIAL_SUCCESS.String(): true,
}

// Instances yields the instances labelled cloudswitch-owner=owner,
// page by page as the pages arrive, with WorkspaceID and Token read from
// their labels.
//
// By default one aggregated listing (instances.aggregatedList, filtered by
// `labels.cloudswitch-owner = "OWNER"`, 500 a page) covers every zone of
// the project, so that a VM in a zone the driver was never configured
// with — an orphan of an old configuration — is still found; WithZones
// lists those zones one by one instead (instances.list). A zone the
// aggregated listing reports unreachable ends the sequence with a transient
// error: the listing is incomplete.
//
// Every instance that exists is yielded, whatever its status: running,
// stopped (TERMINATED, STOPPED) and suspended ones, which bill for their
// disks; STOPPING, which Compute Engine shows both for an instance being
// stopped (it stays, and bills) and one being deleted, and which cannot be
// told apart; DEPROVISIONING (halted, its resources being released: a
// delete's last phase, or a stop's). Listing an instance being deleted
// costs a reconciler at most a repeated, deduplicated delete; hiding one
// being stopped would make its record look dangling for the whole stop.
//
// An instance whose ownership labels cannot be decoded (a hand-made VM
// labelled cloudswitch-workspace=x-ray: Provision never writes such a
// value) is skipped and logged at debug level: it cannot be matched to a
// record, yielding it as an instance of no workspace would let a reconciler
// take it for an orphan, and ending the sequence would leave every listing
// incomplete for as long as it exists. An instance whose creation time
// cannot be read — which Compute Engine always sets, so it may well be a
// cloudswitch VM — ends the sequence with a permanent error naming it: a
// reconciler needs the time to judge an orphan, and hiding the VM could
// make its record look dangling.
//
// The REST client does not bind a listing's HTTP request to ctx; the
// driver stops waiting for a page when ctx ends and returns ctx's error,
// leaving the request to finish in the background, which Close waits for.
func (d *Driver) Instances(ctx context.Context, owner string) iter.Seq2[cloudswitch.Instance, error] {
	return func(yield func(cloudswitch.Instance, error) bool) {
		if owner == "" || !labelValuePattern.MatchString(owner) {
			yield(cloudswitch.Instance{}, invalidf("instances: owner %q is not a label value (up to 63 lowercase letters, digits, '_' or '-')", owner))
			return
		}
		filter := fmt.Sprintf("labels.%s = %q", ownership.OwnerKey, owner)
		if len(d.cfg.zones) == 0 {
			d.listAggregated(ctx, filter, yield)
			return
		}
		for _, zone := range d.cfg.zones {
			if !d.listZone(ctx, zone, filter, yield) {
				return
			}
		}
	}
}

// listAggregated yields the instances of every zone that match
// filter; it returns false when the sequence must end.
func (d *Driver) listAggregated(ctx context.Context, filter string, yield func(cloudswitch.Instance, error) bool) bool {
	it := d.instances.AggregatedList(ctx, &computepb.AggregatedListInstancesRequest{
		Project: d.project, Filter: proto.String(filter), MaxResults: proto.Uint32(pageSize),
	}, noRetry)
	for {
		pair, err := next[compute.InstancesScopedListPair](ctx, &d.fetches, it)
		if errors.Is(err, iterator.Done) {
			return true
		}
		if err != nil {
			yield(cloudswitch.Instance{}, fail(ctx, "instances.aggregatedList", "", err))
			return false
		}
		if w := pair.Value.GetWarning(); incompleteWarnings[w.GetCode()] {
			yield(cloudswitch.Instance{}, scrub(fmt.Errorf("gcp: instances.aggregatedList: scope %s is %s (%s), the listing is incomplete: %w",
				pair.Key, w.GetCode(), w.GetMessage(), cloudswitch.ErrTransient)))
			return false
		}
		for _, i := range pair.Value.GetInstances() {
			if !d.yieldOne(ctx, i, yield) {
				return false
			}
		}
	}
}

// listZone yields the instances of zone that match filter; it returns
// false when the sequence must end.
func (d *Driver) listZone(ctx context.Context, zone, filter string, yield func(cloudswitch.Instance, error) bool) bool {
	it := d.instances.List(ctx, &computepb.ListInstancesRequest{
		Project: d.project, Zone: zone, Filter: proto.String(filter), MaxResults: proto.Uint32(pageSize),
	}, noRetry)
	for {
		i, err := next[*computepb.Instance](ctx, &d.fetches, it)
		if errors.Is(err, iterator.Done) {
			return true
		}
		if err != nil {
			yield(cloudswitch.Instance{}, fail(ctx, "instances.list zones/"+zone, "", err))
			return false
		}
		if !d.yieldOne(ctx, i, yield) {
			return false
		}
	}
}

// yieldOne yields i; it returns false when the sequence must end.
func (d *Driver) yieldOne(ctx context.Context, i *computepb.Instance, yield func(cloudswitch.Instance, error) bool) bool {
	inst, err := instanceOf(i)
	var u *unreadableField
	if errors.As(err, &u) && u.label {
		// An ownership label cloudswitch never writes: the instance cannot
		// be matched to a record, nor told an orphan. It is skipped rather
		// than ending the listing for every other VM. The label's value is
		// not logged (a label may hold a token).
		d.cfg.log.DebugContext(ctx, "gcp: instances: skipping an instance with the owner label whose ownership label cannot be decoded",
			"zone", path.Base(i.GetZone()), "instance", i.GetName(), "unreadable", u.field)
		return true
	}
	if err != nil {
		d.cfg.log.WarnContext(ctx, "gcp: an instance with the owner label cannot be read", "zone", path.Base(i.GetZone()), "instance", i.GetName())
		yield(cloudswitch.Instance{}, scrub(fmt.Errorf("gcp: instances: %w", err)))
		return false
	}
	return yield(inst, nil)
}

// pages is a listing iterator of the SDK.
type pages[T any] interface {
	Next() (T, error)
	PageInfo() *iterator.PageInfo
}

// next returns the next item of it. When the item is already buffered it is
// returned at once; when Next would fetch a page, the fetch runs in a
// goroutine counted by fetches, and next stops waiting when ctx ends,
// returning ctx's error: the REST client does not bind a listing's HTTP
// request to the caller's context, so a stalled page would otherwise hold
// the caller past its deadline. An abandoned fetch finishes (or fails) in
// the background and the iterator is not used again; Close waits for it
// before the clients may be closed.
func next[T any](ctx context.Context, fetches *sync.WaitGroup, it pages[T]) (T, error) {
	if it.PageInfo().Remaining() > 0 {
		return it.Next()
	}
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	type result struct {
		item T
		err  error
	}
	ch := make(chan result, 1)
	fetches.Go(func() {
		item, err := it.Next()
		ch <- result{item, err}
	})
	select {
	case r := <-ch:
		return r.item, r.err
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}
