package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"text/tabwriter"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/fleet"
)

// workspaceRow is one workspace as status prints it.
type workspaceRow struct {
	ID       string                `json:"id"`
	Version  int64                 `json:"version"`
	Compute  cloudswitch.Compute   `json:"compute"`
	Instance *cloudswitch.Instance `json:"instance,omitempty"`
	Pending  *pendingRow           `json:"pending,omitempty"`
	Error    string                `json:"error,omitempty"`
}

type pendingRow struct {
	ID    string              `json:"id"`
	Phase cloudswitch.Phase   `json:"phase"`
	To    cloudswitch.Compute `json:"to"`
	Error string              `json:"last_error,omitempty"`
}

func rowOf(w cloudswitch.Workspace) workspaceRow {
	r := workspaceRow{ID: w.ID, Version: w.Version, Compute: w.Compute, Instance: w.Instance}
	if in := w.Pending; in != nil {
		r.Pending = &pendingRow{ID: in.ID, Phase: in.Phase, To: in.To, Error: in.LastError}
	}
	return r
}

// workspaces streams the selected workspaces (every one when none is
// selected), or only the pending ones, from the store alone.
func (s *session) workspaces(ctx context.Context, sel fleet.Selection, selected, pendingOnly bool) iter.Seq2[cloudswitch.Workspace, error] {
	if !selected && pendingOnly {
		return s.store.Pending(ctx)
	}
	if !selected {
		return s.store.List(ctx)
	}
	return func(yield func(cloudswitch.Workspace, error) bool) {
		for w, err := range sel.Workspaces(ctx, s.store) {
			if pendingOnly && err == nil && w.Pending == nil {
				continue
			}
			if !yield(w, err) {
				return
			}
		}
	}
}

func statusCmd(ctx context.Context, args []string, std stdio) error {
	var sel selectFlags
	var cfg config
	fs := cfg.flagSet("status", std)
	sel.register(fs)
	pendingOnly := fs.Bool("pending", false, "only workspaces with a switch in flight")
	asJSON := fs.Bool("json", false, "JSON lines even on a terminal")
	if err := parse(fs, args, std.getenv); err != nil {
		return err
	}
	s, selection, selected, err := cfg.openSelected(ctx, &sel, false, std)
	if err != nil {
		return err
	}
	defer s.close()

	table := std.outIsTerminal && !*asJSON
	enc := json.NewEncoder(std.out)
	tw := tabwriter.NewWriter(std.out, 0, 4, 2, ' ', 0)
	if table {
		fmt.Fprintln(tw, "WORKSPACE\tVERSION\tPROVIDER\tTYPE\tREGION\tVM\tPENDING")
	}
	n, pending, bad := 0, 0, 0
	for w, err := range s.workspaces(ctx, selection, selected, *pendingOnly) {
		row := rowOf(w)
		if err != nil {
			if w.ID == "" {
				_ = tw.Flush()
				return err
			}
			row.Error = err.Error()
			bad++
		}
		n++
		if w.Pending != nil {
			pending++
		}
		if !table {
			if err := enc.Encode(row); err != nil {
				return err
			}
			continue
		}
		vm, pend := "-", "-"
		if w.Instance != nil {
			vm = w.Instance.ID
		}
		if row.Pending != nil {
			pend = fmt.Sprintf("%s at %s to %s", row.Pending.ID, row.Pending.Phase, row.Pending.To.Provider)
		}
		if row.Error != "" {
			pend = "error: " + row.Error
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\n", w.ID, w.Version, cloudswitch.NormalizeProvider(w.Compute.Provider),
			w.Compute.InstanceType, w.Compute.Region, vm, pend)
	}
	if table {
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintf(std.out, "%d workspaces, %d with a switch pending, %d unreadable\n", n, pending, bad)
	}
	if bad > 0 {
		return &exitError{code: exitPartial, err: fmt.Errorf("%d workspaces could not be read", bad)}
	}
	return nil
}

func resumeCmd(ctx context.Context, args []string, std stdio) error {
	var sel selectFlags
	var cfg config
	fs := cfg.flagSet("resume", std)
	sel.register(fs)
	if err := parse(fs, args, std.getenv); err != nil {
		return err
	}
	s, selection, selected, err := cfg.openSelected(ctx, &sel, false, std)
	if err != nil {
		return err
	}
	defer s.close()
	sw, err := s.switcher(nil)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(std.out)
	var ids []string
	// Read first, resume after: a listing is not held open across writes.
	for w, err := range s.workspaces(ctx, selection, selected, true) {
		if err != nil && w.ID == "" {
			return err
		}
		ids = append(ids, w.ID)
	}
	failed := 0
	for _, id := range ids {
		if ctx.Err() != nil {
			break
		}
		res, err := sw.Resume(ctx, id)
		out := struct {
			ID         string              `json:"id"`
			Switched   bool                `json:"switched"`
			RolledBack bool                `json:"rolled_back"`
			Compute    cloudswitch.Compute `json:"compute"`
			Error      string              `json:"error,omitempty"`
		}{ID: id, Switched: res.Switched, RolledBack: res.RolledBack, Compute: res.Workspace.Compute}
		if err != nil {
			out.Error = err.Error()
			failed++
		}
		_ = enc.Encode(out)
	}
	if failed > 0 {
		return &exitError{code: exitPartial, err: fmt.Errorf("%d of %d switches could not be settled", failed, len(ids))}
	}
	return nil
}

func reconcileCmd(ctx context.Context, args []string, std stdio) error {
	var cfg config
	fs := cfg.flagSet("reconcile", std)
	deleteOrphans := fs.Bool("delete-orphans", false, "destroy the orphaned VMs found (default: report them)")
	fs.DurationVar(&cfg.control.Grace, "grace", cloudswitch.DefaultGracePeriod, "how old a VM no record points at must be to count as an orphan")
	if err := parse(fs, args, std.getenv); err != nil {
		return err
	}
	s, err := cfg.open(ctx, std.err)
	if err != nil {
		return err
	}
	defer s.close()
	sw, err := s.switcher(nil)
	if err != nil {
		return err
	}
	rec, err := sw.Reconciler(cfg.control.ReconcilerOptions(*deleteOrphans)...)
	if err != nil {
		return err
	}
	report, err := rec.Reconcile(ctx)
	out := struct {
		Listed   map[string]int         `json:"listed"`
		Resumed  []string               `json:"resumed"`
		Pending  int                    `json:"pending"`
		Orphans  []cloudswitch.Instance `json:"orphans"`
		Deleted  []cloudswitch.Instance `json:"deleted"`
		Dangling []cloudswitch.Instance `json:"dangling"`
		Withheld string                 `json:"withheld,omitempty"`
		Errors   []string               `json:"errors,omitempty"`
	}{report.Listed, report.Resumed, report.Pending, report.Orphans, report.Deleted, report.Dangling, report.Withheld, nil}
	for _, e := range report.Errors {
		out.Errors = append(out.Errors, e.Error())
	}
	encErr := json.NewEncoder(std.out).Encode(out)
	if err != nil {
		return &exitError{code: exitPartial, err: errors.Join(err, encErr)}
	}
	return encErr
}
