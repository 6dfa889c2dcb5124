package main

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/cloudswitch/cloudswitch"
)

// Authentication and authorization are two steps:
//
//  1. requireToken checks the bearer token on every endpoint but
//     GET /healthz, and answers 401 without a valid one;
//  2. each handler then decodes and checks the request, calls authorize
//     with what it asks for — the action, the workspace, the target compute
//     (provider, instance type, region, image) — and answers 403 if it
//     refuses.
//
// This example has a single token that may do everything. A real server
// replaces authorize (and, most likely, the token check with its sessions,
// JWTs or mTLS): changing a workspace's compute destroys a VM and starts a
// billable one, so decide here who may do that to which workspace.

// The actions authorize is asked about.
const (
	actionCreate = "create" // POST /workspaces (workspaceID: the new id)
	actionList   = "list"   // GET /workspaces (workspaceID: "")
	actionRead   = "read"   // GET /workspaces/{id}
	actionSwitch = "switch" // PATCH /workspaces/{id}/compute: may destroy and create VMs
	actionResume = "resume" // POST /workspaces/{id}/resume
	// actionDecommission: DELETE /workspaces/{id}; destroys the VM
	// (ConfirmRecreate carries confirm_destroy).
	actionDecommission = "decommission"
)

// authzRequest is what a request asks for, decoded and checked: what
// authorize decides on.
type authzRequest struct {
	Action      string // one of the actions above
	WorkspaceID string // "" for list
	// Target is the compute asked for: on create, the new workspace's
	// (provider and instance type filled in); on switch, the fields the
	// PATCH sets, an empty one keeping its current value. Nil for the other
	// actions.
	Target          *cloudswitch.Compute
	ConfirmRecreate bool // switch: the caller confirmed destroying the VM
}

// authorizeFunc decides whether the authenticated caller of r may do what
// req asks. A non-nil error refuses with 403; its text is shown to the
// caller, so it must say why without revealing anything secret.
type authorizeFunc func(r *http.Request, req authzRequest) error

// authorize is this example's policy: whoever holds the token may do
// anything. Plug your own in here: look the caller up from r (the identity
// your authentication put in its context), and check that they own
// req.WorkspaceID and may perform req.Action on it — and, for a create or a
// switch, that they may run req.Target: its provider, region, instance type
// or image.
func authorize(r *http.Request, req authzRequest) error {
	return nil
}

// requireToken answers 401, with a WWW-Authenticate challenge (RFC 6750),
// unless the request bears token. The comparison takes the same time
// whatever the guess: both sides are hashed, then compared in constant
// time, so neither the token's content nor its length leaks.
func requireToken(token string, next http.Handler) http.Handler {
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := bearerToken(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="cloudswitch"`)
			writeProblem(w, problem{Type: typeUnauthorized, Title: "Unauthorized", Status: http.StatusUnauthorized,
				Detail: `this endpoint needs "Authorization: Bearer <token>": the token is CLOUDSWITCH_TOKEN, or the one the server printed at start`})
			return
		}
		sum := sha256.Sum256([]byte(got))
		if subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="cloudswitch", error="invalid_token"`)
			writeProblem(w, problem{Type: typeUnauthorized, Title: "Unauthorized", Status: http.StatusUnauthorized,
				Detail: "the bearer token is not valid"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// bearerToken returns the token of an "Authorization: Bearer <token>"
// header (the scheme is case-insensitive).
func bearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}
