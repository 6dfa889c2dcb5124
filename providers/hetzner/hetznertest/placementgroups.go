package hetznertest

import (
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud/schema"
)

// placementGroup is a placement group of a project: a free resource the
// cloudswitch driver keeps one of per installation, as evidence of which
// project its credentials see.
type placementGroup struct {
	id      int64
	name    string
	labels  map[string]string
	created time.Time
}

func (g placementGroup) schema() schema.PlacementGroup {
	return schema.PlacementGroup{ID: g.id, Name: g.name, Labels: maps.Clone(g.labels), Created: g.created, Servers: []int64{}, Type: "spread"}
}

// listPlacementGroups is GET /placement_groups, filtered by name.
func (s *Server) listPlacementGroups(r *http.Request, p *project) (int, any, *apiError) {
	name := r.URL.Query().Get("name")
	s.mu.Lock()
	defer s.mu.Unlock()
	out := schema.PlacementGroupListResponse{PlacementGroups: []schema.PlacementGroup{}}
	for _, g := range p.placementGroups {
		if name == "" || g.name == name {
			out.PlacementGroups = append(out.PlacementGroups, g.schema())
		}
	}
	return http.StatusOK, out, nil
}

// createPlacementGroup is POST /placement_groups (type "spread"); a taken
// name is 409 uniqueness_error.
func (s *Server) createPlacementGroup(r *http.Request, p *project) (int, any, *apiError) {
	var req schema.PlacementGroupCreateRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		return 0, nil, &apiError{status: http.StatusBadRequest, code: "json_error", message: "invalid JSON: " + err.Error()}
	}
	if req.Name == "" || req.Type != "spread" {
		return 0, nil, invalidInput("name", "a name and type spread are required")
	}
	g := placementGroup{name: req.Name, labels: map[string]string{}, created: apiTime(time.Now())}
	if req.Labels != nil {
		for k, v := range *req.Labels {
			if !labelKey.MatchString(k) || !labelValue.MatchString(v) {
				return 0, nil, invalidInput("labels", "label %q=%q is not a valid label", k, v)
			}
			g.labels[k] = v
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, other := range p.placementGroups {
		if other.name == g.name {
			return 0, nil, &apiError{status: http.StatusConflict, code: "uniqueness_error", message: "placement group name is already used",
				details: fieldDetails{Fields: []fieldDetail{{Name: "name"}}}}
		}
	}
	p.ids.placementGroup++
	g.id = p.ids.placementGroup
	p.placementGroups = append(p.placementGroups, g)
	return http.StatusCreated, schema.PlacementGroupCreateResponse{PlacementGroup: g.schema()}, nil
}

// PlacementGroups returns the names of the placement groups of the project
// of Token.
func (s *Server) PlacementGroups() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, g := range s.project.placementGroups {
		out = append(out, g.name)
	}
	return out
}
