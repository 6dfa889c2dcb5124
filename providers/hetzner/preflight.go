package hetzner

import (
	"cmp"
	"context"
	"fmt"
	"strconv"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"

	"github.com/cloudswitch/cloudswitch"
)

var _ cloudswitch.Preflighter = (*Driver)(nil)

// Preflight tells, without creating anything, whether Provision would be
// accepted for req: the request is one the driver serves, the server type
// exists and is available in the location, the location exists, the image
// exists for the type's architecture (by name, or by id), and the SSH keys
// WithSSHKeys names exist. It reads GET /server_types, /locations, /images
// and /ssh_keys.
//
// A server type, location or image the API does not know, or a type not
// available in the location, is a *cloudswitch.ValidationError naming the
// field ("instance_type", "region", "image"). A lookup that fails is
// classified as every API error (transient, refused, …); a request the
// driver cannot serve is refused as Provision refuses it.
func (d *Driver) Preflight(ctx context.Context, req cloudswitch.ProvisionRequest) error {
	if err := checkRequest(req); err != nil {
		return err
	}
	if _, err := d.labelsFor(req); err != nil {
		return err
	}
	serverType := req.Compute.InstanceType
	st, resp, err := d.client.ServerType.GetByName(ctx, serverType)
	if err != nil {
		return d.fail(ctx, fmt.Sprintf("preflight: look up server type %q", serverType), false, resp, err)
	}
	if st == nil {
		return &cloudswitch.ValidationError{Field: "instance_type", Value: serverType, Reason: "is not a Hetzner server type"}
	}
	location := cmp.Or(req.Compute.Region, d.location)
	loc, resp, err := d.client.Location.GetByName(ctx, location)
	if err != nil {
		return d.fail(ctx, fmt.Sprintf("preflight: look up location %q", location), false, resp, err)
	}
	if loc == nil {
		return &cloudswitch.ValidationError{Field: "region", Value: location, Reason: "is not a Hetzner location"}
	}
	if err := availableIn(st, location); err != nil {
		return err
	}
	image := cmp.Or(req.Compute.Image, d.image)
	var img *hcloud.Image
	if id, parseErr := strconv.ParseInt(image, 10, 64); parseErr == nil && id > 0 {
		img, resp, err = d.client.Image.GetByID(ctx, id)
	} else {
		img, resp, err = d.client.Image.GetByNameAndArchitecture(ctx, image, st.Architecture)
	}
	if err != nil {
		return d.fail(ctx, fmt.Sprintf("preflight: look up image %q", image), false, resp, err)
	}
	if img == nil {
		return &cloudswitch.ValidationError{Field: "image", Value: image,
			Reason: fmt.Sprintf("is not a Hetzner image for the %s architecture of %s", st.Architecture, serverType)}
	}
	if _, err := d.sshKeyRefs(ctx); err != nil {
		return err
	}
	return nil
}

// availableIn refuses a server type that the API lists without location,
// or as unavailable there. A type listing no locations at all (an older
// API answer) is taken as available everywhere.
func availableIn(st *hcloud.ServerType, location string) error {
	if len(st.Locations) == 0 {
		return nil
	}
	for _, l := range st.Locations {
		if l.Location == nil || l.Location.Name != location {
			continue
		}
		if !l.Available {
			return &cloudswitch.ValidationError{Field: "instance_type", Value: st.Name, Reason: "is not available in location " + location}
		}
		return nil
	}
	return &cloudswitch.ValidationError{Field: "instance_type", Value: st.Name, Reason: "is not offered in location " + location}
}
