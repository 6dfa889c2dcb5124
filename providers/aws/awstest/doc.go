// Package awstest is an EC2 emulator for tests: an HTTP server speaking the
// EC2 Query protocol — form-encoded POST, XML answers of API version
// 2016-11-15, the EC2 error envelope — for the calls the cloudswitch AWS
// driver makes, so the real aws-sdk-go-v2 code runs against it without
// credentials or a network.
//
// It serves RunInstances (honouring ClientToken idempotency, answering
// IdempotentParameterMismatch when a token is reused with other parameters,
// and applying TagSpecifications), TerminateInstances (idempotent;
// InvalidInstanceID.NotFound for an unknown id) and DescribeInstances (by id,
// or filtered by tag:KEY, tag-key, instance-state-name and a few more,
// paginated with MaxResults and NextToken). Instances live through EC2's
// lifecycle: pending → running, then shutting-down → terminated; terminated
// instances stay describable. One server serves every region: the region of a
// request is the one its SigV4 signature is scoped to, and an unsigned request
// fails with 401 AuthFailure so a misconfigured client fails loudly.
//
// A test scripts faults — fail the next N calls of an action with an HTTP
// status and an EC2 error code, add latency, make new instances invisible to
// DescribeInstances for a while, or let a call take effect and then drop the
// connection — and reads the ground truth with Instances:
//
//	srv := awstest.NewServer(t)
//	client := srv.Client("eu-west-1") // an *ec2.Client pointed at srv
//	srv.Inject(awstest.Fault{Op: "TerminateInstances", Times: 2, Status: 503, Code: "Unavailable"})
//	srv.Inject(awstest.Fault{Op: "RunInstances", Times: 1, Drop: true}) // created, answer lost
//	srv.SetPageSize(3)
//	… exercise code that uses client …
//	for _, inst := range srv.Instances() { … inst.State, inst.Tags … }
//
// Programs that are not tests (a demo, a local development stack) start one
// with Start and stop it with Close.
package awstest
