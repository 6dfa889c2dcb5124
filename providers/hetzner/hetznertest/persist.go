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
	NextServer int64            `json:"next_server"`
	NextAction int64            `json:"next_action"`
	ImageIDs   map[string]int64 `json:"image_ids,omitempty"`
	Servers    []VM             `json:"servers"`
}

// Snapshot returns the project's state, actions due by now applied. A
// server being deleted is left out: its deletion was accepted, and a
// restored project has no action to finish it.
func (s *Server) Snapshot() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.project
	p.settle(time.Now())
	st := State{NextServer: p.nextServer, NextAction: p.nextAction, ImageIDs: maps.Clone(p.imageIDs), Servers: []VM{}}
	for _, srv := range p.servers {
		if srv.Status == StatusDeleting {
			continue
		}
		vm := snapshot(srv.VM)
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
		srv := &server{VM: snapshot(vm)}
		p.servers = append(p.servers, srv)
		p.byName[vm.Name] = srv
	}
	p.nextServer, p.nextAction = st.NextServer, st.NextAction
	for name, id := range st.ImageIDs {
		p.imageIDs[name] = id
	}
	p.version++
	return nil
}
