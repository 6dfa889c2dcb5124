package wiring

import (
	"context"
	"math/rand/v2"
	"time"
)

// Every calls pass at once, then again every interval with ±20% jitter, so
// that replicas started together do not reconcile in lockstep, until ctx
// ends. It returns once the pass in flight, if any, has returned; pass gets
// ctx and should end promptly when ctx does.
func Every(ctx context.Context, interval time.Duration, pass func(context.Context)) {
	for ctx.Err() == nil {
		pass(ctx)
		t := time.NewTimer(Jitter(interval))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// Jitter returns d scaled by a random factor between 0.8 and 1.2.
func Jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}
