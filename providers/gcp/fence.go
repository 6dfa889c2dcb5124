package gcp

import (
	"fmt"

	"cloud.google.com/go/compute/apiv1/computepb"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/ownership"
)

// fence returns an error matching cloudswitch.ErrNotOurs unless the labels
// of got, the instance inst names, agree with inst: its workspace label
// names inst.WorkspaceID (when set) and its installation label names
// inst.Installation (when set). An undecodable label does not agree; a
// missing one — an instance created outside cloudswitch, or before the
// label existed — is not fenced by it (the cloudswitch.Provider contract).
// Deprovision deletes nothing that fence refuses.
func fence(target string, inst cloudswitch.Instance, got *computepb.Instance) error {
	labels := got.GetLabels()
	for _, f := range []struct{ key, want, what string }{
		{ownership.WorkspaceKey, inst.WorkspaceID, "workspace"},
		{ownership.InstallationKey, inst.Installation, "installation"},
	} {
		if f.want == "" {
			continue
		}
		raw, ok := labels[f.key]
		have, err := ownership.DecodeLabel(raw)
		switch {
		case !ok:
			continue
		case err != nil || have != f.want:
			return scrub(fmt.Errorf("gcp: deprovision %s: the instance is labelled for %s %q, not %q; it is left alone: %w",
				target, f.what, raw, f.want, cloudswitch.ErrNotOurs))
		}
	}
	return nil
}
