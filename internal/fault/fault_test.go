package fault

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestRulesApplyInOrderForTheirTimes(t *testing.T) {
	var in Injector
	in.Add(Rule{Op: "Run", Times: 2, Status: 503, Code: "Unavailable"})
	in.Add(Rule{Op: "Run", Times: 1, Status: 400, Code: "Bad"})
	var codes []string
	for range 4 {
		codes = append(codes, in.Take(context.Background(), "Run").Code)
	}
	want := []string{"Unavailable", "Unavailable", "Bad", ""}
	for i := range want {
		if codes[i] != want[i] {
			t.Fatalf("codes %v; want %v", codes, want)
		}
	}
	if in.Calls("Run") != 4 || in.Calls("") != 4 {
		t.Fatalf("counted %d calls; want 4", in.Calls("Run"))
	}
}

func TestRuleForOtherOpDoesNotApply(t *testing.T) {
	var in Injector
	in.Add(Rule{Op: "Terminate", Times: 1, Status: 500})
	if d := in.Take(context.Background(), "Run"); d.Fail() {
		t.Fatal("a rule for Terminate applied to Run")
	}
	if d := in.Take(context.Background(), "Terminate"); !d.Fail() {
		t.Fatal("the rule for Terminate did not apply")
	}
}

func TestRuleWithoutTimesAppliesUntilCleared(t *testing.T) {
	var in Injector
	in.Add(Rule{Status: 500})
	for range 3 {
		if !in.Take(context.Background(), "x").Fail() {
			t.Fatal("a standing rule stopped applying")
		}
	}
	in.Clear()
	if in.Take(context.Background(), "x").Fail() {
		t.Fatal("Clear did not remove the rule")
	}
}

func TestLatencyIsCutShortByTheContext(t *testing.T) {
	var in Injector
	in.Add(Rule{Latency: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	done := make(chan struct{})
	go func() { in.Take(ctx, "x"); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("latency ignored the context")
	}
}

func TestDropConnectionBreaksTheClientsRequest(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { DropConnection(w) }))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get(srv.URL)
	if err == nil {
		resp.Body.Close()
		t.Fatal("the client got an answer from a dropped connection")
	}
	if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Logf("client error: %v", err) // any transport error will do
	}
}
