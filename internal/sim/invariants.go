package sim

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/cloudswitch/cloudswitch"
)

// The invariants, checked against the ground truth — the store and every
// cloud's live VMs, read without gates — after every step, and at the
// moments the system acts (a VM destroyed, a switch aborted).

// truth is one snapshot of the ground truth.
type truth struct {
	records map[string]cloudswitch.Workspace // existing workspaces
	live    []cloudswitch.Instance           // every live VM of every cloud, Provider set
}

func (w *world) readTruth(ctx context.Context) (truth, error) {
	t := truth{records: make(map[string]cloudswitch.Workspace)}
	for _, id := range w.wsIDs {
		var ws cloudswitch.Workspace
		var err error
		w.run(ctx, w.cfg.StoreOutside, func(ctx context.Context) { ws, err = w.store.Get(ctx, id) })
		switch {
		case err == nil:
			t.records[id] = ws
		case !errors.Is(err, cloudswitch.ErrNotFound):
			return t, fmt.Errorf("sim: reading the ground truth of %s: %w", id, err)
		}
	}
	for _, c := range w.clouds {
		var live []cloudswitch.Instance
		var err error
		w.run(ctx, c.Outside, func(ctx context.Context) { live, err = c.Live(ctx) })
		if err != nil {
			return t, fmt.Errorf("sim: listing the ground truth of %s: %w", c.Name, err)
		}
		for _, inst := range live {
			if inst.Provider == "" {
				inst.Provider = c.Name
			}
			t.live = append(t.live, inst)
		}
	}
	return t, nil
}

func (t truth) find(provider, id string) (cloudswitch.Instance, bool) {
	for _, inst := range t.live {
		if inst.Provider == provider && inst.ID == id {
			return inst, true
		}
	}
	return cloudswitch.Instance{}, false
}

func sameVM(a *cloudswitch.Instance, provider, id string) bool {
	return a != nil && a.ID == id && (a.Provider == "" || a.Provider == provider)
}

// holds reports whether the record's pending intent holds the VM.
func holds(ws cloudswitch.Workspace, inst cloudswitch.Instance) bool {
	in := ws.Pending
	if in == nil {
		return false
	}
	return (in.Token != "" && in.Token == inst.Token) || sameVM(in.Old, inst.Provider, inst.ID) || sameVM(in.New, inst.Provider, inst.ID)
}

// sawWrite learns from a write that landed: a new intent is logged with the
// incarnation of the record it landed on and whether its Switcher had the
// hook, and the writing switch's claim is remembered.
func (w *world) sawWrite(a *actor, stored cloudswitch.Workspace) {
	if w.logClaim(a, stored) && a.claim != nil && a.claim.instance != nil {
		// What the VM runs at the claim, for the AbortError check.
		t, err := w.readTruth(context.Background())
		if err != nil {
			w.violate("%v", err)
			return
		}
		prov := a.claim.instance.Provider
		if prov == "" {
			prov = cloudswitch.NormalizeProvider(a.claim.compute.Provider)
		}
		if inst, live := t.find(prov, a.claim.instance.ID); live {
			a.claim.liveType = inst.InstanceType
		}
	}
}

// logClaim logs an intent seen for the first time and reports whether it
// was.
func (w *world) logClaim(a *actor, stored cloudswitch.Workspace) bool {
	in := stored.Pending
	if in == nil {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.intents[in.ID]; ok {
		return false
	}
	l := &intentLog{id: in.ID, token: in.Token, incarnation: w.incarnation[stored.ID],
		hookNeeded: a.proc.hooks && in.Old != nil}
	w.intents[in.ID] = l
	if in.Token != "" {
		w.byToken[in.Token] = l
	}
	if a.role == "switcher" || a.role == "user" || a.role == "admin" {
		a.claim = &claimSnapshot{intent: l, compute: stored.Compute, instance: cloneInst(stored.Instance), incarnation: l.incarnation}
	}
	return true
}

func cloneInst(i *cloudswitch.Instance) *cloudswitch.Instance {
	if i == nil {
		return nil
	}
	c := *i
	return &c
}

// checkState checks the invariants that hold between any two steps.
func (w *world) checkState() error {
	ctx := context.Background()
	t, err := w.readTruth(ctx)
	if err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	// A record of incarnation k holds only intents claimed on incarnation k:
	// a switch of a deleted workspace never writes to its successor.
	for _, id := range w.wsIDs {
		ws, ok := t.records[id]
		if !ok || ws.Pending == nil {
			continue
		}
		l, known := w.intents[ws.Pending.ID]
		if !known {
			return fmt.Errorf("record %s holds intent %s that no write was seen to claim", id, ws.Pending.ID)
		}
		if l.incarnation != w.incarnation[id] {
			return fmt.Errorf("ABA: record %s (incarnation %d) holds intent %s of its deleted predecessor (incarnation %d): a switch of a deleted workspace wrote to the workspace created again with its id",
				id, w.incarnation[id], ws.Pending.ID, l.incarnation)
		}
	}
	for _, inst := range t.live {
		l := w.byToken[inst.Token]
		if l == nil {
			return fmt.Errorf("VM %s/%s (workspace %s, token %s) was created with a token no journaled intent carries",
				inst.Provider, inst.ID, inst.WorkspaceID, inst.Token)
		}
		ws, ok := t.records[inst.WorkspaceID]
		if !ok || w.incarnation[inst.WorkspaceID] != l.incarnation {
			continue // its workspace is gone: an orphan the Reconciler finds by its tags
		}
		if sameVM(ws.Instance, inst.Provider, inst.ID) || holds(ws, inst) {
			continue
		}
		return fmt.Errorf("leak: VM %s/%s of workspace %s (intent %s) is neither referenced by its record nor held by its pending intent, and the workspace exists (record: instance %s, pending %s)",
			inst.Provider, inst.ID, inst.WorkspaceID, l.id, describeInst(ws.Instance), describeIntent(ws.Pending))
	}
	for _, id := range w.wsIDs {
		ws, ok := t.records[id]
		if !ok || ws.Instance == nil {
			continue
		}
		prov := ws.Instance.Provider
		if prov == "" {
			prov = cloudswitch.NormalizeProvider(ws.Compute.Provider)
		}
		inst, live := t.find(prov, ws.Instance.ID)
		if !live {
			if ws.Pending != nil && sameVM(ws.Pending.Old, prov, ws.Instance.ID) {
				continue // destroyed by the switch replacing it, not yet committed
			}
			return fmt.Errorf("record %s names VM %s/%s, which no longer exists, with no switch replacing it (pending %s)",
				id, prov, ws.Instance.ID, describeIntent(ws.Pending))
		}
		if l := w.byToken[inst.Token]; l != nil && l.incarnation != w.incarnation[id] {
			return fmt.Errorf("ABA: record %s (incarnation %d) names VM %s/%s created for its deleted predecessor (incarnation %d)",
				id, w.incarnation[id], prov, inst.ID, l.incarnation)
		}
	}
	return nil
}

func describeInst(i *cloudswitch.Instance) string {
	if i == nil {
		return "none"
	}
	return i.Provider + "/" + i.ID
}

func describeIntent(in *cloudswitch.Intent) string {
	if in == nil {
		return "none"
	}
	return fmt.Sprintf("%s{%s claims=%d old=%s new=%s token=%s}", in.ID, in.Phase, in.Claims, describeInst(in.Old), describeInst(in.New), in.Token)
}

// checkProvision: a VM is created only for a journaled intent.
func (w *world) checkProvision(req cloudswitch.ProvisionRequest) {
	w.mu.Lock()
	l := w.byToken[req.Token]
	w.mu.Unlock()
	if l == nil {
		w.violate("provision of a VM for workspace %s with token %s, which no journaled intent carries", req.WorkspaceID, req.Token)
	}
}

// checkDestroy runs just before a destroy takes effect: a VM its record
// names is destroyed only by the switch replacing it, after that switch's
// hook ran; a VM a pending intent holds as its new VM only by a rollback.
func (w *world) checkDestroy(a *actor, c Cloud, arg cloudswitch.Instance) {
	ctx := context.Background()
	t, err := w.readTruth(ctx)
	if err != nil {
		w.violate("%v", err)
		return
	}
	inst, live := t.find(c.Name, arg.ID)
	if !live {
		return
	}
	ws, ok := t.records[inst.WorkspaceID]
	w.mu.Lock()
	l := w.byToken[inst.Token]
	inc := w.incarnation[inst.WorkspaceID]
	var hookNeeded, hookDone bool
	var pendingID string
	if ok && ws.Pending != nil {
		pendingID = ws.Pending.ID
		if pl := w.intents[pendingID]; pl != nil {
			hookNeeded = pl.hookNeeded
		}
		hookDone = w.hookDone[pendingID]
	}
	w.mu.Unlock()
	if !ok || l == nil || l.incarnation != inc {
		return // an orphan of a deleted workspace
	}
	who := a.name
	in := ws.Pending
	switch {
	case in != nil && sameVM(in.Old, inst.Provider, inst.ID):
		if hookNeeded && !hookDone {
			w.violate("%s destroyed VM %s/%s of workspace %s before the BeforeDeprovision hook of switch %s ran (the switch was started by a Switcher with the hook)",
				who, inst.Provider, inst.ID, inst.WorkspaceID, pendingID)
		}
	case sameVM(ws.Instance, inst.Provider, inst.ID):
		w.violate("%s destroyed VM %s/%s, which the record of workspace %s names, while no switch replacing it is pending (pending %s)",
			who, inst.Provider, inst.ID, inst.WorkspaceID, describeIntent(in))
	case in != nil && holds(ws, inst) && in.Phase != cloudswitch.PhaseRollback:
		w.violate("%s destroyed VM %s/%s, which switch %s of workspace %s holds as its new VM, outside a rollback (phase %s)",
			who, inst.Provider, inst.ID, in.ID, inst.WorkspaceID, in.Phase)
	}
}

// checkAbort checks an *AbortError: the switch changed nothing. If its
// claim landed, the record still has the compute and VM it had at the
// claim, the VM it ran on is still there, and no VM of the switch's token
// is left.
func (w *world) checkAbort(a *actor, wsID string, err error) {
	claim := a.claim
	if claim == nil {
		return // it never claimed the workspace: no effect was possible
	}
	t, terr := w.readTruth(context.Background())
	if terr != nil {
		w.violate("%v", terr)
		return
	}
	w.mu.Lock()
	inc := w.incarnation[wsID]
	w.mu.Unlock()
	if inc != claim.incarnation {
		return // deleted meanwhile: the record it claimed is gone
	}
	ws, ok := t.records[wsID]
	if !ok {
		return
	}
	msg := fmt.Sprintf("switch %s of %s returned AbortError (%s) but ", claim.intent.id, wsID, firstLine(err))
	if ws.Compute != claim.compute {
		w.violate("%sthe record's compute changed from %+v to %+v", msg, claim.compute, ws.Compute)
		return
	}
	if (ws.Instance == nil) != (claim.instance == nil) || (ws.Instance != nil && ws.Instance.ID != claim.instance.ID) {
		w.violate("%sthe record's VM changed from %s to %s", msg, describeInst(claim.instance), describeInst(ws.Instance))
		return
	}
	if claim.instance != nil {
		prov := claim.instance.Provider
		if prov == "" {
			prov = cloudswitch.NormalizeProvider(claim.compute.Provider)
		}
		inst, live := t.find(prov, claim.instance.ID)
		if !live {
			w.violate("%sits VM %s/%s was destroyed", msg, prov, claim.instance.ID)
			return
		}
		if inst.InstanceType != claim.liveType {
			w.violate("%sits VM %s/%s now runs %q, not %q", msg, prov, claim.instance.ID, inst.InstanceType, claim.liveType)
			return
		}
	}
	for _, inst := range t.live {
		if claim.intent.token != "" && inst.Token == claim.intent.token {
			w.violate("%sVM %s/%s it created is still running", msg, inst.Provider, inst.ID)
			return
		}
	}
}

func firstLine(err error) string {
	s := err.Error()
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}

// checkQuiescent checks the settled system: no intent is left, and the
// fleet is exactly the VMs the records name.
func (w *world) checkQuiescent(ctx context.Context, rep cloudswitch.Report) {
	t, err := w.readTruth(ctx)
	if err != nil {
		w.violate("%v", err)
		return
	}
	var named []string
	for _, id := range w.wsIDs {
		ws, ok := t.records[id]
		if !ok {
			continue
		}
		if ws.Pending != nil {
			w.violate("at quiescence, workspace %s still has intent %s", id, describeIntent(ws.Pending))
			return
		}
		if ws.Instance != nil {
			prov := ws.Instance.Provider
			if prov == "" {
				prov = cloudswitch.NormalizeProvider(ws.Compute.Provider)
			}
			named = append(named, prov+"/"+ws.Instance.ID)
		}
	}
	var fleet []string
	for _, inst := range t.live {
		fleet = append(fleet, inst.Provider+"/"+inst.ID)
	}
	slices.Sort(named)
	slices.Sort(fleet)
	if !slices.Equal(named, fleet) {
		w.violate("at quiescence, the fleet [%s] is not the VMs the records name [%s] (the reconcile pass listed %v, foreign %v, found orphans %s, deleted %s)",
			strings.Join(fleet, " "), strings.Join(named, " "), rep.Listed, rep.Foreign, describeInsts(rep.Orphans), describeInsts(rep.Deleted))
	}
}

func describeInsts(insts []cloudswitch.Instance) string {
	var s []string
	for _, i := range insts {
		s = append(s, i.Provider+"/"+i.ID)
	}
	return "[" + strings.Join(s, " ") + "]"
}
