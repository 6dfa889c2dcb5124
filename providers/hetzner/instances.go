package hetzner

import (
	"context"
	"fmt"
	"iter"
	"log/slog"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/internal/ownership"
)

// pageSize is how many servers one listing call asks for: the API's
// maximum.
const pageSize = 50

// Instances yields every live server labelled cloudswitch-owner=owner, page
// by page as the API returns them (one page of at most 50 servers in
// memory), with the workspace id and token decoded from its labels.
// Servers being deleted are not live and are left out. An owner that is not
// a valid label value is refused without an API call. Any error ends the
// sequence: transient, permanent, or the context's, as for the other
// methods. A label that does not decode is yielded as it is, and logged.
func (d *Driver) Instances(ctx context.Context, owner string) iter.Seq2[cloudswitch.Instance, error] {
	return func(yield func(cloudswitch.Instance, error) bool) {
		if err := checkOwner(owner); err != nil {
			yield(cloudswitch.Instance{}, fmt.Errorf("hetzner: instances: %w", err))
			return
		}
		opts := hcloud.ServerListOpts{
			ListOpts: hcloud.ListOpts{PerPage: pageSize, LabelSelector: ownership.OwnerKey + "=" + owner},
			Sort:     []string{"id:asc"},
		}
		for page := 1; ; {
			op := fmt.Sprintf("instances: list servers of owner %q, page %d", owner, page)
			if err := ctx.Err(); err != nil {
				yield(cloudswitch.Instance{}, d.scrub(fmt.Errorf("hetzner: %s: %w", op, err)))
				return
			}
			opts.Page = page
			servers, resp, err := d.client.Server.List(ctx, opts)
			if err != nil {
				yield(cloudswitch.Instance{}, d.fail(ctx, op, false, resp, err))
				return
			}
			for _, srv := range servers {
				// The selector already says so; a server without the label
				// is never reported as ours, whatever the API answered.
				if srv.Status == hcloud.ServerStatusDeleting || srv.Labels[ownership.OwnerKey] != owner {
					continue
				}
				inst, decoded := instanceOf(srv)
				if !decoded {
					d.log.LogAttrs(ctx, slog.LevelWarn, "hetzner: a server's ownership labels do not decode",
						slog.Int64("server", srv.ID), slog.String("workspace", inst.WorkspaceID), slog.String("token", inst.Token))
				}
				if !yield(inst, nil) {
					return
				}
			}
			next := 0
			if resp != nil && resp.Meta.Pagination != nil {
				next = resp.Meta.Pagination.NextPage
			}
			if next == 0 {
				return
			}
			if next <= page {
				yield(cloudswitch.Instance{}, errorf("%s: the API named page %d as the next one", op, next))
				return
			}
			page = next
		}
	}
}
