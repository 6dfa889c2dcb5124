package hetzner

import (
	"fmt"
	"maps"
	"strconv"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/ownership"
)

// labelsFor returns the labels of the server req creates: the driver's extra
// labels and the ownership labels — the owner as it is, the workspace id,
// the token and (when set) the installation encoded by
// ownership.EncodeLabel. It refuses, permanently, a value that cannot be
// carried in a Hetzner label.
func (d *Driver) labelsFor(req cloudswitch.ProvisionRequest) (map[string]string, error) {
	workspace, err := ownership.EncodeLabel(req.WorkspaceID)
	if err != nil {
		return nil, refusef("provision: workspace id %q cannot be carried in a Hetzner label: %w", req.WorkspaceID, err)
	}
	token, err := ownership.EncodeLabel(req.Token)
	if err != nil {
		return nil, refusef("provision: token %q cannot be carried in a Hetzner label: %w", req.Token, err)
	}
	labels := make(map[string]string, len(d.labels)+4)
	maps.Copy(labels, d.labels)
	labels[ownership.OwnerKey] = req.Owner
	labels[ownership.WorkspaceKey] = workspace
	labels[ownership.TokenKey] = token
	if req.Installation != "" {
		installation, err := ownership.EncodeLabel(req.Installation)
		if err != nil {
			return nil, refusef("provision: installation %q cannot be carried in a Hetzner label: %w", req.Installation, err)
		}
		labels[ownership.InstallationKey] = installation
	}
	return labels, nil
}

// labelFor is the label value v is written as: "" for an empty v (no
// label), v encoded by ownership.EncodeLabel otherwise, ok false when v
// cannot be encoded (no server can carry it).
func labelFor(v string) (label string, ok bool) {
	if v == "" {
		return "", true
	}
	label, err := ownership.EncodeLabel(v)
	return label, err == nil
}

// fenced checks, before a delete, that labels do not name another
// workspace or installation than inst names (each when inst names one). A
// label that is missing does not fence, as the Provider contract says: a
// server created before the installation label existed carries none. A
// server without the cloudswitch-owner label was never created by
// cloudswitch and is fenced whatever inst names. It returns nil when the
// server may be touched, and an error matching cloudswitch.ErrNotOurs
// naming the label that disagrees otherwise.
func fenced(labels map[string]string, inst cloudswitch.Instance) error {
	if _, has := labels[ownership.OwnerKey]; !has {
		return fmt.Errorf("no %s label: the server was not created by cloudswitch: %w", ownership.OwnerKey, cloudswitch.ErrNotOurs)
	}
	for _, check := range []struct{ key, want string }{
		{ownership.WorkspaceKey, inst.WorkspaceID},
		{ownership.InstallationKey, inst.Installation},
	} {
		got, has := labels[check.key]
		if check.want == "" || !has {
			continue
		}
		if want, ok := labelFor(check.want); !ok || got != want {
			return fmt.Errorf("label %s is %q, not %q: %w", check.key, got, want, cloudswitch.ErrNotOurs)
		}
	}
	return nil
}

// checkOwner refuses an owner that is not a valid Hetzner label value: it
// could be neither written nor selected.
func checkOwner(owner string) error {
	if owner == "" {
		return errorf("empty owner")
	}
	if _, err := hcloud.ValidateResourceLabels(map[string]any{ownership.OwnerKey: owner}); err != nil {
		return errorf("owner %q is not a valid Hetzner label value (letters, digits, '-', '_' and '.', at most 63, starting and ending with a letter or digit): %w", owner, err)
	}
	return nil
}

// owns reports whether labels say the server was created for req: the same
// owner, token and installation (none when req names none). A matching
// token with another workspace is reported as an error: a token reused
// across workspaces.
func owns(labels map[string]string, req cloudswitch.ProvisionRequest) (bool, error) {
	token, err := ownership.EncodeLabel(req.Token)
	if err != nil {
		return false, err
	}
	installation, ok := labelFor(req.Installation)
	if !ok {
		return false, fmt.Errorf("installation %q cannot be carried in a label", req.Installation)
	}
	if labels[ownership.OwnerKey] != req.Owner || labels[ownership.TokenKey] != token || labels[ownership.InstallationKey] != installation {
		return false, nil
	}
	workspace, err := ownership.EncodeLabel(req.WorkspaceID)
	if err != nil {
		return false, err
	}
	if labels[ownership.WorkspaceKey] != workspace {
		return false, fmt.Errorf("token %q already created a server for workspace label %q, not %q", req.Token, labels[ownership.WorkspaceKey], workspace)
	}
	return true, nil
}

// instanceOf describes server s as an Instance, with the workspace id,
// token and installation read from its labels, and the server type and
// image it runs. A label that does not decode is reported as it is, and
// decoded reports false.
func instanceOf(s *hcloud.Server) (inst cloudswitch.Instance, decoded bool) {
	inst = cloudswitch.Instance{Provider: name, ID: strconv.FormatInt(s.ID, 10), CreatedAt: s.Created}
	if s.Location != nil {
		inst.Region = s.Location.Name
	}
	inst.InstanceType, inst.Image = machineOf(s)
	labels, err := ownership.DecodeLabels(s.Labels)
	inst.WorkspaceID, inst.Token, inst.Installation = labels.Workspace, labels.Token, labels.Installation
	decoded = err == nil
	return inst, decoded
}

// machineOf returns the server type and the image (by name, or by id when it
// has none, as for a snapshot) server s runs, "" for what the API did not
// say.
func machineOf(s *hcloud.Server) (serverType, image string) {
	if s.ServerType != nil {
		serverType = s.ServerType.Name
	}
	if s.Image != nil {
		image = s.Image.Name
		if image == "" && s.Image.ID > 0 {
			image = strconv.FormatInt(s.Image.ID, 10)
		}
	}
	return serverType, image
}
