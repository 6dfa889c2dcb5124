package aws_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/ownership"
	"github.com/cloudswitch/cloudswitch/providers/aws"
	"github.com/cloudswitch/cloudswitch/providers/aws/awstest"
	"github.com/cloudswitch/cloudswitch/providers/providertest"
)

var ctx = context.Background()

// testAMI is the image of the tests' drivers.
const testAMI = "ami-0123456789abcdef0"

// testPoll is how often the tests' drivers poll in their waits: the
// emulator's instances are unknown by id for their first few milliseconds
// (eventual consistency), so a wait's first poll often misses them.
const testPoll = 2 * time.Millisecond

// actions maps the conformance suite's operations to EC2 actions.
var actions = map[providertest.Op]string{
	providertest.OpProvision:   "RunInstances",
	providertest.OpDeprovision: "TerminateInstances",
	providertest.OpList:        "DescribeInstances",
}

// harness wires a driver on srv into the conformance suite.
func harness(srv *awstest.Server, drv *aws.Driver) providertest.Harness {
	return providertest.Harness{
		Provider: drv,
		Name:     cloudswitch.AWS,
		Compute:  cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.medium"},
		Fail: func(op providertest.Op, n int, kind providertest.FaultKind) {
			f := awstest.Fault{Op: actions[op], Times: n}
			switch kind {
			case providertest.Transient:
				f.Status, f.Code = 503, "Unavailable"
			case providertest.Throttled:
				f.Status, f.Code = 503, "RequestLimitExceeded"
			case providertest.ServerError:
				f.Status, f.Code = 500, "InternalError"
			case providertest.Permanent:
				f.Status, f.Code = 403, "UnauthorizedOperation"
			}
			srv.Inject(f)
		},
		LoseResponse: func(op providertest.Op) { srv.Inject(awstest.Fault{Op: actions[op], Times: 1, Drop: true}) },
		SetPageSize:  srv.SetPageSize,
		ListCalls:    func() int { return srv.Calls("DescribeInstances") },
		Live:         func(context.Context) ([]cloudswitch.Instance, error) { return live(srv), nil },
		Secrets:      []string{awstest.SecretAccessKey, awstest.SessionToken},
		Hide:         srv.Hide,
		SetDown: func(inst cloudswitch.Instance) {
			region := inst.Region
			if region == "" {
				region = awstest.DefaultRegion
			}
			srv.Client(region).StopInstances(context.Background(), &ec2.StopInstancesInput{InstanceIds: []string{inst.ID}})
		},
		FailCreate: func() { srv.FailLaunches(1, awstest.ReasonServerInternalError) },
	}
}

// live is the ground truth: every instance that is neither shutting down
// nor terminated, with the workspace and token of its tags.
func live(srv *awstest.Server) []cloudswitch.Instance {
	var out []cloudswitch.Instance
	for _, i := range srv.Instances() {
		if !i.Live() {
			continue
		}
		out = append(out, cloudswitch.Instance{
			Provider: cloudswitch.AWS, ID: i.ID, Region: i.Region,
			WorkspaceID: i.Tags[ownership.WorkspaceKey], Token: i.Tags[ownership.TokenKey],
			Installation: i.Tags[ownership.InstallationKey], CreatedAt: i.LaunchTime,
		})
	}
	return out
}

// newDriver returns a driver on a fresh emulator, through New and the
// emulator's client of region us-east-1.
func newDriver(t *testing.T, opts ...aws.Option) (*aws.Driver, *awstest.Server) {
	t.Helper()
	srv := awstest.NewServer(t)
	drv, err := aws.New(srv.Client("us-east-1"), append([]aws.Option{aws.WithImage(testAMI), aws.WithPollInterval(testPoll)}, opts...)...)
	if err != nil {
		t.Fatalf("aws.New: %v", err)
	}
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
	var out []cloudswitch.Instance
	for inst, err := range drv.Instances(ctx, owner) {
		if err != nil {
			t.Fatalf("Instances(%q): %v", owner, err)
		}
		out = append(out, inst)
	}
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
func liveIDs(srv *awstest.Server) []string { return ids(live(srv)) }
