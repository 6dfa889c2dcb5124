package soak

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/internal/emulated"
)

// checkNoOrphan checks the guarantee on the settled fleet, from the
// emulators' ground truth rather than from any listing: every workspace
// row the parent created is still there, none has an intent pending, the
// live VMs carrying each workspace's id are exactly the one its record names
// (none when it names none), and no live VM belongs to anything else. A
// report-only Reconciler pass with no grace period must agree: no orphan,
// no record pointing at nothing, nothing to resume, no error.
//
// On failure it logs the fleet: each workspace in trouble with its record,
// every VM that ever carried its id, and what the workers said about it
// (history returns that), the others in a line each.
func (f *fleet) checkNoOrphan(ctx context.Context, t *testing.T, history func(id string) []string) {
	t.Helper()
	troubled := map[string]bool{}
	fail := func(id, format string, args ...any) {
		t.Helper()
		troubled[id] = true
		t.Errorf(format, args...)
	}
	vms := f.set.VMs()
	rows := map[string]cloudswitch.Workspace{}
	for ws, err := range f.store.List(ctx) {
		require.NoError(t, err, "listing the workspaces")
		rows[ws.ID] = ws
	}
	if len(rows) != len(f.ids) {
		t.Errorf("the table holds %d workspaces; the parent created %d, and nobody deletes any", len(rows), len(f.ids))
	}

	live := map[string][]string{} // workspace id → "provider/id" of its live VMs
	liveCount := 0
	for _, vm := range vms {
		if !vm.Live {
			continue
		}
		liveCount++
		if vm.Owner != owner {
			fail(vm.WorkspaceID, "live VM %s/%s carries owner %q, not %q: only the soak creates VMs here", vm.Provider, vm.ID, vm.Owner, owner)
		}
		live[vm.WorkspaceID] = append(live[vm.WorkspaceID], vm.Provider+"/"+vm.ID)
	}
	for _, id := range f.ids {
		ws, ok := rows[id]
		if !ok {
			fail(id, "workspace %s: its row was lost", id)
			continue
		}
		if in := ws.Pending; in != nil {
			fail(id, "workspace %s: intent %s still pending at phase %s after settling", id, in.ID, in.Phase)
		}
		if ws.Instance != nil && ws.Instance.Provider != cloudswitch.NormalizeProvider(ws.Compute.Provider) {
			fail(id, "workspace %s: the record names VM %s/%s but its compute is on %s: a stale pointer",
				id, ws.Instance.Provider, ws.Instance.ID, ws.Compute.Provider)
		}
		got, want := live[id], recorded(ws)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			fail(id, "workspace %s: live VMs %v, but the record names %v (%s): %s", id, got, want, describe(ws), mismatch(got, want))
		}
		delete(live, id)
	}
	for wsID, names := range live {
		fail(wsID, "live VMs %v carry workspace id %q, which is no workspace of the soak: VMs no record points at", names, wsID)
	}
	for id := range rows {
		if !slices.Contains(f.ids, id) {
			fail(id, "workspace %s appeared in the table: nobody created it", id)
		}
	}
	f.checkReconcilerAgrees(ctx, t, liveCount, fail)
	if len(troubled) > 0 {
		f.dump(t, rows, vms, troubled, history)
	}
}

// checkReconcilerAgrees runs a report-only Reconciler pass with no grace
// period over the settled fleet, whose emulators hold live VMs.
func (f *fleet) checkReconcilerAgrees(ctx context.Context, t *testing.T, live int, fail func(id, format string, args ...any)) {
	t.Helper()
	r, err := cloudswitch.NewReconciler(f.store, f.drivers, cloudswitch.WithGracePeriod(0),
		cloudswitch.WithResumeOptions(baseOptions(cloudswitch.WithClock(afterEveryLease))...))
	require.NoError(t, err)
	rep, err := r.Reconcile(ctx)
	if err != nil {
		t.Errorf("a report-only Reconciler pass over the settled fleet failed: %v", err)
	}
	for _, o := range rep.Orphans {
		fail(o.WorkspaceID, "the final Reconciler pass found orphan %s/%s of workspace %s: a VM no record points at", o.Provider, o.ID, o.WorkspaceID)
	}
	for _, d := range rep.Dangling {
		fail(d.WorkspaceID, "the final Reconciler pass found the record of %s naming %s/%s, which %s does not list: a record pointing at nothing",
			d.WorkspaceID, d.Provider, d.ID, d.Provider)
	}
	if len(rep.Resumed) != 0 || rep.Pending != 0 {
		t.Errorf("the final Reconciler pass resumed %v and left %d intents pending; after settling there must be none", rep.Resumed, rep.Pending)
	}
	if n := rep.Listed[cloudswitch.AWS] + rep.Listed[cloudswitch.Hetzner] + rep.Listed[cloudswitch.GCP]; n != live {
		t.Errorf("the final Reconciler pass listed %d VMs (%v); the emulators hold %d live ones: it did not judge them all", n, rep.Listed, live)
	}
}

// recorded returns the VM a record names, spelled "provider/id".
func recorded(ws cloudswitch.Workspace) []string {
	if ws.Instance == nil {
		return nil
	}
	return []string{ws.Instance.Provider + "/" + ws.Instance.ID}
}

// mismatch says what a difference between live and recorded VMs means.
func mismatch(live, recorded []string) string {
	var extra, missing []string
	for _, v := range live {
		if !slices.Contains(recorded, v) {
			extra = append(extra, v)
		}
	}
	for _, v := range recorded {
		if !slices.Contains(live, v) {
			missing = append(missing, v)
		}
	}
	var parts []string
	if len(extra) > 0 {
		parts = append(parts, fmt.Sprintf("%v live with no record pointing at it (billing, untracked)", extra))
	}
	if len(missing) > 0 {
		parts = append(parts, fmt.Sprintf("%v recorded but not live (a record pointing at nothing)", missing))
	}
	return strings.Join(parts, "; ")
}

func describe(ws cloudswitch.Workspace) string {
	s := fmt.Sprintf("compute %s/%s, version %d", ws.Compute.Provider, ws.Compute.InstanceType, ws.Version)
	if in := ws.Pending; in != nil {
		s += fmt.Sprintf(", intent %s at phase %s", in.ID, in.Phase)
	}
	return s
}

// dump logs the fleet after settling, in detail for the workspaces in
// trouble, so that a failure can be read without running it again.
func (f *fleet) dump(t *testing.T, rows map[string]cloudswitch.Workspace, vms []emulated.VM, troubled map[string]bool, history func(id string) []string) {
	t.Helper()
	byWS := map[string][]emulated.VM{}
	for _, vm := range vms {
		byWS[vm.WorkspaceID] = append(byWS[vm.WorkspaceID], vm)
	}
	var b strings.Builder
	b.WriteString("the fleet after settling (* in trouble; the emulators of Hetzner and Compute Engine forget deleted VMs, EC2 keeps them terminated):\n")
	ids := slices.Clone(f.ids)
	for id := range troubled {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	for _, id := range ids {
		ws, ok := rows[id]
		rec := "no row"
		if ok {
			rec = fmt.Sprintf("record names %v (%s)", recorded(ws), describe(ws))
		}
		if !troubled[id] {
			fmt.Fprintf(&b, "    %s: %s\n", id, rec)
			continue
		}
		fmt.Fprintf(&b, "  * %s: %s\n", id, rec)
		for _, vm := range byWS[id] {
			fmt.Fprintf(&b, "        VM %s/%s state=%s live=%v token=%s created=%s\n",
				vm.Provider, vm.ID, vm.State, vm.Live, vm.Token, vm.CreatedAt.Format("15:04:05.000"))
		}
		for _, line := range history(id) {
			fmt.Fprintf(&b, "        %s\n", line)
		}
	}
	t.Log(b.String())
}
