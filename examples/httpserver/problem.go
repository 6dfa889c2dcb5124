package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cloudswitch/cloudswitch"
)

// How each error of Switch and Resume reaches the client — the table to copy
// into a server of yours (problemFor implements it, in this order):
//
//	error                                     status                       what the client does
//	*cloudswitch.IncompleteError              202 Accepted                 nothing: the switch is journaled and the
//	                                                                       reconciler (or POST …/resume) finishes it
//	*cloudswitch.AbortError, stage read       503 Service Unavailable      retry: the record could not be read, nothing changed
//	*cloudswitch.AbortError                   502 Bad Gateway              retry: a provider or the hook refused, nothing changed
//	cloudswitch.ErrInvalid (*ValidationError) 400 Bad Request              fix the field named, among the allowed values
//	cloudswitch.ErrConfirmRequired            428 Precondition Required    send "confirm_recreate": true
//	cloudswitch.ErrNotFound                   404 Not Found
//	cloudswitch.ErrSwitchInProgress           409 Conflict                 wait for the switch in flight (Retry-After)
//	cloudswitch.ErrConflict, with If-Match    412 Precondition Failed      GET again, retry with the new ETag
//	cloudswitch.ErrConflict                   409 Conflict                 retry: the record changed meanwhile
//	context.Canceled, DeadlineExceeded        503 Service Unavailable      retry
//	anything else                             500 Internal Server Error
//
// The typed errors come first: an IncompleteError may wrap
// ErrSwitchInProgress (another process took the switch over), and it is
// still journaled. A failed compare-and-swap with If-Match is a 412 whether
// the version was already stale when read or changed under the request: in
// both cases the precondition is false, and nothing was written. Without
// If-Match the same conflict is a 409.
//
// A detail says what happened in the API's own words — the stage, whether a
// provider refused or the hook failed — and never quotes an error's text:
// even redacted, a cloud's error carries its request ids and, on AWS, the
// account's IAM ARN, and a database driver's names hosts and users. The
// cause is logged with the request's id, which the problem carries as
// request_id; an error this table does not know is a 500.

// problem is an RFC 9457 problem details object, with the extensions this
// API uses. A 202 Accepted reuses the shape as plain application/json.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`

	Workspace string `json:"workspace,omitempty"` // the workspace concerned
	// For 400: the field refused, its value and the allowed values.
	Field   string   `json:"field,omitempty"`
	Value   *string  `json:"value,omitempty"`
	Allowed []string `json:"allowed,omitempty"`
	// For 202 and 409: the switch in flight, and when its lease expires.
	Intent       string     `json:"intent,omitempty"`
	Stage        string     `json:"stage,omitempty"`
	LeaseExpires *time.Time `json:"lease_expires,omitempty"`
	// For 412: the workspace's current version (its ETag, unquoted).
	CurrentVersion int64 `json:"current_version,omitempty"`
	// RequestID is the request's X-Request-Id: the server's log line about
	// the cause carries it too. The cause itself (a database's or a cloud's
	// text, which may name hosts, accounts or request ids of theirs) is
	// never in a problem.
	RequestID string `json:"request_id,omitempty"`

	retryAfter time.Duration // a Retry-After header, when positive
}

// The problem types: stable identifiers a client compares, not pages to
// fetch.
const (
	typePrefix           = "urn:cloudswitch:problem:"
	typeInvalid          = typePrefix + "invalid-request"
	typeUnauthorized     = typePrefix + "unauthorized"
	typeForbidden        = typePrefix + "forbidden"
	typeNotFound         = typePrefix + "not-found"
	typeExists           = typePrefix + "already-exists"
	typeInProgress       = typePrefix + "switch-in-progress"
	typeConflict         = typePrefix + "conflict"
	typeVersionMismatch  = typePrefix + "version-mismatch"
	typeTooLarge         = typePrefix + "body-too-large"
	typeUnsupportedMedia = typePrefix + "unsupported-media-type"
	typeMethodNotAllowed = typePrefix + "method-not-allowed"
	typeConfirmRequired  = typePrefix + "confirmation-required"
	typeAborted          = typePrefix + "switch-aborted"
	typeIncomplete       = typePrefix + "switch-incomplete"
	typeUnavailable      = typePrefix + "unavailable"
	typeInternal         = typePrefix + "internal"
	typeProvisionAborted = typePrefix + "first-vm-not-created"
)

// problemFor maps the error of Switch or Resume on workspace id to its
// answer (see the table above). req is the request Switch was given (zero
// for Resume); res is what the call returned with err.
func problemFor(id string, req cloudswitch.Request, res cloudswitch.Result, err error) problem {
	from := cloudswitch.NormalizeProvider(res.Workspace.Compute.Provider)
	var (
		incomplete *cloudswitch.IncompleteError
		abort      *cloudswitch.AbortError
		invalid    *cloudswitch.ValidationError
	)
	switch {
	case errors.As(err, &incomplete):
		p := problem{Type: typeIncomplete, Title: "Switch accepted, not finished", Status: http.StatusAccepted,
			Workspace: id, Intent: incomplete.IntentID, Stage: string(incomplete.Stage),
			Detail: fmt.Sprintf("the switch of workspace %s did not finish at its %s step and is journaled (the server's log has the cause). "+
				"The server's reconciler finishes or undoes it once its lease expires, or POST /workspaces/%s/resume does; "+
				"GET /workspaces/%s shows its progress", id, incomplete.Stage, id, id)}
		if in := res.Workspace.Pending; in != nil && in.ID == incomplete.IntentID {
			p.LeaseExpires = &in.LeaseExpires
		}
		return p

	case errors.As(err, &abort) && abort.Stage == cloudswitch.StageRead:
		return problem{Type: typeUnavailable, Title: "Workspace could not be read", Status: http.StatusServiceUnavailable,
			Workspace: id, retryAfter: time.Second,
			Detail: fmt.Sprintf("workspace %s could not be read, so nothing was changed; retry shortly", id)}

	case errors.As(err, &abort):
		return problem{Type: typeAborted, Title: "Switch aborted, nothing changed", Status: http.StatusBadGateway,
			Workspace: id, Stage: string(abort.Stage),
			Detail: fmt.Sprintf("the switch of workspace %s was given up at its %s step and changed nothing (%s; the server's log has the cause). "+
				"The workspace keeps its compute on %s and its VM; retrying is safe", id, abort.Stage, abortReason(abort), from)}

	case errors.As(err, &invalid):
		p := problem{Type: typeInvalid, Title: "Invalid compute", Status: http.StatusBadRequest,
			Workspace: id, Field: invalid.Field, Value: &invalid.Value, Allowed: invalid.Allowed}
		p.Detail = fmt.Sprintf("%s %q %s", invalid.Field, invalid.Value, cmp.Or(invalid.Reason, "is not allowed"))
		if len(invalid.Allowed) > 0 {
			p.Detail += "; allowed: " + strings.Join(invalid.Allowed, ", ")
		}
		return p

	case errors.Is(err, cloudswitch.ErrInvalid):
		return problem{Type: typeInvalid, Title: "Invalid compute", Status: http.StatusBadRequest,
			Workspace: id, Detail: "the requested compute is not valid for this workspace (the server's log says why)"}

	case errors.Is(err, cloudswitch.ErrConfirmRequired):
		what := fmt.Sprintf("moving workspace %s from %s to %s", id, from, req.Compute.Provider)
		if req.Compute.Provider == "" || req.Compute.Provider == from {
			what = fmt.Sprintf("this change of workspace %s's region, image or (where its cloud cannot resize) instance type", id)
		}
		return problem{Type: typeConfirmRequired, Title: "Confirmation required", Status: http.StatusPreconditionRequired,
			Workspace: id,
			Detail:    what + " destroys its VM and creates a new one; nothing was changed. Send \"confirm_recreate\": true to go ahead"}

	case errors.Is(err, cloudswitch.ErrNotFound):
		return notFound(id)

	case errors.Is(err, cloudswitch.ErrSwitchInProgress):
		p := problem{Type: typeInProgress, Title: "Switch in progress", Status: http.StatusConflict, Workspace: id,
			retryAfter: time.Second,
			Detail: fmt.Sprintf("workspace %s is being switched, and only one switch at a time may run; "+
				"nothing was changed. GET /workspaces/%s shows the switch; retry once it is done", id, id)}
		if in := res.Workspace.Pending; in != nil {
			p.Intent, p.LeaseExpires = in.ID, &in.LeaseExpires
			p.Detail = fmt.Sprintf("workspace %s is being switched from %s to %s (switch %s, next step: %s), "+
				"and only one switch at a time may run; nothing was changed. Retry once it is done: "+
				"if it was interrupted, the reconciler or POST /workspaces/%s/resume settles it once its lease expires at %s",
				id, cloudswitch.NormalizeProvider(in.From.Provider), in.To.Provider, in.ID, in.Phase, id,
				in.LeaseExpires.UTC().Format(time.RFC3339))
			if wait := time.Until(in.LeaseExpires); wait > p.retryAfter {
				p.retryAfter = wait
			}
		}
		return p

	case errors.Is(err, cloudswitch.ErrConflict) && req.IfVersion != 0:
		p := problem{Type: typeVersionMismatch, Title: "Version mismatch", Status: http.StatusPreconditionFailed,
			Workspace: id,
			Detail: fmt.Sprintf("workspace %s is no longer at version %d (If-Match): it changed since you read it, "+
				"and nothing was changed. GET it again and retry with its new ETag", id, req.IfVersion)}
		if v := res.Workspace.Version; res.Workspace.ID != "" && v != req.IfVersion {
			p.CurrentVersion = v
			p.Detail = fmt.Sprintf("workspace %s is at version %d, not %d (If-Match): it changed since you read it, "+
				"and nothing was changed. GET it again and retry with its new ETag", id, v, req.IfVersion)
		}
		return p

	case errors.Is(err, cloudswitch.ErrConflict):
		return problem{Type: typeConflict, Title: "Conflict", Status: http.StatusConflict, Workspace: id,
			Detail: fmt.Sprintf("workspace %s changed while this request ran, and nothing was changed by it; retry", id)}

	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return problem{Type: typeUnavailable, Title: "Service unavailable", Status: http.StatusServiceUnavailable,
			Workspace: id, retryAfter: time.Second,
			Detail: "the server is shutting down or the request ran out of time before anything was changed; retry"}
	}
	return internalError(id)
}

// storeProblem maps an error of the Store's Get or List: "not found" and
// "could not read" are different answers.
func storeProblem(id string, err error) problem {
	if errors.Is(err, cloudswitch.ErrNotFound) {
		return notFound(id)
	}
	return problem{Type: typeUnavailable, Title: "Database unavailable", Status: http.StatusServiceUnavailable,
		Workspace: id, retryAfter: time.Second,
		Detail: "the workspace database could not be read; retry shortly"}
}

func notFound(id string) problem {
	return problem{Type: typeNotFound, Title: "Workspace not found", Status: http.StatusNotFound, Workspace: id,
		Detail: fmt.Sprintf("there is no workspace %s", id)}
}

func internalError(id string) problem {
	return problem{Type: typeInternal, Title: "Internal server error", Status: http.StatusInternalServerError,
		Workspace: id, Detail: "the server failed unexpectedly; its log says why"}
}

// writeProblem writes p: as application/problem+json for an error, as
// application/json for a 202.
func writeProblem(w http.ResponseWriter, p problem) {
	ct := "application/problem+json"
	if p.Status < 400 {
		ct = "application/json"
	}
	if p.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(p.retryAfter.Seconds()))))
	}
	p.RequestID = w.Header().Get(requestIDHeader)
	w.Header().Set("Content-Type", ct)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(p.Status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(p)
}

// abortReason says, in the API's words, what gave a switch up: a hook, or
// a provider that refused. It never quotes the cause.
func abortReason(abort *cloudswitch.AbortError) string {
	switch abort.Stage {
	case cloudswitch.StageHook:
		return "the BeforeDeprovision hook failed"
	case cloudswitch.StageRead, cloudswitch.StageClaim:
		return "the workspace database did not answer"
	}
	return "the provider refused"
}
