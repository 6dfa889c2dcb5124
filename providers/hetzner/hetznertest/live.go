package hetznertest

import (
	"strconv"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/ownership"
)

// CloudswitchInstance returns i as this module's Hetzner driver describes a
// server: its id in decimal, location, server type and image, and the
// workspace, token and installation its ownership labels encode.
func (i Instance) CloudswitchInstance() cloudswitch.Instance {
	l, _ := ownership.DecodeLabels(i.Labels) // a label that does not decode stays raw
	return cloudswitch.Instance{
		Provider: cloudswitch.Hetzner, ID: strconv.FormatInt(i.ID, 10), Region: i.Location,
		WorkspaceID: l.Workspace, Token: l.Token, Installation: l.Installation,
		InstanceType: i.Type, Image: i.Image, CreatedAt: i.Created,
	}
}

// Live returns every server of the project that exists now (not being
// deleted; see Instance.Live), whatever the listings show, by ascending id:
// the ground truth as cloudswitch.Instance values.
func (s *Server) Live() []cloudswitch.Instance {
	var out []cloudswitch.Instance
	for _, i := range s.Instances() {
		if i.Live() {
			out = append(out, i.CloudswitchInstance())
		}
	}
	return out
}
