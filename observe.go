package cloudswitch

import (
	"context"
	"time"
)

// Observer is told of every switch, stage, retry and orphan, with durations
// and outcomes: enough to build metrics and traces without the root package
// depending on a metrics library (see observe/prometheus and observe/otel).
//
// The *Started methods return the context the switch or stage continues
// with, so a tracer can carry its span; the matching *Ended call receives that
// context. Methods are called synchronously from the switch's goroutine and
// must be quick and safe for concurrent use. Errors in events are redacted.
//
// Embed NopObserver to implement only the methods you need; methods added to
// Observer in future versions then default to doing nothing.
type Observer interface {
	SwitchStarted(ctx context.Context, e SwitchEvent) context.Context
	SwitchEnded(ctx context.Context, e SwitchEvent)
	StageStarted(ctx context.Context, e StageEvent) context.Context
	StageEnded(ctx context.Context, e StageEvent)
	Retried(ctx context.Context, e RetryEvent)
	OrphanFound(ctx context.Context, e OrphanEvent)
	Reconciled(ctx context.Context, e ReconcileEvent)
}

// Outcome is how a switch ended.
type Outcome string

const (
	// OutcomeSwitched: the provider changed, the VM was recreated, or the
	// workspace got its VM.
	OutcomeSwitched Outcome = "switched"
	// OutcomeUpdated: the compute changed on the same provider, the VM
	// kept (resized in place, or none to touch).
	OutcomeUpdated Outcome = "updated"
	// OutcomeDeleted: Decommission deleted the workspace and its VM.
	OutcomeDeleted Outcome = "deleted"
	// OutcomeUnchanged: the request asked for what the workspace already had,
	// or Resume found nothing to do.
	OutcomeUnchanged Outcome = "unchanged"
	// OutcomeRejected: the request was refused before anything was written
	// (invalid, unconfirmed, in progress, conflicting, not found).
	OutcomeRejected Outcome = "rejected"
	// OutcomeAborted: the switch stopped with nothing changed (*AbortError),
	// or Resume undid it.
	OutcomeAborted Outcome = "aborted"
	// OutcomeIncomplete: the switch stopped part-way, journaled
	// (*IncompleteError).
	OutcomeIncomplete Outcome = "incomplete"
)

// SwitchEvent describes a call of Switch or Resume. Outcome, Duration and Err
// are set when it ended.
type SwitchEvent struct {
	WorkspaceID string
	IntentID    string // empty until the intent is written
	Resumed     bool   // a Resume call, rather than Switch
	From, To    string // providers; To is empty until the target is known
	Strategy    Strategy
	Outcome     Outcome
	Duration    time.Duration
	Err         error
}

// StageEvent describes one stage of a switch. Duration, Attempts and Err are
// set when it ended.
type StageEvent struct {
	WorkspaceID string
	IntentID    string
	Stage       Stage
	Provider    string // the provider called, for provider stages
	InstanceID  string // the VM acted on, when known
	Attempts    int    // provider calls made, retries included
	Duration    time.Duration
	Err         error
}

// RetryEvent describes a provider call that failed transiently and will be
// tried again after Wait.
type RetryEvent struct {
	WorkspaceID string
	IntentID    string
	Stage       Stage
	Provider    string
	Attempt     int // the attempt that failed, from 1
	Wait        time.Duration
	Err         error
}

// OrphanEvent describes a VM the Reconciler found that no workspace record
// references or holds in a pending intent.
type OrphanEvent struct {
	Instance Instance
	Reason   string // why it is an orphan, in words
	Deleted  bool   // the Reconciler destroyed it
	Err      error  // why destroying it failed, if it did
}

// ReconcileEvent summarises one Reconcile pass.
type ReconcileEvent struct {
	Duration  time.Duration
	Instances int // VMs listed across providers
	Orphans   int
	Deleted   int
	Dangling  int // records naming a VM their provider does not list
	Pending   int // intents still pending after the pass
	Resumed   int
	Errors    int
}

// NopObserver does nothing. Embed it in an Observer to implement only some
// of the methods.
type NopObserver struct{}

func (NopObserver) SwitchStarted(ctx context.Context, _ SwitchEvent) context.Context { return ctx }
func (NopObserver) SwitchEnded(context.Context, SwitchEvent)                         {}
func (NopObserver) StageStarted(ctx context.Context, _ StageEvent) context.Context   { return ctx }
func (NopObserver) StageEnded(context.Context, StageEvent)                           {}
func (NopObserver) Retried(context.Context, RetryEvent)                              {}
func (NopObserver) OrphanFound(context.Context, OrphanEvent)                         {}
func (NopObserver) Reconciled(context.Context, ReconcileEvent)                       {}

// Observers combines observers: each event goes to each of them, in order.
func Observers(obs ...Observer) Observer {
	var list multiObserver
	for _, o := range obs {
		if o != nil {
			list = append(list, o)
		}
	}
	return list
}

type multiObserver []Observer

func (m multiObserver) SwitchStarted(ctx context.Context, e SwitchEvent) context.Context {
	for _, o := range m {
		ctx = o.SwitchStarted(ctx, e)
	}
	return ctx
}

func (m multiObserver) SwitchEnded(ctx context.Context, e SwitchEvent) {
	for _, o := range m {
		o.SwitchEnded(ctx, e)
	}
}

func (m multiObserver) StageStarted(ctx context.Context, e StageEvent) context.Context {
	for _, o := range m {
		ctx = o.StageStarted(ctx, e)
	}
	return ctx
}

func (m multiObserver) StageEnded(ctx context.Context, e StageEvent) {
	for _, o := range m {
		o.StageEnded(ctx, e)
	}
}

func (m multiObserver) Retried(ctx context.Context, e RetryEvent) {
	for _, o := range m {
		o.Retried(ctx, e)
	}
}

func (m multiObserver) OrphanFound(ctx context.Context, e OrphanEvent) {
	for _, o := range m {
		o.OrphanFound(ctx, e)
	}
}

func (m multiObserver) Reconciled(ctx context.Context, e ReconcileEvent) {
	for _, o := range m {
		o.Reconciled(ctx, e)
	}
}
