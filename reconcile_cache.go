package cloudswitch

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"sync"
)

// reconcileBatch is how many listed VMs a pass hands on at once when its
// store is a BatchGetter: their workspaces are read with one GetBatch call.
// It bounds what a pass holds beyond its per-workspace entries.
const reconcileBatch = 1000

// workspaceCache reads each workspace at most once per pass. It keeps what
// classifying the workspace's VMs needs. Once its recorded VM has been
// listed and it has no intent, it keeps only a 64-bit hash of its id. So a
// pass over many VMs holds one batch of them and about 16 bytes per settled
// workspace, never a table of VMs.
//
// Two ids whose hashes collide (about one pass in 10^7 at a million
// workspaces, with a seed drawn per pass) make the second workspace look
// settled: its VMs are taken as referenced and its record as seen. That
// errs the safe way — a VM not deleted, a dangling record not reported in
// that one pass — never the other.
type workspaceCache struct {
	store Store
	batch BatchGetter // the store, when it reads many workspaces at once
	seed  maphash.Seed
	mu    sync.Mutex
	open  map[string]*cacheEntry // read, with something still to learn
	done  map[uint64]struct{}    // hashes of ids: recorded VM listed, no intent
}

// cacheEntry is what a pass knows of one workspace.
type cacheEntry struct {
	loaded  sync.WaitGroup // done once the workspace has been read
	id      string
	exists  bool
	inst    *Instance // the recorded VM, its provider filled in
	pending *Intent
	err     error // the read failed
	seen    bool  // a listed VM is the one the record names
	done    bool  // settled: see workspaceCache.done

	reported bool // err was reported
}

// settled stands for every workspace in workspaceCache.done.
var settled = &cacheEntry{exists: true, seen: true, done: true}

func newWorkspaceCache(store Store) *workspaceCache {
	c := &workspaceCache{store: store, seed: maphash.MakeSeed(), open: make(map[string]*cacheEntry), done: make(map[uint64]struct{})}
	c.batch, _ = store.(BatchGetter)
	return c
}

// hash is the key of id in c.done.
func (c *workspaceCache) hash(id string) uint64 { return maphash.String(c.seed, id) }

// batched reports whether the cache reads workspaces a batch at a time.
func (c *workspaceCache) batched() bool { return c.batch != nil }

// prefetch reads, with one GetBatch call, the workspaces of the listed VMs
// in insts that the cache has not read yet, so that get finds them. It
// keeps every rule of get: a workspace is absent only when its Lookup
// matches ErrNotFound; a failed call, or an answer that does not match the
// ids asked for, leaves each of those workspaces with an error, and their
// VMs are not judged.
func (c *workspaceCache) prefetch(ctx context.Context, insts []Instance) {
	if c.batch == nil {
		return
	}
	var ids []string
	var entries []*cacheEntry
	c.mu.Lock()
	for _, inst := range insts {
		id := inst.WorkspaceID
		if id == "" {
			continue
		}
		if _, ok := c.done[c.hash(id)]; ok {
			continue
		}
		if _, ok := c.open[id]; ok {
			continue
		}
		e := &cacheEntry{id: id}
		e.loaded.Add(1)
		c.open[id] = e
		ids = append(ids, id)
		entries = append(entries, e)
	}
	c.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	lookups, err := c.batch.GetBatch(ctx, ids)
	if err == nil && len(lookups) != len(ids) {
		err = fmt.Errorf("cloudswitch: the store answered %d lookups for %d workspaces", len(lookups), len(ids))
	}
	for i, e := range entries {
		switch {
		case err != nil:
			e.err = err
		case lookups[i].ID != e.id:
			e.err = fmt.Errorf("cloudswitch: the store answered lookup %d for workspace %q with workspace %q", i, e.id, lookups[i].ID)
		case lookups[i].Err == nil:
			e.fill(lookups[i].Workspace)
		case !errors.Is(lookups[i].Err, ErrNotFound):
			e.err = lookups[i].Err
		}
		e.loaded.Done()
	}
}

func (c *workspaceCache) get(ctx context.Context, id string) *cacheEntry {
	c.mu.Lock()
	if _, ok := c.done[c.hash(id)]; ok {
		c.mu.Unlock()
		return settled
	}
	e, ok := c.open[id]
	if ok {
		c.mu.Unlock()
		e.loaded.Wait() // the read in flight, if any
		return e
	}
	e = &cacheEntry{id: id}
	e.loaded.Add(1)
	c.open[id] = e
	c.mu.Unlock()
	defer e.loaded.Done()
	w, err := c.store.Get(ctx, id)
	switch {
	case err == nil:
		e.fill(w)
	case !errors.Is(err, ErrNotFound):
		e.err = err
	}
	return e
}

// markSeen records that e's recorded VM was listed; a workspace with no
// intent then has nothing more to tell and shrinks to its id.
func (c *workspaceCache) markSeen(e *cacheEntry) {
	if e.done {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e.seen = true
	if e.pending == nil {
		delete(c.open, e.id)
		c.done[c.hash(e.id)] = struct{}{}
	}
}

func (c *workspaceCache) has(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, open := c.open[id]
	_, done := c.done[c.hash(id)]
	return open || done
}

// unseen returns the entries of existing workspaces whose recorded VM was
// not listed.
func (c *workspaceCache) unseen() []*cacheEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*cacheEntry
	for _, e := range c.open {
		if e.exists && !e.seen {
			out = append(out, e)
		}
	}
	return out
}

// fill keeps what classifying a workspace's VMs needs, and no more.
func (e *cacheEntry) fill(w Workspace) {
	e.exists = true
	e.pending = w.Pending
	if w.Instance != nil {
		inst := *w.Instance
		if inst.Provider == "" {
			inst.Provider = NormalizeProvider(w.Compute.Provider)
		}
		e.inst = &inst
	}
}

func entryOf(w Workspace) *cacheEntry {
	e := &cacheEntry{id: w.ID}
	e.fill(w)
	return e
}

func (e *cacheEntry) references(inst Instance) bool {
	return e.inst != nil && e.inst.ID == inst.ID && e.inst.Provider == inst.Provider
}

func (e *cacheEntry) holds(inst Instance) bool {
	in := e.pending
	if in == nil {
		return false
	}
	if in.Token != "" && inst.Token == in.Token {
		return true
	}
	for _, held := range []*Instance{in.Old, in.New} {
		if held != nil && held.ID == inst.ID && held.Provider == inst.Provider {
			return true
		}
	}
	return false
}

// reportErr reports whether the entry's read error still needs reporting,
// so that a workspace with many VMs yields one error.
func (c *workspaceCache) reportErr(e *cacheEntry) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e.reported {
		return false
	}
	e.reported = true
	return true
}

// orNoSequence returns seq, or, when a plug-in returned none, a sequence
// that yields one error saying so: a nil sequence never panics a pass.
