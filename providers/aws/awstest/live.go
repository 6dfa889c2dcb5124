package awstest

import (
	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/ownership"
)

// CloudswitchInstance returns i as this module's AWS driver describes an
// instance: its id, region, type and image, and the workspace, token and
// installation of its ownership tags.
func (i Instance) CloudswitchInstance() cloudswitch.Instance {
	return cloudswitch.Instance{
		Provider: cloudswitch.AWS, ID: i.ID, Region: i.Region,
		WorkspaceID: i.Tags[ownership.WorkspaceKey], Token: i.Tags[ownership.TokenKey],
		Installation: i.Tags[ownership.InstallationKey],
		InstanceType: i.Type, Image: i.ImageID, CreatedAt: i.LaunchTime,
	}
}

// Live returns every instance that exists as a VM now (neither shutting
// down nor terminated; see Instance.Live), whatever DescribeInstances shows
// of it, in creation order: the ground truth as cloudswitch.Instance values.
func (s *Server) Live() []cloudswitch.Instance {
	var out []cloudswitch.Instance
	for _, i := range s.Instances() {
		if i.Live() {
			out = append(out, i.CloudswitchInstance())
		}
	}
	return out
}
