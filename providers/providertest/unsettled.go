package providertest

import (
	"errors"
	"slices"

	"github.com/cloudswitch/cloudswitch"
)

// The cases of this file hold a driver to what real clouds do and kind
// emulators do not: a VM busy with another action, credentials that see
// another project or account, a VM that exists but is down. Each runs only
// when the harness can ask its cloud for the behaviour.

// deprovisionBusy: a delete answered "another action runs on the VM" is to
// be retried, and is not a refusal — the running action may be the VM's
// own deletion.
func (s *suite) deprovisionBusy() {
	ctx := s.t.Context()
	if s.h.Busy == nil {
		s.t.Skip("providertest: Harness.Busy is nil")
	}
	inst := s.provision(s.req("ws-busy"))
	s.h.Busy(OpDeprovision, 1)
	err := s.note(s.h.Provider.Deprovision(ctx, inst))
	switch {
	case err == nil:
		s.t.Fatal("Deprovision succeeded although the cloud answered that the VM is busy")
	case !errors.Is(err, cloudswitch.ErrTransient):
		s.t.Errorf("a busy VM's delete: %v; want ErrTransient (it clears when the running action ends)", err)
	case errors.Is(err, cloudswitch.ErrRefused):
		s.t.Errorf("a busy VM's delete: %v; want no refusal (an action runs on the VM: its outcome is unknown)", err)
	case errors.Is(err, cloudswitch.ErrInstanceNotFound):
		s.t.Errorf("a busy VM's delete: %v; want no \"not found\"", err)
	}
	if got := ids(s.listed(s.owner)); !slices.Equal(got, []string{inst.ID}) {
		s.t.Fatalf("after a busy answer, Instances = %v; want [%s]", got, inst.ID)
	}
	if err := s.note(s.h.Provider.Deprovision(ctx, inst)); err != nil {
		s.t.Errorf("Deprovision once the VM is no longer busy: %v", err)
	}
}

// foreignCredentials: credentials of another project or account may be
// told "not found" about every VM; a driver that takes that for "gone"
// reports every switch's old VM destroyed while it runs on.
func (s *suite) foreignCredentials() {
	ctx := s.t.Context()
	if s.h.ForeignCredentials == nil {
		s.t.Skip("providertest: Harness.ForeignCredentials is nil")
	}
	inst := s.provision(s.req("ws-foreign"))
	s.h.ForeignCredentials(true)
	err := s.note(s.h.Provider.Deprovision(ctx, inst))
	s.h.ForeignCredentials(false)
	if err == nil || errors.Is(err, cloudswitch.ErrInstanceNotFound) {
		s.t.Errorf("Deprovision with credentials of another project: %v; want an error that is not \"gone\"", err)
	}
	if got := ids(s.listed(s.owner)); !slices.Equal(got, []string{inst.ID}) {
		s.t.Fatalf("Deprovision with foreign credentials changed the VMs: listed %v; want [%s]", got, inst.ID)
	}
	if err := s.note(s.h.Provider.Deprovision(ctx, inst)); err != nil {
		s.t.Errorf("Deprovision with the right credentials: %v", err)
	}
}

// provisionDown: Provision repeated with the token of a VM that exists but
// is down (stopped, dead on launch) never reports it provisioned, and never
// claims that nothing happened.
func (s *suite) provisionDown() {
	ctx := s.t.Context()
	if s.h.SetDown == nil {
		s.t.Skip("providertest: Harness.SetDown is nil")
	}
	req := s.req("ws-down")
	inst := s.provision(req)
	s.h.SetDown(inst)
	got, err := s.h.Provider.Provision(ctx, req)
	s.note(err)
	if err == nil {
		s.t.Fatalf("Provision returned %+v, a VM that is down, as provisioned", got)
	}
	if errors.Is(err, cloudswitch.ErrRefused) {
		s.t.Errorf("Provision of a token whose VM is down: %v; want no refusal (the VM was created)", err)
	}
}
