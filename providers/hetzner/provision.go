package hetzner

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/internal/transport"
	"github.com/cloudswitch/cloudswitch/ownership"
)

// Provision creates the server req describes and waits until it is created
// and started, or returns the server an earlier request with the same token
// created.
//
// Hetzner has no idempotency key, but server names are unique per project:
// the server is named ownership.Name(req.Token), so a repeat (after a lost
// answer, or by a resumed switch) is refused with uniqueness_error. Provision
// then looks the server up by name and returns it only if its labels say it
// was created for this owner and token; a server with that name and other
// labels is never adopted nor touched, and Provision fails with
// cloudswitch.ErrNotOurs, a refusal.
// An adopted server is healthy: Provision waits for its create and start
// actions, and replaces a server whose creation failed (see the package
// doc).
//
// The request is checked before any API call: an empty token, owner,
// workspace id or instance type, a Compute for another provider, an owner
// that is not a valid label value, or a workspace id or token that
// ownership.EncodeLabel cannot encode give a permanent error. Compute.Region
// is the location (default WithLocation's), Compute.InstanceType the server
// type, Compute.Image the image (default WithImage's).
//
// A permanent error means no server exists for the token: a server whose
// create action failed is deleted again before Provision says so. When the
// outcome is unknown (the answer was lost, waiting failed) the error is
// transient, or the context's when ctx ended; calling Provision again with
// the same request settles it.
func (d *Driver) Provision(ctx context.Context, req cloudswitch.ProvisionRequest) (cloudswitch.Instance, error) {
	if err := checkRequest(req); err != nil {
		return cloudswitch.Instance{}, err
	}
	labels, err := d.labelsFor(req)
	if err != nil {
		return cloudswitch.Instance{}, err
	}
	sshKeys, err := d.sshKeyRefs(ctx)
	if err != nil {
		return cloudswitch.Instance{}, err
	}
	opts := hcloud.ServerCreateOpts{
		Name:       ownership.Name(req.Token),
		ServerType: &hcloud.ServerType{Name: req.Compute.InstanceType},
		Image:      imageRef(cmp.Or(req.Compute.Image, d.image)),
		Location:   &hcloud.Location{Name: cmp.Or(req.Compute.Region, d.location)},
		Labels:     labels,
		SSHKeys:    sshKeys,
		UserData:   d.userData,
	}
	for _, id := range d.networks {
		opts.Networks = append(opts.Networks, &hcloud.Network{ID: id})
	}
	for _, id := range d.firewalls {
		opts.Firewalls = append(opts.Firewalls, &hcloud.ServerCreateFirewall{Firewall: hcloud.Firewall{ID: id}})
	}

	d.ensureAnchor(ctx, req)
	return d.create(ctx, req, opts, true)
}

// create creates the server opts describes for req, or adopts the one an
// earlier request with the same token created. mayReplace allows one
// replacement of a server of the token whose creation failed.
func (d *Driver) create(ctx context.Context, req cloudswitch.ProvisionRequest, opts hcloud.ServerCreateOpts, mayReplace bool) (cloudswitch.Instance, error) {
	serverName, location := opts.Name, opts.Location.Name
	// Watched: a create net/http sent twice may have acted the first time.
	call := transport.Watch(ctx)
	res, resp, err := d.client.Server.Create(call, opts)
	if hcloud.IsError(err, hcloud.ErrorCodeUniquenessError) {
		inst, err := d.adopt(ctx, req, opts, mayReplace)
		if transport.Resent(call) {
			// The name may be taken by the server this call's first
			// attempt created: nothing adopt meets is a refusal.
			err = cloudswitch.AfterEffect(err)
		}
		return inst, err
	}
	if err != nil {
		return cloudswitch.Instance{}, d.fail(call, "provision: create server "+serverName, false, resp, err)
	}
	d.log.LogAttrs(ctx, slog.LevelDebug, "hetzner: server created",
		slog.Int64("server", res.Server.ID), slog.String("name", serverName), slog.String("workspace", req.WorkspaceID))
	actions := append([]*hcloud.Action{res.Action}, res.NextActions...)
	if err := d.client.Action.WaitFor(ctx, actions...); err != nil {
		return cloudswitch.Instance{}, d.createFailed(ctx, res.Server, err)
	}
	return provisioned(res.Server, req, location), nil
}

// checkRequest refuses, permanently, a request the driver cannot serve:
// one cloudswitch.ProvisionRequest.Check refuses, or whose owner is no
// Hetzner label value.
func checkRequest(req cloudswitch.ProvisionRequest) error {
	if err := req.Check(name); err != nil {
		return fmt.Errorf("hetzner: %w", err)
	}
	if err := checkOwner(req.Owner); err != nil {
		return cloudswitch.Refused(fmt.Errorf("hetzner: provision: %w", err))
	}
	return nil
}

// sshKeyRefs resolves the WithSSHKeys keys to ids: numbers are ids, names
// are looked up.
func (d *Driver) sshKeyRefs(ctx context.Context) ([]*hcloud.SSHKey, error) {
	var keys []*hcloud.SSHKey
	for _, k := range d.sshKeys {
		if id, err := strconv.ParseInt(k, 10, 64); err == nil {
			keys = append(keys, &hcloud.SSHKey{ID: id})
			continue
		}
		key, resp, err := d.client.SSHKey.GetByName(ctx, k)
		if err != nil {
			return nil, d.fail(ctx, fmt.Sprintf("provision: look up SSH key %q", k), false, resp, err)
		}
		if key == nil {
			return nil, refusef("provision: no SSH key named %q in the project", k)
		}
		keys = append(keys, key)
	}
	return keys, nil
}

// imageRef refers to an image by id when it is a number, else by name.
func imageRef(image string) *hcloud.Image {
	if id, err := strconv.ParseInt(image, 10, 64); err == nil && id > 0 {
		return &hcloud.Image{ID: id}
	}
	return &hcloud.Image{Name: image}
}

// adopt returns the server named serverName that an earlier request with
// req's token created, after checking its labels say so and that it is
// healthy: not being deleted, its create and start actions finished
// (waiting for them if they run) and not failed. A server of the token
// whose creation failed is deleted and, when mayReplace, created anew;
// when it cannot be deleted the error is transient, never a refusal.
func (d *Driver) adopt(ctx context.Context, req cloudswitch.ProvisionRequest, opts hcloud.ServerCreateOpts, mayReplace bool) (cloudswitch.Instance, error) {
	serverName, location := opts.Name, opts.Location.Name
	op := "provision: look up existing server " + serverName
	srv, resp, err := d.client.Server.GetByName(ctx, serverName)
	if err != nil {
		return cloudswitch.Instance{}, d.fail(ctx, op, false, resp, err)
	}
	if srv == nil {
		// Taken a moment ago, not listed yet, or deleted since.
		return cloudswitch.Instance{}, d.scrub(fmt.Errorf("hetzner: %s: the name is taken but no server by that name is listed: %w", op, cloudswitch.ErrTransient))
	}
	ours, err := owns(srv.Labels, req)
	if err != nil {
		return cloudswitch.Instance{}, d.scrub(cloudswitch.Refused(fmt.Errorf("hetzner: %s: server %d: %w", op, srv.ID, err)))
	}
	if !ours {
		d.log.LogAttrs(ctx, slog.LevelWarn, "hetzner: a server has the token's name but not its labels; leaving it alone",
			slog.Int64("server", srv.ID), slog.String("name", serverName), slog.String("owner", req.Owner))
		return cloudswitch.Instance{}, d.scrub(fmt.Errorf("hetzner: %s: server %d: %w", op, srv.ID, cloudswitch.ErrNotOurs))
	}
	if srv.Status == hcloud.ServerStatusDeleting {
		return cloudswitch.Instance{}, d.scrub(fmt.Errorf("hetzner: %s: server %d is being deleted; its name frees up when it is gone: %w", op, srv.ID, cloudswitch.ErrTransient))
	}
	failed, err := d.createFailedBefore(ctx, srv)
	if err != nil {
		return cloudswitch.Instance{}, err
	}
	if failed {
		return d.replace(ctx, req, opts, srv, mayReplace)
	}
	if srv, err = d.up(ctx, srv, op); err != nil {
		return cloudswitch.Instance{}, err
	}
	d.log.LogAttrs(ctx, slog.LevelDebug, "hetzner: server already created for this token",
		slog.Int64("server", srv.ID), slog.String("name", serverName), slog.String("workspace", req.WorkspaceID))
	return provisioned(srv, req, location), nil
}

// createFailed handles a failed wait for a new server's actions. If the
// API reports the creation failed, the server is deleted again so that the
// permanent error holds; otherwise the outcome is unknown.
func (d *Driver) createFailed(ctx context.Context, srv *hcloud.Server, err error) error {
	op := fmt.Sprintf("provision: waiting for server %d (%s)", srv.ID, srv.Name)
	var actionErr hcloud.ActionError
	if ctx.Err() != nil || !errors.As(err, &actionErr) {
		return d.uncertain(ctx, op, err)
	}
	if cleanup := d.destroy(ctx, srv.ID); cleanup != nil && !errors.Is(cleanup, cloudswitch.ErrInstanceNotFound) {
		d.log.LogAttrs(ctx, slog.LevelWarn, "hetzner: deleting a server whose creation failed",
			slog.Int64("server", srv.ID), slog.String("err", cleanup.Error()))
		// The cleanup's own error is kept as text: were it a refusal (a
		// 403 on the delete), the whole error would read as one, and the
		// create was accepted.
		return d.uncertain(ctx, op, fmt.Errorf("%w; deleting the server failed too: %v", err, cleanup))
	}
	return d.scrub(fmt.Errorf("hetzner: %s: the creation failed, and the server was deleted again: %w", op, err))
}

// provisioned describes a server created for req, with the server type and
// image the API says it runs.
func provisioned(srv *hcloud.Server, req cloudswitch.ProvisionRequest, location string) cloudswitch.Instance {
	inst := cloudswitch.Instance{
		Provider: name, ID: strconv.FormatInt(srv.ID, 10), Region: location,
		WorkspaceID: req.WorkspaceID, Token: req.Token, Installation: req.Installation, CreatedAt: srv.Created,
	}
	inst.InstanceType, inst.Image = machineOf(srv)
	if srv.Location != nil && srv.Location.Name != "" {
		inst.Region = srv.Location.Name
	}
	return inst
}
