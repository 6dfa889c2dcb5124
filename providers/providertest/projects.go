package providertest

import (
	"errors"
	"slices"

	"github.com/cloudswitch/cloudswitch"
)

// otherProjectNeverGone: credentials that cannot see the project (or
// account) a VM was created in get "not found" for it, as for every VM of
// that project. A driver that took that for "gone" would make every switch
// forget, and leak, its old VM; it must report an error that is not
// ErrInstanceNotFound, and destroy nothing.
func (s *suite) otherProjectNeverGone() {
	if s.h.OtherProject == nil {
		s.t.Skip("providertest: Harness.OtherProject is nil")
	}
	other := s.h.OtherProject(s.t)
	req := s.req("ws-elsewhere")
	inst := s.provision(req)
	err := s.note(other.Deprovision(ctx, inst))
	if err == nil || errors.Is(err, cloudswitch.ErrInstanceNotFound) {
		s.t.Errorf("Deprovision of VM %s with credentials of another project: got %v; want an error that is not ErrInstanceNotFound (the VM is not gone)", inst.ID, err)
	}
	if got := ids(s.listed(s.owner)); !slices.Equal(got, []string{inst.ID}) {
		s.t.Fatalf("after a Deprovision with another project's credentials, Instances = %v; want [%s] untouched", got, inst.ID)
	}
}
