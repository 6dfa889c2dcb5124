package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/cloudswitch/cloudswitch"
)

// maxBody bounds every request body.
const maxBody = 64 << 10

// workspaceJSON is a workspace as the API shows it. It leaves out what
// clients have no use for: the VM's idempotency token and ownership tags,
// and the journal's bookkeeping (holder, claims, tokens).
type workspaceJSON struct {
	ID       string              `json:"id"`
	Compute  cloudswitch.Compute `json:"compute"`
	Instance *instanceJSON       `json:"instance"` // null: no VM
	Pending  *pendingJSON        `json:"pending"`  // null: no switch in flight
	Version  int64               `json:"version"`  // the ETag, unquoted
}

type instanceJSON struct {
	Provider  string    `json:"provider"`
	ID        string    `json:"id"`
	Region    string    `json:"region,omitempty"`
	CreatedAt time.Time `json:"created_at,omitzero"`
}

// pendingJSON is a switch in flight: where it goes, the step it takes next,
// and when its lease expires — after which the reconciler or
// POST …/resume may finish it.
type pendingJSON struct {
	ID           string              `json:"id"`
	Phase        cloudswitch.Phase   `json:"phase"`
	From         cloudswitch.Compute `json:"from"`
	To           cloudswitch.Compute `json:"to"`
	LeaseExpires time.Time           `json:"lease_expires"`
	LastError    string              `json:"last_error,omitempty"` // redacted by cloudswitch
}

func workspaceOf(w cloudswitch.Workspace) workspaceJSON {
	out := workspaceJSON{ID: w.ID, Compute: w.Compute, Version: w.Version}
	if i := w.Instance; i != nil {
		out.Instance = &instanceJSON{Provider: i.Provider, ID: i.ID, Region: i.Region, CreatedAt: i.CreatedAt}
	}
	if p := w.Pending; p != nil {
		out.Pending = &pendingJSON{ID: p.ID, Phase: p.Phase, From: p.From, To: p.To,
			LeaseExpires: p.LeaseExpires, LastError: p.LastError}
	}
	return out
}

// writeWorkspace answers with w, and its ETag.
func writeWorkspace(rw http.ResponseWriter, status int, w cloudswitch.Workspace) {
	rw.Header().Set("ETag", etag(w.Version))
	writeJSON(rw, status, workspaceOf(w))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// decodeBody reads the request's JSON body into v: one JSON object of at
// most maxBody bytes, without fields v does not have — a misspelt
// "confirm_recreate" must not be silently ignored. On failure it answers
// the request and returns false.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		// Exactly one value: trailing data is an error, not ignored.
		switch _, terr := dec.Token(); {
		case terr == nil:
			err = errors.New("the body holds more than one JSON value")
		case !errors.Is(terr, io.EOF):
			err = terr
		}
	}
	if err == nil {
		return true
	}
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		writeProblem(w, problem{Type: typeTooLarge, Title: "Body too large", Status: http.StatusRequestEntityTooLarge,
			Detail: fmt.Sprintf("the request body is larger than %d KiB", maxBody>>10)})
	case errors.Is(err, io.EOF):
		writeProblem(w, problem{Type: typeInvalid, Title: "Invalid body", Status: http.StatusBadRequest,
			Detail: "the request body is empty: send a JSON object"})
	default:
		writeProblem(w, problem{Type: typeInvalid, Title: "Invalid body", Status: http.StatusBadRequest,
			Detail: "the request body is not the JSON this endpoint takes: " + strings.TrimPrefix(err.Error(), "json: ")})
	}
	return false
}
