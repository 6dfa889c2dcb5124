package fleet_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/fleet"
	"github.com/cloudswitch/cloudswitch/providers/memprovider"
)

// mixedWorld holds one workspace of each shape a fleet has.
func mixedWorld(t *testing.T) (*world, []string) {
	w := newWorld(t)
	w.add(t, "aws-vm", cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.medium", Region: "us-east-1"}, true)
	w.add(t, "aws-novm", cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.large"}, false)
	w.add(t, "legacy", cloudswitch.Compute{InstanceType: "t3.medium"}, true) // stored before providers: AWS
	w.add(t, "hz-vm", cloudswitch.Compute{Provider: cloudswitch.Hetzner, InstanceType: "cpx31", Region: "fsn1"}, true)
	w.add(t, "hz-novm", cloudswitch.Compute{Provider: cloudswitch.Hetzner, InstanceType: "cpx21"}, false)
	w.add(t, "gcp-vm", cloudswitch.Compute{Provider: cloudswitch.GCP, InstanceType: "e2-small"}, true)
	// A record whose VM is on another provider than its compute: the
	// Switcher refuses to guess which is right.
	stray := w.hz.Add(owner, "mismatch", cloudswitch.Compute{Provider: cloudswitch.Hetzner, InstanceType: "cpx31"})
	_, err := w.store.Create(t.Context(), cloudswitch.Workspace{ID: "mismatch",
		Compute: cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.medium"}, Instance: &stray})
	require.NoError(t, err)
	// A workspace with a switch in flight.
	_, err = w.store.Create(t.Context(), cloudswitch.Workspace{ID: "pending",
		Compute: cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.medium"},
		Pending: &cloudswitch.Intent{ID: "sw-1", Strategy: cloudswitch.BreakBeforeMake, Phase: cloudswitch.PhaseDeprovision,
			From:   cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.medium"},
			To:     cloudswitch.Compute{Provider: cloudswitch.GCP, InstanceType: "e2-small"},
			Holder: "sw-1", Claims: 1, LeaseExpires: farFuture}})
	require.NoError(t, err)
	return w, []string{"aws-vm", "aws-novm", "legacy", "hz-vm", "hz-novm", "gcp-vm", "mismatch", "pending", "missing"}
}

// The requests a fleet is moved with, each planned over every shape.
var planRequests = map[string]cloudswitch.Request{
	"to hetzner, confirmed":         {Compute: cloudswitch.Compute{Provider: cloudswitch.Hetzner}, ConfirmRecreate: true},
	"to gcp with a type, confirmed": {Compute: cloudswitch.Compute{Provider: cloudswitch.GCP, InstanceType: "e2-medium"}, ConfirmRecreate: true},
	"to hetzner, unconfirmed":       {Compute: cloudswitch.Compute{Provider: cloudswitch.Hetzner}},
	"keep provider, new type":       {Compute: cloudswitch.Compute{InstanceType: "t3.large"}},
	"keep provider, new region":     {Compute: cloudswitch.Compute{Region: "eu-west-1"}},
	"keep everything":               {},
	"new region, confirmed":         {Compute: cloudswitch.Compute{Region: "eu-west-1"}, ConfirmRecreate: true},
	"new type, confirmed":           {Compute: cloudswitch.Compute{InstanceType: "t3.large"}, ConfirmRecreate: true},
}

func TestPlanWritesNothingAndCallsNoProviderButPreflight(t *testing.T) {
	for name, req := range planRequests {
		t.Run(name, func(t *testing.T) {
			w, ids := mixedWorld(t)
			before := w.store.updates.Load()
			_, err := w.planner(t).Plan(t.Context(), fleet.IDList(ids...), req)
			require.NoError(t, err)
			assert.Equal(t, before, w.store.updates.Load(), "planning wrote to the store")
			for _, p := range []*memprovider.Provider{w.aws, w.hz, w.gcp.Provider} {
				for _, c := range p.Calls() {
					assert.Equal(t, memprovider.OpPreflight, c.Op, "planning called %s on provider %s (only preflight is allowed)", c.Op, p.Name())
				}
			}
		})
	}
}

// A plan predicts what Switch does with the same request: the same refusals,
// the same VMs destroyed and created, the same record-only edits.
func TestPlanPredictsWhatSwitchDoes(t *testing.T) {
	for name, req := range planRequests {
		t.Run(name, func(t *testing.T) {
			w, ids := mixedWorld(t)
			plan, err := w.planner(t).Plan(t.Context(), fleet.IDList(ids...), req)
			require.NoError(t, err)
			require.Len(t, plan.Steps, len(ids))
			sw := w.switcher(t, nil)
			for _, s := range plan.Steps {
				before, _ := w.store.Get(t.Context(), s.WorkspaceID)
				res, err := sw.Switch(t.Context(), s.WorkspaceID, req)
				if s.Action == fleet.ActionRefuse {
					assert.Error(t, err, "%s: the plan refuses it (%s) but Switch did it", s.WorkspaceID, s.Reason)
					continue
				}
				require.NoError(t, err, "%s: the plan says %s but Switch refused", s.WorkspaceID, s.Action)
				assert.Equal(t, s.Action == fleet.ActionRecreate && s.From.Provider != s.To.Provider, res.Switched,
					"%s: a recreate on another provider ⇔ provider switched", s.WorkspaceID)
				if s.Resize != nil {
					assert.Equal(t, s.To.InstanceType, res.Workspace.Instance.InstanceType, "%s: the VM was resized in place", s.WorkspaceID)
					assert.Equal(t, s.Resize.ID, res.Workspace.Instance.ID, "%s: a resize keeps the VM", s.WorkspaceID)
				}
				assert.Equal(t, s.Destroy != nil, res.Deprovisioned != nil, "%s: planned destroy %v, Switch destroyed %v", s.WorkspaceID, s.Destroy, res.Deprovisioned)
				if s.Destroy != nil && res.Deprovisioned != nil {
					assert.Equal(t, s.Destroy.ID, res.Deprovisioned.ID, "%s: destroyed another VM than planned", s.WorkspaceID)
				}
				assert.Equal(t, s.Create != nil, res.Provisioned != nil, "%s: planned create %v, Switch created %v", s.WorkspaceID, s.Create, res.Provisioned)
				assert.Equal(t, s.To, res.Workspace.Compute, "%s: planned target differs from the stored result", s.WorkspaceID)
				if s.Action == fleet.ActionNone {
					assert.Equal(t, before.Version, res.Workspace.Version, "%s: a step planned as none wrote", s.WorkspaceID)
				}
				assert.Equal(t, before.Version, s.Version, "%s: the step records the planned version", s.WorkspaceID)
			}
		})
	}
}

func TestPlanNamesActionsPerShape(t *testing.T) {
	w, ids := mixedWorld(t)
	plan, err := w.planner(t).Plan(t.Context(), fleet.IDList(ids...), planRequests["to hetzner, confirmed"])
	require.NoError(t, err)
	got := map[string]fleet.Step{}
	for _, s := range plan.Steps {
		got[s.WorkspaceID] = s
	}
	assert.Equal(t, fleet.ActionRecreate, got["aws-vm"].Action)
	assert.Equal(t, "cpx31", got["aws-vm"].To.InstanceType, "a provider change takes the new provider's default type")
	assert.Empty(t, got["aws-vm"].To.Region, "a provider change leaves the region to the driver")
	assert.Equal(t, cloudswitch.AWS, got["legacy"].From.Provider, "an empty stored provider is AWS")
	assert.Equal(t, fleet.ActionRecreate, got["legacy"].Action)
	assert.Equal(t, fleet.ActionNone, got["hz-vm"].Action, "an empty field keeps the current value on the same provider")
	assert.Equal(t, fleet.ActionProvision, got["hz-novm"].Action)
	for _, id := range []string{"mismatch", "pending", "missing"} {
		assert.Equal(t, fleet.ActionRefuse, got[id].Action, id)
		assert.NotEmpty(t, got[id].Reason, id)
	}
	c := plan.Counts()
	assert.Equal(t, map[string]int{cloudswitch.AWS: 2, cloudswitch.GCP: 1}, c.Destroy, "aws-vm and legacy destroy on AWS, gcp-vm on GCP")
	assert.Equal(t, 5, c.Create[cloudswitch.Hetzner])
}

func TestPlanRefusesABadTargetBeforeReadingAnything(t *testing.T) {
	w, ids := mixedWorld(t)
	_, err := w.planner(t).Plan(t.Context(), fleet.IDList(ids...),
		cloudswitch.Request{Compute: cloudswitch.Compute{Provider: cloudswitch.Hetzner, InstanceType: "t3.medium"}, ConfirmRecreate: true})
	require.ErrorIs(t, err, cloudswitch.ErrInvalid)
	var ve *cloudswitch.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "instance_type", ve.Field)
}

func TestPlanAsksPreflightForEachWorkspaceAndRefusesWhatItRefuses(t *testing.T) {
	w := newWorld(t)
	ids := w.addAWS(t, 50)
	req := cloudswitch.Request{Compute: cloudswitch.Compute{Provider: cloudswitch.GCP}, ConfirmRecreate: true}
	plan := w.planAll(t, ids, req)
	assert.EqualValues(t, 50, w.gcp.preflights.Load(), "each of 50 workspaces is preflighted, as Switch preflights each (drivers judge the workspace too)")
	assert.Equal(t, 50, plan.Counts().ByAction[fleet.ActionRecreate])

	w.gcp.refuse = map[string]error{"e2-standard-2": &cloudswitch.ValidationError{Field: "instance_type", Value: "e2-standard-2", Reason: "is not offered in this zone"}}
	plan = w.planAll(t, ids, req)
	assert.Equal(t, 50, plan.Counts().ByAction[fleet.ActionRefuse], "a target preflight refuses is refused")
	assert.Contains(t, plan.Steps[0].Reason, "not offered")

	w.gcp.refuse = map[string]error{"e2-standard-2": errors.Join(errors.New("throttled"), cloudswitch.ErrTransient)}
	plan = w.planAll(t, ids, req)
	assert.Equal(t, 50, plan.Counts().ByAction[fleet.ActionRecreate], "a preflight that could not tell plans the step")
	assert.Contains(t, plan.Steps[0].Warning, "could not tell")
}

func TestPlanSelectsByPredicateOverTheStoresList(t *testing.T) {
	w, _ := mixedWorld(t)
	plan, err := w.planner(t).Plan(t.Context(), fleet.Where("on aws", fleet.OnProvider(cloudswitch.AWS, "")),
		planRequests["to hetzner, confirmed"])
	require.NoError(t, err)
	var got []string
	for _, s := range plan.Steps {
		got = append(got, s.WorkspaceID)
	}
	slices.Sort(got)
	assert.Equal(t, []string{"aws-novm", "aws-vm", "legacy", "mismatch", "pending"}, got)

	plan, err = w.planner(t).Plan(t.Context(), fleet.Where("aws us-east-1", fleet.OnProvider(cloudswitch.AWS, "us-east-1")),
		planRequests["to hetzner, confirmed"])
	require.NoError(t, err)
	require.Len(t, plan.Steps, 1)
	assert.Equal(t, "aws-vm", plan.Steps[0].WorkspaceID)
}

func TestPlanRoundTripsThroughItsFileAndPrintsATable(t *testing.T) {
	w, ids := mixedWorld(t)
	plan, err := w.planner(t).Plan(t.Context(), fleet.IDList(ids...), planRequests["to hetzner, confirmed"])
	require.NoError(t, err)

	var file bytes.Buffer
	counts, err := fleet.WritePlan(&file, plan.Header, plan.All())
	require.NoError(t, err)
	assert.Equal(t, plan.Counts(), counts)
	h, steps, err := fleet.ReadPlan(&file)
	require.NoError(t, err)
	assert.Equal(t, plan.Header, h)
	var back []fleet.Step
	for s, err := range steps {
		require.NoError(t, err)
		back = append(back, s)
	}
	want, _ := json.Marshal(plan.Steps)
	got, _ := json.Marshal(back)
	assert.JSONEq(t, string(want), string(got), "a plan reads back as written")

	var table bytes.Buffer
	_, err = fleet.WriteTable(&table, plan.Header, plan.All())
	require.NoError(t, err)
	out := table.String()
	assert.Contains(t, out, "WORKSPACE")
	assert.Contains(t, out, "aws-vm")
	assert.Contains(t, out, "hetzner:cpx31")
	assert.Contains(t, out, "9 workspaces:")

	_, _, err = fleet.ReadPlan(strings.NewReader(`{"format":"something-else"}` + "\n"))
	assert.ErrorIs(t, err, fleet.ErrBadPlan)
	_, steps, err = fleet.ReadPlan(strings.NewReader(`{"format":"` + fleet.PlanFormat + `"}` + "\n{\"workspace_id\":\"a\",\"bogus\":1}\n"))
	require.NoError(t, err)
	for _, err := range steps {
		assert.ErrorIs(t, err, fleet.ErrBadPlan, "an unknown field is refused, not ignored")
	}
}

func TestPlanResizesInPlaceAndRecreatesForARegionOnTheSameProvider(t *testing.T) {
	w, ids := mixedWorld(t)
	plan := w.planAll(t, ids, planRequests["new type, confirmed"])
	step := plan.Steps[0]
	require.Equal(t, "aws-vm", step.WorkspaceID)
	assert.Equal(t, fleet.ActionResize, step.Action, "a driver that resizes changes the type in place")
	require.NotNil(t, step.Resize)
	assert.Nil(t, step.Destroy)
	assert.Nil(t, step.Create)

	plan = w.planAll(t, ids, planRequests["new region, confirmed"])
	step = plan.Steps[0]
	assert.Equal(t, fleet.ActionRecreate, step.Action, "a new region recreates the VM on the same provider")
	require.NotNil(t, step.Destroy)
	require.NotNil(t, step.Create)
	assert.Equal(t, "eu-west-1", step.Create.Region)

	plan = w.planAll(t, ids, planRequests["keep provider, new region"])
	assert.Equal(t, fleet.ActionRefuse, plan.Steps[0].Action, "a same-provider recreate needs confirmation too")
}
