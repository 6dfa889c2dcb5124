package aws_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch/ownership"
	"github.com/cloudswitch/cloudswitch/providers/aws"
	"github.com/cloudswitch/cloudswitch/providers/aws/awstest"
)

// A Provision and a Deprovision of a fresh instance, through the SDK over
// HTTP to the emulator: the driver's overhead per switch side — the launch,
// the wait's poll for running, the read of the tags before terminating, and
// the termination. The emulator's consistency delay is off, so no poll
// waits out a backoff and the figure is the driver's work.
func BenchmarkProvisionDeprovision(b *testing.B) {
	ctx := b.Context()
	srv := awstest.NewServer(b, awstest.WithConsistencyDelay(0))
	drv, err := aws.New(srv.Client("us-east-1"), aws.WithImage(testAMI))
	require.NoError(b, err)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		inst, err := drv.Provision(ctx, request("bench", "ws-bench", fmt.Sprintf("tok-%d", i)))
		require.NoError(b, err)
		require.NoError(b, drv.Deprovision(ctx, inst))
	}
	b.ReportMetric(float64(srv.CallCount(""))/float64(i), "calls/op")
}

// Listing 10,000 instances in pages of 1,000: calls/op must be 10.
func BenchmarkInstances10000(b *testing.B) {
	ctx := b.Context()
	const n, pageSize = 10_000, 1000
	srv := awstest.NewServer(b)
	drv, err := aws.New(srv.Client("us-east-1"), aws.WithImage(testAMI))
	require.NoError(b, err)
	for range n {
		srv.AddInstance("us-east-1", map[string]string{ownership.OwnerKey: "bench", ownership.WorkspaceKey: "ws"})
	}
	srv.SetPageSize(pageSize)
	b.ReportAllocs()
	listings := 0
	for b.Loop() {
		listings++
		got := 0
		for _, err := range drv.Instances(ctx, "bench") {
			require.NoError(b, err)
			got++
		}
		if got != n {
			b.Fatalf("listed %d instances; want %d", got, n)
		}
	}
	calls := float64(srv.CallCount(awstest.OpDescribeInstances)) / float64(listings)
	if calls != n/pageSize {
		b.Fatalf("a listing made %v DescribeInstances calls; want %d", calls, n/pageSize)
	}
	b.ReportMetric(calls, "calls/op")
	b.ReportMetric(float64(n), "instances/op")
}
