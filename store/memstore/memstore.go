// Package memstore is an in-memory cloudswitch.Store, for tests, demos and
// single-process tools. It keeps the full contract — compare-and-swap on
// Version, versions that never repeat for an id, ErrNotFound versus
// ErrConflict, Pending — and hands out copies, so a caller mutating a
// Workspace it got never changes the store. Each Store is an installation of
// its own (cloudswitch.InstallationStore) and answers batched reads
// (cloudswitch.BatchGetter).
package memstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"iter"
	"slices"
	"sync"

	"github.com/cloudswitch/cloudswitch"
)

// Store is an in-memory cloudswitch.Store, safe for concurrent use. The zero
// value is not usable; call New.
type Store struct {
	installation string

	mu      sync.RWMutex
	rows    map[string]cloudswitch.Workspace
	version int64 // the last version handed out, to any workspace
}

var (
	_ cloudswitch.InstallationStore = (*Store)(nil)
	_ cloudswitch.BatchGetter       = (*Store)(nil)
	_ cloudswitch.Deleter           = (*Store)(nil)
)

// New returns an empty Store with a fresh installation id.
func New() *Store {
	var b [8]byte
	rand.Read(b[:]) // never fails (crypto/rand, Go 1.24+)
	return &Store{rows: make(map[string]cloudswitch.Workspace), installation: "mem-" + hex.EncodeToString(b[:])}
}

// InstallationID returns the id minted for this Store by New.
func (s *Store) InstallationID(ctx context.Context) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	return s.installation, nil
}

// nextVersion returns a version no workspace of this Store ever had. The
// caller holds s.mu.
func (s *Store) nextVersion() int64 {
	s.version++
	return s.version
}

// Create stores a new workspace and returns it with its first Version: one
// no workspace of this Store ever had, so a workspace deleted and created
// again never repeats a version. It fails with cloudswitch.ErrConflict if a
// workspace with that id exists.
func (s *Store) Create(ctx context.Context, w cloudswitch.Workspace) (cloudswitch.Workspace, error) {
	if err := ctx.Err(); err != nil {
		return cloudswitch.Workspace{}, err
	}
	if w.ID == "" {
		return cloudswitch.Workspace{}, errors.New("memstore: create: empty workspace id")
	}
	w = w.Clone()
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.rows[w.ID]; ok {
		return cloudswitch.Workspace{}, fmt.Errorf("memstore: create %q: already exists: %w", w.ID, cloudswitch.ErrConflict)
	}
	w.Version = s.nextVersion()
	s.rows[w.ID] = w
	return w.Clone(), nil
}

// Get returns a copy of the workspace, or cloudswitch.ErrNotFound.
func (s *Store) Get(ctx context.Context, id string) (cloudswitch.Workspace, error) {
	if err := ctx.Err(); err != nil {
		return cloudswitch.Workspace{}, err
	}
	s.mu.RLock()
	w, ok := s.rows[id]
	s.mu.RUnlock()
	if !ok {
		return cloudswitch.Workspace{}, fmt.Errorf("memstore: get %q: %w", id, cloudswitch.ErrNotFound)
	}
	return w.Clone(), nil
}

// Update writes w if the stored Version equals w.Version, giving it a new
// Version no workspace of this Store ever had.
func (s *Store) Update(ctx context.Context, w cloudswitch.Workspace) (cloudswitch.Workspace, error) {
	if err := ctx.Err(); err != nil {
		return cloudswitch.Workspace{}, err
	}
	w = w.Clone()
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.rows[w.ID]
	if !ok {
		return cloudswitch.Workspace{}, fmt.Errorf("memstore: update %q: %w", w.ID, cloudswitch.ErrNotFound)
	}
	if cur.Version != w.Version {
		return cloudswitch.Workspace{}, fmt.Errorf("memstore: update %q at version %d, stored %d: %w",
			w.ID, w.Version, cur.Version, cloudswitch.ErrConflict)
	}
	w.Version = s.nextVersion()
	s.rows[w.ID] = w
	return w.Clone(), nil
}

// GetBatch returns a copy of each workspace named in ids, in order, with
// cloudswitch.ErrNotFound for those that do not exist.
func (s *Store) GetBatch(ctx context.Context, ids []string) ([]cloudswitch.Lookup, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([]cloudswitch.Lookup, len(ids))
	s.mu.RLock()
	defer s.mu.RUnlock()
	for i, id := range ids {
		out[i].ID = id
		if w, ok := s.rows[id]; ok {
			out[i].Workspace = w.Clone()
		} else {
			out[i].Err = fmt.Errorf("memstore: get %q: %w", id, cloudswitch.ErrNotFound)
		}
	}
	return out, nil
}

// Delete removes the workspace, or returns cloudswitch.ErrNotFound. It does
// not touch the workspace's VM: the Reconciler reports a VM whose workspace
// is gone as an orphan.
func (s *Store) Delete(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.rows[id]; !ok {
		return fmt.Errorf("memstore: delete %q: %w", id, cloudswitch.ErrNotFound)
	}
	delete(s.rows, id)
	return nil
}

// DeleteIf removes the workspace if its stored Version equals w.Version:
// cloudswitch.ErrConflict if it does not, cloudswitch.ErrNotFound if there
// is no such workspace. Like Delete, it does not touch the VM.
func (s *Store) DeleteIf(ctx context.Context, w cloudswitch.Workspace) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.rows[w.ID]
	switch {
	case !ok:
		return fmt.Errorf("memstore: delete %q: %w", w.ID, cloudswitch.ErrNotFound)
	case cur.Version != w.Version:
		return fmt.Errorf("memstore: delete %q at version %d, stored %d: %w", w.ID, w.Version, cur.Version, cloudswitch.ErrConflict)
	}
	delete(s.rows, w.ID)
	return nil
}

// Pending yields a copy of every workspace with a pending intent, in id
// order. A workspace is yielded as it is when its turn comes; one created
// after the iteration started is not yielded.
func (s *Store) Pending(ctx context.Context) iter.Seq2[cloudswitch.Workspace, error] {
	return s.scan(ctx, func(w *cloudswitch.Workspace) bool { return w.Pending != nil })
}

// List yields a copy of every workspace, in id order, each as it is when its
// turn comes; one created after the iteration started is not yielded.
func (s *Store) List(ctx context.Context) iter.Seq2[cloudswitch.Workspace, error] {
	return s.scan(ctx, func(*cloudswitch.Workspace) bool { return true })
}

// Len returns the number of workspaces.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.rows)
}

func (s *Store) scan(ctx context.Context, keep func(*cloudswitch.Workspace) bool) iter.Seq2[cloudswitch.Workspace, error] {
	return func(yield func(cloudswitch.Workspace, error) bool) {
		if err := ctx.Err(); err != nil {
			yield(cloudswitch.Workspace{}, err)
			return
		}
		// Collect the ids under the lock and copy one workspace at a time
		// outside it: the caller may write to the store while iterating, and
		// a large store is never copied whole.
		s.mu.RLock()
		var ids []string
		for id, w := range s.rows {
			if keep(&w) {
				ids = append(ids, id)
			}
		}
		s.mu.RUnlock()
		slices.Sort(ids)
		for _, id := range ids {
			if err := ctx.Err(); err != nil {
				yield(cloudswitch.Workspace{}, err)
				return
			}
			s.mu.RLock()
			w, ok := s.rows[id]
			if ok && keep(&w) {
				w = w.Clone()
			} else {
				ok = false
			}
			s.mu.RUnlock()
			if ok && !yield(w, nil) {
				return
			}
		}
	}
}
