package main

import (
	"errors"
	"net/http"

	"github.com/cloudswitch/cloudswitch"
)

// decommission serves DELETE /workspaces/{id}: the workspace is deleted
// with its VM, through the journal — the hook runs, the VM is destroyed,
// then the record goes, so that no VM outlives the record that names it. A
// workspace with a VM needs ?confirm_destroy=true (428 otherwise, nothing
// changed); If-Match makes it conditional on the version. 204 when done,
// 202 when journaled part-way (Resume or the reconciler finishes it).
func (a *api) decommission(w http.ResponseWriter, r *http.Request) {
	id, version, ok := pathIDAndVersion(w, r)
	if !ok {
		return
	}
	confirm := false
	switch v := r.URL.Query().Get("confirm_destroy"); v {
	case "", "false":
	case "true":
		confirm = true
	default:
		writeProblem(w, problem{Type: typeInvalid, Title: "Invalid confirm_destroy", Status: http.StatusBadRequest,
			Workspace: id, Detail: `confirm_destroy is "true" or "false"`})
		return
	}
	if !a.allowed(w, r, authzRequest{Action: actionDecommission, WorkspaceID: id, ConfirmRecreate: confirm}) {
		return
	}
	ctx, cancel := a.detached(r)
	defer cancel()
	res, err := a.switcher.Decommission(ctx, id, cloudswitch.DecommissionRequest{ConfirmDestroy: confirm, IfVersion: version})
	switch {
	case err == nil:
		w.WriteHeader(http.StatusNoContent)
	case errors.Is(err, cloudswitch.ErrConfirmRequired):
		a.fail(w, r, problem{Type: typeConfirmRequired, Title: "Confirmation required", Status: http.StatusPreconditionRequired,
			Workspace: id, Detail: "deleting workspace " + id + " destroys its VM; nothing was changed. " +
				"Send DELETE /workspaces/" + id + "?confirm_destroy=true to go ahead"}, err)
	default:
		// problemFor knows If-Match from the request's IfVersion: 412.
		a.fail(w, r, problemFor(id, cloudswitch.Request{IfVersion: version}, res, err), err)
	}
}
