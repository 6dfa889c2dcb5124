package cloudswitch

import (
	"context"
	"errors"
	"fmt"

	"github.com/cloudswitch/cloudswitch/internal/retry"
)

// preflight asks the target provider, when its driver is a Preflighter,
// whether it would create the VM req describes — before anything is
// written or destroyed. A request the cloud says is not valid is returned as
// the driver's *ValidationError (ErrInvalid); a provider that cannot be asked
// (after retrying transient errors) aborts the switch at StagePreflight.
// Nothing is written either way.
func (s *Switcher) preflight(t *tracer, req ProvisionRequest) error {
	pf, ok := s.providers[req.Compute.Provider].(Preflighter)
	if !ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(t.ctx, s.cfg.lease)
	defer cancel()
	sp := t.stageCtx(ctx, StagePreflight, req.Compute.Provider, "")
	attempts, err := s.retrier(&sp).Do(sp.ctx, func(ctx context.Context) error {
		return pf.Preflight(ctx, req)
	})
	sp.ev.Attempts = attempts
	sp.end(err)
	if err == nil {
		return nil
	}
	var invalid *ValidationError
	if errors.As(err, &invalid) {
		return fmt.Errorf("workspace %q: provider %q would not create the VM: %w", req.WorkspaceID, req.Compute.Provider, invalid)
	}
	return &AbortError{Stage: StagePreflight, WorkspaceID: req.WorkspaceID, Err: err}
}

// retrier retries transient errors by the Switcher's RetryPolicy, reporting
// each retry on sp.
func (s *Switcher) retrier(sp *span) retry.Retrier {
	p := s.cfg.retry
	return retry.Retrier{
		Policy: retry.Policy{
			InitialInterval: p.InitialInterval,
			MaxInterval:     p.MaxInterval,
			MaxElapsedTime:  p.MaxElapsedTime,
			MaxAttempts:     p.MaxAttempts,
		},
		Retryable: isTransient,
		OnRetry:   sp.retried,
	}
}
