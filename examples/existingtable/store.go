package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"sync/atomic"
	"time"

	"github.com/cloudswitch/cloudswitch"
)

// Store is a cloudswitch.Store on the server's own workspaces table (see
// schema.go). It keeps the contract: Update is one compare-and-swap
// statement; ErrNotFound only when the database says there is no such row;
// every other failure, a row that does not decode included, is an error
// matching neither ErrNotFound nor ErrConflict. It leaves the server's other
// columns (name) alone.
//
// Every version is drawn from one counter for the table (schema.go), in the
// statement that writes it, so that a workspace deleted and created again
// never repeats a version of its predecessor. The Store is an installation
// (cloudswitch.InstallationStore) whose id the migration minted.
type Store struct {
	db      *sql.DB
	dialect string // "postgres" or "sqlite"

	installation atomic.Pointer[string] // read once
}

var _ cloudswitch.InstallationStore = (*Store)(nil)

// nextVersion is the SQL of a version the table never had.
func (s *Store) nextVersion() string {
	if s.dialect == "sqlite" {
		return `(SELECT version + 1 FROM cloudswitch_installation)`
	}
	return `nextval('workspaces_version')`
}

// InstallationID returns the id the migration minted, reading it once.
func (s *Store) InstallationID(ctx context.Context) (string, error) {
	if id := s.installation.Load(); id != nil {
		return *id, nil
	}
	var id string
	if err := s.db.QueryRowContext(ctx, `SELECT installation FROM cloudswitch_installation WHERE id = 1`).Scan(&id); err != nil {
		return "", fmt.Errorf("reading the installation id: %w", errors.Join(err, ctx.Err()))
	}
	s.installation.Store(&id)
	return id, nil
}

const columns = `compute, instance_id, instance_provider, instance_meta, pending, version`

// instanceMeta is the instance_meta column.
type instanceMeta struct {
	Region       string    `json:"region,omitempty"`
	Token        string    `json:"token,omitempty"`
	CreatedAt    time.Time `json:"created_at,omitzero"`
	Installation string    `json:"installation,omitempty"`
	InstanceType string    `json:"instance_type,omitempty"`
	Image        string    `json:"image,omitempty"`
}

// Get returns the workspace, or an error matching cloudswitch.ErrNotFound
// when the database says there is none.
func (s *Store) Get(ctx context.Context, id string) (cloudswitch.Workspace, error) {
	r := row{id: id}
	err := s.db.QueryRowContext(ctx, `SELECT `+columns+` FROM workspaces WHERE id = $1`, id).Scan(r.dest()...)
	// A cancelled query may look like an empty answer: only a live context
	// makes "no rows" mean "no such workspace".
	if errors.Is(err, sql.ErrNoRows) && ctx.Err() == nil {
		return cloudswitch.Workspace{}, fmt.Errorf("workspace %q: %w", id, cloudswitch.ErrNotFound)
	}
	if err != nil {
		return cloudswitch.Workspace{}, fmt.Errorf("reading workspace %q: %w", id, errors.Join(err, ctx.Err()))
	}
	return r.workspace()
}

// Update writes w if the stored version is still w.Version.
func (s *Store) Update(ctx context.Context, w cloudswitch.Workspace) (cloudswitch.Workspace, error) {
	args, err := values(w)
	if err != nil {
		return cloudswitch.Workspace{}, err
	}
	err = s.db.QueryRowContext(ctx, `UPDATE workspaces
		SET compute = $3, instance_id = $4, instance_provider = $5, instance_meta = $6, pending = $7, version = `+s.nextVersion()+`
		WHERE id = $1 AND version = $2
		RETURNING version`, append([]any{w.ID, w.Version}, args...)...).Scan(&w.Version)
	if err == nil {
		return w.Clone(), nil
	}
	if !errors.Is(err, sql.ErrNoRows) || ctx.Err() != nil {
		// The write may or may not have happened: neither sentinel.
		return cloudswitch.Workspace{}, fmt.Errorf("updating workspace %q: %w", w.ID, errors.Join(err, ctx.Err()))
	}
	// Nothing was written. Whether the row exists only decides which error
	// to return; nothing is written on the strength of this read.
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM workspaces WHERE id = $1`, w.ID).Scan(&n); err != nil {
		return cloudswitch.Workspace{}, fmt.Errorf("updating workspace %q: %w", w.ID, err)
	}
	if n == 0 {
		return cloudswitch.Workspace{}, fmt.Errorf("workspace %q: %w", w.ID, cloudswitch.ErrNotFound)
	}
	return cloudswitch.Workspace{}, fmt.Errorf("workspace %q changed since version %d: %w", w.ID, w.Version, cloudswitch.ErrConflict)
}

// Create inserts a workspace at a version the table never had, or fails with
// cloudswitch.ErrConflict if the id exists.
func (s *Store) Create(ctx context.Context, w cloudswitch.Workspace) (cloudswitch.Workspace, error) {
	args, err := values(w)
	if err != nil {
		return cloudswitch.Workspace{}, err
	}
	err = s.db.QueryRowContext(ctx, `INSERT INTO workspaces (id, `+columns+`)
		VALUES ($1, $2, $3, $4, $5, $6, `+s.nextVersion()+`)
		ON CONFLICT (id) DO NOTHING
		RETURNING version`, append([]any{w.ID}, args...)...).Scan(&w.Version)
	if errors.Is(err, sql.ErrNoRows) && ctx.Err() == nil {
		return cloudswitch.Workspace{}, fmt.Errorf("workspace %q exists: %w", w.ID, cloudswitch.ErrConflict)
	}
	if err != nil {
		return cloudswitch.Workspace{}, fmt.Errorf("creating workspace %q: %w", w.ID, errors.Join(err, ctx.Err()))
	}
	return w.Clone(), nil
}

// Pending streams the workspaces with a switch in flight.
func (s *Store) Pending(ctx context.Context) iter.Seq2[cloudswitch.Workspace, error] {
	return func(yield func(cloudswitch.Workspace, error) bool) {
		rows, err := s.db.QueryContext(ctx, `SELECT id, `+columns+` FROM workspaces WHERE pending IS NOT NULL ORDER BY id`)
		if err != nil {
			yield(cloudswitch.Workspace{}, fmt.Errorf("listing pending workspaces: %w", err))
			return
		}
		defer rows.Close()
		for rows.Next() {
			var r row
			if err := rows.Scan(append([]any{&r.id}, r.dest()...)...); err != nil {
				yield(cloudswitch.Workspace{}, fmt.Errorf("listing pending workspaces: %w", err))
				return
			}
			w, err := r.workspace()
			if !yield(w, err) { // a row that does not decode is reported, not a reason to stop
				return
			}
		}
		if err := errors.Join(rows.Err(), ctx.Err()); err != nil {
			yield(cloudswitch.Workspace{}, fmt.Errorf("listing pending workspaces: %w", err))
		}
	}
}

// values returns the column values of w, in the order of columns (without
// version).
func values(w cloudswitch.Workspace) ([]any, error) {
	compute, err := json.Marshal(w.Compute)
	if err != nil {
		return nil, err
	}
	var instanceID, provider, meta, pending any // SQL NULL unless set
	if i := w.Instance; i != nil {
		instanceID, provider = i.ID, i.Provider
		b, err := json.Marshal(instanceMeta{Region: i.Region, Token: i.Token, CreatedAt: i.CreatedAt,
			Installation: i.Installation, InstanceType: i.InstanceType, Image: i.Image})
		if err != nil {
			return nil, err
		}
		meta = string(b)
	}
	if w.Pending != nil {
		b, err := json.Marshal(w.Pending)
		if err != nil {
			return nil, err
		}
		pending = string(b)
	}
	return []any{string(compute), instanceID, provider, meta, pending}, nil
}

// row is one row of columns as the database returns it.
type row struct {
	id                     string
	compute, meta, pending []byte
	instanceID, provider   sql.NullString
	version                int64
}

// dest returns the scan destinations of columns, in order.
func (r *row) dest() []any {
	return []any{&r.compute, &r.instanceID, &r.provider, &r.meta, &r.pending, &r.version}
}

// workspace decodes the row. A column that does not decode is an error
// naming the workspace, never a default: a compute read as the zero Compute
// would mean AWS.
func (r *row) workspace() (cloudswitch.Workspace, error) {
	w := cloudswitch.Workspace{ID: r.id, Version: r.version}
	if err := decode(r.compute, &w.Compute); err != nil {
		return cloudswitch.Workspace{}, fmt.Errorf("workspace %q: compute: %w", r.id, err)
	}
	if r.instanceID.Valid {
		var m instanceMeta
		if r.meta != nil {
			if err := decode(r.meta, &m); err != nil {
				return cloudswitch.Workspace{}, fmt.Errorf("workspace %q: instance_meta: %w", r.id, err)
			}
		}
		// The VM belongs to this row's workspace; an empty provider (a VM
		// from before cloudswitch) is the compute's, as the Switcher reads it.
		w.Instance = &cloudswitch.Instance{ID: r.instanceID.String, Provider: r.provider.String,
			Region: m.Region, WorkspaceID: r.id, Token: m.Token, CreatedAt: m.CreatedAt,
			Installation: m.Installation, InstanceType: m.InstanceType, Image: m.Image}
	}
	if r.pending != nil {
		w.Pending = new(cloudswitch.Intent)
		if err := decode(r.pending, w.Pending); err != nil {
			return cloudswitch.Workspace{}, fmt.Errorf("workspace %q: pending: %w", r.id, err)
		}
	}
	return w, nil
}

// decode decodes a JSON object; JSON null, which encoding/json would take
// for "nothing", is an error.
func decode(b []byte, v any) error {
	if b = bytes.TrimSpace(b); len(b) == 0 || b[0] != '{' {
		return errors.New("not a JSON object")
	}
	return json.Unmarshal(b, v)
}
