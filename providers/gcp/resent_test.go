package gcp_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/internal/h2reset"
	"github.com/cloudswitch/cloudswitch/providers/gcp"
	"github.com/cloudswitch/cloudswitch/providers/gcp/gcptest"
)

// Compute Engine processed an insert or a delete, then its HTTP/2 stream
// was reset; net/http sent the request again. Whatever became of that
// second attempt — its dial failed, or the API answered it with a refusal
// — the call acted, so its error must never be a refusal.

// behindResets returns an emulator and a driver that reaches it over HTTP/2
// through a front that resets streams on demand.
func behindResets(t *testing.T) (*gcptest.Server, *h2reset.Front, *gcp.Driver) {
	t.Helper()
	srv := gcptest.NewServer(t)
	front := h2reset.New(t, srv.URL())
	d := newDriverVia(t, front.URL(), front.Client(), srv.Project())
	return srv, front, d
}

func forwarded(method, suffix string) func(*http.Request) bool {
	return func(r *http.Request) bool {
		if r.Method != method {
			return false
		}
		if method == http.MethodDelete {
			return strings.Contains(r.URL.Path, "/instances/")
		}
		return strings.HasSuffix(r.URL.Path, suffix)
	}
}

func TestProvisionWhoseInsertWasProcessedIsNeverRefused(t *testing.T) {
	for name, refuse := range map[string]bool{"retry cannot connect": true, "retry answered quotaExceeded": false} {
		t.Run(name, func(t *testing.T) {
			srv, front, d := behindResets(t)
			front.ResetOnce(forwarded(http.MethodPost, "/instances"), refuse, func() {
				require.NoError(t, srv.Inject(gcptest.Fault{Op: gcptest.OpInsert, Times: 1, Status: http.StatusForbidden, Code: "quotaExceeded"}))
			})
			_, err := d.Provision(t.Context(), request("owner", "ws-reset"))
			require.Error(t, err)
			require.Equal(t, 1, front.Resets(), "the insert was not forwarded and reset")
			require.Len(t, srv.Instances(), 1, "Compute Engine did not create the instance")
			if errors.Is(err, cloudswitch.ErrRefused) {
				t.Errorf("Provision = %v: a refusal, though Compute Engine created the instance", err)
			}
		})
	}
}

func TestDeprovisionWhoseDeleteWasProcessedIsNeverRefused(t *testing.T) {
	for name, refuse := range map[string]bool{"retry cannot connect": true, "retry answered forbidden": false} {
		t.Run(name, func(t *testing.T) {
			srv, front, d := behindResets(t)
			inst, err := d.Provision(t.Context(), request("owner", "ws-reset"))
			require.NoError(t, err)
			front.ResetOnce(forwarded(http.MethodDelete, ""), refuse, func() {
				require.NoError(t, srv.Inject(gcptest.Fault{Op: gcptest.OpDelete, Times: 1, Status: http.StatusForbidden, Code: "forbidden"}))
			})
			err = d.Deprovision(t.Context(), inst)
			require.Error(t, err)
			require.Equal(t, 1, front.Resets(), "the delete was not forwarded and reset")
			if errors.Is(err, cloudswitch.ErrRefused) {
				t.Errorf("Deprovision = %v: a refusal, though Compute Engine accepted the delete", err)
			}
		})
	}
}

// The delete was processed and its stream reset; the retry was answered
// 404 for the instance (the first attempt deleted it), and the listing
// that would confirm the instance gone was refused. The first attempt
// acted: the error must not be a refusal.
func TestDeprovisionWhoseRetryFindsTheInstanceGoneIsNeverRefused(t *testing.T) {
	srv, front, d := behindResets(t)
	inst, err := d.Provision(t.Context(), request("owner", "ws-reset"))
	require.NoError(t, err)
	target := "projects/" + srv.Project() + "/zones/" + inst.Region + "/instances/" + inst.ID
	front.ResetOnce(forwarded(http.MethodDelete, ""), false, func() {
		require.NoError(t, srv.Inject(gcptest.Fault{Op: gcptest.OpDelete, Times: 1, Status: http.StatusNotFound, Code: "notFound",
			Message: "The resource '" + target + "' was not found"}))
		require.NoError(t, srv.Inject(gcptest.Fault{Op: gcptest.OpList, Times: 1, Status: http.StatusForbidden, Code: "forbidden"}))
	})
	err = d.Deprovision(t.Context(), inst)
	require.Error(t, err)
	require.Equal(t, 1, front.Resets(), "the delete was not forwarded and reset")
	if errors.Is(err, cloudswitch.ErrRefused) {
		t.Errorf("Deprovision = %v: a refusal, though Compute Engine accepted the delete", err)
	}
}
