package awstest

import (
	"errors"
	"time"
)

// State is everything the emulator holds — every instance, with its
// reservation and ClientToken, and the id sequence — in a form that
// encodes to JSON, so that a program can keep an emulated cloud across its
// own restarts (Snapshot, then Restore into a new Server). It is not part of
// the EC2 API.
type State struct {
	Salt      uint32          `json:"salt"`
	Seq       uint64          `json:"seq"`
	Instances []StateInstance `json:"instances"`
}

// StateInstance is one instance of a State.
type StateInstance struct {
	Seq         uint64      `json:"seq"`
	ID          string      `json:"id"`
	Region      string      `json:"region"`
	Reservation string      `json:"reservation"`
	Fingerprint string      `json:"fingerprint,omitempty"`
	LaunchIndex int         `json:"launch_index"`
	Type        string      `json:"type"`
	Image       string      `json:"image"`
	Subnet      string      `json:"subnet,omitempty"`
	KeyName     string      `json:"key_name,omitempty"`
	Groups      []string    `json:"groups,omitempty"`
	ClientToken string      `json:"client_token,omitempty"`
	Tags        [][2]string `json:"tags,omitempty"`
	Launch      time.Time   `json:"launch"`
	VisibleAt   time.Time   `json:"visible_at"`
	State       string      `json:"state"`
	Since       time.Time   `json:"since"`
}

// Snapshot returns the emulator's state, time-based state changes due by
// now applied.
func (s *Server) Snapshot() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	st := State{Salt: s.salt, Seq: s.seq, Instances: make([]StateInstance, 0, len(s.vms))}
	for _, v := range s.vms {
		s.advance(v, now, false)
		si := StateInstance{Seq: v.seq, ID: v.id, Region: v.region, Reservation: v.reservation.id,
			Fingerprint: v.reservation.fingerprint, LaunchIndex: v.launchIndex, Type: v.typ, Image: v.image,
			Subnet: v.subnet, KeyName: v.keyName, Groups: v.groups, ClientToken: v.clientToken,
			Launch: v.launch, VisibleAt: v.visibleAt, State: v.state, Since: v.since}
		for _, t := range v.tags {
			si.Tags = append(si.Tags, [2]string{t.key, t.value})
		}
		st.Instances = append(st.Instances, si)
	}
	return st
}

// Restore loads st into an emulator that holds no instance yet: the same
// ids, states, tags and ClientTokens (a RunInstances retried with a token
// of the State returns its instances).
func (s *Server) Restore(st State) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.vms) > 0 {
		return errors.New("awstest: Restore: the emulator already holds instances")
	}
	s.salt, s.seq = st.Salt, st.Seq
	reservations := make(map[string]*reservation)
	for _, si := range st.Instances {
		res := reservations[si.Reservation]
		if res == nil {
			res = &reservation{id: si.Reservation, fingerprint: si.Fingerprint}
			reservations[si.Reservation] = res
		}
		v := &vm{seq: si.Seq, id: si.ID, region: si.Region, reservation: res, launchIndex: si.LaunchIndex,
			typ: si.Type, image: si.Image, subnet: si.Subnet, keyName: si.KeyName, groups: si.Groups,
			clientToken: si.ClientToken, launch: si.Launch, visibleAt: si.VisibleAt, state: si.State, since: si.Since}
		for _, t := range si.Tags {
			v.tags = append(v.tags, tag{t[0], t[1]})
		}
		res.vms = append(res.vms, v)
		r := s.region(si.Region)
		r.vms = append(r.vms, v)
		if si.ClientToken != "" {
			r.tokens[si.ClientToken] = res
		}
		s.byID[v.id] = v
		s.vms = append(s.vms, v)
	}
	return nil
}
