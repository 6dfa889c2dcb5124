package memprovider_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/memprovider"
	"github.com/cloudswitch/cloudswitch/providers/providertest"
)

func TestConformance(t *testing.T) {
	providertest.Run(t, func(t *testing.T) providertest.Harness {
		p := memprovider.New(cloudswitch.AWS)
		return providertest.Harness{
			Provider: p,
			Name:     cloudswitch.AWS,
			Compute:  cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.medium"},
			Fail: func(op providertest.Op, n int, kind providertest.FaultKind) {
				err := map[providertest.FaultKind]error{
					providertest.Transient:   memprovider.ErrThrottled,
					providertest.Throttled:   memprovider.ErrThrottled,
					providertest.Permanent:   memprovider.ErrDenied,
					providertest.ServerError: memprovider.ErrUnavailable,
				}[kind]
				p.FailNext(memprovider.Op(op), n, err)
			},
			LoseResponse: func(op providertest.Op) {
				p.LoseResponse(memprovider.Op(op), 1, memprovider.ErrUnavailable)
			},
			SetPageSize: p.SetPageSize,
			ListCalls:   func() int { return p.CallCount(memprovider.OpList) },
			Live:        func(context.Context) ([]cloudswitch.Instance, error) { return p.Live(), nil },
		}
	})
}

// CallCount counts the call log ("" for every operation) and ResetCalls
// empties it, as the emulators count their calls.
func TestCallCountAndResetCalls(t *testing.T) {
	ctx := t.Context()
	p := memprovider.New(cloudswitch.AWS)
	p.FailNext(memprovider.OpDeprovision, 1, memprovider.ErrThrottled)
	inst, err := p.Provision(ctx, cloudswitch.ProvisionRequest{WorkspaceID: "ws", Owner: "o", Token: "tok",
		Compute: cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.medium"}})
	require.NoError(t, err)
	if err := p.Deprovision(ctx, inst); err == nil {
		t.Fatal("a scripted failure did not fail")
	}
	if got := []int{p.CallCount(memprovider.OpProvision), p.CallCount(memprovider.OpDeprovision), p.CallCount("")}; got[0] != 1 || got[1] != 1 || got[2] != 2 {
		t.Errorf("CallCount(provision, deprovision, \"\") = %v; want [1 1 2], the failed call included", got)
	}
	p.ResetCalls()
	if n, log := p.CallCount(""), p.Calls(); n != 0 || len(log) != 0 {
		t.Errorf("after ResetCalls, CallCount(\"\") = %d and Calls() = %+v; want none", n, log)
	}
}
