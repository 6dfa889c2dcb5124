package memprovider_test

import (
	"context"
	"testing"

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
