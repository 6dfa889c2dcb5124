package aws_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/aws/awstest"
)

// Preflight asks EC2 with a dry run: nil for a launch EC2 would accept, a
// ValidationError naming the field EC2 refused, and it launches nothing.
// What it refuses, Provision refuses.
func TestPreflightAsksEC2WithADryRun(t *testing.T) {
	ctx := t.Context()
	t.Run("a launch EC2 accepts", func(t *testing.T) {
		drv, srv := newDriver(t)
		require.NoError(t, drv.Preflight(ctx, request("acme", "ws-1", "tok-1")), "Preflight of a valid launch")
		if n := len(srv.Instances()); n != 0 {
			t.Fatalf("Preflight launched %d instances", n)
		}
		if _, err := drv.Provision(ctx, request("acme", "ws-1", "tok-1")); err != nil {
			t.Fatalf("Provision of what Preflight accepted, with the same token: %v", err)
		}
	})
	for name, c := range map[string]struct {
		setup func(*awstest.Server)
		req   func() cloudswitch.ProvisionRequest
		field string
	}{
		"an instance type EC2 does not offer": {
			req: func() cloudswitch.ProvisionRequest {
				r := request("acme", "ws-1", "tok-1")
				r.Compute.InstanceType = "p5.48xlarge"
				return r
			},
			field: "instance_type",
		},
		"an image that does not exist in the region": {
			setup: func(s *awstest.Server) { s.AddImage("us-east-1", "ami-0fedcba9876543210") },
			req:   func() cloudswitch.ProvisionRequest { return request("acme", "ws-1", "tok-1") },
			field: "image",
		},
		"a region not enabled": {
			setup: func(s *awstest.Server) { s.RemoveRegion("us-east-1") },
			req:   func() cloudswitch.ProvisionRequest { return request("acme", "ws-1", "tok-1") },
			field: "region",
		},
	} {
		t.Run(name, func(t *testing.T) {
			drv, srv := newDriver(t)
			if c.setup != nil {
				c.setup(srv)
			}
			err := drv.Preflight(ctx, c.req())
			var ve *cloudswitch.ValidationError
			if !errors.As(err, &ve) || ve.Field != c.field || !errors.Is(err, cloudswitch.ErrInvalid) {
				t.Fatalf("Preflight: %v; want a *ValidationError on %s", err, c.field)
			}
			if _, err := drv.Provision(ctx, c.req()); err == nil {
				t.Fatal("Provision launched what Preflight refused")
			}
			if got := liveIDs(srv); len(got) != 0 {
				t.Fatalf("live %v", got)
			}
		})
	}
	t.Run("credentials that may not launch", func(t *testing.T) {
		drv, srv := newDriver(t)
		srv.Inject(awstest.Fault{Op: awstest.OpRunInstances, Times: 1, Status: 403, Code: "UnauthorizedOperation"})
		err := drv.Preflight(ctx, request("acme", "ws-1", "tok-1"))
		var ve *cloudswitch.ValidationError
		if err == nil || errors.As(err, &ve) || !errors.Is(err, cloudswitch.ErrRefused) {
			t.Fatalf("Preflight refused by IAM: %v; want a refusal that is not a ValidationError", err)
		}
	})
	t.Run("EC2 unavailable", func(t *testing.T) {
		drv, srv := newDriver(t)
		srv.Inject(awstest.Fault{Op: awstest.OpRunInstances, Times: 1, Status: 503, Code: "Unavailable"})
		if err := drv.Preflight(ctx, request("acme", "ws-1", "tok-1")); !errors.Is(err, cloudswitch.ErrTransient) {
			t.Fatalf("Preflight when EC2 answered 503: %v; want ErrTransient", err)
		}
	})
}
