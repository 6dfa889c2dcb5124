package wiring

import (
	"context"
	"testing"
	"time"
)

func TestJitterStaysWithinTwentyPercent(t *testing.T) {
	for range 1000 {
		if d := Jitter(time.Second); d < 800*time.Millisecond || d >= 1200*time.Millisecond {
			t.Fatalf("Jitter(1s) = %v", d)
		}
	}
}

func TestEveryRunsAtOnceAndStopsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	passes := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		Every(ctx, time.Millisecond, func(ctx context.Context) {
			if passes++; passes == 3 {
				cancel()
			}
		})
	}()
	<-done
	if passes != 3 {
		t.Errorf("%d passes, want 3: the loop must stop once its context ends", passes)
	}
}
