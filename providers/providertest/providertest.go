// Package providertest checks a cloudswitch.Provider against the contract
// the Switcher and the Reconciler rely on, as testing/fstest.TestFS checks a
// file system: run it on your own driver, against its emulator or a sandbox
// account.
//
//	func TestConformance(t *testing.T) {
//		providertest.Run(t, func(t *testing.T) providertest.Harness {
//			srv := myemulator.NewServer(t)
//			return providertest.Harness{Provider: mydriver.New(srv.Client()), Compute: …, Fail: srv.Fail, …}
//		})
//	}
//
// This module's emulators (awstest, hetznertest, gcptest) each return a
// ready harness for a driver talking to them: srv.Harness(driver).
// To write a driver and its emulator for another cloud, follow the guide
// in this module's providers/README.md.
//
// It checks idempotent provisioning by token (also across a lost response),
// that a VM already gone is success for Deprovision, listing by owner with
// the ownership tags read back and every page followed, the classification
// of errors as transient or permanent, that no secret appears in an error,
// that only the cloud's refusals match cloudswitch.ErrRefused, that a VM
// whose tags name another workspace or installation is never destroyed
// (cloudswitch.ErrNotOurs), and — with the provider as one side of a switch —
// that a switch whose process dies at any step converges, and that a
// deterministic simulation of switchers, resumers, reconcilers and users,
// with faults injected at every call of the driver, breaks no invariant
// (a failure replays with SIM_SEED=n on the same go test command).
package providertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/internal/sim"
	"github.com/cloudswitch/cloudswitch/internal/switchtest"
	"github.com/cloudswitch/cloudswitch/providers/memprovider"
)

// Op names a Provider method for fault injection.
type Op string

// The operations of a Provider. OpList is one page of Instances.
const (
	OpProvision   Op = "provision"
	OpDeprovision Op = "deprovision"
	OpList        Op = "list"
)

// FaultKind is the class of error a harness injects.
type FaultKind int

const (
	// Transient: throttling or a 5xx answer, without effect.
	Transient FaultKind = iota + 1
	// Permanent: an authorization or validation error the cloud returns
	// before it acts: a refusal (cloudswitch.ErrRefused), not transient.
	Permanent
	// Throttled: the cloud's throttling answer: transient and a refusal.
	Throttled
	// ServerError: a 5xx answer, which a cloud may send after it acted:
	// transient, and never a refusal.
	ServerError
)

func (k FaultKind) String() string {
	switch k {
	case Transient:
		return "transient"
	case Permanent:
		return "permanent"
	case Throttled:
		return "throttled"
	case ServerError:
		return "server-error"
	}
	return fmt.Sprintf("FaultKind(%d)", int(k))
}

// Harness is a provider under test and the levers the suite pulls.
type Harness struct {
	// Provider is the driver under test; Name is the provider name it
	// serves (cloudswitch.AWS, …).
	Provider cloudswitch.Provider
	Name     string
	// Compute is a machine the provider can create (Provider set to Name).
	Compute cloudswitch.Compute
	// Fail makes the next n calls of op fail with an error of kind, without
	// effect, as the cloud itself answers that kind (its status and error
	// code). Required, for every FaultKind.
	Fail func(op Op, n int, kind FaultKind)
	// LoseResponse makes the next call of op take effect and then break the
	// connection before the answer. Required.
	LoseResponse func(op Op)
	// SetPageSize, if set, limits how many VMs one page of Instances holds,
	// so the suite can check that every page is followed.
	SetPageSize func(n int)
	// ListCalls, if set, returns the number of listing calls made so far.
	ListCalls func() int
	// Live returns every VM that exists now, whatever the listing delays
	// (the ground truth), with WorkspaceID from its tags. Required for the
	// switch suites.
	Live func(ctx context.Context) ([]cloudswitch.Instance, error)
	// Secrets must never appear in an error (API tokens, keys).
	Secrets []string
	// Hide, if set, makes the VM with this id unknown to the cloud's calls
	// by id (get, delete), as eventual consistency does to a VM just
	// created, until reveal is called; listings are unaffected.
	Hide func(id string) (reveal func())
	// FailCreate, if set, makes the next VM the cloud creates fail after
	// the create call was accepted (a launch that ends terminated, a create
	// action that ends in error).
	FailCreate func()

	// Busy, if set, makes the next n calls of op answer as the cloud does
	// while another action runs on the VM (Compute Engine's 400
	// resourceNotReady, Hetzner's 423 locked), without effect.
	Busy func(op Op, n int)
	// ForeignCredentials, if set, switches the driver's credentials to
	// those of another project or account (on) and back (off): the cloud
	// may then answer "not found" about every VM.
	ForeignCredentials func(on bool)
	// SetDown, if set, leaves inst existing but not running — stopped, or
	// dead right after launch — as someone or something outside the driver
	// would.
	SetDown func(inst cloudswitch.Instance)
}

// Run runs the suite; newHarness returns a harness on fresh state for one
// subtest.
func Run(t *testing.T, newHarness func(t *testing.T) Harness) {
	open := func(t *testing.T) *suite {
		t.Helper()
		h := newHarness(t)
		switch {
		case h.Provider == nil:
			t.Fatal("providertest: Harness.Provider is nil")
		case h.Fail == nil || h.LoseResponse == nil:
			t.Fatal("providertest: Harness.Fail and Harness.LoseResponse are required")
		case h.Compute.Provider != h.Name || h.Name == "":
			t.Fatalf("providertest: Harness.Compute.Provider %q must equal Harness.Name %q", h.Compute.Provider, h.Name)
		}
		return &suite{t: t, h: h, owner: "pt-" + randomHex(4)}
	}
	cases := []struct {
		name string
		fn   func(*suite)
	}{
		{"ProvisionReturnsATaggedVM", (*suite).provisionReturnsTaggedVM},
		{"ProvisionIsIdempotentByToken", (*suite).provisionIdempotent},
		{"ProvisionAfterLostResponseReturnsTheSameVM", (*suite).provisionLostResponse},
		{"DifferentTokensGiveDifferentVMs", (*suite).differentTokens},
		{"DeprovisionDestroysAndGoneIsSuccess", (*suite).deprovisionGone},
		{"DeprovisionAfterLostResponseSucceeds", (*suite).deprovisionLostResponse},
		{"InstancesListsOnlyTheOwnersVMs", (*suite).instancesByOwner},
		{"InstancesFollowsEveryPage", (*suite).instancesPages},
		{"WorkspaceIDsRoundTripThroughTags", (*suite).workspaceIDsRoundTrip},
		{"TransientErrorsMatchErrTransient", (*suite).transientErrors},
		{"PermanentErrorsDoNotMatchErrTransient", (*suite).permanentErrors},
		{"OnlyRefusalsMatchErrRefused", (*suite).refusals},
		{"DeprovisionRefusesAnotherWorkspacesVM", (*suite).deprovisionNotOurs},
		{"DeprovisionRefusesAnotherInstallationsVM", (*suite).deprovisionOtherInstallation},
		{"InstallationRoundTripsThroughTags", (*suite).installationRoundTrip},
		{"DeprovisionOfAVMTheCloudDoesNotShowYetIsNotGone", (*suite).unseenIsNotGone},
		{"AFailedCreateIsNotProvisioned", (*suite).failedCreateIsNotProvisioned},
		{"CancelledContextFails", (*suite).cancelled},
		{"BadRequestsAreRefused", (*suite).badRequests},
		{"DeprovisionOfABusyVMIsTransientNotRefused", (*suite).deprovisionBusy},
		{"NotFoundFromForeignCredentialsIsNotGone", (*suite).foreignCredentials},
		{"ProvisionNeverReturnsAVMThatIsDown", (*suite).provisionDown},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := open(t)
			c.fn(s)
			s.checkSecrets()
		})
	}
	t.Run("Switcher", func(t *testing.T) {
		env := switchtest.Env{
			NewStore: newMemStore,
			NewClouds: func(t *testing.T) []switchtest.Cloud {
				s := open(t)
				if s.h.Live == nil {
					t.Skip("providertest: Harness.Live is nil; skipping the switch suites")
				}
				other := otherProvider(s.h.Name)
				mem := memprovider.New(other, memprovider.WithoutCallLog())
				return []switchtest.Cloud{
					{Name: s.h.Name, Provider: s.h.Provider, Live: s.h.Live},
					{Name: other, Provider: mem, Live: func(context.Context) ([]cloudswitch.Instance, error) { return mem.Live(), nil }},
				}
			},
		}
		t.Run("CrashAtEveryStep", func(t *testing.T) { switchtest.CrashAtEveryStep(t, env) })
		t.Run("RandomFaults", func(t *testing.T) {
			switchtest.RandomFaults(t, env, switchtest.RandomConfig{Rounds: 20, Workspaces: 3})
		})
		t.Run("Simulation", func(t *testing.T) { simulate(t, open) })
	})
}

// simulationSeeds is how many seeds of the deterministic simulation run
// over a driver; SIM_SEEDS=n widens it, SIM_SEED=n replays one.
const simulationSeeds = 2

// simulate runs the deterministic simulation (switchers, resumers,
// reconcilers, users creating and deleting workspaces, crashes, and faults
// injected at every call of the driver) with the driver under test as one
// cloud and an in-memory cloud as the other. The driver's calls run outside
// the simulation's bubble, so that its HTTP connections work as usual.
func simulate(t *testing.T, open func(*testing.T) *suite) {
	cfg := sim.Config{
		Steps: 600,
		NewClouds: func() []sim.Cloud {
			s := open(t)
			if s.h.Live == nil {
				t.Skip("providertest: Harness.Live is nil; skipping the simulation")
			}
			return []sim.Cloud{{Name: s.h.Name, Provider: s.h.Provider, Live: s.h.Live, Outside: true}}
		},
	}
	sim.Check(t, cfg, simulationSeeds)
}

// otherProvider names the in-memory provider on the other side of a switch.
func otherProvider(name string) string {
	for _, p := range []string{cloudswitch.AWS, cloudswitch.Hetzner, cloudswitch.GCP} {
		if p != name {
			return p
		}
	}
	return cloudswitch.AWS
}

type suite struct {
	t     *testing.T
	h     Harness
	owner string
	errs  []error
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func (s *suite) req(workspace string) cloudswitch.ProvisionRequest {
	return cloudswitch.ProvisionRequest{WorkspaceID: workspace, Compute: s.h.Compute, Token: randomHex(16), Owner: s.owner}
}

func (s *suite) note(err error) error {
	if err != nil {
		s.errs = append(s.errs, err)
	}
	return err
}

func (s *suite) provision(req cloudswitch.ProvisionRequest) cloudswitch.Instance {
	ctx := s.t.Context()
	s.t.Helper()
	inst, err := s.h.Provider.Provision(ctx, req)
	if s.note(err) != nil {
		s.t.Fatalf("Provision(%+v): %v", req, err)
	}
	return inst
}

// listed returns the VMs Instances yields for owner.
func (s *suite) listed(owner string) []cloudswitch.Instance {
	ctx := s.t.Context()
	s.t.Helper()
	var out []cloudswitch.Instance
	for inst, err := range s.h.Provider.Instances(ctx, owner) {
		if s.note(err) != nil {
			s.t.Fatalf("Instances(%q): %v", owner, err)
		}
		out = append(out, inst)
	}
	return out
}

func ids(insts []cloudswitch.Instance) []string {
	var out []string
	for _, i := range insts {
		out = append(out, i.ID)
	}
	slices.Sort(out)
	return out
}

func (s *suite) checkSecrets() {
	for _, err := range s.errs {
		for _, secret := range s.h.Secrets {
			if secret != "" && strings.Contains(err.Error(), secret) {
				s.t.Errorf("an error carries a secret: %v", err)
			}
		}
	}
}

func (s *suite) provisionReturnsTaggedVM() {
	req := s.req("ws-tagged")
	inst := s.provision(req)
	if inst.ID == "" || inst.Provider != s.h.Name {
		s.t.Fatalf("Provision returned %+v; want an id and provider %q", inst, s.h.Name)
	}
	if inst.WorkspaceID != req.WorkspaceID || inst.Token != req.Token {
		s.t.Fatalf("Provision returned workspace %q token %q; want %q %q", inst.WorkspaceID, inst.Token, req.WorkspaceID, req.Token)
	}
	listed := s.listed(s.owner)
	if len(listed) != 1 || listed[0].ID != inst.ID || listed[0].WorkspaceID != req.WorkspaceID || listed[0].Token != req.Token {
		s.t.Fatalf("Instances(owner) = %+v; want exactly the VM with its ownership tags read back", listed)
	}
}

func (s *suite) provisionIdempotent() {
	req := s.req("ws-idem")
	first := s.provision(req)
	second := s.provision(req)
	if first.ID != second.ID {
		s.t.Fatalf("the same token gave two VMs: %s and %s", first.ID, second.ID)
	}
	if got := ids(s.listed(s.owner)); !slices.Equal(got, []string{first.ID}) {
		t := s.t
		t.Fatalf("after a repeated Provision, Instances = %v; want exactly [%s]", got, first.ID)
	}
}

func (s *suite) provisionLostResponse() {
	ctx := s.t.Context()
	req := s.req("ws-lost")
	s.h.LoseResponse(OpProvision)
	_, err := s.h.Provider.Provision(ctx, req)
	if s.note(err) == nil {
		s.t.Fatal("Provision succeeded although its response was dropped")
	}
	if !errors.Is(err, cloudswitch.ErrTransient) {
		s.t.Fatalf("a broken connection must be transient (the caller retries with the token): %v", err)
	}
	inst := s.provision(req)
	if got := ids(s.listed(s.owner)); !slices.Equal(got, []string{inst.ID}) {
		s.t.Fatalf("after a lost response and a retry, Instances = %v; want exactly [%s]", got, inst.ID)
	}
}

func (s *suite) differentTokens() {
	a := s.provision(s.req("ws-a"))
	b := s.provision(s.req("ws-a"))
	if a.ID == b.ID {
		t := s.t
		t.Fatalf("two tokens gave one VM %s", a.ID)
	}
}

func (s *suite) deprovisionGone() {
	ctx := s.t.Context()
	inst := s.provision(s.req("ws-gone"))
	if err := s.note(s.h.Provider.Deprovision(ctx, inst)); err != nil {
		s.t.Fatalf("Deprovision: %v", err)
	}
	if got := s.listed(s.owner); len(got) != 0 {
		s.t.Fatalf("Instances lists %v after Deprovision", ids(got))
	}
	err := s.note(s.h.Provider.Deprovision(ctx, inst))
	if err != nil && !errors.Is(err, cloudswitch.ErrInstanceNotFound) {
		s.t.Fatalf("Deprovision of a VM already gone: %v; want nil or ErrInstanceNotFound", err)
	}
	if errors.Is(err, cloudswitch.ErrTransient) {
		s.t.Fatalf("a VM already gone must not look transient: %v", err)
	}
}

func (s *suite) deprovisionLostResponse() {
	ctx := s.t.Context()
	inst := s.provision(s.req("ws-dlost"))
	s.h.LoseResponse(OpDeprovision)
	err := s.note(s.h.Provider.Deprovision(ctx, inst))
	if err == nil {
		s.t.Fatal("Deprovision succeeded although its response was dropped")
	}
	if !errors.Is(err, cloudswitch.ErrTransient) {
		s.t.Fatalf("a broken connection must be transient: %v", err)
	}
	err = s.note(s.h.Provider.Deprovision(ctx, inst))
	if err != nil && !errors.Is(err, cloudswitch.ErrInstanceNotFound) {
		s.t.Fatalf("retrying the Deprovision: %v; want nil or ErrInstanceNotFound", err)
	}
	if got := s.listed(s.owner); len(got) != 0 {
		s.t.Fatalf("Instances lists %v after Deprovision", ids(got))
	}
}

func (s *suite) instancesByOwner() {
	mine := s.provision(s.req("ws-mine"))
	other := s.req("ws-theirs")
	other.Owner = s.owner + "-other"
	theirs := s.provision(other)
	if got := ids(s.listed(s.owner)); !slices.Equal(got, []string{mine.ID}) {
		s.t.Fatalf("Instances(%q) = %v; want only [%s]: another owner's VM %s must never be listed", s.owner, got, mine.ID, theirs.ID)
	}
	if got := ids(s.listed(other.Owner)); !slices.Equal(got, []string{theirs.ID}) {
		s.t.Fatalf("Instances(%q) = %v; want [%s]", other.Owner, got, theirs.ID)
	}
}

func (s *suite) instancesPages() {
	ctx := s.t.Context()
	const n = 7
	if s.h.SetPageSize != nil {
		s.h.SetPageSize(3)
	}
	var want []string
	for i := range n {
		want = append(want, s.provision(s.req(fmt.Sprintf("ws-page-%d", i))).ID)
	}
	slices.Sort(want)
	before := 0
	if s.h.ListCalls != nil {
		before = s.h.ListCalls()
	}
	if got := ids(s.listed(s.owner)); !slices.Equal(got, want) {
		s.t.Fatalf("Instances = %v; want all %d VMs across pages: %v", got, n, want)
	}
	if s.h.SetPageSize != nil && s.h.ListCalls != nil {
		if calls := s.h.ListCalls() - before; calls < 3 {
			s.t.Fatalf("listing %d VMs in pages of 3 took %d calls; want every page followed", n, calls)
		}
	}
	// Stopping early is allowed.
	for range s.h.Provider.Instances(ctx, s.owner) {
		break
	}
}

func (s *suite) workspaceIDsRoundTrip() {
	ctx := s.t.Context()
	for _, id := range []string{"ws-1", "Team_A.Workspace-42", "0f8fad5b-d9cb-469f-a165-70867728950e", "UPPER"} {
		req := s.req(id)
		inst, err := s.h.Provider.Provision(ctx, req)
		if s.note(err) != nil {
			s.t.Fatalf("Provision for workspace %q: %v", id, err)
		}
		if inst.WorkspaceID != id {
			s.t.Fatalf("Provision for workspace %q returned workspace %q", id, inst.WorkspaceID)
		}
		found := false
		for _, l := range s.listed(s.owner) {
			if l.ID == inst.ID {
				found = true
				if l.WorkspaceID != id {
					s.t.Fatalf("Instances read workspace %q back as %q", id, l.WorkspaceID)
				}
			}
		}
		if !found {
			s.t.Fatalf("the VM of workspace %q is not listed", id)
		}
	}
}

func (s *suite) transientErrors() {
	ctx := s.t.Context()
	inst := s.provision(s.req("ws-tr"))
	s.h.Fail(OpProvision, 1, Transient)
	if _, err := s.h.Provider.Provision(ctx, s.req("ws-tr2")); !errors.Is(s.note(err), cloudswitch.ErrTransient) {
		s.t.Errorf("a transient provision error must match ErrTransient: %v", err)
	}
	s.h.Fail(OpDeprovision, 1, Transient)
	if err := s.h.Provider.Deprovision(ctx, inst); !errors.Is(s.note(err), cloudswitch.ErrTransient) {
		s.t.Errorf("a transient deprovision error must match ErrTransient: %v", err)
	}
	s.h.Fail(OpList, 1, Transient)
	var listErr error
	for _, err := range s.h.Provider.Instances(ctx, s.owner) {
		if err != nil {
			listErr = err
			break
		}
	}
	if !errors.Is(s.note(listErr), cloudswitch.ErrTransient) {
		s.t.Errorf("a transient listing error must end the listing with ErrTransient: %v", listErr)
	}
	if err := s.note(s.h.Provider.Deprovision(ctx, inst)); err != nil {
		s.t.Errorf("after the fault, Deprovision: %v", err)
	}
}

func (s *suite) permanentErrors() {
	ctx := s.t.Context()
	inst := s.provision(s.req("ws-pe"))
	s.h.Fail(OpProvision, 1, Permanent)
	_, err := s.h.Provider.Provision(ctx, s.req("ws-pe2"))
	if s.note(err) == nil || errors.Is(err, cloudswitch.ErrTransient) {
		s.t.Errorf("a permanent provision error must not match ErrTransient: %v", err)
	}
	s.h.Fail(OpDeprovision, 1, Permanent)
	err = s.note(s.h.Provider.Deprovision(ctx, inst))
	if err == nil || errors.Is(err, cloudswitch.ErrTransient) || errors.Is(err, cloudswitch.ErrInstanceNotFound) {
		s.t.Errorf("a permanent deprovision error must be neither transient nor not-found: %v", err)
	}
	if got := ids(s.listed(s.owner)); !slices.Equal(got, []string{inst.ID}) {
		s.t.Errorf("a refused deprovision destroyed the VM: listed %v", got)
	}
	s.h.Fail(OpList, 1, Permanent)
	var listErr error
	for _, err := range s.h.Provider.Instances(ctx, s.owner) {
		if err != nil {
			listErr = err
			break
		}
	}
	if s.note(listErr) == nil || errors.Is(listErr, cloudswitch.ErrTransient) {
		s.t.Errorf("a permanent listing error must end the listing, not as transient: %v", listErr)
	}
}

// refusals checks the one distinction the Switcher's "nothing changed" rests
// on: an error matches ErrRefused only when the cloud said it did not act.
func (s *suite) refusals() {
	ctx := s.t.Context()
	inst := s.provision(s.req("ws-ref"))
	type check struct {
		kind               FaultKind
		transient, refused bool
	}
	for _, c := range []check{
		{Permanent, false, true},
		{Throttled, true, true},
		{ServerError, true, false},
	} {
		s.h.Fail(OpProvision, 1, c.kind)
		_, err := s.h.Provider.Provision(ctx, s.req("ws-ref-"+c.kind.String()))
		s.note(err)
		if err == nil || errors.Is(err, cloudswitch.ErrTransient) != c.transient || errors.Is(err, cloudswitch.ErrRefused) != c.refused {
			s.t.Errorf("a %s answer to Provision: got %v; want transient=%v refused=%v", c.kind, err, c.transient, c.refused)
		}
		s.h.Fail(OpDeprovision, 1, c.kind)
		err = s.note(s.h.Provider.Deprovision(ctx, inst))
		if err == nil || errors.Is(err, cloudswitch.ErrTransient) != c.transient || errors.Is(err, cloudswitch.ErrRefused) != c.refused {
			s.t.Errorf("a %s answer to Deprovision: got %v; want transient=%v refused=%v", c.kind, err, c.transient, c.refused)
		}
	}
	if got := ids(s.listed(s.owner)); !slices.Equal(got, []string{inst.ID}) {
		s.t.Fatalf("failed calls changed the VMs: listed %v; want only %s", got, inst.ID)
	}
	// An answer lost after the cloud acted is never a refusal.
	s.h.LoseResponse(OpProvision)
	_, err := s.h.Provider.Provision(ctx, s.req("ws-ref-lost"))
	if s.note(err) == nil || errors.Is(err, cloudswitch.ErrRefused) {
		s.t.Errorf("a Provision whose answer was lost after it took effect: got %v; want an error that is not a refusal", err)
	}
	s.h.LoseResponse(OpDeprovision)
	if err := s.note(s.h.Provider.Deprovision(ctx, inst)); err == nil || errors.Is(err, cloudswitch.ErrRefused) {
		s.t.Errorf("a Deprovision whose answer was lost after it took effect: got %v; want an error that is not a refusal", err)
	}
}

// deprovisionNotOurs: a driver destroys a VM only if its tags name the
// workspace the Instance names.
func (s *suite) deprovisionNotOurs() {
	ctx := s.t.Context()
	req := s.req("ws-mine")
	inst := s.provision(req)
	wrong := inst
	wrong.WorkspaceID = "ws-someone-else"
	err := s.note(s.h.Provider.Deprovision(ctx, wrong))
	if !errors.Is(err, cloudswitch.ErrNotOurs) || !errors.Is(err, cloudswitch.ErrRefused) || errors.Is(err, cloudswitch.ErrInstanceNotFound) {
		s.t.Errorf("Deprovision of VM %s, tagged for %q, as one of %q: got %v; want ErrNotOurs (a refusal, not not-found)",
			inst.ID, req.WorkspaceID, wrong.WorkspaceID, err)
	}
	if got := ids(s.listed(s.owner)); !slices.Equal(got, []string{inst.ID}) {
		s.t.Fatalf("a Deprovision naming another workspace destroyed the VM: listed %v", got)
	}
	if err := s.note(s.h.Provider.Deprovision(ctx, inst)); err != nil {
		s.t.Errorf("Deprovision naming the right workspace: %v", err)
	}
}

// deprovisionOtherInstallation: the same for the installation tag.
func (s *suite) deprovisionOtherInstallation() {
	ctx := s.t.Context()
	req := s.req("ws-inst")
	req.Installation = "inst-a-" + randomHex(4)
	inst := s.provision(req)
	wrong := inst
	wrong.Installation = "inst-b-" + randomHex(4)
	err := s.note(s.h.Provider.Deprovision(ctx, wrong))
	if !errors.Is(err, cloudswitch.ErrNotOurs) {
		s.t.Errorf("Deprovision of VM %s of installation %q as one of %q: got %v; want ErrNotOurs", inst.ID, req.Installation, wrong.Installation, err)
	}
	if got := ids(s.listed(s.owner)); !slices.Equal(got, []string{inst.ID}) {
		s.t.Fatalf("a Deprovision naming another installation destroyed the VM: listed %v", got)
	}
	if err := s.note(s.h.Provider.Deprovision(ctx, inst)); err != nil {
		s.t.Errorf("Deprovision naming the right installation: %v", err)
	}
}

// installationRoundTrip: the installation tag is written at creation and
// read back by Provision and by Instances.
func (s *suite) installationRoundTrip() {
	req := s.req("ws-install")
	req.Installation = "inst-" + randomHex(6)
	inst := s.provision(req)
	if inst.Installation != req.Installation {
		s.t.Errorf("Provision returned installation %q; want %q", inst.Installation, req.Installation)
	}
	listed := s.listed(s.owner)
	if len(listed) != 1 || listed[0].Installation != req.Installation {
		s.t.Errorf("Instances(owner) = %+v; want the VM with installation %q read back from its tags", listed, req.Installation)
	}
	plain := s.provision(s.req("ws-no-install"))
	if plain.Installation != "" {
		s.t.Errorf("a VM created without an installation reads back installation %q", plain.Installation)
	}
}

func (s *suite) cancelled() {
	ctx := s.t.Context()
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.h.Provider.Provision(cctx, s.req("ws-cancel")); s.note(err) == nil {
		s.t.Error("Provision with a cancelled context succeeded")
	}
	if got := s.listed(s.owner); len(got) != 0 {
		s.t.Errorf("Provision with a cancelled context created %v", ids(got))
	}
	for _, err := range s.h.Provider.Instances(cctx, s.owner) {
		if s.note(err) == nil {
			s.t.Error("Instances with a cancelled context yielded a VM without an error")
		}
		break
	}
}

func (s *suite) badRequests() {
	ctx := s.t.Context()
	for name, mutate := range map[string]func(*cloudswitch.ProvisionRequest){
		"empty token":        func(r *cloudswitch.ProvisionRequest) { r.Token = "" },
		"empty owner":        func(r *cloudswitch.ProvisionRequest) { r.Owner = "" },
		"empty workspace":    func(r *cloudswitch.ProvisionRequest) { r.WorkspaceID = "" },
		"other provider":     func(r *cloudswitch.ProvisionRequest) { r.Compute.Provider = otherProvider(s.h.Name) },
		"empty machine type": func(r *cloudswitch.ProvisionRequest) { r.Compute.InstanceType = "" },
	} {
		req := s.req("ws-bad")
		mutate(&req)
		_, err := s.h.Provider.Provision(ctx, req)
		if s.note(err) == nil || errors.Is(err, cloudswitch.ErrTransient) {
			s.t.Errorf("Provision with %s: got %v; want a permanent error", name, err)
		}
	}
	if got := s.listed(s.owner); len(got) != 0 {
		s.t.Errorf("refused requests created %v", ids(got))
	}
}
