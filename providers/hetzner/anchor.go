package hetzner

import (
	"context"
	"log/slog"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/ownership"
)

// anchorPrefix names the placement group the driver keeps in a project for
// each installation: evidence, for a later not_found, that its credentials
// see the project the installation's servers were created in (see gone).
// A placement group is free and places nothing until a server names it.
const anchorPrefix = "cloudswitch-anchor"

// anchorName is the anchor of installation ("" for none).
func anchorName(installation string) string {
	if label, ok := labelFor(installation); ok && label != "" {
		return anchorPrefix + "-" + label
	}
	return anchorPrefix
}

// ensureAnchor makes sure the project holds the anchor of req's
// installation before Provision creates a server, so that the anchor is
// older than every server it vouches for. It is best effort: a failure is
// logged, and only makes a later not_found harder to confirm. A driver
// remembers the anchors it ensured.
func (d *Driver) ensureAnchor(ctx context.Context, req cloudswitch.ProvisionRequest) {
	name := anchorName(req.Installation)
	if _, done := d.anchors.Load(name); done {
		return
	}
	g, _, err := d.client.PlacementGroup.GetByName(ctx, name)
	if err == nil && g == nil {
		labels := map[string]string{ownership.OwnerKey: req.Owner}
		if label, ok := labelFor(req.Installation); ok && label != "" {
			labels[ownership.InstallationKey] = label
		}
		_, _, err = d.client.PlacementGroup.Create(ctx, hcloud.PlacementGroupCreateOpts{Name: name, Labels: labels, Type: hcloud.PlacementGroupTypeSpread})
		if hcloud.IsError(err, hcloud.ErrorCodeUniquenessError) {
			err = nil
		}
	}
	if err != nil {
		d.log.LogAttrs(ctx, slog.LevelWarn, "hetzner: could not ensure the project anchor (a placement group); a later not-found may need confirming by hand",
			slog.String("anchor", name), slog.String("err", d.scrub(err).Error()))
		return
	}
	d.anchors.Store(name, true)
}

// anchored reports whether the anchor of inst's installation is in the
// project the credentials see, created no later than inst (when inst says
// when it was created): a misconfigured driver that created an anchor in
// another project after the server does not vouch for it.
func (d *Driver) anchored(ctx context.Context, inst cloudswitch.Instance, op string) (bool, error) {
	g, resp, err := d.client.PlacementGroup.GetByName(ctx, anchorName(inst.Installation))
	if err != nil {
		return false, d.fail(ctx, op, false, resp, err)
	}
	return g != nil && (inst.CreatedAt.IsZero() || !g.Created.After(inst.CreatedAt)), nil
}
