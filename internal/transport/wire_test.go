package transport

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/cloudswitch/cloudswitch/internal/h2reset"
)

// TestClassifyNeverRefusesACallWhoseRequestReachedTheServer: the server
// processes a POST, then resets its HTTP/2 stream; net/http sends the POST
// again, and that attempt's dial fails. The call's error is a failed dial,
// yet the request was processed: it must not be a refusal.
func TestClassifyNeverRefusesACallWhoseRequestReachedTheServer(t *testing.T) {
	var received atomic.Int32
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		received.Add(1)
		w.WriteHeader(http.StatusCreated)
	}))
	defer upstream.Close()
	front := h2reset.New(t, upstream.URL)
	front.ResetOnce(func(r *http.Request) bool { return r.Method == http.MethodPost }, true, nil)

	ctx := Watch(t.Context())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, front.URL()+"/servers", bytes.NewReader([]byte(`{"name":"vm"}`)))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := front.Client().Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatal("the POST succeeded; want the retry's dial to fail")
	}
	if received.Load() != 1 || front.Resets() != 1 {
		t.Fatalf("the server received %d requests, %d reset; want the POST processed once", received.Load(), front.Resets())
	}
	var op *net.OpError
	if !neverSent(err) {
		t.Fatalf("the call failed with %v (%T); want the retry's failed dial, %T", err, err, op)
	}
	if v := Classify(ctx, err); v.Refused {
		t.Errorf("Classify(%v) = %+v: a refusal, though the server processed the request", err, v)
	}
	if Written(ctx) != 1 {
		t.Errorf("Written = %d; want 1 (the retry never connected)", Written(ctx))
	}
}

// TestClassifyAWatchedCallThatNeverConnectedIsRefused: watching a call
// takes nothing from a dial that failed for its only attempt.
func TestClassifyAWatchedCallThatNeverConnectedIsRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx := Watch(t.Context())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/servers", bytes.NewReader([]byte("{}")))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatal("a POST to a closed port succeeded")
	}
	if v := Classify(ctx, err); !v.Refused || !v.Transient {
		t.Errorf("Classify(%v) = %+v; want transient and refused: nothing was written", err, v)
	}
	if Written(ctx) != 0 || Resent(ctx) {
		t.Errorf("Written = %d, Resent = %v; want 0 and false", Written(ctx), Resent(ctx))
	}
}

// TestWrittenIsZeroForAContextNotWatched: Classify keeps its verdicts for
// calls no driver watches.
func TestWrittenIsZeroForAContextNotWatched(t *testing.T) {
	if n := Written(t.Context()); n != 0 {
		t.Errorf("Written(Background) = %d; want 0", n)
	}
}
