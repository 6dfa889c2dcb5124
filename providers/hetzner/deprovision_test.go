package hetzner_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/hetzner/hetznertest"
)

func TestDeprovisionDeletesAndWaitsUntilTheServerIsGone(t *testing.T) {
	ctx := t.Context()
	srv, d := setup(t, []hetznertest.Option{hetznertest.WithActionDuration(20 * time.Millisecond)})
	inst := provision(t, d, request("ws-del"))
	keep := provision(t, d, request("ws-keep"))
	start := time.Now()
	require.NoError(t, d.Deprovision(ctx, inst), "Deprovision")
	if took := time.Since(start); took < 20*time.Millisecond {
		t.Errorf("Deprovision returned after %v, before its 20 ms delete action ended", took)
	}
	if _, ok := vmByID(t, srv, inst.ID); ok {
		t.Fatal("the server exists after Deprovision")
	}
	if _, ok := vmByID(t, srv, keep.ID); !ok {
		t.Fatal("Deprovision deleted another server")
	}
	err := d.Deprovision(ctx, inst)
	if !errors.Is(err, cloudswitch.ErrInstanceNotFound) || errors.Is(err, cloudswitch.ErrTransient) {
		t.Fatalf("Deprovision of a server already gone: %v; want ErrInstanceNotFound", err)
	}
}

func TestDeprovisionOfAServerBeingDeletedWaitsForThatDelete(t *testing.T) {
	ctx := t.Context()
	srv, d := setup(t, []hetznertest.Option{hetznertest.WithActionDuration(50 * time.Millisecond)})
	inst := provision(t, d, request("ws-twice"))
	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if err := d.Deprovision(short, inst); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Deprovision past its deadline: %v; want the deadline", err)
	}
	require.NoError(t, d.Deprovision(ctx, inst), "Deprovision again")
	if n := len(srv.Instances()); n != 0 {
		t.Fatalf("%d servers; want none", n)
	}
	if n := srv.CallCount(hetznertest.OpDeleteServer); n != 2 {
		t.Fatalf("%d deletes; want 2", n)
	}
}

func TestDeprovisionRefusesWhatIsNotAHetznerServerWithoutAnAPICall(t *testing.T) {
	ctx := t.Context()
	srv, d := setup(t, nil)
	for _, inst := range []cloudswitch.Instance{
		{Provider: cloudswitch.Hetzner, ID: "i-0123456789abcdef0"},
		{Provider: cloudswitch.Hetzner, ID: ""},
		{Provider: cloudswitch.Hetzner, ID: "0"},
		{Provider: cloudswitch.Hetzner, ID: "-5"},
		{Provider: cloudswitch.AWS, ID: "12"},
	} {
		err := d.Deprovision(ctx, inst)
		if err == nil || errors.Is(err, cloudswitch.ErrTransient) || errors.Is(err, cloudswitch.ErrInstanceNotFound) {
			t.Errorf("Deprovision(%+v): %v; want a permanent error", inst, err)
		}
	}
	if n := srv.CallCount(""); n != 0 {
		t.Fatalf("refused instances made %d API calls", n)
	}
}

func TestAFailedDeleteActionIsTransientWhileTheServerExists(t *testing.T) {
	ctx := t.Context()
	srv := hetznertest.NewServer(t)
	var failLookup atomic.Bool
	fail := failActions("delete_server")
	p := &proxy{body: func(path string, answer map[string]any) {
		fail(path, answer)
		// Once the failed delete action shows, the lookup after it fails.
		if strings.HasPrefix(path, "/actions") && failLookup.CompareAndSwap(true, false) {
			srv.Inject(hetznertest.Fault{Op: hetznertest.OpGetServer, Times: 1, Status: 503, Code: "service_error"})
		}
	}}
	d := newProxy(t, srv, p)
	inst, err := d.Provision(ctx, request("ws-faildel"))
	require.NoError(t, err)
	// The emulator deleted the server; the proxy says the action failed.
	// Gone is gone: the lookup after the failure tells.
	if err := d.Deprovision(ctx, inst); err != nil {
		t.Fatalf("Deprovision whose action 'failed' but whose server is gone: %v; want nil", err)
	}

	// With the lookup failing too, the outcome is unknown: transient.
	inst, err = d.Provision(ctx, request("ws-faildel-2"))
	require.NoError(t, err)
	failLookup.Store(true)
	if err := d.Deprovision(ctx, inst); !errors.Is(err, cloudswitch.ErrTransient) || errors.Is(err, cloudswitch.ErrRefused) {
		t.Fatalf("Deprovision whose action failed and whose server could not be looked up: %v; want ErrTransient, not a refusal", err)
	}
}
