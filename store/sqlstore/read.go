package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"

	"github.com/cloudswitch/cloudswitch"
)

// Get returns the workspace with the given id in one statement. It returns an
// error matching cloudswitch.ErrNotFound only when the database answered
// that there is no such row; every other failure — a closed pool, a dropped
// connection, a cancelled context, a row that does not decode (*DecodeError)
// — is an error matching neither ErrNotFound nor ErrConflict, since "could
// not read" is never "not found".
func (s *Store) Get(ctx context.Context, id string) (cloudswitch.Workspace, error) {
	var compute, instance, pending []byte
	var version int64
	err := s.sql.get.queryRow(ctx, s.db, id).Scan(&compute, &instance, &pending, &version)
	switch {
	case noRows(ctx, err):
		return cloudswitch.Workspace{}, fmt.Errorf("sqlstore: get %q: %w", id, cloudswitch.ErrNotFound)
	case err != nil:
		return cloudswitch.Workspace{}, fail("get", id, orContext(ctx, err))
	}
	return decodeRow(id, compute, instance, pending, version)
}

// Pending yields every workspace with a pending intent, in id order, reading
// them from the partial index of pending rows. It streams: one statement,
// rows decoded one at a time as the loop asks for them, nothing buffered;
// the connection is held until the loop ends or breaks, so the pool must
// have a second connection for writes made inside the loop. It yields rows
// as of the statement's snapshot: it may miss a workspace that became
// pending after it started. A row that does not decode is yielded as a
// *DecodeError and the sequence goes on; any other error (the query failed,
// the context ended) ends it.
func (s *Store) Pending(ctx context.Context) iter.Seq2[cloudswitch.Workspace, error] {
	return s.scan(ctx, "pending", s.sql.pending)
}

// List yields every workspace, in id order, streaming as Pending does.
func (s *Store) List(ctx context.Context) iter.Seq2[cloudswitch.Workspace, error] {
	return s.scan(ctx, "list", s.sql.list)
}

func (s *Store) scan(ctx context.Context, op string, query *statement) iter.Seq2[cloudswitch.Workspace, error] {
	return func(yield func(cloudswitch.Workspace, error) bool) {
		rows, err := query.queryRows(ctx, s.db)
		if err != nil {
			yield(cloudswitch.Workspace{}, fail(op, "", err))
			return
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			var compute, instance, pending []byte
			var version int64
			if err := rows.Scan(&id, &compute, &instance, &pending, &version); err != nil {
				yield(cloudswitch.Workspace{}, fail(op, "", err))
				return
			}
			// A row that does not decode is reported and skipped: one bad
			// row must not hide the pending intents after it.
			w, err := decodeRow(id, compute, instance, pending, version)
			if !yield(w, err) {
				return
			}
		}
		// A cancelled query may end as if it had run out of rows: only one
		// that finished with its context live was read to the end.
		if err := rows.Err(); err != nil || ctx.Err() != nil {
			yield(cloudswitch.Workspace{}, fail(op, "", errors.Join(err, ctx.Err())))
		}
	}
}

// GetBatch returns one cloudswitch.Lookup per id, in the order of ids, read
// with one statement whatever their number (the ids travel as one JSON
// array: = ANY on PostgreSQL, json_each on SQLite). A Lookup's Err matches
// cloudswitch.ErrNotFound only when the statement ran to completion without
// that id's row; a row that does not decode is a *DecodeError for its id
// alone. An id given twice gets two Lookups, with copies of one row. A
// non-nil error means nothing was read. An empty ids sends no statement.
func (s *Store) GetBatch(ctx context.Context, ids []string) ([]cloudswitch.Lookup, error) {
	if len(ids) == 0 {
		return []cloudswitch.Lookup{}, ctx.Err()
	}
	arg, err := json.Marshal(ids)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: get batch: encoding %d ids: %w", len(ids), err)
	}
	rows, err := s.sql.batch.queryRows(ctx, s.db, string(arg))
	if err != nil {
		return nil, fail("get batch", "", err)
	}
	defer rows.Close()
	found := make(map[string]cloudswitch.Lookup, len(ids))
	for rows.Next() {
		var id string
		var compute, instance, pending []byte
		var version int64
		if err := rows.Scan(&id, &compute, &instance, &pending, &version); err != nil {
			return nil, fail("get batch", "", err)
		}
		w, err := decodeRow(id, compute, instance, pending, version)
		found[id] = cloudswitch.Lookup{ID: id, Workspace: w, Err: err}
	}
	// A cancelled query may end as if it had run out of rows: only one that
	// finished with its context live says which rows are absent.
	if err := rows.Err(); err != nil || ctx.Err() != nil {
		return nil, fail("get batch", "", errors.Join(err, ctx.Err()))
	}
	out := make([]cloudswitch.Lookup, len(ids))
	given := make(map[string]bool, len(found))
	for i, id := range ids {
		l, ok := found[id]
		switch {
		case !ok:
			l = cloudswitch.Lookup{ID: id, Err: fmt.Errorf("sqlstore: get %q: %w", id, cloudswitch.ErrNotFound)}
		case given[id]: // an id asked for twice: a copy of its own
			l.Workspace = l.Workspace.Clone()
		}
		given[id] = true
		out[i] = l
	}
	return out, nil
}
