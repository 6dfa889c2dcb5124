package gcptest

import (
	"errors"
	"maps"
	"slices"
	"time"
)

// State is every instance of every zone, and the id sequence, in a form
// that encodes to JSON, so that a program can keep an emulated cloud across
// its own restarts (Snapshot, then Restore into a new Server). It is not
// part of the Compute Engine API.
type State struct {
	Salt      uint32          `json:"salt"`
	IDs       uint64          `json:"ids"`
	Seq       int             `json:"seq"`
	Instances []StateInstance `json:"instances"`
}

// StateInstance is one instance of a State.
type StateInstance struct {
	ID             uint64            `json:"id"`
	Zone           string            `json:"zone"`
	Name           string            `json:"name"`
	MachineType    string            `json:"machine_type"`
	Status         string            `json:"status"`
	Labels         map[string]string `json:"labels,omitempty"`
	Created        time.Time         `json:"created"`
	SourceImage    string            `json:"source_image,omitempty"`
	DiskSizeGB     int64             `json:"disk_size_gb,omitempty"`
	AutoDelete     bool              `json:"auto_delete,omitempty"`
	Network        string            `json:"network,omitempty"`
	Subnetwork     string            `json:"subnetwork,omitempty"`
	ServiceAccount string            `json:"service_account,omitempty"`
	Scopes         []string          `json:"scopes,omitempty"`
	Metadata       map[string]string `json:"metadata,omitempty"`
}

// Snapshot returns the emulator's instances, operations due by now
// finished. An instance being deleted is left out (its deletion was
// accepted) and one being created is taken as running: a restored server
// has no operation in flight.
func (s *Server) Snapshot() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settle(s.now())
	st := State{Salt: s.salt, IDs: s.ids, Seq: s.seq, Instances: []StateInstance{}}
	for _, zone := range s.zoneNames {
		z := s.zones[zone]
		for _, name := range slices.Sorted(maps.Keys(z.vms)) {
			v := z.vms[name]
			if v.deleting {
				continue
			}
			status := v.status
			if status == StatusProvisioning {
				status = StatusRunning
			}
			st.Instances = append(st.Instances, StateInstance{ID: v.id, Zone: v.zone, Name: v.name,
				MachineType: v.machineType, Status: status, Labels: maps.Clone(v.labels), Created: v.created,
				SourceImage: v.sourceImage, DiskSizeGB: v.diskSizeGB, AutoDelete: v.autoDelete, Network: v.network,
				Subnetwork: v.subnetwork, ServiceAccount: v.serviceAccount, Scopes: slices.Clone(v.scopes),
				Metadata: maps.Clone(v.metadata)})
		}
	}
	return st
}

// Restore loads st into an emulator that holds no instance yet, serving
// the zones of st's instances: the same names, ids, labels and statuses,
// visible to listings at once.
func (s *Server) Restore(st State) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, z := range s.zones {
		if len(z.vms) > 0 {
			return errors.New("gcptest: Restore: the emulator already holds instances")
		}
	}
	for _, si := range st.Instances {
		if s.zones[si.Zone] == nil {
			return errors.New("gcptest: Restore: zone " + si.Zone + " is not served")
		}
	}
	s.salt, s.ids, s.seq = st.Salt, st.IDs, st.Seq
	for _, si := range st.Instances {
		v := &vm{id: si.ID, zone: si.Zone, name: si.Name, machineType: si.MachineType, status: si.Status,
			labels: maps.Clone(si.Labels), created: si.Created, visibleAt: si.Created, sourceImage: si.SourceImage,
			diskSizeGB: si.DiskSizeGB, autoDelete: si.AutoDelete, network: si.Network, subnetwork: si.Subnetwork,
			serviceAccount: si.ServiceAccount, scopes: slices.Clone(si.Scopes), metadata: maps.Clone(si.Metadata)}
		if v.labels == nil {
			v.labels = map[string]string{}
		}
		if v.metadata == nil {
			v.metadata = map[string]string{}
		}
		s.zones[si.Zone].vms[si.Name] = v
	}
	return nil
}
