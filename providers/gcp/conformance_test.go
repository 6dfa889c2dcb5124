package gcp_test

import (
	"testing"
	"time"

	"github.com/cloudswitch/cloudswitch/providers/gcp/gcptest"
	"github.com/cloudswitch/cloudswitch/providers/providertest"
)

// TestConformance runs the Provider conformance suite, switch suites
// included, against the driver speaking to the emulator through the real
// Compute Engine REST clients.
func TestConformance(t *testing.T) {
	providertest.Run(t, func(t *testing.T) providertest.Harness { return harness(t, nil) })
}

// TestConformanceWithOperationsThatTakeTime runs the suite again with every
// operation taking a few milliseconds, as Compute Engine's take seconds: a
// delete then meets instances still PROVISIONING or STAGING, deletes still
// running and resourceNotReady.
func TestConformanceWithOperationsThatTakeTime(t *testing.T) {
	if testing.Short() {
		t.Skip("the suite again, slower")
	}
	providertest.Run(t, func(t *testing.T) providertest.Harness {
		return harness(t, []gcptest.Option{gcptest.WithOperationTime(3 * time.Millisecond)})
	})
}

// harness is the emulator's conformance harness on an emulator made with
// srvOpts, with the planted access token the driver's clients send among
// the secrets.
func harness(t *testing.T, srvOpts []gcptest.Option) providertest.Harness {
	e := newLookupEnv(t, srvOpts)
	h := e.srv.Harness(e.d)
	h.Secrets = append(h.Secrets, e.secret)
	return h
}
