package gcp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/api/googleapi"

	"github.com/cloudswitch/cloudswitch"
)

// Preflight tells, before anything is written or destroyed, whether
// Provision would create the VM req describes. It checks what the driver
// checks itself — the request's shape, the zone (and that WithZones lists
// it), the machine type's and the image's form — and then asks Compute
// Engine whether the zone offers the machine type (machineTypes.get) and
// whether the image or image family exists (images.get,
// images.getFromFamily). A refusal is a *cloudswitch.ValidationError naming
// the field ("region", "instance_type" or "image"); a transient error
// matches cloudswitch.ErrTransient; any other error means it could not ask.
// It creates nothing.
//
// It does not check quotas, zone capacity or the credentials' permissions,
// which Compute Engine only judges on the insert itself. A driver made by
// New without WithLookupClients makes no lookup: it checks only what it
// can check itself.
func (d *Driver) Preflight(ctx context.Context, req cloudswitch.ProvisionRequest) error {
	if err := req.Check(cloudswitch.GCP); err != nil {
		switch {
		case req.Compute.Provider != cloudswitch.GCP:
			return &cloudswitch.ValidationError{Field: "provider", Value: req.Compute.Provider, Reason: "is not the gcp driver's"}
		case req.Compute.InstanceType == "":
			return &cloudswitch.ValidationError{Field: "instance_type", Value: "", Reason: "is empty"}
		}
		return fmt.Errorf("gcp: preflight: %w: %w", ErrInvalidRequest, err)
	}
	zone := req.Compute.Region
	if zone == "" {
		zone = d.cfg.zone
	}
	switch {
	case zone == "":
		return &cloudswitch.ValidationError{Field: "region", Value: "", Reason: "is empty and the driver has no default zone (WithZone)"}
	case !zonePattern.MatchString(zone):
		return &cloudswitch.ValidationError{Field: "region", Value: zone, Reason: "is not a zone (like us-central1-a)"}
	case len(d.cfg.zones) > 0 && !slices.Contains(d.cfg.zones, zone):
		return &cloudswitch.ValidationError{Field: "region", Value: zone, Allowed: slices.Clone(d.cfg.zones)}
	}
	mt, err := machineType(zone, req.Compute.InstanceType)
	if err != nil {
		return &cloudswitch.ValidationError{Field: "instance_type", Value: req.Compute.InstanceType, Reason: "is not a machine type of zone " + zone}
	}
	image := req.Compute.Image
	if image == "" {
		image = d.cfg.sourceImage
	}
	project, name, family, ok := d.imageRef(image)
	if !ok {
		return &cloudswitch.ValidationError{Field: "image", Value: image,
			Reason: "is not an image path (projects/PROJECT/global/images/NAME or …/images/family/FAMILY)"}
	}
	if _, err := d.plan(req); err != nil {
		return err
	}
	if d.cfg.machineTypes == nil || d.cfg.images == nil {
		return nil
	}

	mtName := mt[strings.LastIndexByte(mt, '/')+1:]
	mtPath := "zones/" + zone + "/machineTypes/" + mtName
	if _, err := d.cfg.machineTypes.Get(ctx, &computepb.GetMachineTypeRequest{Project: d.project, Zone: zone, MachineType: mtName}, noRetry); err != nil {
		switch {
		case isNotFound(err, mtPath):
			return &cloudswitch.ValidationError{Field: "instance_type", Value: req.Compute.InstanceType, Reason: "is not offered in zone " + zone}
		case isNotFound(err, "zones/"+zone):
			return &cloudswitch.ValidationError{Field: "region", Value: zone, Reason: "is not a zone of Compute Engine"}
		}
		return fail(ctx, "machineTypes.get "+mtPath, "", err)
	}
	imagePath := "projects/" + project + "/global/images/"
	if family != "" {
		imagePath += "family/" + family
		_, err = d.cfg.images.GetFromFamily(ctx, &computepb.GetFromFamilyImageRequest{Project: project, Family: family}, noRetry)
	} else {
		imagePath += name
		_, err = d.cfg.images.Get(ctx, &computepb.GetImageRequest{Project: project, Image: name}, noRetry)
	}
	if err != nil {
		if isNotFound(err, "projects/"+project) {
			return &cloudswitch.ValidationError{Field: "image", Value: image, Reason: "does not exist"}
		}
		return fail(ctx, "images.get "+imagePath, "", err)
	}
	return nil
}

// imageRef reads an image path — "projects/P/global/images/NAME",
// "…/images/family/FAMILY", either as a full URL, or "global/images/…" of
// the driver's project — as its project and its name or family.
func (d *Driver) imageRef(image string) (project, name, family string, ok bool) {
	if i := strings.Index(image, "projects/"); i > 0 && strings.HasPrefix(image, "https://") {
		image = image[i:]
	}
	if rest, found := strings.CutPrefix(image, "global/images/"); found {
		image = "projects/" + d.project + "/global/images/" + rest
	}
	parts := strings.Split(image, "/")
	switch {
	case len(parts) == 5 && parts[0] == "projects" && parts[2] == "global" && parts[3] == "images" && parts[1] != "" && parts[4] != "":
		return parts[1], parts[4], "", true
	case len(parts) == 6 && parts[0] == "projects" && parts[2] == "global" && parts[3] == "images" && parts[4] == "family" && parts[1] != "" && parts[5] != "":
		return parts[1], "", parts[5], true
	}
	return "", "", "", false
}

// isNotFound reports whether err is a 404 whose message names resource.
func isNotFound(err error, resource string) bool {
	var gerr *googleapi.Error
	return errors.As(err, &gerr) && gerr.Code == http.StatusNotFound && strings.Contains(gerr.Message, resource)
}
