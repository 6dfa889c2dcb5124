package gcp

import (
	"context"
	"time"

	"cloud.google.com/go/compute/apiv1/computepb"
)

// wait polls the zone operation op until it is DONE and returns it as it
// finished; whether it failed is for the caller to read (operationError).
// The first poll is immediate; then the pause starts at the poll interval
// and grows by half each time up to 5 s (or the interval, if larger). An
// error is the error of a poll, or ctx's.
func (d *Driver) wait(ctx context.Context, zone string, op *computepb.Operation) (*computepb.Operation, error) {
	pause := d.cfg.poll
	limit := max(maxPoll, d.cfg.poll)
	for op.GetStatus() != computepb.Operation_DONE {
		got, err := d.operations.Get(ctx, &computepb.GetZoneOperationRequest{
			Project: d.project, Zone: zone, Operation: op.GetName(),
		}, noRetry)
		if err != nil {
			return nil, err
		}
		op = got
		if op.GetStatus() == computepb.Operation_DONE {
			break
		}
		if err := sleep(ctx, pause); err != nil {
			return nil, err
		}
		pause = min(pause+pause/2, limit)
	}
	return op, nil
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
