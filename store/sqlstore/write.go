package sqlstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/cloudswitch/cloudswitch"
)

// Create stores a new workspace in one statement and returns it with its
// first Version, drawn from the table's counter: never one a workspace of
// the table had, so a workspace deleted and created again never repeats a
// version of its predecessor.
// It fails with an error matching cloudswitch.ErrConflict, writing nothing,
// when a workspace with that id exists. The id must not be empty.
func (s *Store) Create(ctx context.Context, w cloudswitch.Workspace) (cloudswitch.Workspace, error) {
	if w.ID == "" {
		return cloudswitch.Workspace{}, errors.New("sqlstore: create: empty workspace id")
	}
	compute, instance, pending, err := columnsOf(w)
	if err != nil {
		return cloudswitch.Workspace{}, err
	}
	var version int64
	err = s.sql.insert.queryRow(ctx, s.db, w.ID, compute, instance, pending).Scan(&version)
	switch {
	case noRows(ctx, err):
		return cloudswitch.Workspace{}, fmt.Errorf("sqlstore: create %q: already exists: %w", w.ID, cloudswitch.ErrConflict)
	case err != nil:
		return cloudswitch.Workspace{}, fail("create", w.ID, orContext(ctx, err))
	}
	out := w.Clone()
	out.Version = version
	return out, nil
}

// Update writes w only if the stored Version equals w.Version, with one
// conditional statement (UPDATE … WHERE id = $1 AND version = $2 RETURNING
// version), and returns w with its new Version, drawn in that statement from
// the table's counter, so never one the id had before. The database decides: of
// several Updates of one version, from any number of processes, exactly one
// writes.
//
// When the statement wrote nothing, a second one counts the rows with the id,
// to return an error matching cloudswitch.ErrConflict if the row exists and
// cloudswitch.ErrNotFound if it does not. That count only chooses between
// the two failures; nothing is ever written on the strength of a read. Any
// other error means the outcome is unknown — the write may have happened —
// and matches neither.
func (s *Store) Update(ctx context.Context, w cloudswitch.Workspace) (cloudswitch.Workspace, error) {
	compute, instance, pending, err := columnsOf(w)
	if err != nil {
		return cloudswitch.Workspace{}, err
	}
	var version int64
	err = s.sql.update.queryRow(ctx, s.db, w.ID, w.Version, compute, instance, pending).Scan(&version)
	if err == nil {
		out := w.Clone()
		out.Version = version
		return out, nil
	}
	if !noRows(ctx, err) {
		return cloudswitch.Workspace{}, fail("update", w.ID, orContext(ctx, err))
	}
	exists, err := s.exists(ctx, w.ID)
	switch {
	case err != nil:
		return cloudswitch.Workspace{}, fail("update", w.ID, err)
	case exists:
		return cloudswitch.Workspace{}, fmt.Errorf("sqlstore: update %q at version %d: the stored version differs: %w", w.ID, w.Version, cloudswitch.ErrConflict)
	default:
		return cloudswitch.Workspace{}, fmt.Errorf("sqlstore: update %q: %w", w.ID, cloudswitch.ErrNotFound)
	}
}

// DeleteIf deletes the workspace only if its stored Version equals
// w.Version: cloudswitch.ErrConflict if it does not (nothing deleted),
// cloudswitch.ErrNotFound if there is no such workspace. One statement when
// it deletes; a second one tells a conflict from a missing row otherwise.
func (s *Store) DeleteIf(ctx context.Context, w cloudswitch.Workspace) error {
	res, err := s.sql.deleteIf.exec(ctx, s.db, w.ID, w.Version)
	if err != nil {
		return fail("delete", w.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fail("delete", w.ID, err)
	}
	if n == 1 {
		return nil
	}
	exists, err := s.exists(ctx, w.ID)
	switch {
	case err != nil:
		return fail("delete", w.ID, err)
	case exists:
		return fmt.Errorf("sqlstore: delete %q at version %d: the stored version differs: %w", w.ID, w.Version, cloudswitch.ErrConflict)
	}
	return fmt.Errorf("sqlstore: delete %q: %w", w.ID, cloudswitch.ErrNotFound)
}

// exists reports whether a row with the id exists.
func (s *Store) exists(ctx context.Context, id string) (bool, error) {
	var n int64
	if err := s.sql.exists.queryRow(ctx, s.db, id).Scan(&n); err != nil {
		return false, err
	}
	return n > 0, nil
}

// Delete removes the workspace in one statement, or returns an error matching
// cloudswitch.ErrNotFound when there is none. It does not touch the
// workspace's VM, nor one its pending intent holds: the Reconciler reports
// VMs whose workspace is gone as orphans.
func (s *Store) Delete(ctx context.Context, id string) error {
	res, err := s.sql.delete.exec(ctx, s.db, id)
	if err != nil {
		return fail("delete", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fail("delete", id, err)
	}
	if n == 0 {
		return fmt.Errorf("sqlstore: delete %q: %w", id, cloudswitch.ErrNotFound)
	}
	return nil
}
