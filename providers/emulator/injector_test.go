package emulator

import (
	"context"
	"testing"
	"time"
)

func TestFaultsApplyInOrderForTheirTimes(t *testing.T) {
	var in Injector
	in.Add(Fault{Op: "Run", Times: 2, Status: 503, Code: "Unavailable"})
	in.Add(Fault{Op: "Run", Times: 1, Status: 400, Code: "Bad"})
	var codes []string
	for range 4 {
		codes = append(codes, in.Take(t.Context(), "Run").Code)
	}
	want := []string{"Unavailable", "Unavailable", "Bad", ""}
	for i := range want {
		if codes[i] != want[i] {
			t.Fatalf("codes %v; want %v", codes, want)
		}
	}
	if in.CallCount("Run") != 4 || in.CallCount("") != 4 {
		t.Fatalf("counted %d calls; want 4", in.CallCount("Run"))
	}
}

func TestFaultForOtherOpDoesNotApply(t *testing.T) {
	var in Injector
	in.Add(Fault{Op: "Terminate", Times: 1, Status: 500})
	if d := in.Take(t.Context(), "Run"); d.Fail() {
		t.Fatal("a fault for Terminate applied to Run")
	}
	if d := in.Take(t.Context(), "Terminate"); !d.Fail() {
		t.Fatal("the fault for Terminate did not apply")
	}
}

func TestFaultWithoutTimesAppliesUntilCleared(t *testing.T) {
	var in Injector
	in.Add(Fault{Status: 500})
	for range 3 {
		if !in.Take(t.Context(), "x").Fail() {
			t.Fatal("a standing fault stopped applying")
		}
	}
	in.Clear()
	if in.Take(t.Context(), "x").Fail() {
		t.Fatal("Clear did not remove the fault")
	}
}

func TestLatencyIsCutShortByTheContext(t *testing.T) {
	var in Injector
	in.Add(Fault{Latency: time.Hour})
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	done := make(chan struct{})
	go func() { in.Take(ctx, "x"); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("latency ignored the context")
	}
}
