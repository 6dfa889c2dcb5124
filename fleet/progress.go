package fleet

import (
	"sync"
	"time"
)

// EventKind says what happened to a workspace during Apply, or to the
// apply itself.
type EventKind string

// The kinds of Event.
const (
	// EventStarted: a switch (or the resume of a journaled one) started.
	EventStarted EventKind = "started"
	// EventDone: the workspace reached its target.
	EventDone EventKind = "done"
	// EventFailed: the switch failed; Err says why.
	EventFailed EventKind = "failed"
	// EventSkipped: nothing to do: the step does nothing, or the workspace
	// is already at its target (an earlier apply did it).
	EventSkipped EventKind = "skipped"
	// EventRefused: the step was not applied because it was refused in the
	// plan, or its workspace changed since the plan was made.
	EventRefused EventKind = "refused"
	// EventCanary: the canary switches finished; the rest waits for the
	// canary check.
	EventCanary EventKind = "canary"
	// EventStopped: no new switch will start; Reason says why. In-flight
	// switches still finish and report.
	EventStopped EventKind = "stopped"
)

// Event is one progress report of Apply, with the running totals.
type Event struct {
	Kind        EventKind `json:"event"`
	WorkspaceID string    `json:"workspace_id,omitempty"`
	// Provider is the target provider of the workspace's step.
	Provider string `json:"provider,omitempty"`
	Action   Action `json:"action,omitempty"`
	// Reason says why a step was skipped or refused, or why the apply
	// stopped; Err why a switch failed.
	Reason string `json:"reason,omitempty"`
	Err    string `json:"error,omitempty"`
	// Resumed is true when the workspace's journaled switch was resumed.
	Resumed bool `json:"resumed,omitempty"`
	// Progress holds the totals after this event.
	Progress Progress `json:"progress"`
}

// Tally counts what happened to the steps of one provider, or of all.
type Tally struct {
	Started  int `json:"started"`
	Done     int `json:"done"`
	Failed   int `json:"failed"`
	Skipped  int `json:"skipped"`
	Refused  int `json:"refused"`
	InFlight int `json:"in_flight"`
}

// switched counts the switches that ran to their end, done or failed; steps
// skipped or refused without a switch are not among them.
func (t Tally) switched() int { return t.Done + t.Failed }

// finished counts the steps that are over.
func (t Tally) finished() int { return t.Done + t.Failed + t.Skipped + t.Refused }

// Progress is the state of an Apply.
type Progress struct {
	Tally
	// Total is the number of steps, when the caller said (Options.Total);
	// 0 when unknown.
	Total int `json:"total,omitempty"`
	// PerProvider tallies the steps by target provider.
	PerProvider map[string]Tally `json:"per_provider,omitempty"`
	// Elapsed is the time since Apply started; Rate the switches finished
	// (done or failed) per second since then; ETA the time the remaining
	// steps take at that rate (0 when unknown).
	Elapsed time.Duration `json:"elapsed_ns"`
	Rate    float64       `json:"rate_per_s"`
	ETA     time.Duration `json:"eta_ns,omitempty"`
}

// tracker keeps the totals and reports events, one at a time.
type tracker struct {
	mu       sync.Mutex
	start    time.Time
	now      func() time.Time
	total    int
	all      Tally
	per      map[string]*Tally
	report   func(Event)
	failures []Failure
}

// maxFailures bounds the failures a Summary keeps (events carry every one).
const maxFailures = 100

func newTracker(now func() time.Time, total int, report func(Event)) *tracker {
	return &tracker{start: now(), now: now, total: total, per: make(map[string]*Tally), report: report}
}

// record applies the event's kind to the totals and reports it.
func (t *tracker) record(e Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.per[e.Provider]
	if p == nil && e.Provider != "" {
		p = &Tally{}
		t.per[e.Provider] = p
	}
	for _, c := range []*Tally{&t.all, p} {
		if c == nil {
			continue
		}
		switch e.Kind {
		case EventStarted:
			c.Started++
			c.InFlight++
		case EventDone:
			c.Done++
			c.InFlight--
		case EventFailed:
			c.Failed++
			c.InFlight--
		case EventSkipped:
			c.Skipped++
		case EventRefused:
			c.Refused++
		}
	}
	if e.Kind == EventFailed && len(t.failures) < maxFailures {
		t.failures = append(t.failures, Failure{WorkspaceID: e.WorkspaceID, Provider: e.Provider, Err: e.Err})
	}
	if t.report != nil {
		e.Progress = t.progressLocked()
		t.report(e)
	}
}

func (t *tracker) progress() Progress {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.progressLocked()
}

func (t *tracker) progressLocked() Progress {
	p := Progress{Tally: t.all, Total: t.total, Elapsed: t.now().Sub(t.start)}
	p.PerProvider = make(map[string]Tally, len(t.per))
	for name, c := range t.per {
		p.PerProvider[name] = *c
	}
	switched := t.all.Done + t.all.Failed
	if secs := p.Elapsed.Seconds(); secs > 0 && switched > 0 {
		p.Rate = float64(switched) / secs
		if t.total > 0 {
			if left := t.total - t.all.finished(); left > 0 {
				p.ETA = time.Duration(float64(left) / p.Rate * float64(time.Second))
			}
		}
	}
	return p
}

func (t *tracker) tally() (Tally, map[string]Tally, []Failure) {
	t.mu.Lock()
	defer t.mu.Unlock()
	per := make(map[string]Tally, len(t.per))
	for name, c := range t.per {
		per[name] = *c
	}
	return t.all, per, append([]Failure(nil), t.failures...)
}

// Channel returns a progress callback that sends every event on ch,
// waiting while ch is full (so a slow reader slows the reports down, never
// loses one). Close ch only after Apply returned.
func Channel(ch chan<- Event) func(Event) {
	return func(e Event) { ch <- e }
}
