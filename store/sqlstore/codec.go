package sqlstore

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/cloudswitch/cloudswitch"
)

// DecodeError reports a stored row the Store cannot read back: a column
// whose JSON does not decode, written by hand or by an incompatible version.
// The Store never substitutes a default for such a column (a compute that
// does not decode is not the zero Compute, which would read as AWS), so a
// switch never acts on a guess. It matches neither cloudswitch.ErrNotFound
// nor cloudswitch.ErrConflict.
type DecodeError struct {
	WorkspaceID string
	Column      string // "compute", "instance" or "pending"
	Err         error
}

// Error names the workspace and the column, and says why it does not decode.
func (e *DecodeError) Error() string {
	return fmt.Sprintf("sqlstore: workspace %q: the stored %s does not decode: %v", e.WorkspaceID, e.Column, e.Err)
}

// Unwrap returns the decoding error, such as a *json.UnmarshalTypeError.
func (e *DecodeError) Unwrap() error { return e.Err }

// instanceJSON is the stored form of a cloudswitch.Instance: explicit keys,
// so that the column keeps its meaning whatever happens to the Go struct.
type instanceJSON struct {
	Provider    string    `json:"provider"`
	ID          string    `json:"id"`
	Region      string    `json:"region,omitempty"`
	WorkspaceID string    `json:"workspace_id,omitempty"`
	Token       string    `json:"token,omitempty"`
	CreatedAt   time.Time `json:"created_at,omitzero"`
	// Installation, InstanceType and Image are absent from rows written
	// before they existed.
	Installation string `json:"installation,omitempty"`
	InstanceType string `json:"instance_type,omitempty"`
	Image        string `json:"image,omitempty"`
}

// columnsOf encodes the JSON columns of w. A nil instance or intent is SQL
// NULL.
func columnsOf(w cloudswitch.Workspace) (compute string, instance, pending any, err error) {
	b, err := json.Marshal(w.Compute)
	if err != nil {
		return "", nil, nil, fmt.Errorf("sqlstore: workspace %q: encoding compute: %w", w.ID, err)
	}
	compute = string(b)
	if i := w.Instance; i != nil {
		b, err := json.Marshal(instanceJSON{i.Provider, i.ID, i.Region, i.WorkspaceID, i.Token, i.CreatedAt,
			i.Installation, i.InstanceType, i.Image})
		if err != nil {
			return "", nil, nil, fmt.Errorf("sqlstore: workspace %q: encoding instance: %w", w.ID, err)
		}
		instance = string(b)
	}
	if w.Pending != nil {
		b, err := json.Marshal(w.Pending)
		if err != nil {
			return "", nil, nil, fmt.Errorf("sqlstore: workspace %q: encoding intent: %w", w.ID, err)
		}
		pending = string(b)
	}
	return compute, instance, pending, nil
}

// decodeRow builds the workspace of a stored row. instance and pending are
// nil for SQL NULL.
//
// Compute and instance are decoded strictly: an unknown key is an error, so
// that a misspelt "provder" is not read as an empty provider, which means
// AWS. The intent is an opaque document meant to evolve: unknown keys are
// ignored, and the Switcher checks what it decoded before acting on it.
func decodeRow(id string, compute, instance, pending []byte, version int64) (cloudswitch.Workspace, error) {
	w := cloudswitch.Workspace{ID: id, Version: version}
	if err := decodeObject(compute, &w.Compute, true); err != nil {
		return cloudswitch.Workspace{}, &DecodeError{WorkspaceID: id, Column: "compute", Err: err}
	}
	if instance != nil {
		var i instanceJSON
		if err := decodeObject(instance, &i, true); err != nil {
			return cloudswitch.Workspace{}, &DecodeError{WorkspaceID: id, Column: "instance", Err: err}
		}
		w.Instance = &cloudswitch.Instance{Provider: i.Provider, ID: i.ID, Region: i.Region,
			WorkspaceID: i.WorkspaceID, Token: i.Token, CreatedAt: i.CreatedAt,
			Installation: i.Installation, InstanceType: i.InstanceType, Image: i.Image}
	}
	if pending != nil {
		w.Pending = new(cloudswitch.Intent)
		if err := decodeObject(pending, w.Pending, false); err != nil {
			return cloudswitch.Workspace{}, &DecodeError{WorkspaceID: id, Column: "pending", Err: err}
		}
	}
	return w, nil
}

// decodeObject decodes one JSON object into v. JSON null, which
// encoding/json would silently accept as "nothing", is an error: the Store
// writes SQL NULL for an absent instance or intent, never a JSON null.
func decodeObject(b []byte, v any, strict bool) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return errors.New("not a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after the JSON object")
	}
	return nil
}
