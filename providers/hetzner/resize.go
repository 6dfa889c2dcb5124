package hetzner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/internal/transport"
)

var _ cloudswitch.Resizer = (*Driver)(nil)

// How long Resize lets the guest shut down before it cuts the power, and
// how often it looks.
const (
	shutdownGrace = time.Minute
	shutdownPoll  = 500 * time.Millisecond
)

// Resize changes the server type of the server inst names, keeping its id,
// disk (the disk is not upgraded, so a later downgrade stays possible) and
// addresses: it asks the guest to shut down (and powers the server off when
// it has not after a minute), changes the type (POST
// /servers/{id}/actions/change_type, which needs a stopped server), and
// powers it on again, waiting for each action. It returns the server as it
// is afterwards.
//
// It is idempotent: a server that already has the type is powered on if it
// is off — the end of an interrupted resize — and returned. Like
// Deprovision it reads the server first and touches only a server whose
// labels name inst's workspace and installation (cloudswitch.ErrNotOurs
// otherwise). A server type the API does not know is refused before the
// server is stopped. Once Resize has begun to stop the server no error is
// a refusal (cloudswitch.AfterEffect): a change_type the API refuses (no
// capacity for the type) powers the server on again, but its guest was
// shut down and its workload interrupted.
func (d *Driver) Resize(ctx context.Context, inst cloudswitch.Instance, instanceType string) (cloudswitch.Instance, error) {
	if inst.Provider != "" && inst.Provider != name {
		return cloudswitch.Instance{}, refusef("resize: instance %q is of provider %q, not %q", inst.ID, inst.Provider, name)
	}
	id, err := strconv.ParseInt(inst.ID, 10, 64)
	if err != nil || id < 1 {
		return cloudswitch.Instance{}, refusef("resize: %q is not a Hetzner server id", inst.ID)
	}
	if instanceType == "" {
		return cloudswitch.Instance{}, refusef("resize: empty instance type")
	}
	srv, err := d.server(ctx, id, inst, "resize")
	if err != nil {
		return cloudswitch.Instance{}, err
	}
	if srv.ServerType == nil || srv.ServerType.Name != instanceType {
		if err := d.knownType(ctx, instanceType); err != nil {
			return cloudswitch.Instance{}, err
		}
	}
	// From here on a step may have taken effect (the server stopped, or
	// started again): no error is a refusal.
	out, err := d.resize(ctx, srv, inst, instanceType)
	if err != nil {
		return cloudswitch.Instance{}, cloudswitch.AfterEffect(err)
	}
	return out, nil
}

// knownType refuses, before Resize stops anything, a server type the API
// does not know.
func (d *Driver) knownType(ctx context.Context, instanceType string) error {
	op := fmt.Sprintf("resize: look up server type %s", instanceType)
	st, resp, err := d.client.ServerType.GetByName(ctx, instanceType)
	if err != nil {
		return d.fail(ctx, op, false, resp, err)
	}
	if st == nil {
		return refusef("%s: no such server type", op)
	}
	return nil
}

// resize stops srv, changes its type and starts it again (see Resize).
func (d *Driver) resize(ctx context.Context, srv *hcloud.Server, inst cloudswitch.Instance, instanceType string) (cloudswitch.Instance, error) {
	id := srv.ID
	if srv.ServerType == nil || srv.ServerType.Name != instanceType {
		if err := d.stop(ctx, srv); err != nil {
			return cloudswitch.Instance{}, err
		}
		op := fmt.Sprintf("resize: change the type of server %d to %s", id, instanceType)
		call := transport.Watch(ctx)
		action, resp, err := d.client.Server.ChangeType(call, srv, hcloud.ServerChangeTypeOpts{ServerType: &hcloud.ServerType{Name: instanceType}})
		if err != nil {
			failed := d.fail(call, op, false, resp, err)
			if !errors.Is(failed, cloudswitch.ErrRefused) {
				return cloudswitch.Instance{}, failed
			}
			// Refused: the type is unchanged; the server runs again, but
			// it was stopped, so the caller still hears no refusal.
			if startErr := d.start(ctx, srv); startErr != nil {
				return cloudswitch.Instance{}, d.scrub(fmt.Errorf("hetzner: %s: %v; starting the server again failed, it is off: %w", op, failed, startErr))
			}
			return cloudswitch.Instance{}, failed
		}
		if err := d.client.Action.WaitFor(ctx, action); err != nil {
			return cloudswitch.Instance{}, d.uncertain(ctx, op, err)
		}
	}
	if err := d.start(ctx, srv); err != nil {
		return cloudswitch.Instance{}, err
	}
	after, err := d.server(ctx, id, inst, "resize: read the server back")
	if err != nil {
		return cloudswitch.Instance{}, err
	}
	out, _ := instanceOf(after)
	d.log.LogAttrs(ctx, slog.LevelDebug, "hetzner: server resized", slog.Int64("server", id), slog.String("type", out.InstanceType))
	return out, nil
}

// server reads server id for op and checks its labels against inst: an
// error matching cloudswitch.ErrInstanceNotFound (as Deprovision decides
// it) when it does not exist, cloudswitch.ErrNotOurs when its labels name
// another workspace or installation.
func (d *Driver) server(ctx context.Context, id int64, inst cloudswitch.Instance, op string) (*hcloud.Server, error) {
	srv, resp, err := d.client.Server.GetByID(ctx, id)
	if err != nil {
		return nil, d.fail(ctx, fmt.Sprintf("%s: read server %d", op, id), true, resp, err)
	}
	if srv == nil {
		return nil, d.gone(ctx, inst, id)
	}
	if err := fenced(srv.Labels, inst); err != nil {
		return nil, d.scrub(fmt.Errorf("hetzner: %s: server %d: %w", op, id, err))
	}
	return srv, nil
}

// stop shuts the server down and waits until it is off, cutting the power
// when the guest has not shut down within shutdownGrace. Errors are never
// refusals: a shutdown may have been sent.
func (d *Driver) stop(ctx context.Context, srv *hcloud.Server) error {
	op := fmt.Sprintf("resize: stop server %d", srv.ID)
	if srv.Status == hcloud.ServerStatusOff {
		return nil
	}
	if err := d.act(ctx, op+": shut down", func(ctx context.Context) (*hcloud.Action, *hcloud.Response, error) {
		return d.client.Server.Shutdown(ctx, srv)
	}); err != nil {
		return err
	}
	deadline := time.Now().Add(shutdownGrace)
	for time.Now().Before(deadline) {
		cur, resp, err := d.client.Server.GetByID(ctx, srv.ID)
		if err != nil {
			return d.notRefusal(ctx, op, d.fail(ctx, op, true, resp, err))
		}
		if cur == nil {
			return d.uncertain(ctx, op, errors.New("the server disappeared"))
		}
		if cur.Status == hcloud.ServerStatusOff {
			return nil
		}
		select {
		case <-ctx.Done():
			return d.cancelled(ctx, op, ctx.Err())
		case <-time.After(shutdownPoll):
		}
	}
	return d.notRefusal(ctx, op, d.act(ctx, op+": power off", func(ctx context.Context) (*hcloud.Action, *hcloud.Response, error) {
		return d.client.Server.Poweroff(ctx, srv)
	}))
}

// start powers the server on and waits for it. Its errors are never
// refusals: the server may be off because of this resize.
func (d *Driver) start(ctx context.Context, srv *hcloud.Server) error {
	cur, resp, err := d.client.Server.GetByID(ctx, srv.ID)
	op := fmt.Sprintf("resize: start server %d", srv.ID)
	if err != nil {
		return d.notRefusal(ctx, op, d.fail(ctx, op, true, resp, err))
	}
	if cur != nil && cur.Status == hcloud.ServerStatusRunning {
		return nil
	}
	return d.notRefusal(ctx, op, d.act(ctx, op, func(ctx context.Context) (*hcloud.Action, *hcloud.Response, error) {
		return d.client.Server.Poweron(ctx, srv)
	}))
}

// notRefusal keeps err transient when it was, but makes sure it is not a
// refusal: for errors after the resize changed the server, whose state no
// longer is as it was. The cause is kept as text.
func (d *Driver) notRefusal(ctx context.Context, op string, err error) error {
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return d.scrub(fmt.Errorf("hetzner: %s: %w: %v", op, ctx.Err(), err))
	case errors.Is(err, cloudswitch.ErrTransient):
		return d.scrub(fmt.Errorf("hetzner: %s: %w: %v", op, cloudswitch.ErrTransient, err))
	}
	return d.scrub(fmt.Errorf("hetzner: %s: %v", op, err))
}

// act starts an action, with a context watched as one call (see
// transport.Watch), and waits for it.
func (d *Driver) act(ctx context.Context, op string, start func(context.Context) (*hcloud.Action, *hcloud.Response, error)) error {
	call := transport.Watch(ctx)
	action, resp, err := start(call)
	if err != nil {
		return d.fail(call, op, false, resp, err)
	}
	if err := d.client.Action.WaitFor(ctx, action); err != nil {
		return d.uncertain(ctx, op, err)
	}
	return nil
}
