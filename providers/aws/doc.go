// Package aws is the cloudswitch driver for Amazon EC2, on aws-sdk-go-v2: a
// cloudswitch.Provider whose VMs are EC2 instances.
//
// The driver honours the [cloudswitch.Provider] contract: that is its part of
// the guarantees listed in package cloudswitch's documentation. The sections
// below say how it does so on EC2.
//
// # Making a driver
//
// From a client you built (your credentials, region, endpoint, HTTP client),
// serving that client's region:
//
//	drv, err := aws.New(ec2.NewFromConfig(cfg), aws.WithImage("ami-0abcdef1234567890"))
//
// Or from an aws.Config, serving the regions of WithRegions: the driver
// makes one client per region on first use and keeps it. Compute.Region
// picks the region of a new instance (empty: the config's), and Instances
// lists every region of WithRegions. Provision refuses a region Instances
// does not list, since its instance could never be found as an orphan:
//
//	cfg, err := config.LoadDefaultConfig(ctx)
//	drv, err := aws.NewFromConfig(cfg,
//		aws.WithRegionImages(map[string]string{"eu-west-1": "ami-…", "us-east-1": "ami-…"}),
//		aws.WithRegions("eu-west-1", "us-east-1"),
//		aws.WithSubnet("subnet-…"), aws.WithSecurityGroups("sg-…"),
//		aws.WithTags(map[string]string{"team": "platform"}))
//	sw, err := cloudswitch.New(store, map[string]cloudswitch.Provider{cloudswitch.AWS: drv})
//
// The driver makes one attempt per SDK call (RetryMaxAttempts 1, set per
// call, so also on a client you pass in): the Switcher's retry policy is the
// only one, and does not multiply with the SDK's into minutes. Per call, it
// also sends request bodies from memory through your HTTP client: the SDK
// closes a request body as soon as the answer arrives, and net/http, if it
// has not finished with the body by then, breaks the connection under the
// answer — a call that succeeded would look like a broken connection.
//
// # Tags
//
// Every instance is launched with these tags (tag-on-create, in the
// RunInstances call itself, so no instance ever exists untagged):
//
//	cloudswitch-owner      the owner (cloudswitch.WithOwner), which Instances filters on
//	cloudswitch-workspace  the workspace id, verbatim
//	cloudswitch-token      the idempotency token of the request, verbatim
//	cloudswitch-installation  the installation (ProvisionRequest.Installation), when there is one
//	Name                   "cs-" and the token (or its hash), as on the other clouds
//
// plus those of WithTags, which may not replace these.
//
// # Idempotency
//
// RunInstances is called with a ClientToken derived from the request's token
// (see ClientToken): the token itself when it is at most 64 printable ASCII
// characters, otherwise a hash of it. EC2 answers a repeated call with the
// same ClientToken and the same parameters with the instance the first call
// launched, however often it is repeated and whatever became of the earlier
// answers, so Provision never launches two live instances for one token.
// The same token with different parameters fails with
// ErrTokenLaunchedOtherwise (EC2's IdempotentParameterMismatch): not a
// refusal, since the token's instance exists. A token whose instance was
// terminated fails with ErrTokenSpent (EC2's IdempotentInstanceTerminated)
// for as long as EC2 remembers the token — at least 24 hours after the
// termination; past that, EC2 forgets the token and launches anew, so a
// token can name a second instance, never while its first one lives.
// ClientTokens are scoped to a region.
//
// # Destroying only what is ours
//
// Deprovision reads the instance (DescribeInstances by id) before it
// terminates it, and destroys nothing — an error matching
// cloudswitch.ErrNotOurs — when its tags name another workspace or
// installation than the Instance it was given. An instance without such a
// tag (created outside cloudswitch, or before installations were tagged) is
// not fenced by it.
//
// # Eventual consistency and failed launches
//
// EC2's API is eventually consistent: right after RunInstances, a call by
// the new instance's id may answer InvalidInstanceID.NotFound, which "does
// not mean the instance does not exist". Deprovision takes that answer for
// "gone" (cloudswitch.ErrInstanceNotFound) only once the instance is older
// than WithConsistencyWindow (five minutes by default, the longest backoff
// EC2's guide names); before, it is transient. The waits poll through it.
//
// A launch can fail after RunInstances answered: the instance goes from
// pending to terminated (a volume limit, a missing snapshot, an internal
// error). Provision therefore waits, by default, until the instance runs,
// and returns ErrLaunchFailed for one that died. A token whose instance is
// terminated cannot launch another (EC2 answers IdempotentInstanceTerminated
// for at least 24 hours): Provision returns ErrTokenSpent, permanent and not
// a refusal, since the token did launch a VM. A token whose instance is
// stopped is not provisioned either.
//
// # Errors
//
// An instance EC2 does not know (InvalidInstanceID.NotFound) matches
// cloudswitch.ErrInstanceNotFound, within the limits above. Throttling
// (RequestLimitExceeded, Throttling, …), 5xx answers (InsufficientInstanceCapacity
// included), 408 and 429 answers without an EC2 code, timeouts, broken
// connections and connections that never opened (a failed dial or DNS
// lookup) match cloudswitch.ErrTransient.
// The answers EC2 gives before it acts — UnauthorizedOperation, AuthFailure,
// InvalidParameter…, InvalidAMIID.…, quotas such as InstanceLimitExceeded and
// VcpuLimitExceeded, Unsupported, and throttling — match cloudswitch.ErrRefused: EC2 did not act. So does a
// request the driver refuses before any call (ProvisionRequest.Check), and
// one that never left: a failed dial or DNS lookup, a certificate the TLS
// handshake rejected.
// Nothing else does: a 5xx, a broken connection, a status without an EC2
// code, an error code the driver does not know, and any error after RunInstances or
// TerminateInstances was accepted (a failed poll of a wait, which is
// transient) leave the outcome unknown. So does any answer to a launch,
// termination, stop or type change that net/http sent more than once: it
// sends an HTTP/2 request again when the server resets its stream, and the
// first attempt may have acted. A call whose context ended returns
// the context's error. The SDK's error stays reachable with errors.As
// (smithy.APIError and so on). No error or log line carries a credential,
// session token, signature or signed request.
//
// # Preflight
//
// The driver is a cloudswitch.Preflighter: Preflight sends the RunInstances
// that Provision would send, with DryRun, and reads EC2's answer —
// DryRunOperation means it would launch; a refused image, instance type or
// region is a *cloudswitch.ValidationError naming it.
//
// # IAM permissions
//
// The driver calls ec2:RunInstances, ec2:CreateTags (EC2 authorizes the
// tags of a RunInstances call as CreateTags), ec2:TerminateInstances and
// ec2:DescribeInstances (for listing, for reading an instance's tags before
// terminating it, and for the waits of WithWaitRunning and
// WithWaitTerminated), and nothing else — but for Resize, which also calls
// ec2:StopInstances, ec2:ModifyInstanceAttribute and ec2:StartInstances
// (and Preflight, which calls ec2:RunInstances with DryRun). It sets no
// instance profile, so it needs no iam:PassRole. A policy granting exactly that, with
// termination limited to instances of one owner and tagging to launches:
//
//	{
//	  "Version": "2012-10-17",
//	  "Statement": [
//	    {"Effect": "Allow", "Action": "ec2:RunInstances", "Resource": "*"},
//	    {"Effect": "Allow", "Action": "ec2:CreateTags", "Resource": "arn:aws:ec2:*:*:instance/*",
//	     "Condition": {"StringEquals": {"ec2:CreateAction": "RunInstances"}}},
//	    {"Effect": "Allow", "Action": "ec2:TerminateInstances", "Resource": "arn:aws:ec2:*:*:instance/*",
//	     "Condition": {"StringEquals": {"aws:ResourceTag/cloudswitch-owner": "YOUR-OWNER"}}},
//	    {"Effect": "Allow", "Action": "ec2:DescribeInstances", "Resource": "*"}
//	  ]
//	}
//
// (With the TerminateInstances condition, terminating an instance that does
// not carry the owner's tag is refused with UnauthorizedOperation, a
// refusal, rather than done.)
//
// # Testing
//
// Package awstest is an EC2 emulator speaking the wire protocol, with fault
// injection; awstest.NewServer(t).Client(region) or .Config() gives a client
// or a config for New or NewFromConfig.
package aws
