package hetzner

import (
	"fmt"
	"maps"
	"strconv"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/internal/ownership"
)

// labelsFor returns the labels of the server req creates: the driver's extra
// labels and the ownership labels — the owner as it is, the workspace id and
// the token encoded by ownership.EncodeLabel. It fails, permanently, when a
// value cannot be carried in a Hetzner label.
func (d *Driver) labelsFor(req cloudswitch.ProvisionRequest) (map[string]string, error) {
	workspace, err := ownership.EncodeLabel(req.WorkspaceID)
	if err != nil {
		return nil, errorf("provision: workspace id %q cannot be carried in a Hetzner label: %w", req.WorkspaceID, err)
	}
	token, err := ownership.EncodeLabel(req.Token)
	if err != nil {
		return nil, errorf("provision: token %q cannot be carried in a Hetzner label: %w", req.Token, err)
	}
	labels := make(map[string]string, len(d.labels)+3)
	maps.Copy(labels, d.labels)
	labels[ownership.OwnerKey] = req.Owner
	labels[ownership.WorkspaceKey] = workspace
	labels[ownership.TokenKey] = token
	return labels, nil
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
// owner and token. A matching token with another workspace is reported as
// an error: a token reused across workspaces.
func owns(labels map[string]string, req cloudswitch.ProvisionRequest) (bool, error) {
	token, err := ownership.EncodeLabel(req.Token)
	if err != nil {
		return false, err
	}
	if labels[ownership.OwnerKey] != req.Owner || labels[ownership.TokenKey] != token {
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

// instanceOf describes server s as an Instance, with the workspace id and
// token read from its labels. A label that does not decode is reported as
// it is, and decoded reports false.
func instanceOf(s *hcloud.Server) (inst cloudswitch.Instance, decoded bool) {
	inst = cloudswitch.Instance{Provider: name, ID: strconv.FormatInt(s.ID, 10), CreatedAt: s.Created}
	if s.Location != nil {
		inst.Region = s.Location.Name
	}
	decoded = true
	for key, field := range map[string]*string{ownership.WorkspaceKey: &inst.WorkspaceID, ownership.TokenKey: &inst.Token} {
		raw := s.Labels[key]
		v, err := ownership.DecodeLabel(raw)
		if err != nil {
			v, decoded = raw, false
		}
		*field = v
	}
	return inst, decoded
}
