package main

import (
	"context"
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
	// regions are, per provider, the only regions VMs may be created in:
	// those its driver lists, so the reconciler sees every VM. A provider
	// missing here takes any region its cloud accepts.
	regions   map[string][]string
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
		invalidID(w, "id", body.ID)
		return
	}
	compute, err := a.firstCompute(body.Compute)
	if err != nil {
		a.fail(w, r, problemFor(body.ID, cloudswitch.Request{}, cloudswitch.Result{}, err), err)
		return
	}
	if !a.allowed(w, r, authzRequest{Action: actionCreate, WorkspaceID: body.ID, Target: &compute}) {
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
			p.Detail = fmt.Sprintf("workspace %s was created, but its VM could not be (%s; the server's log has the cause), and nothing runs for it. "+
				"PATCH /workspaces/%s/compute with {} tries again", ws.ID, abortReason(abort), ws.ID)
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
	return c, a.checkRegion(c.Provider, c.Region)
}

// checkRegion refuses a region of provider that its driver does not list:
// a VM there would be invisible to the reconciler.
func (a *api) checkRegion(provider, region string) error {
	allowed, limited := a.regions[cloudswitch.NormalizeProvider(provider)]
	if region == "" || !limited || slices.Contains(allowed, region) {
		return nil
	}
	return &cloudswitch.ValidationError{Field: "region", Value: region,
		Reason: "is not a region this server creates " + provider + " VMs in", Allowed: allowed}
}

// pathID returns the {id} of the request's path if it follows the rule of
// ids at create; otherwise it answers 400 and returns false. An id that no
// workspace can have (a NUL byte, a slash, upper case) is a malformed
// request, not a missing workspace nor a database failure.
func pathID(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := r.PathValue("id")
	if !workspaceID.MatchString(id) {
		invalidID(w, "", id)
		return "", false
	}
	return id, true
}

// invalidID answers 400 for a workspace id that breaks the rule; field is
// the body field it came from ("" for the path).
func invalidID(w http.ResponseWriter, field, id string) {
	p := problem{Type: typeInvalid, Title: "Invalid workspace id", Status: http.StatusBadRequest, Field: field,
		Detail: "a workspace id is 1 to 63 lowercase letters, digits, '-' and '_', starting with a letter or a digit: it names the workspace's VMs on every cloud"}
	if field != "" && len(id) <= 64 {
		p.Value = &id
	}
	writeProblem(w, p)
}

// getWorkspace serves GET /workspaces/{id}.
func (a *api) getWorkspace(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok || !a.allowed(w, r, authzRequest{Action: actionRead, WorkspaceID: id}) {
		return
	}
	ws, err := a.store.Get(r.Context(), id)
	if err != nil {
		a.fail(w, r, storeProblem(id, err), err)
		return
	}
	writeWorkspace(w, http.StatusOK, ws)
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
	id, version, ok := pathIDAndVersion(w, r)
	if !ok {
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
	target := req.Compute
	if !a.allowed(w, r, authzRequest{Action: actionSwitch, WorkspaceID: id, Target: &target, ConfirmRecreate: req.ConfirmRecreate}) {
		return
	}
	if req.Compute.Region != "" && !a.regionAllowed(w, r, id, req.Compute) {
		return
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
	id, ok := pathID(w, r)
	if !ok || !a.allowed(w, r, authzRequest{Action: actionResume, WorkspaceID: id}) {
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

// regionAllowed checks the region a PATCH asks for against the regions of
// the provider it moves to — the current one when it names none — and
// answers 400 when it is not one. A workspace that cannot be read is left
// to the Switch to report.
func (a *api) regionAllowed(w http.ResponseWriter, r *http.Request, id string, c cloudswitch.Compute) bool {
	provider := c.Provider
	if provider == "" {
		ws, err := a.store.Get(r.Context(), id)
		if err != nil {
			return true
		}
		provider = ws.Compute.Provider
	}
	if err := a.checkRegion(provider, c.Region); err != nil {
		a.fail(w, r, problemFor(id, cloudswitch.Request{}, cloudswitch.Result{}, err), err)
		return false
	}
	return true
}

// allowed asks authorize, and answers 403 when it refuses.
func (a *api) allowed(w http.ResponseWriter, r *http.Request, req authzRequest) bool {
	err := a.authorize(r, req)
	if err == nil {
		return true
	}
	writeProblem(w, problem{Type: typeForbidden, Title: "Forbidden", Status: http.StatusForbidden, Workspace: req.WorkspaceID,
		Detail: err.Error()})
	return false
}

// fail answers with p, and logs the cause with the request's id — the
// problem carries the id, never the cause's text (a database's or a cloud's
// error may name hosts, users, accounts or request ids of theirs). The log
// line is redacted: cloudswitch's errors are, a database driver's may not be.
func (a *api) fail(w http.ResponseWriter, r *http.Request, p problem, err error) {
	err = redact.Error(err)
	attrs := []any{"request_id", requestID(r), "method", r.Method, "path", loggedPath(r), "status", p.Status, "err", err}
	switch {
	case p.Status == http.StatusAccepted:
		w.Header().Set("Location", location(p.Workspace))
		a.logger.Warn("switch journaled, not finished", attrs...)
	case p.Status >= 500:
		a.logger.Error("request failed", attrs...)
	default:
		a.logger.Info("request refused", attrs...)
	}
	writeProblem(w, p)
}

func location(id string) string {
	return "/workspaces/" + url.PathEscape(id)
}
