package gcp

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/protobuf/proto"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/internal/transport"
	"github.com/cloudswitch/cloudswitch/ownership"
)

// ErrInvalidRequest is matched by the error of a Provision or Deprovision
// whose request the driver refuses before any API call: a missing token,
// owner or workspace, another provider's compute, no machine type, no zone,
// a value no label can hold. It is permanent, and a refusal
// (cloudswitch.ErrRefused): nothing was asked of Compute Engine.
var ErrInvalidRequest = errors.New("gcp: invalid request")

// invalidf returns a permanent error matching ErrInvalidRequest and
// cloudswitch.ErrRefused.
func invalidf(format string, args ...any) error {
	return cloudswitch.Refused(fmt.Errorf("%w: %s", ErrInvalidRequest, fmt.Sprintf(format, args...)))
}

// ErrInstanceDown is matched by the error of a Provision whose token's
// instance exists but is not running nor on its way up: TERMINATED,
// STOPPED or SUSPENDED (stopped or suspended since, or dead on launch). The
// instance is never reported provisioned; the error is permanent and not a
// refusal, since the instance was created.
var ErrInstanceDown = errors.New("gcp: the token's instance exists but is not running")

// plan is an insert, checked and ready to send.
type plan struct {
	zone, name   string
	path         string // "zones/ZONE/instances/NAME"
	requestID    string
	workspace    string // the workspace label's value
	token        string // the token label's value
	installation string // the installation label's value; "" for none
	image        string // the boot disk's source image
	resource     *computepb.Instance
}

// validMachineTypeName reports whether s is a machine type's name:
// "e2-standard-2", "n2-custom-4-8192".
func validMachineTypeName(s string) bool {
	if s == "" || len(s) > 63 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// machineType returns the machine type of an insert into zone: t itself
// when it is a path ("zones/ZONE/machineTypes/TYPE" or a URL ending so)
// naming zone, else "zones/ZONE/machineTypes/t".
func machineType(zone, t string) (string, error) {
	if !strings.Contains(t, "/") {
		if !validMachineTypeName(t) {
			return "", invalidf("instance type %q is not a machine type name (like e2-standard-2)", t)
		}
		return "zones/" + zone + "/machineTypes/" + t, nil
	}
	i := strings.LastIndex(t, "zones/")
	if i < 0 || (i > 0 && t[i-1] != '/') {
		return "", invalidf("instance type %q is neither a machine type name nor zones/ZONE/machineTypes/TYPE", t)
	}
	name, ok := strings.CutPrefix(t[i:], "zones/"+zone+"/machineTypes/")
	if !ok || !validMachineTypeName(name) {
		return "", invalidf("instance type %q is not a machine type of zone %s (zones/%s/machineTypes/TYPE)", t, zone, zone)
	}
	return t, nil
}

// region returns the region of a zone: "us-central1" for "us-central1-a".
func region(zone string) string { return zone[:strings.LastIndexByte(zone, '-')] }

// plan checks req and builds its insert. Every error is permanent and
// matches ErrInvalidRequest.
func (d *Driver) plan(req cloudswitch.ProvisionRequest) (plan, error) {
	if err := req.Check(cloudswitch.GCP); err != nil {
		return plan{}, invalidf("provision: %v", err)
	}
	switch {
	case !labelValuePattern.MatchString(req.Owner):
		return plan{}, invalidf("provision: owner %q is not a label value (up to 63 lowercase letters, digits, '_' or '-')", req.Owner)
	}
	workspace, err := ownership.EncodeLabel(req.WorkspaceID)
	if err != nil {
		return plan{}, invalidf("provision: workspace id cannot be stored in a label: %v", err)
	}
	token, err := ownership.EncodeLabel(req.Token)
	if err != nil {
		return plan{}, invalidf("provision: token cannot be stored in a label: %v", err)
	}
	var installation string
	if req.Installation != "" {
		if installation, err = ownership.EncodeLabel(req.Installation); err != nil {
			return plan{}, invalidf("provision: installation id cannot be stored in a label: %v", err)
		}
	}
	zone := req.Compute.Region
	if zone == "" {
		zone = d.cfg.zone
	}
	switch {
	case zone == "":
		return plan{}, invalidf("provision: no zone: Compute.Region is empty and the driver has no default zone (WithZone)")
	case !zonePattern.MatchString(zone):
		return plan{}, invalidf("provision: %q is not a zone (like us-central1-a)", zone)
	case len(d.cfg.zones) > 0 && !slices.Contains(d.cfg.zones, zone):
		return plan{}, invalidf("provision: zone %s is not among the zones the driver lists (WithZones %v): its VM could not be found again", zone, d.cfg.zones)
	}
	mt, err := machineType(zone, req.Compute.InstanceType)
	if err != nil {
		return plan{}, err
	}
	image := req.Compute.Image
	if image == "" {
		image = d.cfg.sourceImage
	}
	if !resourcePattern.MatchString(image) {
		return plan{}, invalidf("provision: %q is not an image path", image)
	}

	name := ownership.Name(req.Token)
	labels := maps.Clone(d.cfg.labels)
	if labels == nil {
		labels = make(map[string]string, 3)
	}
	labels[ownership.OwnerKey] = req.Owner
	labels[ownership.WorkspaceKey] = workspace
	labels[ownership.TokenKey] = token
	if installation != "" {
		labels[ownership.InstallationKey] = installation
	}

	nic := &computepb.NetworkInterface{}
	if d.cfg.network != "" {
		nic.Network = proto.String(d.cfg.network)
	}
	if s := d.cfg.subnetwork; s != "" {
		if !strings.Contains(s, "/") {
			s = "regions/" + region(zone) + "/subnetworks/" + s
		}
		nic.Subnetwork = proto.String(s)
	}
	params := &computepb.AttachedDiskInitializeParams{SourceImage: proto.String(image)}
	if d.cfg.diskSizeGB > 0 {
		params.DiskSizeGb = proto.Int64(d.cfg.diskSizeGB)
	}
	resource := &computepb.Instance{
		Name:        proto.String(name),
		MachineType: proto.String(mt),
		Labels:      labels,
		Disks: []*computepb.AttachedDisk{{
			Boot:             proto.Bool(true),
			AutoDelete:       proto.Bool(true), // deleting the VM deletes its disk: nothing keeps billing
			Type:             proto.String("PERSISTENT"),
			InitializeParams: params,
		}},
		NetworkInterfaces: []*computepb.NetworkInterface{nic},
	}
	if len(d.cfg.metadata) > 0 {
		md := &computepb.Metadata{}
		for _, k := range slices.Sorted(maps.Keys(d.cfg.metadata)) {
			md.Items = append(md.Items, &computepb.Items{Key: proto.String(k), Value: proto.String(d.cfg.metadata[k])})
		}
		resource.Metadata = md
	}
	if d.cfg.serviceAccount != "" {
		resource.ServiceAccounts = []*computepb.ServiceAccount{{Email: proto.String(d.cfg.serviceAccount), Scopes: slices.Clone(d.cfg.scopes)}}
	}
	return plan{
		zone: zone, name: name, path: "zones/" + zone + "/instances/" + name,
		requestID: RequestID(req.Token), workspace: workspace, token: token, installation: installation,
		image: image, resource: resource,
	}, nil
}

// Provision creates the VM req describes, or returns the one an earlier
// request with the same token created.
//
// The instance is named ownership.Name(req.Token) — names are unique per
// zone — and inserted with requestId RequestID(req.Token), labelled with
// the owner, the workspace, the token and the installation (when
// req.Installation is set); then its operation is polled
// until DONE and its error, if any, read (the SDK's Wait alone does not fail
// on one). An insert whose operation fails (QUOTA_EXCEEDED, …) is a
// permanent *OperationError and leaves no instance. A repeated insert is
// answered by Compute Engine with the first one's operation (same
// requestId), or, past its deduplication window, with 409 alreadyExists;
// either way the instance is read back and returned only if its labels name
// req.Owner and req.Token (and no other installation than
// req.Installation) — someone else's instance with that name is
// cloudswitch.ErrNotOurs, never adopted. The Instance returned names the
// machine type the VM runs and the image its boot disk was created from.
//
// Refused requests (ErrInvalidRequest) cost no API call. An insert Compute
// Engine answers with a 4xx (403, 400, a 404 for a missing image or machine
// type, 429, …) is a refusal (cloudswitch.ErrRefused): it created nothing.
// Errors after the insert may have been accepted are never refusals: they
// are transient (or the context's), and calling Provision again with the
// same request settles them; a failed insert operation is an
// *OperationError.
func (d *Driver) Provision(ctx context.Context, req cloudswitch.ProvisionRequest) (cloudswitch.Instance, error) {
	p, err := d.plan(req)
	if err != nil {
		return cloudswitch.Instance{}, err
	}
	if err := ctx.Err(); err != nil {
		return cloudswitch.Instance{}, fmt.Errorf("gcp: provision %s: %w", p.path, err)
	}
	log := d.cfg.log.With("zone", p.zone, "instance", p.name)
	accepted := false // the insert may have created the instance
	// Watched: an insert net/http sent twice may have acted the first time,
	// whatever the second attempt met.
	call := transport.Watch(ctx)
	op, err := d.instances.Insert(call, &computepb.InsertInstanceRequest{
		Project: d.project, Zone: p.zone, RequestId: proto.String(p.requestID), InstanceResource: p.resource,
	}, noRetry)
	switch {
	case err == nil:
		accepted = true
		log.DebugContext(ctx, "gcp: insert accepted", "operation", op.Name())
		done, err := d.wait(ctx, p.zone, op.Proto())
		if err != nil {
			return cloudswitch.Instance{}, uncertain(ctx, "zoneOperations.get (insert of "+p.path+")", err)
		}
		opErr := operationError("insert", p.path, done)
		if opErr != nil && !nameTaken(opErr) {
			log.DebugContext(ctx, "gcp: insert failed", "operation", opErr.Name, "status", opErr.HTTPStatus, "codes", opErr.Codes)
			return cloudswitch.Instance{}, scrub(fmt.Errorf("gcp: provision: %w", opErr))
		}
		accepted = opErr == nil
	case isAlreadyExists(err):
		log.DebugContext(ctx, "gcp: the instance name is taken; reading its labels")
	default:
		return cloudswitch.Instance{}, fail(call, "instances.insert "+p.path, "", err)
	}
	return d.adopt(ctx, p, req, accepted)
}

// nameTaken reports whether a failed insert failed because the name is
// taken, which Provision treats as it treats a 409 alreadyExists.
func nameTaken(e *OperationError) bool {
	return e.HTTPStatus == 409 || slices.Contains(e.Codes, "RESOURCE_ALREADY_EXISTS")
}

// adopt reads back the instance p names after an insert that succeeded or
// found the name taken, and returns it if its labels say it was created for
// req. accepted says the insert may have created the instance: then no
// error of adopt is a refusal.
func (d *Driver) adopt(ctx context.Context, p plan, req cloudswitch.ProvisionRequest, accepted bool) (cloudswitch.Instance, error) {
	got, err := d.instances.Get(ctx, &computepb.GetInstanceRequest{Project: d.project, Zone: p.zone, Instance: p.name}, noRetry)
	if err != nil {
		if classify(ctx, p.path, err) == notFound {
			return cloudswitch.Instance{}, scrub(fmt.Errorf("gcp: provision: instance %s was created for this token and has been deleted since; a token names one VM for good (%v)", p.path, err))
		}
		return cloudswitch.Instance{}, uncertain(ctx, "instances.get "+p.path, err)
	}
	labels := got.GetLabels()
	installation, labelled := labels[ownership.InstallationKey]
	var mismatch string
	switch {
	case labels[ownership.OwnerKey] != req.Owner || labels[ownership.TokenKey] != p.token:
		d.cfg.log.WarnContext(ctx, "gcp: an instance not created for this token has its name", "zone", p.zone, "instance", p.name)
		mismatch = "its labels do not say it was created for this token and owner"
	case labels[ownership.WorkspaceKey] != p.workspace:
		mismatch = fmt.Sprintf("it was created with this token for another workspace (label %q): a token belongs to one workspace", labels[ownership.WorkspaceKey])
	case labelled && p.installation != "" && installation != p.installation:
		mismatch = fmt.Sprintf("it was created with this token by another installation (label %q)", installation)
	}
	if mismatch != "" {
		if accepted {
			// The insert was accepted: it is not for this call to say that
			// nothing happened.
			return cloudswitch.Instance{}, scrub(fmt.Errorf("gcp: provision %s: the instance with the token's name is not this request's: %s", p.path, mismatch))
		}
		return cloudswitch.Instance{}, scrub(fmt.Errorf("gcp: provision %s: the instance with the token's name is left alone, %s: %w", p.path, mismatch, cloudswitch.ErrNotOurs))
	}
	switch healthOf(got.GetStatus()) {
	case settling:
		return cloudswitch.Instance{}, fmt.Errorf("gcp: provision %s: the instance is %s; call again once it has settled: %w", p.path, got.GetStatus(), cloudswitch.ErrTransient)
	case down:
		return cloudswitch.Instance{}, fmt.Errorf("gcp: provision %s: %w: %s", p.path, ErrInstanceDown, got.GetStatus())
	}
	inst, err := instanceOf(got)
	if err != nil {
		return cloudswitch.Instance{}, scrub(fmt.Errorf("gcp: provision: %w", err))
	}
	inst.WorkspaceID, inst.Token, inst.Image = req.WorkspaceID, req.Token, p.image
	d.cfg.log.DebugContext(ctx, "gcp: provisioned", "zone", p.zone, "instance", p.name, "status", got.GetStatus())
	return inst, nil
}
