package gcptest

import (
	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/ownership"
)

// CloudswitchInstance returns i as this module's GCP driver describes an
// instance: its name as id, zone, machine type and source image, and the
// workspace, token and installation its ownership labels encode.
func (i Instance) CloudswitchInstance() cloudswitch.Instance {
	l, _ := ownership.DecodeLabels(i.Labels) // a label that does not decode stays raw
	return cloudswitch.Instance{
		Provider: cloudswitch.GCP, ID: i.Name, Region: i.Zone,
		WorkspaceID: l.Workspace, Token: l.Token, Installation: l.Installation,
		InstanceType: i.MachineType, Image: i.SourceImage, CreatedAt: i.Created,
	}
}

// Live returns every instance that exists now, whatever its status (a
// TERMINATED instance is stopped, not gone) and whatever the listings show,
// sorted by zone and name: the ground truth as cloudswitch.Instance values.
func (s *Server) Live() []cloudswitch.Instance {
	var out []cloudswitch.Instance
	for _, i := range s.Instances() {
		out = append(out, i.CloudswitchInstance())
	}
	return out
}
