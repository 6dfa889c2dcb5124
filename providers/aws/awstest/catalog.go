package awstest

import (
	"maps"
	"slices"
)

// catalog is what exists in the emulated account: the regions enabled, the
// instance types offered, and the images registered per region. RunInstances
// — a dry run included — refuses what is not in it, as EC2 does: an instance
// type it does not offer (InvalidParameterValue), an image that does not
// exist in the region (InvalidAMIID.NotFound), a region not enabled for the
// account (OptInRequired).
type catalog struct {
	regions map[string]bool
	types   map[string]bool
	// images by region; while no image was added anywhere, every
	// well-formed image id exists in every region.
	images map[string]map[string]bool
}

// DefaultRegions are the regions enabled by default: AWS's commercial and
// GovCloud regions.
var DefaultRegions = []string{
	"us-east-1", "us-east-2", "us-west-1", "us-west-2", "us-gov-east-1", "us-gov-west-1",
	"ca-central-1", "ca-west-1", "mx-central-1", "sa-east-1",
	"eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2",
	"af-south-1", "me-south-1", "me-central-1", "il-central-1",
	"ap-south-1", "ap-south-2", "ap-east-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
	"ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "ap-southeast-7",
}

// defaultFamilies and defaultSizes make the instance types offered by
// default: every size of the general-purpose and compute families that
// cloudswitch's default allowlist draws from, and their neighbours.
var (
	defaultFamilies = []string{"t2", "t3", "t3a", "t4g", "m5", "m6i", "m6a", "m7i", "c5", "c6i", "c7i", "r5", "r6i"}
	defaultSizes    = []string{"nano", "micro", "small", "medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "32xlarge", "metal"}
)

func defaultCatalog() catalog {
	c := catalog{regions: map[string]bool{}, types: map[string]bool{defaultInstType: true}, images: map[string]map[string]bool{}}
	for _, r := range DefaultRegions {
		c.regions[r] = true
	}
	for _, f := range defaultFamilies {
		for _, s := range defaultSizes {
			c.types[f+"."+s] = true
		}
	}
	return c
}

// check returns the error EC2 answers a launch of instanceType from image
// in region with, or nil if all three exist.
func (c *catalog) check(region, instanceType, image string) *apiError {
	switch {
	case !c.regions[region]:
		return &apiError{status: 401, code: "OptInRequired",
			message: "You are not subscribed to this service in region " + region + ". Enable the region for your account."}
	case !c.types[instanceType]:
		return badRequest("InvalidParameterValue", "Invalid value '%s' for InstanceType.", instanceType)
	case len(c.images) > 0 && !c.images[region][image]:
		return badRequest("InvalidAMIID.NotFound", "The image id '[%s]' does not exist", image)
	}
	return nil
}

// AddRegion enables region for the account.
func (s *Server) AddRegion(region string) {
	s.mu.Lock()
	s.catalog.regions[region] = true
	s.mu.Unlock()
}

// RemoveRegion disables region: every call there is refused.
func (s *Server) RemoveRegion(region string) {
	s.mu.Lock()
	delete(s.catalog.regions, region)
	s.mu.Unlock()
}

// AddInstanceType offers instanceType in every region.
func (s *Server) AddInstanceType(instanceType string) {
	s.mu.Lock()
	s.catalog.types[instanceType] = true
	s.mu.Unlock()
}

// AddImage registers image in region. Until the first image is added, every
// well-formed image id exists in every region; from then on only the images
// added exist, each in its region.
func (s *Server) AddImage(region, image string) {
	s.mu.Lock()
	if s.catalog.images[region] == nil {
		s.catalog.images[region] = map[string]bool{}
	}
	s.catalog.images[region][image] = true
	s.mu.Unlock()
}

// InstanceTypes returns the instance types offered, sorted.
func (s *Server) InstanceTypes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.catalog.types))
}
