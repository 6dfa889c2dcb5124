package hetzner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"

	"github.com/cloudswitch/cloudswitch"
)

// The actions that bring a new server up. When one ends in status "error"
// (the Hetzner Cloud API reference, "Actions"), the server was not created
// as asked, whatever its status says.
const (
	commandCreateServer = "create_server"
	commandStartServer  = "start_server"
)

// createFailedBefore reports whether server srv, which an earlier request
// created, failed to come up: one of its create or start actions ended in
// error. It waits for those actions while they run. An error means it could
// not tell: the context's, or a transient or API error of the lookups.
func (d *Driver) createFailedBefore(ctx context.Context, srv *hcloud.Server) (bool, error) {
	op := fmt.Sprintf("provision: check how server %d (%s) was created", srv.ID, srv.Name)
	actions, err := d.client.Server.Action.AllFor(ctx, srv, hcloud.ActionListOpts{Sort: []string{"id:asc"}})
	if err != nil {
		return false, d.fail(ctx, op, false, nil, err)
	}
	var running []*hcloud.Action
	for _, a := range actions {
		if a.Command != commandCreateServer && a.Command != commandStartServer {
			continue
		}
		switch a.Status {
		case hcloud.ActionStatusError:
			return true, nil
		case hcloud.ActionStatusRunning:
			running = append(running, a)
		}
	}
	if len(running) == 0 {
		return false, nil
	}
	err = d.client.Action.WaitFor(ctx, running...)
	var actionErr hcloud.ActionError
	switch {
	case err == nil:
		return false, nil
	case ctx.Err() == nil && errors.As(err, &actionErr):
		return true, nil
	}
	return false, d.uncertain(ctx, op+": waiting for its actions", err)
}

// replace deletes server srv of req's token, whose creation failed, and
// creates the server anew when mayReplace. A server that cannot be deleted
// is reported with a transient error that is never a refusal: it exists,
// and the next Provision with the token tries again.
func (d *Driver) replace(ctx context.Context, req cloudswitch.ProvisionRequest, opts hcloud.ServerCreateOpts, srv *hcloud.Server, mayReplace bool) (cloudswitch.Instance, error) {
	op := fmt.Sprintf("provision: server %d (%s), whose creation failed", srv.ID, srv.Name)
	d.log.LogAttrs(ctx, slog.LevelWarn, "hetzner: deleting a server of this token whose creation failed",
		slog.Int64("server", srv.ID), slog.String("name", srv.Name), slog.String("workspace", req.WorkspaceID))
	if err := d.destroy(ctx, srv.ID); err != nil && !errors.Is(err, cloudswitch.ErrInstanceNotFound) {
		if ctx.Err() != nil {
			return cloudswitch.Instance{}, d.cancelled(ctx, op, err)
		}
		// Kept as text: a refused delete must not make this error a refusal.
		return cloudswitch.Instance{}, d.scrub(fmt.Errorf("hetzner: %s: deleting it failed (%v): %w", op, err, cloudswitch.ErrTransient))
	}
	if !mayReplace {
		return cloudswitch.Instance{}, d.scrub(fmt.Errorf("hetzner: %s: deleted; creating it again: %w", op, cloudswitch.ErrTransient))
	}
	return d.create(ctx, req, opts, false)
}

// up re-reads server srv, whose create and start ended well, and returns
// it unless it is down — off, stopping, or in an unknown state, as someone
// outside the driver may have left it. A server that is down is never
// reported provisioned; the error is permanent and not a refusal (the
// server exists).
func (d *Driver) up(ctx context.Context, srv *hcloud.Server, op string) (*hcloud.Server, error) {
	cur, resp, err := d.client.Server.GetByID(ctx, srv.ID)
	if err != nil {
		return nil, d.notRefusal(ctx, op, d.fail(ctx, op, true, resp, err))
	}
	if cur == nil {
		return nil, d.scrub(fmt.Errorf("hetzner: %s: server %d went away: %w", op, srv.ID, cloudswitch.ErrTransient))
	}
	switch cur.Status {
	case hcloud.ServerStatusOff, hcloud.ServerStatusStopping, hcloud.ServerStatusUnknown:
		return nil, d.scrub(fmt.Errorf("hetzner: %s: server %d of this token exists but is %s; not reporting it provisioned (start or delete it)", op, srv.ID, cur.Status))
	}
	return cur, nil
}
