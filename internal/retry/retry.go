// Package retry runs an operation again after errors that may go away:
// exponential backoff with jitter, bounded by attempts, elapsed time and the
// context, on github.com/cenkalti/backoff/v4.
package retry

import (
	"context"
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// Policy bounds the retries. MaxAttempts counts every attempt, the first
// included (0: no cap but time); MaxElapsedTime 0 means no cap but attempts.
// Intervals start at InitialInterval and grow by Multiplier (default 2) up to
// MaxInterval, each randomised by ±Jitter (default 0.5).
type Policy struct {
	InitialInterval time.Duration
	MaxInterval     time.Duration
	MaxElapsedTime  time.Duration
	MaxAttempts     int
	Multiplier      float64
	Jitter          float64
}

// Retrier runs operations under a Policy.
type Retrier struct {
	Policy Policy
	// Retryable reports whether an error may go away when the operation is
	// tried again. Errors it rejects end the retries at once.
	Retryable func(error) bool
	// OnRetry, if set, is called after a failed attempt that will be
	// retried, with the attempt's number (from 1), its error and the wait
	// before the next attempt.
	OnRetry func(attempt int, err error, wait time.Duration)
	// Sleep waits d or until ctx ends (default: a timer); tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Do calls op until it returns nil, returns an error Retryable rejects, or
// the policy or the context ends the retries. It returns the number of
// attempts made and nil or the error that ended them: a rejected error as op
// returned it; otherwise the last error, wrapped with the attempt count and,
// when the context ended the retries, the context's error too — so
// errors.Is reaches both the last cause and context.DeadlineExceeded.
func (r Retrier) Do(ctx context.Context, op func(context.Context) error) (int, error) {
	var b *backoff.ExponentialBackOff // made on the first retry: most calls need none
	sleep := r.Sleep
	if sleep == nil {
		sleep = timerSleep
	}
	for attempt := 1; ; attempt++ {
		err := op(ctx)
		if err == nil {
			return attempt, nil
		}
		if r.Retryable == nil || !r.Retryable(err) {
			return attempt, err
		}
		if cerr := ctx.Err(); cerr != nil {
			return attempt, ended(attempt, cerr, err)
		}
		if r.Policy.MaxAttempts > 0 && attempt >= r.Policy.MaxAttempts {
			return attempt, fmt.Errorf("gave up after %d attempts: %w", attempt, err)
		}
		if b == nil {
			b = r.backoff()
		}
		wait := b.NextBackOff()
		if wait == backoff.Stop {
			return attempt, fmt.Errorf("gave up after %d attempts in %v: %w", attempt, r.Policy.MaxElapsedTime, err)
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			// Waiting would outlive the context: stop now and say why.
			return attempt, ended(attempt, context.DeadlineExceeded, err)
		}
		if r.OnRetry != nil {
			r.OnRetry(attempt, err, wait)
		}
		if serr := sleep(ctx, wait); serr != nil {
			return attempt, ended(attempt, serr, err)
		}
	}
}

func ended(attempts int, ctxErr, last error) error {
	return fmt.Errorf("gave up after %d attempts (%w): %w", attempts, ctxErr, last)
}

func (r Retrier) backoff() *backoff.ExponentialBackOff {
	p := r.Policy
	mult := p.Multiplier
	if mult <= 0 {
		mult = 2
	}
	jitter := p.Jitter
	if jitter <= 0 || jitter > 1 {
		jitter = 0.5
	}
	maxInterval := p.MaxInterval
	if maxInterval <= 0 {
		maxInterval = backoff.DefaultMaxInterval
	}
	initial := p.InitialInterval
	if initial <= 0 {
		initial = time.Millisecond
	}
	return backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(initial),
		backoff.WithMaxInterval(maxInterval),
		backoff.WithMaxElapsedTime(p.MaxElapsedTime),
		backoff.WithMultiplier(mult),
		backoff.WithRandomizationFactor(jitter),
	)
}

func timerSleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
