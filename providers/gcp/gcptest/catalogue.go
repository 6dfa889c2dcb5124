package gcptest

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/protobuf/proto"
)

// DefaultMachineTypes are the machine types every zone of a server offers
// unless a test adds more (AddMachineType): the allowlist's defaults for GCP
// and their e2 and n2 neighbours. Custom machine types
// ("n2-custom-4-8192", "e2-custom-2-4096") are offered in every zone.
var DefaultMachineTypes = []string{
	"e2-micro", "e2-small", "e2-medium", "e2-standard-2", "e2-standard-4", "e2-standard-8",
	"e2-highmem-2", "e2-highmem-4", "e2-highmem-8", "e2-highcpu-2", "e2-highcpu-4", "e2-highcpu-8",
	"n2-standard-2", "n2-standard-4", "n2-standard-8",
}

// DefaultImages are the public images a server knows unless a test adds more
// (AddImage): image families of the debian-cloud, ubuntu-os-cloud,
// rocky-linux-cloud and cos-cloud projects the allowlist allows.
var DefaultImages = []string{
	"projects/debian-cloud/global/images/family/debian-12",
	"projects/debian-cloud/global/images/family/debian-13",
	"projects/ubuntu-os-cloud/global/images/family/ubuntu-2204-lts",
	"projects/ubuntu-os-cloud/global/images/family/ubuntu-2404-lts-amd64",
	"projects/rocky-linux-cloud/global/images/family/rocky-linux-9",
	"projects/cos-cloud/global/images/family/cos-stable",
}

// customMachineType is the name of a custom machine type:
// "[SERIES-]custom-CPUS-MEMORY_MB".
var customMachineType = regexp.MustCompile(`^([a-z][a-z0-9]*-)?custom-([0-9]+)-([0-9]+)(-ext)?$`)

// AddMachineType makes zone offer machine type name ("" zone: every zone
// the server knows), for instances.insert and machineTypes.get.
func (s *Server) AddMachineType(zone, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, z := range s.zoneNames {
		if zone == "" || zone == z {
			s.zones[z].machineTypes[name] = true
		}
	}
}

// AddImage makes the server know an image, by its path
// "projects/PROJECT/global/images/NAME" or an image family's
// "projects/PROJECT/global/images/family/FAMILY", for instances.insert,
// images.get and images.getFromFamily.
func (s *Server) AddImage(path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.images[path] = true
}

// hasMachineType reports whether zone offers machine type name; s.mu is
// held.
func (s *Server) hasMachineType(zone, name string) bool {
	z, ok := s.zones[zone]
	return ok && (z.machineTypes[name] || customMachineType.MatchString(name))
}

// imagePath reads an image reference as an insert's sourceImage may give
// it — a full URL, "projects/P/global/images/…", or "global/images/…" of
// the served project — as "projects/P/global/images/…".
func (s *Server) imagePath(ref string) string {
	ref = strings.TrimPrefix(ref, apiBase)
	if strings.HasPrefix(ref, "global/") {
		ref = projectPath(s.opts.project) + "/" + ref
	}
	return ref
}

// hasImage reports whether the server knows the image at path; s.mu is held.
func (s *Server) hasImage(path string) bool { return s.images[path] }

// machineTypeProto renders a machine type of zone as the API answers it.
func (s *Server) machineTypeProto(zone, name string) *computepb.MachineType {
	cpus, memMB := int32(2), int32(4096)
	if m := customMachineType.FindStringSubmatch(name); m != nil {
		cpus, memMB = atoi32(m[2]), atoi32(m[3])
	}
	return &computepb.MachineType{
		Kind:      proto.String("compute#machineType"),
		Name:      proto.String(name),
		Zone:      proto.String(zone),
		GuestCpus: proto.Int32(cpus),
		MemoryMb:  proto.Int32(memMB),
		SelfLink:  proto.String(apiBase + zonePath(s.opts.project, zone) + "/machineTypes/" + name),
	}
}

// atoi32 reads a small decimal number (checked by a pattern already).
func atoi32(s string) int32 {
	var n int32
	for _, c := range s {
		n = n*10 + int32(c-'0')
		if n > 1<<20 {
			return 1 << 20
		}
	}
	return n
}

// getMachineType serves machineTypes.get: GET
// …/zones/{zone}/machineTypes/{machineType}.
func (s *Server) getMachineType(r *http.Request, _ time.Time) (proto.Message, *apiError) {
	zone, name := r.PathValue("zone"), r.PathValue("machineType")
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.zones[zone]; !ok {
		return nil, notFound(zonePath(s.opts.project, zone))
	}
	if !s.hasMachineType(zone, name) {
		return nil, notFound(zonePath(s.opts.project, zone) + "/machineTypes/" + name)
	}
	return s.machineTypeProto(zone, name), nil
}

// getImage serves images.get (GET /compute/v1/projects/{project}/global/
// images/{image}) and images.getFromFamily (…/global/images/family/
// {family}) for any project: public images are readable by every caller.
func (s *Server) getImage(r *http.Request, _ time.Time) (proto.Message, *apiError) {
	path := projectPath(r.PathValue("project")) + "/global/images/"
	name := r.PathValue("image")
	if family := r.PathValue("family"); family != "" {
		path += "family/" + family
		name = family + "-v20260101"
	} else {
		path += name
	}
	s.mu.Lock()
	known := s.hasImage(path)
	s.mu.Unlock()
	if !known {
		return nil, notFound(path)
	}
	out := &computepb.Image{
		Kind:     proto.String("compute#image"),
		Name:     proto.String(name),
		Status:   proto.String("READY"),
		SelfLink: proto.String(apiBase + projectPath(r.PathValue("project")) + "/global/images/" + name),
	}
	if family := r.PathValue("family"); family != "" {
		out.Family = proto.String(family)
	}
	return out, nil
}

// knownImages returns the default images as a set.
func knownImages() map[string]bool {
	out := make(map[string]bool, len(DefaultImages))
	for _, p := range DefaultImages {
		out[p] = true
	}
	return out
}

// knownMachineTypes returns the default machine types as a set.
func knownMachineTypes() map[string]bool {
	out := make(map[string]bool, len(DefaultMachineTypes))
	for _, n := range slices.Clone(DefaultMachineTypes) {
		out[n] = true
	}
	return out
}
