package hetzner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"

	"github.com/cloudswitch/cloudswitch"
)

// Deprovision deletes the server inst names and waits until it is gone. A
// server the API does not know (not_found) is already gone: Deprovision
// then returns an error matching cloudswitch.ErrInstanceNotFound, which the
// Switcher counts as success. An id that is not a server id, or an
// Instance of another provider, is refused permanently without an API call.
//
// When the outcome is unknown (the answer was lost, waiting failed, the
// delete action failed) the error is transient, or the context's when ctx
// ended; calling Deprovision again settles it.
func (d *Driver) Deprovision(ctx context.Context, inst cloudswitch.Instance) error {
	if inst.Provider != "" && inst.Provider != name {
		return errorf("deprovision: instance %q is of provider %q, not %q", inst.ID, inst.Provider, name)
	}
	id, err := strconv.ParseInt(inst.ID, 10, 64)
	if err != nil || id < 1 {
		return errorf("deprovision: %q is not a Hetzner server id", inst.ID)
	}
	if err := d.destroy(ctx, id); err != nil {
		return err
	}
	d.log.LogAttrs(ctx, slog.LevelDebug, "hetzner: server deleted", slog.Int64("server", id), slog.String("workspace", inst.WorkspaceID))
	return nil
}

// destroy deletes server id and waits for the delete action.
func (d *Driver) destroy(ctx context.Context, id int64) error {
	op := fmt.Sprintf("deprovision: delete server %d", id)
	res, resp, err := d.client.Server.DeleteWithResult(ctx, &hcloud.Server{ID: id})
	if err != nil {
		return d.fail(ctx, op, true, resp, err)
	}
	if res.Action == nil {
		return nil
	}
	err = d.client.Action.WaitFor(ctx, res.Action)
	if err == nil {
		return nil
	}
	var actionErr hcloud.ActionError
	if ctx.Err() == nil && errors.As(err, &actionErr) {
		// The delete action failed; the server may have gone anyway.
		if srv, _, getErr := d.client.Server.GetByID(ctx, id); getErr == nil && srv == nil {
			return nil
		}
	}
	return d.uncertain(ctx, op+": waiting for the delete action", err)
}
