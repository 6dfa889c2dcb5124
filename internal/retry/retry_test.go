package retry

import (
	"context"
	"errors"
	"testing"
	"time"
)

var (
	errFlaky = errors.New("flaky")
	errFatal = errors.New("fatal")
)

func isFlaky(err error) bool { return errors.Is(err, errFlaky) }

// recorder is a Sleep that never sleeps and remembers what it was asked.
type recorder struct{ waits []time.Duration }

func (r *recorder) sleep(ctx context.Context, d time.Duration) error {
	r.waits = append(r.waits, d)
	return ctx.Err()
}

func TestPermanentErrorStopsAtOnceWithoutSleeping(t *testing.T) {
	var rec recorder
	calls := 0
	n, err := Retrier{Policy: Policy{InitialInterval: time.Second, MaxAttempts: 5}, Retryable: isFlaky, Sleep: rec.sleep}.
		Do(t.Context(), func(context.Context) error { calls++; return errFatal })
	if calls != 1 || n != 1 {
		t.Fatalf("a permanent error was attempted %d times (reported %d); want exactly 1", calls, n)
	}
	if len(rec.waits) != 0 {
		t.Fatalf("a permanent error slept %v before returning; want no backoff", rec.waits)
	}
	if err != errFatal {
		t.Fatalf("Do returned %v; want the permanent error itself", err)
	}
}

func TestMaxAttemptsCountsTheFirstAttempt(t *testing.T) {
	var rec recorder
	calls := 0
	n, err := Retrier{Policy: Policy{InitialInterval: time.Millisecond, MaxAttempts: 3}, Retryable: isFlaky, Sleep: rec.sleep}.
		Do(t.Context(), func(context.Context) error { calls++; return errFlaky })
	if calls != 3 || n != 3 {
		t.Fatalf("MaxAttempts 3 made %d calls (reported %d); want 3 in all", calls, n)
	}
	if len(rec.waits) != 2 {
		t.Fatalf("3 attempts slept %d times; want 2 (between attempts only)", len(rec.waits))
	}
	if !errors.Is(err, errFlaky) {
		t.Fatalf("exhausted retries returned %v; want it to wrap the last cause", err)
	}
}

func TestBackoffGrowsWithJitterAndIsCapped(t *testing.T) {
	var rec recorder
	p := Policy{InitialInterval: 100 * time.Millisecond, MaxInterval: 400 * time.Millisecond, MaxAttempts: 8}
	_, _ = Retrier{Policy: p, Retryable: isFlaky, Sleep: rec.sleep}.
		Do(t.Context(), func(context.Context) error { return errFlaky })
	if len(rec.waits) != 7 {
		t.Fatalf("got %d waits; want 7", len(rec.waits))
	}
	for i, w := range rec.waits {
		base := p.InitialInterval << i
		if base > p.MaxInterval {
			base = p.MaxInterval
		}
		lo, hi := base/2, base*3/2+1
		if w < lo || w > hi {
			t.Errorf("wait %d = %v; want within ±50%% jitter of %v", i, w, base)
		}
	}
	if rec.waits[6] > 600*time.Millisecond {
		t.Errorf("wait %v exceeds MaxInterval plus jitter", rec.waits[6])
	}
}

func TestSuccessAfterTransientErrors(t *testing.T) {
	var rec recorder
	calls := 0
	n, err := Retrier{Policy: Policy{InitialInterval: time.Millisecond, MaxAttempts: 5}, Retryable: isFlaky, Sleep: rec.sleep}.
		Do(t.Context(), func(context.Context) error {
			calls++
			if calls < 3 {
				return errFlaky
			}
			return nil
		})
	if err != nil || n != 3 {
		t.Fatalf("Do = (%d, %v); want (3, nil) after two transient failures", n, err)
	}
}

func TestContextEndKeepsLastCause(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	calls := 0
	_, err := Retrier{Policy: Policy{InitialInterval: time.Hour, MaxAttempts: 0, MaxElapsedTime: 24 * time.Hour}, Retryable: isFlaky,
		Sleep: func(ctx context.Context, d time.Duration) error { cancel(); <-ctx.Done(); return ctx.Err() }}.
		Do(ctx, func(context.Context) error { calls++; return errFlaky })
	if calls != 1 {
		t.Fatalf("made %d calls after the context ended; want 1", calls)
	}
	if !errors.Is(err, context.Canceled) || !errors.Is(err, errFlaky) {
		t.Fatalf("Do returned %v; want it to match both context.Canceled and the last cause", err)
	}
}

func TestWaitBeyondDeadlineStopsEarly(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	var rec recorder
	_, err := Retrier{Policy: Policy{InitialInterval: time.Minute, MaxElapsedTime: time.Hour}, Retryable: isFlaky, Sleep: rec.sleep}.
		Do(ctx, func(context.Context) error { return errFlaky })
	if len(rec.waits) != 0 {
		t.Fatalf("slept %v although the wait outlives the context", rec.waits)
	}
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, errFlaky) {
		t.Fatalf("Do returned %v; want DeadlineExceeded and the last cause", err)
	}
}

func TestMaxElapsedTimeEndsRetries(t *testing.T) {
	calls := 0
	_, err := Retrier{Policy: Policy{InitialInterval: 20 * time.Millisecond, MaxElapsedTime: 30 * time.Millisecond, Jitter: 0.01},
		Retryable: isFlaky}.
		Do(t.Context(), func(context.Context) error { calls++; return errFlaky })
	if calls > 3 {
		t.Fatalf("made %d calls within a 30ms budget of 20ms+ waits", calls)
	}
	if !errors.Is(err, errFlaky) {
		t.Fatalf("Do returned %v; want the last cause", err)
	}
}
