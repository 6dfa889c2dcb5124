package awstest

import (
	"context"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/providertest"
)

// harnessOps maps the conformance suite's operations to the EC2 actions
// that carry them out.
var harnessOps = map[providertest.Op]string{
	providertest.OpProvision:   OpRunInstances,
	providertest.OpDeprovision: OpTerminateInstances,
	providertest.OpList:        OpDescribeInstances,
}

// harnessFaults are EC2's answers of each class of fault: the HTTP status
// and error code.
var harnessFaults = map[providertest.FaultKind]Fault{
	providertest.Transient:   {Status: http.StatusServiceUnavailable, Code: "Unavailable"},
	providertest.Throttled:   {Status: http.StatusServiceUnavailable, Code: "RequestLimitExceeded"},
	providertest.ServerError: {Status: http.StatusInternalServerError, Code: "InternalError"},
	providertest.Permanent:   {Status: http.StatusForbidden, Code: "UnauthorizedOperation"},
}

// Harness returns the conformance suite's harness for p, a driver talking to
// s, with every lever the emulator serves: faults as EC2 answers them, lost
// answers, the page size, the count of DescribeInstances calls, the ground
// truth (Live), the emulator's secrets, eventual consistency (Hide),
// launches that fail (FailCreate) and stopped instances (SetDown). Its
// Compute is a t3.medium. A test may change any field before handing the
// harness to providertest.Run.
func (s *Server) Harness(p cloudswitch.Provider) providertest.Harness {
	h := providertest.Emulated(s, harnessOps, harnessFaults)
	h.Provider, h.Name, h.Compute = p, cloudswitch.AWS, cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.medium"}
	h.Secrets = []string{SecretAccessKey, SessionToken}
	h.Hide = s.Hide
	h.FailCreate = func() { s.FailLaunches(1, ReasonServerInternalError) }
	h.SetDown = func(inst cloudswitch.Instance) {
		region := inst.Region
		if region == "" {
			region = DefaultRegion
		}
		// A stop that fails leaves the instance up; the suite then
		// sees it running and says so.
		_, _ = s.Client(region).StopInstances(context.Background(), &ec2.StopInstancesInput{InstanceIds: []string{inst.ID}})
	}
	return h
}
