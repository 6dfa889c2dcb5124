package hetznertest

import (
	"net/http"
	"slices"
	"strconv"

	"github.com/hetznercloud/hcloud-go/v2/hcloud/schema"
)

// DefaultImages are the system images an emulator lists unless WithImages
// adds more: a few of the images Hetzner offers, each for x86 and Arm.
var DefaultImages = []string{"ubuntu-24.04", "ubuntu-22.04", "debian-12", "debian-13", "rocky-9", "fedora-42"}

// WithImages adds system images to those GET /images lists (DefaultImages).
// POST /servers accepts any image name, listed or not (see the package
// doc).
func WithImages(names ...string) Option {
	return func(c *config) error {
		if err := checkNames("WithImages", names, nil); err != nil {
			return err
		}
		for _, n := range names {
			if !slices.Contains(c.images, n) {
				c.images = append(c.images, n)
			}
		}
		return nil
	}
}

// listServerTypes is GET /server_types, filtered by name: the server types
// the project offers, each with the locations it is offered in and whether
// it is available there (not when SetUnavailable says otherwise).
func (s *Server) listServerTypes(r *http.Request, _ *project) (int, any, *apiError) {
	name := r.URL.Query().Get("name")
	s.mu.Lock()
	defer s.mu.Unlock()
	out := schema.ServerTypeListResponse{ServerTypes: []schema.ServerType{}}
	for _, t := range s.cfg.serverTypes {
		if name != "" && name != t {
			continue
		}
		st := s.serverTypeSchema(t)
		for i, l := range s.cfg.locations {
			available := true
			for _, u := range s.unavailable {
				if !u.Placement && (u.ServerType == "" || u.ServerType == t) && (u.Location == "" || u.Location == l) {
					available = false
				}
			}
			st.Locations = append(st.Locations, schema.ServerTypeLocation{ID: int64(i + 1), Name: l, Available: available})
		}
		out.ServerTypes = append(out.ServerTypes, st)
	}
	return http.StatusOK, out, nil
}

// listLocations is GET /locations, filtered by name.
func (s *Server) listLocations(r *http.Request, _ *project) (int, any, *apiError) {
	name := r.URL.Query().Get("name")
	out := schema.LocationListResponse{Locations: []schema.Location{}}
	for _, l := range s.cfg.locations {
		if name == "" || name == l {
			out.Locations = append(out.Locations, s.locationSchema(l))
		}
	}
	return http.StatusOK, out, nil
}

// listImages is GET /images, filtered by name and architecture ("x86" or
// "arm"; default both).
func (s *Server) listImages(r *http.Request, _ *project) (int, any, *apiError) {
	q := r.URL.Query()
	name := q.Get("name")
	archs := q["architecture"]
	if len(archs) == 0 {
		archs = []string{"x86", "arm"}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := schema.ImageListResponse{Images: []schema.Image{}}
	for _, img := range s.cfg.images {
		if name != "" && name != img {
			continue
		}
		for _, a := range archs {
			if a != "x86" && a != "arm" {
				return 0, nil, invalidInput("architecture", "unknown architecture %q", a)
			}
			out.Images = append(out.Images, s.listedImageSchema(img, a))
		}
	}
	return http.StatusOK, out, nil
}

// getImage is GET /images/{id}: an image the emulator lists, by the id it
// lists it with.
func (s *Server) getImage(r *http.Request, _ *project) (int, any, *apiError) {
	id, apiErr := pathID(r)
	if apiErr != nil {
		return 0, nil, apiErr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, img := range s.cfg.images {
		for _, a := range []string{"x86", "arm"} {
			if sch := s.listedImageSchema(img, a); sch.ID == id {
				return http.StatusOK, schema.ImageGetResponse{Image: sch}, nil
			}
		}
	}
	return 0, nil, notFound("image", id)
}

// listedImageSchema is a listed image for one architecture; the Arm one's
// id is the x86 one's plus a million. s.mu must be held.
func (s *Server) listedImageSchema(name, arch string) schema.Image {
	img := *s.imageSchema(name)
	img.Architecture = arch
	if arch == "arm" {
		img.ID += 1_000_000
	}
	img.Description = name + " (" + arch + ")"
	v := strconv.Itoa(len(name))
	img.OSVersion = &v
	return img
}
