package hetznertest_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"

	"github.com/cloudswitch/cloudswitch/providers/hetzner/hetznertest"
)

func TestInjectedErrorsFailWithoutEffect(t *testing.T) {
	ctx := t.Context()
	srv := hetznertest.NewServer(t)
	c := srv.Client(hcloud.WithRetryOpts(hcloud.RetryOpts{MaxRetries: 0}))
	srv.Inject(hetznertest.Fault{Op: hetznertest.OpCreateServer, Times: 2, Status: http.StatusServiceUnavailable, Code: "service_error"})
	for range 2 {
		_, _, err := c.Server.Create(ctx, createOpts("x", nil))
		apiErr := wantAPIError(t, err, hcloud.ErrorCodeServiceError, http.StatusServiceUnavailable)
		if apiErr.Message == "" {
			t.Error("an injected error without a message got none; want the API's usual one")
		}
	}
	if n := len(srv.Instances()); n != 0 {
		t.Fatalf("failed creates created %d servers", n)
	}
	create(t, c, "x", nil)
	if n := srv.CallCount(hetznertest.OpCreateServer); n != 3 {
		t.Errorf("CallCount(create) = %d; want 3", n)
	}
}

func TestFaultWithoutCodeAnswersABareStatus(t *testing.T) {
	ctx := t.Context()
	srv := hetznertest.NewServer(t)
	srv.Inject(hetznertest.Fault{Op: hetznertest.OpListServers, Times: 1, Status: http.StatusServiceUnavailable, Message: "upstream down"})
	_, resp, err := srv.Client().Server.List(ctx, hcloud.ServerListOpts{})
	if !errors.Is(err, hcloud.ErrStatusCode) || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("got %v (status %d); want hcloud.ErrStatusCode with 503", err, resp.StatusCode)
	}
}

func TestFaultsApplyInOrderToTheirOperationOrAll(t *testing.T) {
	ctx := t.Context()
	srv := hetznertest.NewServer(t)
	c := srv.Client(hcloud.WithRetryOpts(hcloud.RetryOpts{MaxRetries: 0}))
	srv.Inject(hetznertest.Fault{Op: hetznertest.OpListServers, Times: 1, Status: 403, Code: "forbidden"})
	srv.Inject(hetznertest.Fault{Times: 1, Status: 423, Code: "locked"})
	_, err := c.Server.All(ctx)
	wantAPIError(t, err, hcloud.ErrorCodeForbidden, 403)
	_, _, err = c.Server.GetByID(ctx, 1)
	wantAPIError(t, err, hcloud.ErrorCodeLocked, 423)
	if _, err := c.Server.All(ctx); err != nil {
		t.Fatalf("after the faults: %v", err)
	}
}

func TestClearFaultsDropsStandingFaults(t *testing.T) {
	ctx := t.Context()
	srv := hetznertest.NewServer(t)
	c := srv.Client(hcloud.WithRetryOpts(hcloud.RetryOpts{MaxRetries: 0}))
	srv.Inject(hetznertest.Fault{Op: hetznertest.OpListServers, Status: 429, Code: "rate_limit_exceeded"})
	for range 3 {
		_, err := c.Server.All(ctx)
		wantAPIError(t, err, hcloud.ErrorCodeRateLimitExceeded, 429)
	}
	srv.ClearFaults()
	if _, err := c.Server.All(ctx); err != nil {
		t.Fatalf("after ClearFaults: %v", err)
	}
}

func TestDropTakesEffectAndLosesTheAnswer(t *testing.T) {
	ctx := t.Context()
	srv := hetznertest.NewServer(t)
	c := srv.Client()
	srv.Inject(hetznertest.Fault{Op: hetznertest.OpCreateServer, Times: 1, Drop: true})
	_, _, err := c.Server.Create(ctx, createOpts("lost", nil))
	if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("create with a dropped answer: %v; want a broken connection", err)
	}
	if vms := srv.Instances(); len(vms) != 1 || vms[0].Name != "lost" {
		t.Fatalf("Instances() = %+v; want the server created although the answer was lost", vms)
	}
}

func TestLatencyDelaysCallsAndHonoursTheCallersDeadline(t *testing.T) {
	ctx := t.Context()
	srv := hetznertest.NewServer(t)
	c := srv.Client()
	srv.SetLatency(30 * time.Millisecond)
	start := time.Now()
	if _, err := c.Server.All(ctx); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Errorf("a call took %v; want at least the latency", d)
	}
	srv.SetLatency(0)
	srv.Inject(hetznertest.Fault{Op: hetznertest.OpListServers, Times: 1, Latency: time.Hour})
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := c.Server.All(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a call slower than the deadline: %v; want the deadline", err)
	}
}

func TestCallsCountsPerOperationUntilReset(t *testing.T) {
	ctx := t.Context()
	srv := hetznertest.NewServer(t)
	c := srv.Client()
	s := create(t, c, "counted", nil)
	if _, _, err := c.Server.GetByID(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	for op, want := range map[string]int{
		hetznertest.OpCreateServer: 1, hetznertest.OpListActions: 1, hetznertest.OpGetServer: 1,
		hetznertest.OpListServers: 0, "": 3,
	} {
		if got := srv.CallCount(op); got != want {
			t.Errorf("CallCount(%q) = %d; want %d", op, got, want)
		}
	}
	srv.ResetCalls()
	if got := srv.CallCount(""); got != 0 {
		t.Errorf("after ResetCalls, Calls = %d", got)
	}
}
