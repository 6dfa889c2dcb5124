package cloudswitch

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/cloudswitch/cloudswitch/internal/redact"
)

// tracer reports one Switch or Resume call to the observer and the logger.
type tracer struct {
	s     *Switcher
	ctx   context.Context
	ev    SwitchEvent
	start time.Time
	wrote bool // a compute change was written without a journal
	// quiet: no observer and no log level enabled, so nothing is measured
	// and the default configuration pays nothing for reporting.
	quiet bool
}

func (s *Switcher) trace(ctx context.Context, ev SwitchEvent) *tracer {
	_, nop := s.cfg.observer.(NopObserver)
	t := &tracer{s: s, ev: ev, ctx: ctx, quiet: nop && !s.cfg.logger.Enabled(ctx, slog.LevelError)}
	if t.quiet {
		return t
	}
	t.start = time.Now()
	t.ctx = scoped(ctx, s.cfg.observer.SwitchStarted(ctx, ev))
	return t
}

// routed records where a switch goes, once its target is known.
func (t *tracer) routed(from, to string) {
	t.ev.From, t.ev.To = NormalizeProvider(from), to
}

// journaled records the intent a switch is about to journal: the stages
// from here on carry its id.
func (t *tracer) journaled(in *Intent) {
	t.ev.IntentID = in.ID
}

// claiming records the strategy of the intent a switch is about to claim.
func (t *tracer) claiming(in *Intent) {
	t.ev.Strategy = in.Strategy
}

// end reports how the call ended.
func (t *tracer) end(res Result, err error) {
	if t.quiet {
		return
	}
	t.ev.Duration = time.Since(t.start)
	t.ev.Err = redact.Error(err)
	t.ev.Outcome = outcomeOf(res, err, t.wrote)
	t.s.cfg.observer.SwitchEnded(t.ctx, t.ev)

	level := slog.LevelInfo
	switch t.ev.Outcome {
	case OutcomeUnchanged, OutcomeRejected:
		level = slog.LevelDebug
	case OutcomeAborted:
		level = slog.LevelWarn
	case OutcomeIncomplete:
		level = slog.LevelError
	}
	logger := t.s.cfg.logger
	if !logger.Enabled(t.ctx, level) {
		return
	}
	msg := "switch ended"
	if t.ev.Resumed {
		msg = "resume ended"
	}
	attrs := []slog.Attr{
		slog.String("workspace", t.ev.WorkspaceID),
		slog.String("outcome", string(t.ev.Outcome)),
		slog.Duration("duration", t.ev.Duration),
	}
	if t.ev.IntentID != "" {
		attrs = append(attrs, slog.String("intent", t.ev.IntentID))
	}
	if t.ev.From != "" || t.ev.To != "" {
		attrs = append(attrs, slog.String("from", t.ev.From), slog.String("to", t.ev.To))
	}
	if res.Deprovisioned != nil {
		attrs = append(attrs, slog.String("deprovisioned", res.Deprovisioned.ID))
	}
	if res.Provisioned != nil {
		attrs = append(attrs, slog.String("provisioned", res.Provisioned.ID))
	}
	attrs = append(attrs, errAttrs(err)...)
	logger.LogAttrs(t.ctx, level, msg, attrs...)
}

func outcomeOf(res Result, err error, wrote bool) Outcome {
	if err != nil {
		var abort *AbortError
		var incomplete *IncompleteError
		switch {
		case errors.As(err, &incomplete):
			return OutcomeIncomplete
		case errors.As(err, &abort):
			return OutcomeAborted
		}
		return OutcomeRejected
	}
	switch {
	case res.RolledBack:
		return OutcomeAborted
	case res.Deleted:
		return OutcomeDeleted
	case res.Switched, res.Provisioned != nil, res.Deprovisioned != nil:
		return OutcomeSwitched
	case wrote, res.Resized:
		return OutcomeUpdated
	}
	return OutcomeUnchanged
}

func errAttrs(err error) []slog.Attr {
	if err == nil {
		return nil
	}
	return []slog.Attr{slog.String("error", errText(err)), slog.String("error_class", errorClass(err))}
}

// span reports one stage.
type span struct {
	s     *Switcher
	quiet bool // report nothing (see tracer.quiet)
	ctx   context.Context
	ev    StageEvent
	start time.Time
}

func (t *tracer) stage(stage Stage, provider, instanceID string) span {
	return t.stageCtx(t.ctx, stage, provider, instanceID)
}

// stageCtx starts a stage of the traced call.
func (t *tracer) stageCtx(ctx context.Context, stage Stage, provider, instanceID string) span {
	return t.s.startStage(ctx, t.quiet, StageEvent{
		WorkspaceID: t.ev.WorkspaceID, IntentID: t.ev.IntentID,
		Stage: stage, Provider: provider, InstanceID: instanceID,
	})
}

// startStage starts reporting the stage ev, unless quiet. A span is a value
// so that reporting a stage costs no allocation of its own.
func (s *Switcher) startStage(ctx context.Context, quiet bool, ev StageEvent) span {
	if quiet {
		return span{s: s, quiet: true, ctx: ctx}
	}
	sp := span{s: s, start: time.Now(), ev: ev}
	sp.ctx = scoped(ctx, s.cfg.observer.StageStarted(ctx, ev))
	return sp
}

// retried reports a transient failure that will be retried after wait.
func (sp *span) retried(attempt int, err error, wait time.Duration) {
	if sp.quiet {
		return
	}
	e := RetryEvent{
		WorkspaceID: sp.ev.WorkspaceID, IntentID: sp.ev.IntentID, Stage: sp.ev.Stage,
		Provider: sp.ev.Provider, Attempt: attempt, Wait: wait, Err: redact.Error(err),
	}
	sp.s.cfg.observer.Retried(sp.ctx, e)
	logger := sp.s.cfg.logger
	if logger.Enabled(sp.ctx, slog.LevelInfo) {
		attrs := append(sp.attrs(), slog.Int("attempt", attempt), slog.Duration("wait", wait))
		attrs = append(attrs, errAttrs(err)...)
		logger.LogAttrs(sp.ctx, slog.LevelInfo, "retrying after transient error", attrs...)
	}
}

// end reports the stage's end; attempts is set by stages that call
// providers.
func (sp *span) end(err error) {
	if sp.quiet {
		return
	}
	sp.ev.Duration = time.Since(sp.start)
	sp.ev.Err = redact.Error(err)
	sp.s.cfg.observer.StageEnded(sp.ctx, sp.ev)

	level := slog.LevelInfo
	if sp.ev.Stage == StageRead || sp.ev.Stage == StageValidate {
		level = slog.LevelDebug
	}
	if err != nil {
		level = slog.LevelWarn
	}
	logger := sp.s.cfg.logger
	if !logger.Enabled(sp.ctx, level) {
		return
	}
	attrs := append(sp.attrs(), slog.Duration("duration", sp.ev.Duration))
	if sp.ev.Attempts > 0 {
		attrs = append(attrs, slog.Int("attempts", sp.ev.Attempts))
	}
	attrs = append(attrs, errAttrs(err)...)
	msg := "stage done"
	if err != nil {
		msg = "stage failed"
	}
	logger.LogAttrs(sp.ctx, level, msg, attrs...)
}

func (sp *span) attrs() []slog.Attr {
	attrs := []slog.Attr{slog.String("workspace", sp.ev.WorkspaceID)}
	if sp.ev.IntentID != "" {
		attrs = append(attrs, slog.String("intent", sp.ev.IntentID))
	}
	attrs = append(attrs, slog.String("stage", string(sp.ev.Stage)))
	if sp.ev.Provider != "" {
		attrs = append(attrs, slog.String("provider", sp.ev.Provider))
	}
	if sp.ev.InstanceID != "" {
		attrs = append(attrs, slog.String("instance", sp.ev.InstanceID))
	}
	return attrs
}

// scoped returns a context with the deadline and cancellation of bound and
// the values of observed, the context an Observer returned for bound. An
// observer may add values (a trace span) but can never lift the lease's
// deadline or the caller's cancellation from the calls that follow.
func scoped(bound, observed context.Context) context.Context {
	if observed == bound || observed == nil {
		return bound
	}
	return valuesFrom{Context: bound, values: observed}
}

// valuesFrom is a context bounded by its embedded Context whose values come
// from another one.
type valuesFrom struct {
	context.Context
	values context.Context
}

func (c valuesFrom) Value(key any) any { return c.values.Value(key) }
