package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"time"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/internal/redact"
)

// workspaceStore is the Store the API needs: a cloudswitch.Store that can
// also create and list workspaces, as sqlstore and memstore can.
type workspaceStore interface {
	cloudswitch.Store
	Create(ctx context.Context, w cloudswitch.Workspace) (cloudswitch.Workspace, error)
	List(ctx context.Context) iter.Seq2[cloudswitch.Workspace, error]
}

// api serves the workspace endpoints.
type api struct {
	store     workspaceStore
	switcher  *cloudswitch.Switcher
	allowlist *cloudswitch.Allowlist
	providers []string // the providers with a driver, sorted
	authorize authorizeFunc
	logger    *slog.Logger
	// timeout bounds a request's work on the store and the providers once
	// it no longer depends on the client (see detached): longer than the
	// Switcher's lease, which bounds every switch already.
	timeout time.Duration
}

// workspaceID is what POST /workspaces accepts as an id: it ends up in the
// VMs' tags and labels on every cloud, whose rules it satisfies as it is.
var workspaceID = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// detached returns the context a switch runs in: the request's values
// without its cancellation, so that a switch keeps going when the client
// hangs up — stopping half-way would only leave it for the reconciler. The
// Switcher bounds every switch by its lease; a.timeout bounds the rest (a
// read, a same-provider write) should the database hang.
func (a *api) detached(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(r.Context()), a.timeout)
}

// createWorkspace serves POST /workspaces: it records the workspace, then
// gives it its first VM with a Switch to the compute it already has.
func (a *api) createWorkspace(w http.ResponseWriter, r *http.Request) {
	var body struct {
		ID      string              `json:"id"`
		Compute cloudswitch.Compute `json:"compute"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	if !workspaceID.MatchString(body.ID) {
		v := body.ID
		writeProblem(w, problem{Type: typeInvalid, Title: "Invalid workspace id", Status: http.StatusBadRequest,
			Field: "id", Value: &v,
			Detail: "id must be 1 to 63 lowercase letters, digits, '-' and '_', starting with a letter or a digit: it names the workspace's VMs on every cloud"})
		return
	}
	if !a.allowed(w, r, body.ID, actionCreate) {
		return
	}
	compute, err := a.firstCompute(body.Compute)
	if err != nil {
		a.fail(w, r, problemFor(body.ID, cloudswitch.Request{}, cloudswitch.Result{}, err), err)
		return
	}
	ws, err := a.store.Create(r.Context(), cloudswitch.Workspace{ID: body.ID, Compute: compute})
	switch {
	case errors.Is(err, cloudswitch.ErrConflict):
		writeProblem(w, problem{Type: typeExists, Title: "Workspace exists", Status: http.StatusConflict, Workspace: body.ID,
			Detail: fmt.Sprintf("a workspace %s exists already: GET it, or PATCH its compute", body.ID)})
		return
	case err != nil:
		a.fail(w, r, storeProblem(body.ID, err), err)
		return
	}

	// A workspace without a VM gets one from a Switch that changes nothing
	// else.
	ctx, cancel := a.detached(r)
	defer cancel()
	res, err := a.switcher.Switch(ctx, ws.ID, cloudswitch.Request{})
	if err != nil {
		p := problemFor(ws.ID, cloudswitch.Request{}, res, err)
		var abort *cloudswitch.AbortError
		if errors.As(err, &abort) {
			p.Type, p.Title = typeProvisionAborted, "Workspace created without a VM"
			p.Detail = fmt.Sprintf("workspace %s was created, but its VM could not be (%s), and nothing runs for it. "+
				"PATCH /workspaces/%s/compute with {} tries again", ws.ID, cause(err), ws.ID)
		}
		a.fail(w, r, p, err)
		return
	}
	w.Header().Set("Location", location(ws.ID))
	writeWorkspace(w, http.StatusCreated, res.Workspace)
}

// firstCompute is the compute of a new workspace: a provider this server
// has a driver for, and an allowed instance type (the provider's default if
// none is given).
func (a *api) firstCompute(c cloudswitch.Compute) (cloudswitch.Compute, error) {
	if c.Provider == "" {
		return c, &cloudswitch.ValidationError{Field: "provider", Value: "", Reason: "is required", Allowed: a.providers}
	}
	if c.InstanceType == "" {
		c.InstanceType = a.allowlist.DefaultInstanceType(c.Provider)
	}
	if err := a.allowlist.Validate(c); err != nil {
		return c, err
	}
	if !slices.Contains(a.providers, c.Provider) {
		return c, &cloudswitch.ValidationError{Field: "provider", Value: c.Provider,
			Reason: "is not enabled on this server", Allowed: a.providers}
	}
	return c, nil
}

// getWorkspace serves GET /workspaces/{id}.
func (a *api) getWorkspace(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !a.allowed(w, r, id, actionRead) {
		return
	}
	ws, err := a.store.Get(r.Context(), id)
	if err != nil {
		a.fail(w, r, storeProblem(id, err), err)
		return
	}
	writeWorkspace(w, http.StatusOK, ws)
}

// listWorkspaces serves GET /workspaces: a JSON array streamed from the
// Store, so that a large table is never held in memory. If the database
// fails after the first element was sent, the array is left unclosed: the
// client sees invalid JSON, never a list that looks complete but is not.
func (a *api) listWorkspaces(w http.ResponseWriter, r *http.Request) {
	if !a.allowed(w, r, "", actionList) {
		return
	}
	rc := http.NewResponseController(w)
	n := 0
	for ws, err := range a.store.List(r.Context()) {
		if err != nil {
			if n == 0 {
				a.fail(w, r, storeProblem("", err), err)
				return
			}
			if r.Context().Err() == nil {
				a.logger.Warn("listing workspaces cut short", "after", n, "err", err)
			}
			return
		}
		b, err := json.Marshal(workspaceOf(ws))
		if err != nil {
			a.logger.Error("encoding a workspace", "workspace", ws.ID, "err", err)
			return
		}
		sep := ","
		if n == 0 {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("X-Content-Type-Options", "nosniff")
			w.WriteHeader(http.StatusOK)
			sep = "["
		}
		if _, err := fmt.Fprintf(w, "%s\n%s", sep, b); err != nil {
			return // the client is gone
		}
		if n++; n%100 == 0 {
			_ = rc.Flush()
		}
	}
	if n == 0 {
		writeJSON(w, http.StatusOK, []workspaceJSON{})
		return
	}
	_, _ = fmt.Fprint(w, "\n]\n")
}

// switchBody is the body of PATCH /workspaces/{id}/compute. An empty field
// keeps its current value, and an empty provider keeps the provider: a
// client that only changes the instance type never moves the workspace.
type switchBody struct {
	Provider        string `json:"provider"`
	InstanceType    string `json:"instance_type"`
	Region          string `json:"region"`
	Image           string `json:"image"`
	ConfirmRecreate bool   `json:"confirm_recreate"`
}

// patchCompute serves PATCH /workspaces/{id}/compute: a Switch.
func (a *api) patchCompute(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !a.allowed(w, r, id, actionSwitch) {
		return
	}
	version, err := ifVersion(r.Header.Get("If-Match"))
	if err != nil {
		writeProblem(w, problem{Type: typeInvalid, Title: "Invalid If-Match", Status: http.StatusBadRequest,
			Workspace: id, Detail: err.Error()})
		return
	}
	var body switchBody
	if !decodeBody(w, r, &body) {
		return
	}
	req := cloudswitch.Request{
		Compute: cloudswitch.Compute{Provider: body.Provider, InstanceType: body.InstanceType,
			Region: body.Region, Image: body.Image},
		ConfirmRecreate: body.ConfirmRecreate,
		IfVersion:       version,
	}
	ctx, cancel := a.detached(r)
	defer cancel()
	res, err := a.switcher.Switch(ctx, id, req)
	if err != nil {
		a.fail(w, r, problemFor(id, req, res, err), err)
		return
	}
	writeWorkspace(w, http.StatusOK, res.Workspace)
}

// resume serves POST /workspaces/{id}/resume: it settles a switch that was
// interrupted, finishing it or undoing it. On a workspace with no switch in
// flight it changes nothing.
func (a *api) resume(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !a.allowed(w, r, id, actionResume) {
		return
	}
	ctx, cancel := a.detached(r)
	defer cancel()
	res, err := a.switcher.Resume(ctx, id)
	if err != nil {
		a.fail(w, r, problemFor(id, cloudswitch.Request{}, res, err), err)
		return
	}
	writeWorkspace(w, http.StatusOK, res.Workspace)
}

// allowed asks authorize, and answers 403 when it refuses.
func (a *api) allowed(w http.ResponseWriter, r *http.Request, id, action string) bool {
	err := a.authorize(r, id, action)
	if err == nil {
		return true
	}
	writeProblem(w, problem{Type: typeForbidden, Title: "Forbidden", Status: http.StatusForbidden, Workspace: id,
		Detail: err.Error()})
	return false
}

// fail answers with p, and logs the errors a client cannot fix (redacted:
// cloudswitch's errors are, a database driver's may not be).
func (a *api) fail(w http.ResponseWriter, r *http.Request, p problem, err error) {
	err = redact.Error(err)
	switch {
	case p.Status == http.StatusAccepted:
		w.Header().Set("Location", location(p.Workspace))
		a.logger.Warn("switch journaled, not finished", "method", r.Method, "path", r.URL.Path, "err", err)
	case p.Status >= 500:
		a.logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "status", p.Status, "err", err)
	}
	writeProblem(w, p)
}

func location(id string) string {
	return "/workspaces/" + url.PathEscape(id)
}
