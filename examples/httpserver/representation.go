package main

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/cloudswitch/cloudswitch"
)

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
}

func workspaceOf(w cloudswitch.Workspace) workspaceJSON {
	out := workspaceJSON{ID: w.ID, Compute: w.Compute, Version: w.Version}
	if i := w.Instance; i != nil {
		out.Instance = &instanceJSON{Provider: i.Provider, ID: i.ID, Region: i.Region, CreatedAt: i.CreatedAt}
	}
	if p := w.Pending; p != nil {
		// Not p.LastError: a cloud's error text may carry its request ids
		// or the account's identity; the server's log has it.
		out.Pending = &pendingJSON{ID: p.ID, Phase: p.Phase, From: p.From, To: p.To, LeaseExpires: p.LeaseExpires}
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
