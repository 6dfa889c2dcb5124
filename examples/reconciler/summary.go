package main

import (
	"context"
	"log/slog"

	"github.com/cloudswitch/cloudswitch"
)

// summarize logs what one pass found and did, naming the VMs concerned: the
// Reconciler's own "reconcile pass done" line counts them, this one says
// which they are, so that an operator can act on a report-mode pass. It is
// a warning when the pass left something for a human: orphans kept, records
// naming VMs that do not exist, or errors.
func summarize(ctx context.Context, logger *slog.Logger, mode string, rep cloudswitch.Report) {
	level := slog.LevelInfo
	kept := len(rep.Orphans) - len(rep.Deleted)
	if kept > 0 || len(rep.Dangling) > 0 || len(rep.Errors) > 0 || len(rep.Blocked) > 0 || rep.Withheld != "" {
		level = slog.LevelWarn
	}
	errs := make([]string, len(rep.Errors))
	for i, err := range rep.Errors {
		errs[i] = err.Error() // redacted by the Reconciler
	}
	logger.LogAttrs(ctx, level, "reconcile summary",
		slog.String("mode", mode),
		slog.Any("listed", rep.Listed),
		slog.Any("resumed", rep.Resumed),
		slog.Int("pending", rep.Pending),
		slog.Any("orphans", vmNames(rep.Orphans)),
		slog.Any("deleted", vmNames(rep.Deleted)),
		slog.Any("dangling", vmNames(rep.Dangling)),
		slog.Any("foreign", rep.Foreign),
		slog.Any("blocked", blockedNames(rep.Blocked)),
		slog.String("withheld", rep.Withheld),
		slog.Any("errors", errs))
}

// vmNames names VMs as provider/id (workspace).
func vmNames(vms []cloudswitch.Instance) []string {
	out := make([]string, len(vms))
	for i, vm := range vms {
		out[i] = vm.Provider + "/" + vm.ID
		if vm.WorkspaceID != "" {
			out[i] += " (" + vm.WorkspaceID + ")"
		}
	}
	return out
}

// blockedNames names blocked switches as workspace: reason.
func blockedNames(bs []cloudswitch.BlockedSwitch) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = b.WorkspaceID + ": " + b.Reason
	}
	return out
}
