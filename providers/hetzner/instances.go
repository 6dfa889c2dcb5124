package hetzner

import (
	"context"
	"fmt"
	"iter"
	"log/slog"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/ownership"
)

// pageSize is how many servers one listing call asks for: the API's
// maximum.
const pageSize = 50

// listRestarts bounds how often Instances starts its listing over when the
// servers shifted between two of its pages.
const listRestarts = 3

// Instances yields every live server labelled cloudswitch-owner=owner, page
// by page as the API returns them, with the workspace id and token decoded
// from its labels. Servers being deleted are not live and are left out. An
// owner that is not a valid label value is refused without an API call.
// Any error ends the sequence: transient, permanent, or the context's, as
// for the other methods. A label that does not decode is yielded as it is,
// and logged.
//
// A listing that ends without an error is complete: every server that
// lived through it was yielded. The API pages by page number over the
// servers sorted by id, so a server of a lower id deleted between two pages
// shifts every later one a place back, and one would slide across the page
// boundary unseen. After reading each page Instances reads again the last
// server of the page before (a page of one, at its place): when a server
// of that page or an earlier one was deleted (or lost its owner label)
// another server is at that place now — servers created meanwhile have
// higher ids and are listed after it. Then it starts over,
// never yielding a server twice (it keeps the ids it yielded), up to
// listRestarts times; after that the error is transient.
func (d *Driver) Instances(ctx context.Context, owner string) iter.Seq2[cloudswitch.Instance, error] {
	return func(yield func(cloudswitch.Instance, error) bool) {
		if err := checkOwner(owner); err != nil {
			yield(cloudswitch.Instance{}, fmt.Errorf("hetzner: instances: %w", err))
			return
		}
		yielded := map[int64]bool{}
		for restarts := 0; ; restarts++ {
			shifted, done := d.listOnce(ctx, owner, yielded, yield)
			if done || !shifted {
				return
			}
			if restarts == listRestarts {
				yield(cloudswitch.Instance{}, d.scrub(fmt.Errorf("hetzner: instances: list servers of owner %q: "+
					"the servers shifted between pages %d times in a row: %w", owner, restarts+1, cloudswitch.ErrTransient)))
				return
			}
			d.log.LogAttrs(ctx, slog.LevelDebug, "hetzner: servers shifted between two pages of the listing; starting it over",
				slog.String("owner", owner), slog.Int("restart", restarts+1))
		}
	}
}

// listOnce lists the servers of owner once, yielding those not yet in
// yielded (and adding them). It reports shifted when the last server of a
// page is no longer at its place once the next page was read, and done
// when the sequence ended (an error was yielded, or the consumer stopped).
func (d *Driver) listOnce(ctx context.Context, owner string, yielded map[int64]bool, yield func(cloudswitch.Instance, error) bool) (shifted, done bool) {
	var last *hcloud.Server // the last server of the page before
	lastAt := 0             // its place in the listing, from 1
	for page := 1; ; {
		servers, meta, err := d.listPage(ctx, owner, page, pageSize)
		if err != nil {
			yield(cloudswitch.Instance{}, err)
			return false, true
		}
		if page > 1 {
			if last == nil {
				return true, false // an empty page before this one: nothing to check the boundary by
			}
			at, _, err := d.listPage(ctx, owner, lastAt, 1)
			if err != nil {
				yield(cloudswitch.Instance{}, err)
				return false, true
			}
			if len(at) != 1 || at[0].ID != last.ID {
				return true, false
			}
		}
		for _, srv := range servers {
			// The selector already says so; a server without the label
			// is never reported as ours, whatever the API answered.
			if yielded[srv.ID] || srv.Status == hcloud.ServerStatusDeleting || srv.Labels[ownership.OwnerKey] != owner {
				continue
			}
			yielded[srv.ID] = true
			inst, decoded := instanceOf(srv)
			if !decoded {
				d.log.LogAttrs(ctx, slog.LevelWarn, "hetzner: a server's ownership labels do not decode",
					slog.Int64("server", srv.ID), slog.String("workspace", inst.WorkspaceID), slog.String("token", inst.Token))
			}
			if !yield(inst, nil) {
				return false, true
			}
		}
		if meta.NextPage == 0 {
			return false, false
		}
		if meta.NextPage != page+1 {
			yield(cloudswitch.Instance{}, errorf("instances: list servers of owner %q, page %d: the API named page %d as the next one, not %d",
				owner, page, meta.NextPage, page+1))
			return false, true
		}
		last, lastAt = nil, 0
		if len(servers) > 0 {
			last, lastAt = servers[len(servers)-1], (page-1)*meta.PerPage+len(servers)
		}
		page = meta.NextPage
	}
}

// listPage reads page page, of perPage servers, of the servers of owner
// sorted by id, with its meta.pagination (the per_page the API applied,
// the next page: 0 after the last).
func (d *Driver) listPage(ctx context.Context, owner string, page, perPage int) ([]*hcloud.Server, hcloud.Pagination, error) {
	op := fmt.Sprintf("instances: list servers of owner %q, page %d of %d", owner, page, perPage)
	if err := ctx.Err(); err != nil {
		return nil, hcloud.Pagination{}, d.scrub(fmt.Errorf("hetzner: %s: %w", op, err))
	}
	servers, resp, err := d.client.Server.List(ctx, hcloud.ServerListOpts{
		ListOpts: hcloud.ListOpts{Page: page, PerPage: perPage, LabelSelector: ownership.OwnerKey + "=" + owner},
		Sort:     []string{"id:asc"},
	})
	if err != nil {
		return nil, hcloud.Pagination{}, d.fail(ctx, op, false, resp, err)
	}
	meta := hcloud.Pagination{Page: page, PerPage: perPage}
	if resp != nil && resp.Meta.Pagination != nil {
		meta = *resp.Meta.Pagination
	}
	return servers, meta, nil
}
