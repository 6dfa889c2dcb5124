package aws

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/internal/redact"
	"github.com/cloudswitch/cloudswitch/internal/transport"
	"github.com/cloudswitch/cloudswitch/ownership"
)

// maxClientToken is EC2's limit on a ClientToken: 64 ASCII characters.
const maxClientToken = 64

// hashedTokenPrefix marks a ClientToken derived by hashing. A request token
// that starts with it is hashed too, so no request token can collide with
// another's hash.
const hashedTokenPrefix = "cs-h-"

// ClientToken returns the EC2 ClientToken of an idempotency token: the token
// itself when it is at most 64 printable ASCII characters (and does not
// start with "cs-h-"), else "cs-h-" followed by 59 hex digits of its
// SHA-256. The same token always gives the same ClientToken, so EC2 answers
// a repeated RunInstances with the instance the first one launched.
func ClientToken(token string) string {
	if len(token) <= maxClientToken && printableASCII(token) && !strings.HasPrefix(token, hashedTokenPrefix) {
		return token
	}
	sum := sha256.Sum256([]byte(token))
	return hashedTokenPrefix + hex.EncodeToString(sum[:])[:maxClientToken-len(hashedTokenPrefix)]
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// Provision launches the instance req describes with RunInstances — one
// instance, tagged with the ownership tags, Name and the WithTags tags, its
// ClientToken derived from req.Token — or returns the instance an earlier
// call with the same token launched, with the installation tag when
// req.Installation is set. It returns once the instance runs (with
// WithWaitRunning(false), once EC2 accepted it, pending); an instance whose
// launch failed is ErrLaunchFailed, a token whose instance is terminated
// ErrTokenSpent, a token that launched an instance with other parameters
// ErrTokenLaunchedOtherwise (not a refusal), and an error after EC2
// accepted the launch is transient, never a refusal. A request it cannot
// serve (empty token, owner or workspace, another provider's compute, no
// instance type, no image for the region, a region Instances does not list)
// is refused (ErrRefused) before any call.
func (d *Driver) Provision(ctx context.Context, req cloudswitch.ProvisionRequest) (cloudswitch.Instance, error) {
	region := d.region(req.Compute.Region)
	image, err := d.check(req, region)
	if err != nil {
		return cloudswitch.Instance{}, err
	}
	client, err := d.client(region)
	if err != nil {
		return cloudswitch.Instance{}, err
	}
	// Watched: a launch net/http sent twice may have acted the first time,
	// whatever the second attempt met.
	call := transport.Watch(ctx)
	out, err := client.RunInstances(call, d.runInput(req, image), d.bound)
	if err != nil {
		if isCode(err, "IdempotentInstanceTerminated") && ctx.Err() == nil {
			// EC2 did nothing now, but the token did launch an instance
			// once: not a refusal.
			err = fmt.Errorf("aws: RunInstances: %w: %w", ErrTokenSpent, redact.Error(err))
		} else if isCode(err, "IdempotentParameterMismatch") && ctx.Err() == nil {
			// The token launched an instance with other parameters (the
			// configuration changed since: tags, image, type, network):
			// that instance exists, so EC2 did act for this token.
			err = fmt.Errorf("aws: RunInstances: %w: %w", ErrTokenLaunchedOtherwise, redact.Error(err))
		} else {
			err = classify(call, "RunInstances", err)
		}
		d.log.LogAttrs(ctx, slog.LevelDebug, "aws: RunInstances failed",
			slog.String("workspace", req.WorkspaceID), slog.String("region", region), slog.String("error", err.Error()))
		return cloudswitch.Instance{}, err
	}
	if len(out.Instances) != 1 || awssdk.ToString(out.Instances[0].InstanceId) == "" {
		// The call succeeded, so an instance may exist: a retry with the
		// same token finds it.
		return cloudswitch.Instance{}, fmt.Errorf("aws: RunInstances answered %d instances; want one: %w", len(out.Instances), cloudswitch.ErrTransient)
	}
	ec2inst := out.Instances[0]
	id := awssdk.ToString(ec2inst.InstanceId)
	switch s := stateOf(ec2inst); s {
	case types.InstanceStateNameShuttingDown, types.InstanceStateNameTerminated:
		// EC2 answered the reservation of an earlier call with this token:
		// the token is spent. Not a refusal: the token did launch a VM.
		return cloudswitch.Instance{}, fmt.Errorf("aws: RunInstances: the instance %s launched with this request's token is %s: %w", id, s, ErrTokenSpent)
	case types.InstanceStateNameStopping, types.InstanceStateNameStopped:
		// The token's instance exists but does not run: never provisioned.
		return cloudswitch.Instance{}, fmt.Errorf("aws: RunInstances: %w", &errWrongState{id: id, state: s, want: types.InstanceStateNameRunning, reason: stateReason(ec2inst)})
	}
	inst := provisioned(region, req, ec2inst)
	d.log.LogAttrs(ctx, slog.LevelDebug, "aws: instance launched",
		slog.String("workspace", req.WorkspaceID), slog.String("instance", id), slog.String("region", region),
		slog.String("state", string(stateOf(ec2inst))))
	if d.cfg.waitRunning {
		if err := d.waitRunning(ctx, client, id); err != nil {
			return cloudswitch.Instance{}, err
		}
	}
	return inst, nil
}

// ErrTokenSpent: the request's token already launched an instance that is
// terminated (EC2 answers IdempotentInstanceTerminated, or the old
// reservation with the instance shutting down), and EC2 will not launch
// another for it while it remembers the token — at least 24 hours after
// the termination; a Switcher then journals a new token. It is permanent
// and not a refusal — the token did launch a VM once. Past EC2's window a
// RunInstances with the token launches anew: never a second live instance
// for the token, since its first one is terminated.
// It matches cloudswitch.ErrTokenSpent, on which a Switcher journals a
// fresh token.
var ErrTokenSpent = fmt.Errorf("aws: the instance launched with this token is terminated; the token cannot launch another: %w", cloudswitch.ErrTokenSpent)

// ErrTokenLaunchedOtherwise: EC2 answered IdempotentParameterMismatch — the
// request's token already launched an instance, with other parameters than
// this request's (the driver's configuration changed since: WithTags,
// WithRegionImages, WithImage, the subnet, the key, the user data, or the
// request's type or image). That instance may live, so the error is not a
// refusal: EC2 acted for this token. It is permanent: the same request
// with this token keeps being answered so until the configuration it was
// launched with is restored. The driver does not adopt the instance, since
// it does not run what this request asks for; it is found by its tags
// (Instances) and its token (ClientToken).
var ErrTokenLaunchedOtherwise = errors.New("aws: the token already launched an instance with other parameters than this request's (the configuration changed since it was launched)")

// provisioned is the Instance of a RunInstances answer: the ownership tags
// read back from the answer (the request's when the answer carries no
// tags), the type and image the instance runs.
func provisioned(region string, req cloudswitch.ProvisionRequest, i types.Instance) cloudswitch.Instance {
	inst := instanceOf(region, i)
	if len(i.Tags) == 0 {
		inst.WorkspaceID, inst.Token, inst.Installation = req.WorkspaceID, req.Token, req.Installation
	}
	if inst.InstanceType == "" {
		inst.InstanceType = req.Compute.InstanceType
	}
	return inst
}

// isCode reports whether err carries the EC2 error code code.
func isCode(err error, code string) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == code
}

// check validates req before any call and returns the image to launch.
func (d *Driver) check(req cloudswitch.ProvisionRequest, region string) (string, error) {
	if err := req.Check(cloudswitch.AWS); err != nil {
		return "", fmt.Errorf("aws: %w", err)
	}
	for name, v := range map[string]string{"owner": req.Owner, "workspace id": req.WorkspaceID, "idempotency token": req.Token, "installation": req.Installation} {
		if utf8.RuneCountInString(v) > maxTagValueLen {
			return "", cloudswitch.Refused(fmt.Errorf("aws: provision: the %s is longer than %d characters, the most an EC2 tag value holds", name, maxTagValueLen))
		}
	}
	if err := checkRegion(region); err != nil {
		return "", cloudswitch.Refused(fmt.Errorf("aws: provision: %w", err))
	}
	if !slices.Contains(d.regions, region) {
		return "", cloudswitch.Refused(fmt.Errorf("aws: provision: region %s is not among the regions this driver lists (%s): its instance could not be found again as an orphan; add it with WithRegions",
			region, strings.Join(d.regions, ", ")))
	}
	image := req.Compute.Image
	if image == "" {
		image = d.cfg.regionImages[region]
	}
	if image == "" {
		image = d.cfg.image
	}
	if image == "" {
		return "", cloudswitch.Refused(fmt.Errorf("aws: provision: no image for region %s: the compute names none and neither WithRegionImages nor WithImage gives one", region))
	}
	return image, nil
}

// runInput is the RunInstances request for req.
func (d *Driver) runInput(req cloudswitch.ProvisionRequest, image string) *ec2.RunInstancesInput {
	tags := []types.Tag{
		{Key: awssdk.String(ownership.OwnerKey), Value: awssdk.String(req.Owner)},
		{Key: awssdk.String(ownership.WorkspaceKey), Value: awssdk.String(req.WorkspaceID)},
		{Key: awssdk.String(ownership.TokenKey), Value: awssdk.String(req.Token)},
		{Key: awssdk.String(nameTag), Value: awssdk.String(ownership.Name(req.Token))},
	}
	if req.Installation != "" {
		tags = append(tags, types.Tag{Key: awssdk.String(ownership.InstallationKey), Value: awssdk.String(req.Installation)})
	}
	// Sorted, so a retried request is the same request (EC2 compares the
	// parameters of a repeated ClientToken).
	for _, k := range slices.Sorted(maps.Keys(d.cfg.tags)) {
		tags = append(tags, types.Tag{Key: awssdk.String(k), Value: awssdk.String(d.cfg.tags[k])})
	}
	in := &ec2.RunInstancesInput{
		ClientToken:       awssdk.String(ClientToken(req.Token)),
		ImageId:           awssdk.String(image),
		InstanceType:      types.InstanceType(req.Compute.InstanceType),
		MinCount:          awssdk.Int32(1),
		MaxCount:          awssdk.Int32(1),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: tags}},
		SecurityGroupIds:  d.cfg.securityGroups,
	}
	if d.cfg.subnet != "" {
		in.SubnetId = awssdk.String(d.cfg.subnet)
	}
	if d.cfg.keyName != "" {
		in.KeyName = awssdk.String(d.cfg.keyName)
	}
	if d.cfg.userData != "" {
		in.UserData = awssdk.String(d.cfg.userData)
	}
	return in
}

// stateOf returns the state name of an instance ("" if EC2 gave none).
func stateOf(i types.Instance) types.InstanceStateName {
	if i.State == nil {
		return ""
	}
	return i.State.Name
}
