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

// Deprovision deletes the server inst names and waits until it is gone.
//
// It reads the server first and deletes it only when its labels name the
// workspace and the installation inst names (each when inst names one):
// otherwise it deletes nothing and returns an error matching
// cloudswitch.ErrNotOurs, a refusal. A server the API does not know
// (not_found) is already gone: Deprovision then returns an error matching
// cloudswitch.ErrInstanceNotFound, which the Switcher counts as success. An
// id that is not a server id, or an Instance of another provider, is
// refused without an API call.
//
// When the outcome is unknown (the answer was lost, waiting failed, the
// delete action failed) the error is transient, or the context's when ctx
// ended; calling Deprovision again settles it.
func (d *Driver) Deprovision(ctx context.Context, inst cloudswitch.Instance) error {
	if inst.Provider != "" && inst.Provider != name {
		return refusef("deprovision: instance %q is of provider %q, not %q", inst.ID, inst.Provider, name)
	}
	id, err := strconv.ParseInt(inst.ID, 10, 64)
	if err != nil || id < 1 {
		return refusef("deprovision: %q is not a Hetzner server id", inst.ID)
	}
	op := fmt.Sprintf("deprovision: read the labels of server %d", id)
	srv, resp, err := d.client.Server.GetByID(ctx, id)
	if err != nil {
		return d.fail(ctx, op, true, resp, err)
	}
	if srv == nil {
		return d.scrub(fmt.Errorf("hetzner: %s: no such server: %w", op, cloudswitch.ErrInstanceNotFound))
	}
	if err := fenced(srv.Labels, inst); err != nil {
		d.log.LogAttrs(ctx, slog.LevelWarn, "hetzner: not deleting a server whose labels name another workspace or installation",
			slog.Int64("server", id), slog.String("workspace", inst.WorkspaceID), slog.String("installation", inst.Installation))
		return d.scrub(fmt.Errorf("hetzner: deprovision: server %d: %w", id, err))
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
