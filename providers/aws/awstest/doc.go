// Package awstest is an EC2 emulator for tests: an HTTP server speaking the
// EC2 Query protocol — form-encoded POST, XML answers of API version
// 2016-11-15, the EC2 error envelope — for the calls the cloudswitch AWS
// driver makes, so the real aws-sdk-go-v2 code runs against it without
// credentials or a network.
//
// It serves RunInstances (honouring ClientToken idempotency and applying
// TagSpecifications), TerminateInstances (idempotent;
// InvalidInstanceID.NotFound for an unknown id) and DescribeInstances (by id,
// or filtered by tag:KEY, tag-key, instance-state-name and a few more,
// paginated with MaxResults and NextToken), and StopInstances,
// StartInstances and ModifyInstanceAttribute (the instance type of a stopped
// instance). Instances live through EC2's
// lifecycle: pending → running, then shutting-down → terminated; terminated
// instances stay describable. One server serves every region: the region of a
// request is the one its SigV4 signature is scoped to, and an unsigned request
// fails with 401 AuthFailure so a misconfigured client fails loudly.
//
// # Documented behaviours it models
//
// Each is on by default where EC2 does it, with a knob to force it, change
// its window or turn it off:
//
//   - Eventual consistency ("Eventual consistency in the Amazon EC2 API",
//     EC2 Developer Guide): right after RunInstances, a call by the new
//     instance's id — DescribeInstances by id, TerminateInstances — answers
//     InvalidInstanceID.NotFound, which "does not mean the instance does not
//     exist". On for DefaultConsistencyDelay after each launch
//     (WithConsistencyDelay, SetConsistencyDelay; Hide forces it for one
//     instance). SetListLag hides new instances from filtered listings too.
//
//   - Launches that fail ("Troubleshoot instance termination", EC2 User
//     Guide, and StateReason in the EC2 API Reference): an instance goes
//     from pending straight to terminated with a StateReason such as
//     Client.VolumeLimitExceeded or Server.InternalError. Forced with
//     FailLaunches; off by default, as EC2 does it rarely and unpredictably.
//
//   - ClientToken idempotency ("Ensuring idempotency in Amazon EC2 API
//     requests", EC2 Developer Guide): a repeated token with the same
//     parameters answers the first call's reservation; with other
//     parameters IdempotentParameterMismatch; once the token's instances are
//     terminated, IdempotentInstanceTerminated; and a token is "valid for at
//     least 24 hours after the termination of the instance", after which it
//     launches anew (WithTokenWindow, DefaultTokenWindow).
//
//   - Terminated instances "remain visible for a short while" ("Troubleshoot
//     instance termination"): describable for DefaultTerminatedVisibility
//     (WithTerminatedVisibility), then InvalidInstanceID.NotFound.
//
//   - Pagination ("Pagination", Amazon EC2 API Reference): a NextToken is
//     bound to its filters and expires; an expired one is answered
//     InvalidPaginationToken (WithPageTokenTTL, ExpirePageTokens).
//
//   - Quotas ("Amazon EC2 service quotas" and the InstanceLimitExceeded
//     entry of "Error codes for the Amazon EC2 API"): WithInstanceLimit
//     caps the instances not yet terminated per region; the limit clears as
//     shutting-down instances become terminated. Off by default.
//
//   - Capacity: InsufficientInstanceCapacity, a server error code in "Error
//     codes for the Amazon EC2 API", is injected like any error with
//     Inject(Fault{Status: 500, Code: "InsufficientInstanceCapacity"}).
//
//   - What exists in the account: RunInstances, a dry run (DryRun,
//     answered DryRunOperation) included, refuses an instance type not
//     offered (InvalidParameterValue), an image not registered in the region
//     (InvalidAMIID.NotFound) and a region not enabled (OptInRequired). By
//     default every region of DefaultRegions is enabled, every size of the
//     common families (t2, t3, m6i, c6i, …) is offered, and every
//     well-formed image exists until AddImage registers the first one;
//     AddRegion, RemoveRegion, AddInstanceType and AddImage change that.
//
// Not modelled: unordered or overlapping pages (pages come in launch order);
// eventual consistency of tags and of filtered listings beyond SetListLag;
// vCPU-based quotas (VcpuLimitExceeded) and per-type capacity; stopping and
// starting instances; a ClientToken scoped to one account (the emulator is
// one account); request throttling by rate (inject RequestLimitExceeded
// instead); IAM (every signed request is authorized).
//
// A test scripts faults — fail the next N calls of an action with an HTTP
// status and an EC2 error code, add latency, make new instances invisible to
// DescribeInstances for a while, or let a call take effect and then drop the
// connection — moves the emulator's clock past a window with Advance, and
// reads the ground truth with Instances:
//
//	srv := awstest.NewServer(t)
//	client := srv.Client("eu-west-1") // an *ec2.Client pointed at srv
//	srv.Inject(awstest.Fault{Op: awstest.OpTerminateInstances, Times: 2, Status: 503, Code: "Unavailable"})
//	srv.Inject(awstest.Fault{Op: awstest.OpRunInstances, Times: 1, Drop: true}) // created, answer lost
//	srv.FailLaunches(1, awstest.ReasonVolumeLimitExceeded)
//	srv.SetPageSize(3)
//	srv.Advance(25 * time.Hour) // ClientTokens of terminated instances forgotten
//	… exercise code that uses client …
//	for _, inst := range srv.Instances() { … inst.State, inst.Tags … }
//
// Live returns the ground truth as cloudswitch.Instance values, and Harness
// wires a driver talking to the emulator into the providertest conformance
// suite. The fault vocabulary (Fault, CallCount, SetLatency, SetListLag, …)
// is the one every emulator of this module shares (package emulator); a
// Fault naming an operation the emulator does not serve is refused.
//
// Programs that are not tests (a demo, a local development stack) start one
// with Start and stop it with Close.
package awstest
