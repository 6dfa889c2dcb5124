package aws_test

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/aws"
	"github.com/cloudswitch/cloudswitch/providers/aws/awstest"
	"github.com/cloudswitch/cloudswitch/providers/providertest"
)

// testAMI is the image of the tests' drivers.
const testAMI = "ami-0123456789abcdef0"

// testPoll is how often the tests' drivers poll in their waits: the
// emulator's instances are unknown by id for their first few milliseconds
// (eventual consistency), so a wait's first poll often misses them.
const testPoll = 2 * time.Millisecond

// newDriver returns a driver on a fresh emulator, through New and the
// emulator's client of region us-east-1.
func newDriver(t *testing.T, opts ...aws.Option) (*aws.Driver, *awstest.Server) {
	t.Helper()
	srv := awstest.NewServer(t)
	drv, err := aws.New(srv.Client("us-east-1"), append([]aws.Option{aws.WithImage(testAMI), aws.WithPollInterval(testPoll)}, opts...)...)
	require.NoError(t, err, "aws.New")
	return drv, srv
}

// request is a provisioning request for workspace ws of owner.
func request(owner, ws, token string) cloudswitch.ProvisionRequest {
	return cloudswitch.ProvisionRequest{
		WorkspaceID: ws, Owner: owner, Token: token,
		Compute: cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.medium"},
	}
}

// list collects what Instances yields for owner, failing the test on an
// error.
func list(t *testing.T, drv *aws.Driver, owner string) []cloudswitch.Instance {
	t.Helper()
	out, err := providertest.Listed(t.Context(), drv, owner)
	require.NoErrorf(t, err, "Instances(%q)", owner)
	return out
}

func ids(insts []cloudswitch.Instance) []string {
	out := make([]string, 0, len(insts))
	for _, i := range insts {
		out = append(out, i.ID)
	}
	slices.Sort(out)
	return out
}

// liveIDs returns the ids of the emulator's live instances.
func liveIDs(srv *awstest.Server) []string { return ids(srv.Live()) }
