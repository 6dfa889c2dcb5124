package providertest

import (
	"errors"
	"slices"

	"github.com/cloudswitch/cloudswitch"
)

// The cases of this file hold a driver to what clouds do after they accepted
// a call: a VM the cloud does not show yet (eventual consistency) is not
// gone, and a VM whose creation failed after it was accepted is not
// provisioned. Each runs only when its harness can ask the emulator for the
// behaviour (Harness.Hide, Harness.FailCreate) and is skipped otherwise.

// unseenIsNotGone: a "not found" for a VM that exists — one the cloud does
// not show yet, right after its creation — is not "gone": Deprovision must
// neither succeed nor say ErrInstanceNotFound, or a rollback leaks the VM.
func (s *suite) unseenIsNotGone() {
	ctx := s.t.Context()
	if s.h.Hide == nil {
		s.t.Skip("providertest: Harness.Hide is nil")
	}
	inst := s.provision(s.req("ws-unseen"))
	reveal := s.h.Hide(inst.ID)
	err := s.note(s.h.Provider.Deprovision(ctx, inst))
	if err == nil || errors.Is(err, cloudswitch.ErrInstanceNotFound) {
		s.t.Errorf("Deprovision of VM %s, just created and not yet shown by the cloud: got %v; want an error that is not ErrInstanceNotFound (the VM exists)", inst.ID, err)
	}
	if got := ids(s.listed(s.owner)); !slices.Equal(got, []string{inst.ID}) {
		s.t.Fatalf("after a Deprovision the cloud answered not-found, listed %v; want the VM %s still there", got, inst.ID)
	}
	reveal()
	if err := s.note(s.h.Provider.Deprovision(ctx, inst)); err != nil {
		s.t.Errorf("Deprovision once the cloud shows the VM: %v", err)
	}
	if got := s.listed(s.owner); len(got) != 0 {
		s.t.Errorf("Instances lists %v after Deprovision", ids(got))
	}
}

// failedCreateIsNotProvisioned: a VM whose creation the cloud accepted and
// then failed (a launch that ends terminated, an action that ends in error)
// is never returned as provisioned, and the token never yields a dead VM.
func (s *suite) failedCreateIsNotProvisioned() {
	ctx := s.t.Context()
	if s.h.FailCreate == nil {
		s.t.Skip("providertest: Harness.FailCreate is nil")
	}
	req := s.req("ws-failed")
	s.h.FailCreate()
	inst, err := s.h.Provider.Provision(ctx, req)
	if s.note(err) == nil {
		s.t.Fatalf("Provision returned VM %s although its creation failed", inst.ID)
	}
	inst, err = s.h.Provider.Provision(ctx, req)
	if s.note(err) != nil {
		return // the token is spent: refused, or left for the caller
	}
	for _, l := range s.listed(s.owner) {
		if l.ID == inst.ID {
			return
		}
	}
	s.t.Errorf("Provision again with the token of a failed creation returned VM %s, which is not live", inst.ID)
}
