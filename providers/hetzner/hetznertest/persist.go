package hetznertest

import (
	"errors"
	"maps"
	"time"
)

// State is the project's servers and id sequences in a form that encodes
// to JSON, so that a program can keep an emulated cloud across its own
// restarts (Snapshot, then Restore into a new Server). It is not part of
// the Hetzner Cloud API.
type State struct {
	NextServer         int64                 `json:"next_server"`
	NextAction         int64                 `json:"next_action"`
	NextPlacementGroup int64                 `json:"next_placement_group,omitempty"`
	ImageIDs           map[string]int64      `json:"image_ids,omitempty"`
	Servers            []Instance            `json:"servers"`
	PlacementGroups    []PlacementGroupState `json:"placement_groups,omitempty"`
}

// PlacementGroupState is one placement group of a State.
type PlacementGroupState struct {
	ID      int64             `json:"id"`
	Name    string            `json:"name"`
	Labels  map[string]string `json:"labels,omitempty"`
	Created time.Time         `json:"created"`
}

// Snapshot returns the project's state, actions due by now applied. A
// server being deleted is left out: its deletion was accepted, and a
// restored project has no action to finish it.
func (s *Server) Snapshot() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.project
	p.settle(time.Now())
	st := State{NextServer: p.ids.server, NextAction: p.ids.action, NextPlacementGroup: p.ids.placementGroup,
		ImageIDs: maps.Clone(p.ids.images), Servers: []Instance{}}
	for _, g := range p.placementGroups {
		st.PlacementGroups = append(st.PlacementGroups, PlacementGroupState{ID: g.id, Name: g.name, Labels: maps.Clone(g.labels), Created: g.created})
	}
	for _, srv := range p.servers {
		if srv.Status == StatusDeleting {
			continue
		}
		vm := snapshot(srv.Instance)
		if vm.Status == StatusInitializing {
			vm.Status = StatusRunning
		}
		st.Servers = append(st.Servers, vm)
	}
	return st
}

// Restore loads st into an emulator whose project has no server yet: the
// same ids, names and labels, visible to listings at once.
func (s *Server) Restore(st State) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.project
	if len(p.servers) > 0 {
		return errors.New("hetznertest: Restore: the project already has servers")
	}
	for _, vm := range st.Servers {
		srv := &server{Instance: snapshot(vm)}
		p.servers = append(p.servers, srv)
		p.byName[vm.Name] = srv
	}
	p.ids.server, p.ids.action = max(p.ids.server, st.NextServer), max(p.ids.action, st.NextAction)
	p.ids.placementGroup = max(p.ids.placementGroup, st.NextPlacementGroup)
	for name, id := range st.ImageIDs {
		p.ids.images[name] = id
	}
	for _, g := range st.PlacementGroups {
		p.placementGroups = append(p.placementGroups, placementGroup{id: g.ID, name: g.Name, labels: maps.Clone(g.Labels), created: g.Created})
	}
	p.version++
	return nil
}
