package fleet

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"

	"github.com/cloudswitch/cloudswitch"
)

// ErrCannotList is returned when a predicate selection is made over a store
// that cannot list its workspaces (it does not implement
// cloudswitch.WorkspaceLister).
var ErrCannotList = errors.New("fleet: the store cannot list its workspaces (it is no cloudswitch.WorkspaceLister)")

// Selection chooses the workspaces of a plan. It streams them from the
// store: a selection holds one workspace (or one batch of ids) at a time.
type Selection struct {
	ids         iter.Seq[string]
	where       func(cloudswitch.Workspace) bool
	description string
}

// IDs selects the workspaces named by ids, in that order. An id the store
// does not know becomes a refused step.
func IDs(ids iter.Seq[string]) Selection {
	return Selection{ids: ids, description: "ids"}
}

// IDList selects the workspaces named in ids.
func IDList(ids ...string) Selection {
	return Selection{ids: slices.Values(ids), description: fmt.Sprintf("%d ids", len(ids))}
}

// Where selects every workspace of the store for which keep returns true,
// listing the store (cloudswitch.WorkspaceLister). description says in words
// what keep selects, for the plan's header.
func Where(description string, keep func(cloudswitch.Workspace) bool) Selection {
	return Selection{where: keep, description: description}
}

// OnProvider is a predicate for Where: the workspaces whose stored compute is
// on provider (an empty stored provider is AWS) and, when region is not
// empty, in region.
func OnProvider(provider, region string) func(cloudswitch.Workspace) bool {
	return func(w cloudswitch.Workspace) bool {
		return cloudswitch.NormalizeProvider(w.Compute.Provider) == provider &&
			(region == "" || w.Compute.Region == region)
	}
}

// String describes the selection.
func (s Selection) String() string { return s.description }

// Workspaces streams the selected workspaces from store, reading nothing
// else and calling no provider. An error about one workspace (not found,
// or a record that cannot be read) comes with a Workspace holding only its
// ID, and the sequence goes on; an error with an empty ID ends it.
func (s Selection) Workspaces(ctx context.Context, store cloudswitch.Store) iter.Seq2[cloudswitch.Workspace, error] {
	return func(yield func(cloudswitch.Workspace, error) bool) {
		for l := range s.workspaces(ctx, store) {
			w := l.w
			if l.err != nil {
				w = cloudswitch.Workspace{ID: l.id}
			}
			if !yield(w, l.err) {
				return
			}
		}
	}
}

// lookup is one selected workspace, or why it could not be read.
type lookup struct {
	id  string
	w   cloudswitch.Workspace
	err error
}

// batchSize is how many ids a selection reads at once from a
// cloudswitch.BatchGetter.
const batchSize = 100

// workspaces streams the selected workspaces from store. A lookup with an
// error names a workspace that could not be read; an error with an empty id
// ends the stream.
func (s Selection) workspaces(ctx context.Context, store cloudswitch.Store) iter.Seq[lookup] {
	return func(yield func(lookup) bool) {
		switch {
		case s.where != nil:
			lister, ok := store.(cloudswitch.WorkspaceLister)
			if !ok {
				yield(lookup{err: ErrCannotList})
				return
			}
			for w, err := range lister.List(ctx) {
				if err != nil {
					// An error about one record carries its id; any other
					// ends the listing by itself.
					if !yield(lookup{id: w.ID, err: err}) {
						return
					}
					continue
				}
				if s.where(w) && !yield(lookup{id: w.ID, w: w}) {
					return
				}
			}
		case s.ids != nil:
			if bg, ok := store.(cloudswitch.BatchGetter); ok {
				readBatches(ctx, bg, s.ids, yield)
				return
			}
			for id := range s.ids {
				w, err := store.Get(ctx, id)
				if !yield(lookup{id: id, w: w, err: err}) {
					return
				}
			}
		default:
			yield(lookup{err: errors.New("fleet: empty selection: use IDs or Where")})
		}
	}
}

func readBatches(ctx context.Context, bg cloudswitch.BatchGetter, ids iter.Seq[string], yield func(lookup) bool) {
	batch := make([]string, 0, batchSize)
	flush := func() bool {
		if len(batch) == 0 {
			return true
		}
		got, err := bg.GetBatch(ctx, batch)
		if err != nil {
			for _, id := range batch {
				if !yield(lookup{id: id, err: err}) {
					return false
				}
			}
		} else {
			for _, l := range got {
				if !yield(lookup{id: l.ID, w: l.Workspace, err: l.Err}) {
					return false
				}
			}
		}
		batch = batch[:0]
		return true
	}
	for id := range ids {
		batch = append(batch, id)
		if len(batch) == batchSize && !flush() {
			return
		}
	}
	flush()
}
