package sim

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing/synctest"
	"time"

	"github.com/cloudswitch/cloudswitch"
)

// The simulated system's constants. Every duration is virtual.
const (
	lease     = time.Minute
	grace     = 3 * time.Minute
	skewBound = 2 * time.Second // a process's clock is off by at most this
	maxHang   = 3 * lease       // a hanging hook gives up after this
	listLag   = 30 * time.Second
)

// errCrashed is what every call of a crashed process gets: it never reaches
// the store, a cloud or a hook.
var errCrashed = errors.New("sim: the process crashed")

// decisionKind is what the scheduler does with one call.
type decisionKind int

const (
	proceed    decisionKind = iota // the call goes through
	failBefore                     // err, nothing done
	failAfter                      // the effect, then err (the answer is lost)
	delay                          // sleep, then ask again
	truncate                       // a listing: n items, then err
	hang                           // a hook: block until its context ends
	crashed                        // the caller's process is dead
)

// decision is the scheduler's answer to one call.
type decision struct {
	kind decisionKind
	err  error
	d    time.Duration
	n    int
	op   op // for an actor's next call: what to do
}

// call is one goroutine waiting at a gate.
type call struct {
	a     *actor
	kind  string // "get", "update", "provision", "hook", "next", …
	ws    string
	vm    string
	late  bool   // asked again after a delay
	info  string // raw detail for the trace
	k     string // key, once parked
	reply chan decision
}

func (c *call) key() string {
	k := c.a.name + "|" + c.kind + "|" + c.ws + "|" + c.vm
	if c.late {
		k += "|late"
	}
	return k
}

// world is one simulated run: the ground truth, the gates, the actors.
type world struct {
	cfg Config
	rng *rand.Rand
	tr  *trace

	// ground truth, reached without gates
	store   Store
	clouds  []Cloud
	provs   map[string]cloudswitch.Provider // gated, shared by every process
	gstore  cloudswitch.Store               // gated
	wsIDs   []string
	types   map[string][]string
	offset  time.Duration // virtual time is shifted to start at the real time
	faults  faultSet
	hooks   hookPolicy
	rate    int // fault intensity of this run, in percent of the base rates
	outside *executor

	mu        sync.Mutex
	pending   []*call
	procs     []*process
	nProcs    int
	actors    int // actor goroutines still running
	violation string
	quiet     bool // faults off, actors wind down
	dirty     bool // a call reached the store or a cloud since the last check

	// what the simulator learned, for the invariants
	incarnation map[string]int        // workspace id -> incarnation (0: never created)
	intents     map[string]*intentLog // by intent id
	byToken     map[string]*intentLog
	hookDone    map[string]bool // intent id -> a BeforeDeprovision hook returned nil
	step        int
}

// intentLog is what the simulator knows of one intent.
type intentLog struct {
	id          string
	token       string
	incarnation int
	hookNeeded  bool // claimed by a Switcher with a BeforeDeprovision hook
}

// now is the world's clock, as the clouds see it: virtual time.
func (w *world) now() time.Time { return time.Now().Add(w.offset) }

// violate records the first broken invariant.
func (w *world) violate(format string, args ...any) {
	w.mu.Lock()
	if w.violation == "" {
		w.violation = w.tr.canonical(fmt.Sprintf(format, args...))
	}
	w.mu.Unlock()
}

// addTrace appends one step to the trace.
func (w *world) addTrace(line string) {
	w.mu.Lock()
	w.tr.add(line)
	w.mu.Unlock()
}

// gate parks the calling goroutine until the scheduler decides its call.
func (w *world) gate(c *call) decision {
	w.mu.Lock()
	if c.a.proc.dead {
		w.mu.Unlock()
		return decision{kind: crashed, err: errCrashed}
	}
	c.reply = make(chan decision, 1)
	// A driver may name VMs after their tokens (GCP does): keys carry
	// canonical ids, never raw random ones, so that their order is the
	// seed's.
	c.k = w.tr.canonical(c.key())
	w.pending = append(w.pending, c)
	w.mu.Unlock()
	return <-c.reply
}

// touched notes that a call reached the ground truth.
func (w *world) touched() {
	w.mu.Lock()
	w.dirty = true
	w.mu.Unlock()
}

// sleep waits d of virtual time, or less if ctx ends or the process
// crashes. It reports whether the process is still alive.
func (w *world) sleep(ctx context.Context, p *process, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	case <-p.killed:
	}
	return !p.isDead(w)
}

// loop runs the scheduler until the step budget is spent and the system has
// quiesced, or an invariant broke.
func (w *world) loop() {
	drainLimit := w.cfg.Steps + 20000
	for {
		synctest.Wait()
		w.mu.Lock()
		v := w.violation
		w.mu.Unlock()
		if v != "" {
			return
		}
		// Only a step that reached the store or a cloud can break a state
		// invariant; the others are not worth a look at the truth.
		w.mu.Lock()
		dirty := w.dirty
		w.dirty = false
		w.mu.Unlock()
		if dirty {
			if err := w.checkState(); err != nil {
				w.violate("%v", err)
				return
			}
		}
		w.mu.Lock()
		if w.actors == 0 && len(w.pending) == 0 {
			w.mu.Unlock()
			return
		}
		pend := w.pending
		w.mu.Unlock()
		w.step++
		if w.step == w.cfg.Steps {
			w.beginQuiescence()
		}
		if w.step > drainLimit {
			w.violate("the system did not quiesce within %d steps after faults stopped", drainLimit-w.cfg.Steps)
			return
		}
		if len(pend) == 0 {
			// Everyone sleeps: let virtual time run to the next timer.
			time.Sleep(time.Second)
			w.addTrace(fmt.Sprintf("%d idle", w.step))
			continue
		}
		if !w.quiet {
			switch r := w.rng.IntN(1000); {
			case r < 8 && w.faults.has(faultCrash):
				w.crashOne()
				continue
			case r < 40:
				d := []time.Duration{time.Second, 10 * time.Second, lease / 2, lease, 2 * lease}[w.rng.IntN(5)]
				w.addTrace(fmt.Sprintf("%d advance %v", w.step, d))
				time.Sleep(d)
				continue
			}
		}
		w.release(pend)
	}
}

// release picks one group of identical pending calls and decides them.
func (w *world) release(pend []*call) {
	keys := make([]string, len(pend))
	for i, c := range pend {
		keys[i] = c.k
	}
	slices.Sort(keys)
	distinct := slices.Compact(keys)
	key := distinct[w.rng.IntN(len(distinct))]
	var group []*call
	w.mu.Lock()
	rest := w.pending[:0]
	for _, c := range w.pending {
		if c.k == key {
			group = append(group, c)
		} else {
			rest = append(rest, c)
		}
	}
	w.pending = rest
	w.mu.Unlock()
	d := w.decide(group[0])
	if d.kind != truncate {
		d.n = w.rng.IntN(2) // whether a slow call's effect lands after its caller gave up
	}
	w.addTrace(fmt.Sprintf("%d %s%s %s -> %s [of %d]", w.step, key, strings.Repeat("*", len(group)-1), group[0].info, d.describe(), len(distinct)))
	for _, c := range group {
		c.reply <- d
	}
}

func (d decision) describe() string {
	switch d.kind {
	case proceed:
		if d.op.kind != "" {
			return "do " + d.op.String()
		}
		return "ok"
	case failBefore:
		return "fail " + errWord(d.err)
	case failAfter:
		return "effect+fail " + errWord(d.err)
	case delay:
		return "delay " + d.d.String()
	case truncate:
		return fmt.Sprintf("truncate %d", d.n)
	case hang:
		return "hang"
	}
	return "crashed"
}

func errWord(err error) string {
	if err == nil {
		return "nil"
	}
	s := err.Error()
	if len(s) > 60 {
		s = s[:60] + "…"
	}
	return s
}

// crashOne kills a process: its waiting calls get errCrashed, its sleeping
// goroutines wake, and every later call of it fails before reaching
// anything. A fresh process takes its place.
func (w *world) crashOne() {
	w.mu.Lock()
	var live []*process
	for _, p := range w.procs {
		if !p.dead && p.crashable {
			live = append(live, p)
		}
	}
	if len(live) == 0 {
		w.mu.Unlock()
		return
	}
	p := live[w.rng.IntN(len(live))]
	p.dead = true
	close(p.killed)
	rest := w.pending[:0]
	var dropped []*call
	for _, c := range w.pending {
		if c.a.proc == p {
			dropped = append(dropped, c)
		} else {
			rest = append(rest, c)
		}
	}
	w.pending = rest
	w.mu.Unlock()
	for _, c := range dropped {
		c.reply <- decision{kind: crashed, err: errCrashed}
	}
	w.addTrace(fmt.Sprintf("%d crash %s", w.step, p.name))
	w.spawnProcess(true)
}

// beginQuiescence stops the faults and asks every actor to finish; an admin
// then settles every intent and runs one reconcile pass with deletion on.
func (w *world) beginQuiescence() {
	w.mu.Lock()
	w.quiet = true
	w.mu.Unlock()
	for _, c := range w.clouds {
		if c.SetListLag != nil {
			c.SetListLag(0)
		}
	}
	w.addTrace(fmt.Sprintf("%d quiesce", w.step))
	w.spawnAdmin()
}
