package hetzner

import (
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

// Deprovision deletes the server inst names and waits until it is gone.
//
// It reads the server first and deletes it only when its labels name the
// workspace and the installation inst names (each when inst names one):
// otherwise it deletes nothing and returns an error matching
// cloudswitch.ErrNotOurs, a refusal. A server the API does not know
// (not_found) is already gone — when the credentials can be shown to see
// its project (see gone) —: Deprovision then returns an error matching
// cloudswitch.ErrInstanceNotFound, which the Switcher counts as success. A
// delete locked by a running action waits for it and tries again. An
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
		return d.gone(ctx, inst, id)
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

// lockWaits bounds how often destroy waits for the actions that lock a
// server and tries its delete again.
const lockWaits = 3

// destroy deletes server id and waits for the delete action. A delete
// answered locked — an action runs on the server, such as its create — waits
// for the server's running actions and tries again, up to lockWaits times;
// then the locked error is returned, transient. The caller has seen the
// server with these credentials, so a not_found is trusted as gone.
func (d *Driver) destroy(ctx context.Context, id int64) error {
	op := fmt.Sprintf("deprovision: delete server %d", id)
	// Each delete is watched: one net/http sent twice may have acted the
	// first time.
	call := transport.Watch(ctx)
	res, resp, err := d.client.Server.DeleteWithResult(call, &hcloud.Server{ID: id})
	// resent: an earlier delete of this loop was sent twice. Its locked
	// answer speaks of the second attempt only; the first may have
	// started the delete (whose action is what locks the server), so no
	// later answer is a refusal.
	resent := false
	for waits := 0; hcloud.IsError(err, hcloud.ErrorCodeLocked) && waits < lockWaits && ctx.Err() == nil; waits++ {
		resent = resent || transport.Resent(call)
		if waitErr := d.waitForRunningActions(ctx, id); waitErr != nil {
			return waitErr
		}
		call = transport.Watch(ctx)
		res, resp, err = d.client.Server.DeleteWithResult(call, &hcloud.Server{ID: id})
	}
	if err != nil {
		if resent {
			return cloudswitch.AfterEffect(d.fail(call, op, true, resp, err))
		}
		return d.fail(call, op, true, resp, err)
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

// waitForRunningActions waits until the actions running on server id end,
// whether they succeed or fail. An error is the context's, or the lookup's
// (never a refusal: the delete it serves is not refused).
func (d *Driver) waitForRunningActions(ctx context.Context, id int64) error {
	op := fmt.Sprintf("deprovision: server %d is locked; waiting for its running actions", id)
	actions, _, err := d.client.Server.Action.ListFor(ctx, &hcloud.Server{ID: id},
		hcloud.ActionListOpts{Status: []hcloud.ActionStatus{hcloud.ActionStatusRunning}})
	if err != nil {
		if ctx.Err() != nil {
			return d.cancelled(ctx, op, err)
		}
		// Kept as text: a refused lookup must not make the delete's error
		// a refusal.
		return d.scrub(fmt.Errorf("hetzner: %s: %w: %v", op, cloudswitch.ErrTransient, err))
	}
	if err := d.client.Action.WaitFor(ctx, actions...); err != nil && ctx.Err() != nil {
		return d.cancelled(ctx, op, err)
	}
	return nil
}

// gone reports server id, which the API answered not_found for, as gone — an
// error matching cloudswitch.ErrInstanceNotFound — only when something
// shows that these credentials see the project the server was created in: a
// token of another project gets not_found for every server, and taking that
// for "gone" would leak them all. The evidence is, in this order:
//
//   - an older server (a smaller id: ids grow across all of Hetzner)
//     labelled for inst's installation (cloudswitch-installation), or, when
//     inst names none, a cloudswitch server (cloudswitch-owner) without an
//     installation label, is listed;
//   - the installation's anchor, a placement group Provision keeps in the
//     project (see ensureAnchor), is there and no younger than inst;
//   - one of the WithSSHKeys keys given by id is in the project (ids are
//     unique across Hetzner; names are not, so a key found by name is no
//     evidence).
//
// Without evidence the error is permanent and neither not-found nor a
// refusal: the switch stays journaled rather than forget a server that may
// exist, and a later call, once the project holds another server of the
// installation, settles it.
func (d *Driver) gone(ctx context.Context, inst cloudswitch.Instance, id int64) error {
	op := fmt.Sprintf("deprovision: server %d", id)
	seen, err := d.projectVisible(ctx, inst, op)
	if err != nil {
		return err
	}
	if !seen {
		return d.scrub(fmt.Errorf("hetzner: %s: the API does not know the server, but nothing shows these credentials see its project "+
			"(no server of its installation or owner and none of the SSH keys is visible; is the token for another project?): not counting it as gone", op))
	}
	return d.scrub(fmt.Errorf("hetzner: %s: no such server in the project: %w", op, cloudswitch.ErrInstanceNotFound))
}

// projectVisible looks for the evidence gone needs. Only evidence of inst's
// own installation counts: servers and anchors of another installation, and
// SSH keys found by name (names are not unique across projects), are in
// many projects.
func (d *Driver) projectVisible(ctx context.Context, inst cloudswitch.Instance, op string) (bool, error) {
	op += ": confirm the credentials see its project"
	// Without an installation only servers that carry none count: another
	// installation's servers are in other projects as well.
	selector := ownership.OwnerKey + ",!" + ownership.InstallationKey
	if label, ok := labelFor(inst.Installation); ok && label != "" {
		selector = ownership.InstallationKey + "=" + label
	}
	servers, resp, err := d.client.Server.List(ctx, hcloud.ServerListOpts{
		ListOpts: hcloud.ListOpts{PerPage: 1, LabelSelector: selector}, Sort: []string{"id:asc"},
	})
	if err != nil {
		return false, d.fail(ctx, op, false, resp, err)
	}
	// Server ids grow across all of Hetzner: an older server of the
	// installation was there before this one was created.
	if len(servers) > 0 && strconv.FormatInt(servers[0].ID, 10) != inst.ID && servers[0].ID < mustID(inst.ID) {
		return true, nil
	}
	if ok, err := d.anchored(ctx, inst, op); err != nil || ok {
		return ok, err
	}
	for _, k := range d.sshKeys {
		n, parseErr := strconv.ParseInt(k, 10, 64)
		if parseErr != nil {
			continue // a name: another project may hold a key of that name
		}
		key, resp, err := d.client.SSHKey.GetByID(ctx, n)
		if err != nil {
			return false, d.fail(ctx, op, false, resp, err)
		}
		if key != nil {
			return true, nil
		}
	}
	return false, nil
}

// mustID is the server id of an Instance id Deprovision already parsed.
func mustID(id string) int64 {
	n, _ := strconv.ParseInt(id, 10, 64)
	return n
}
