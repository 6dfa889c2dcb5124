package hetzner_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/internal/h2reset"
	"github.com/cloudswitch/cloudswitch/providers/hetzner"
	"github.com/cloudswitch/cloudswitch/providers/hetzner/hetznertest"
)

// The API processed a create or a delete, then reset its HTTP/2 stream;
// net/http sent the request again. Whatever became of that second attempt
// — its dial failed, or the API answered it with a refusal — the call
// acted, so its error must never be a refusal.

// behindResets returns an emulator and a driver built by NewFromToken that
// reaches it over HTTP/2 through a front that resets streams on demand.
func behindResets(t *testing.T, opts ...hetznertest.Option) (*hetznertest.Server, *h2reset.Front, *hetzner.Driver) {
	t.Helper()
	srv := hetznertest.NewServer(t, opts...)
	origin, path, _ := strings.Cut(strings.TrimPrefix(srv.URL(), "http://"), "/")
	front := h2reset.New(t, "http://"+origin)
	d, err := hetzner.NewFromToken(srv.Token(), hetzner.WithClientOptions(
		hcloud.WithEndpoint(front.URL()+"/"+path),
		hcloud.WithHTTPClient(front.Client()),
		hcloud.WithPollOpts(hcloud.PollOpts{BackoffFunc: hcloud.ConstantBackoff(time.Millisecond)}),
	))
	require.NoError(t, err)
	return srv, front, d
}

func is(method, prefix string) func(*http.Request) bool {
	return func(r *http.Request) bool {
		return r.Method == method && strings.HasSuffix(strings.TrimRight(r.URL.Path, "/0123456789"), prefix)
	}
}

func TestProvisionWhoseCreateWasProcessedIsNeverRefused(t *testing.T) {
	for name, refuse := range map[string]bool{"retry cannot connect": true, "retry answered rate_limit_exceeded": false} {
		t.Run(name, func(t *testing.T) {
			srv, front, d := behindResets(t)
			front.ResetOnce(is(http.MethodPost, "/servers"), refuse, func() {
				require.NoError(t, srv.Inject(hetznertest.Fault{Op: hetznertest.OpCreateServer, Times: 1,
					Status: http.StatusTooManyRequests, Code: string(hcloud.ErrorCodeRateLimitExceeded)}))
			})
			_, err := d.Provision(t.Context(), request("ws-reset"))
			require.Error(t, err)
			require.Equal(t, 1, front.Resets(), "the create was not forwarded and reset")
			require.Len(t, srv.Instances(), 1, "the API did not create the server")
			if errors.Is(err, cloudswitch.ErrRefused) {
				t.Errorf("Provision = %v: a refusal, though the API created the server", err)
			}
		})
	}
}

func TestDeprovisionWhoseDeleteWasProcessedIsNeverRefused(t *testing.T) {
	for name, refuse := range map[string]bool{"retry cannot connect": true, "retry answered rate_limit_exceeded": false} {
		t.Run(name, func(t *testing.T) {
			srv, front, d := behindResets(t)
			inst := provision(t, d, request("ws-reset"))
			front.ResetOnce(is(http.MethodDelete, "/servers"), refuse, func() {
				require.NoError(t, srv.Inject(hetznertest.Fault{Op: hetznertest.OpDeleteServer, Times: 1,
					Status: http.StatusTooManyRequests, Code: string(hcloud.ErrorCodeRateLimitExceeded)}))
			})
			err := d.Deprovision(t.Context(), inst)
			require.Error(t, err)
			require.Equal(t, 1, front.Resets(), "the delete was not forwarded and reset")
			if errors.Is(err, cloudswitch.ErrRefused) {
				t.Errorf("Deprovision = %v: a refusal, though the API accepted the delete", err)
			}
		})
	}
}

// A client passed to New may retry by itself (hcloud-go retries five times
// by default). A delete the API processed, whose answer was lost as a
// timeout, and whose retry the API answered rate_limit_exceeded, acted:
// its error must not be a refusal, whatever client the driver was given.
func TestDeprovisionThroughARetryingClientIsNeverRefusedAfterTheDeleteActed(t *testing.T) {
	srv := hetznertest.NewServer(t)
	target, err := url.Parse(srv.URL())
	require.NoError(t, err)
	var lost atomic.Bool
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(target) }}
	rp.ModifyResponse = func(resp *http.Response) error {
		if resp.Request.Method != http.MethodDelete || !lost.CompareAndSwap(false, true) {
			return nil
		}
		// The delete was processed; its answer is lost as a timeout, and
		// every retry meets a rate limit.
		require.NoError(t, srv.Inject(hetznertest.Fault{Op: hetznertest.OpDeleteServer, Times: 10,
			Status: http.StatusTooManyRequests, Code: string(hcloud.ErrorCodeRateLimitExceeded)}))
		resp.Body.Close()
		raw := []byte(`{"error":{"code":"timeout","message":"the request timed out"}}`)
		resp.StatusCode, resp.Status = http.StatusGatewayTimeout, "504 Gateway Timeout"
		resp.Body = io.NopCloser(bytes.NewReader(raw))
		resp.ContentLength = int64(len(raw))
		resp.Header = http.Header{"Content-Type": {"application/json"}, "Content-Length": {strconv.Itoa(len(raw))}}
		return nil
	}
	front := httptest.NewServer(rp)
	t.Cleanup(front.Close)
	retrying := hcloud.NewClient(hcloud.WithEndpoint(front.URL+target.Path), hcloud.WithToken(srv.Token()),
		hcloud.WithRetryOpts(hcloud.RetryOpts{BackoffFunc: hcloud.ConstantBackoff(time.Millisecond), MaxRetries: 5}),
		hcloud.WithPollOpts(hcloud.PollOpts{BackoffFunc: hcloud.ConstantBackoff(time.Millisecond)}))
	d, err := hetzner.New(retrying)
	require.NoError(t, err)
	inst := provision(t, d, request("ws-retry"))
	err = d.Deprovision(t.Context(), inst)
	require.Error(t, err)
	require.True(t, lost.Load(), "the delete's answer was not replaced")
	if errors.Is(err, cloudswitch.ErrRefused) {
		t.Errorf("Deprovision = %v: a refusal, though the first delete acted", err)
	}
}

// The API created the server, the stream was reset, and the retry was
// answered uniqueness_error: the name is taken by the server this very
// call created. Provision then looks the server up; when that lookup is
// refused, the call still created a server, so it is no refusal.
func TestProvisionWhoseRetryFindsItsOwnServerIsNeverRefused(t *testing.T) {
	srv, front, d := behindResets(t)
	front.ResetOnce(is(http.MethodPost, "/servers"), false, func() {
		require.NoError(t, srv.Inject(hetznertest.Fault{Op: hetznertest.OpListServers, Times: 1,
			Status: http.StatusForbidden, Code: string(hcloud.ErrorCodeForbidden)}))
	})
	_, err := d.Provision(t.Context(), request("ws-reset"))
	require.Error(t, err)
	require.Equal(t, 1, front.Resets(), "the create was not forwarded and reset")
	require.Len(t, srv.Instances(), 1, "the API did not create the server")
	if errors.Is(err, cloudswitch.ErrRefused) {
		t.Errorf("Provision = %v: a refusal, though this call created the server", err)
	}
}

// The API processed a delete, then reset its HTTP/2 stream; net/http sent
// the delete again, and the API answered locked (the first delete's action
// locks the server). Deprovision waits for the running actions and deletes
// again; whatever that delete meets — here rate_limit_exceeded — the first
// delete acted, so its error must never be a refusal.
func TestDeprovisionWhoseLockedRetryFollowsAProcessedDeleteIsNeverRefused(t *testing.T) {
	// The delete action lasts, as Hetzner's do: the server is listed,
	// being deleted, while Deprovision waits for it.
	srv, front, d := behindResets(t, hetznertest.WithActionDuration(50*time.Millisecond))
	inst := provision(t, d, request("ws-reset"))
	front.ResetOnce(is(http.MethodDelete, "/servers"), false, func() {
		require.NoError(t, srv.Inject(hetznertest.Fault{Op: hetznertest.OpDeleteServer, Times: 1,
			Status: http.StatusLocked, Code: string(hcloud.ErrorCodeLocked)}))
		require.NoError(t, srv.Inject(hetznertest.Fault{Op: hetznertest.OpDeleteServer, Times: 1,
			Status: http.StatusTooManyRequests, Code: string(hcloud.ErrorCodeRateLimitExceeded)}))
	})
	err := d.Deprovision(t.Context(), inst)
	require.Error(t, err)
	require.Equal(t, 1, front.Resets(), "the delete was not forwarded and reset")
	if errors.Is(err, cloudswitch.ErrRefused) {
		t.Errorf("Deprovision = %v: a refusal, though the API accepted the first delete", err)
	}
}
