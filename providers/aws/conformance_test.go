package aws_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch/providers/aws"
	"github.com/cloudswitch/cloudswitch/providers/aws/awstest"
	"github.com/cloudswitch/cloudswitch/providers/providertest"
)

// The driver meets the Provider contract, the real SDK talking to the
// emulator over HTTP, and converges as one side of switches that crash at
// every step.
func TestConformance(t *testing.T) {
	providertest.Run(t, func(t *testing.T) providertest.Harness {
		srv := awstest.NewServer(t)
		drv, err := aws.New(srv.Client("us-east-1"), aws.WithImage(testAMI), aws.WithPollInterval(testPoll))
		require.NoError(t, err, "aws.New")
		return srv.Harness(drv)
	})
}

// A driver made from a config, with its own per-region clients, meets it
// too.
func TestConformanceFromConfig(t *testing.T) {
	if testing.Short() {
		t.Skip("the suite already ran on a driver made by New")
	}
	providertest.Run(t, func(t *testing.T) providertest.Harness {
		srv := awstest.NewServer(t)
		drv, err := aws.NewFromConfig(srv.Config(), aws.WithImage(testAMI), aws.WithPollInterval(testPoll), aws.WithRegions("us-east-1", "eu-west-1"))
		require.NoError(t, err, "aws.NewFromConfig")
		return srv.Harness(drv)
	})
}
