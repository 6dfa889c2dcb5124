package aws

import (
	"context"
	"errors"
	"fmt"
	"strings"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"

	"github.com/cloudswitch/cloudswitch"
)

var _ cloudswitch.Preflighter = (*Driver)(nil)

// preflightToken stands in for the idempotency token, owner and workspace
// of a request that has none yet: a dry run launches nothing and needs
// none, but the tags must be valid.
const preflightToken = "preflight"

// Preflight asks EC2 whether it would launch the instance req describes,
// with RunInstances and DryRun set: the same request Provision sends, so
// what EC2 accepts here Provision launches. It returns nil when EC2 answers
// DryRunOperation ("the request would have succeeded"); a
// *cloudswitch.ValidationError naming the field when EC2 says the image
// ("image": InvalidAMIID.…), the instance type ("instance_type": an invalid
// InstanceType, Unsupported) or the region ("region": OptInRequired, or a
// name that is not a region) does not exist or does not go together; an
// error matching cloudswitch.ErrTransient when EC2 could not answer for now;
// and any other error (a refusal of the credentials, say) as Provision would
// classify it. It launches nothing.
func (d *Driver) Preflight(ctx context.Context, req cloudswitch.ProvisionRequest) error {
	region := d.region(req.Compute.Region)
	if err := checkRegion(region); err != nil {
		return &cloudswitch.ValidationError{Field: "region", Value: region, Reason: "is not an AWS region name"}
	}
	if req.Token == "" {
		req.Token = preflightToken
	}
	if req.Owner == "" {
		req.Owner = preflightToken
	}
	if req.WorkspaceID == "" {
		req.WorkspaceID = preflightToken
	}
	image, err := d.check(req, region)
	if err != nil {
		if req.Compute.InstanceType == "" {
			return &cloudswitch.ValidationError{Field: "instance_type", Value: "", Reason: "is empty"}
		}
		return err
	}
	client, err := d.client(region)
	if err != nil {
		return err
	}
	in := d.runInput(req, image)
	in.DryRun = awssdk.Bool(true)
	in.ClientToken = nil // a dry run must not spend the token
	_, err = client.RunInstances(ctx, in, d.bound)
	if err == nil || isCode(err, "DryRunOperation") {
		return nil
	}
	var ae smithy.APIError
	if errors.As(err, &ae) && ctx.Err() == nil {
		code, msg := ae.ErrorCode(), ae.ErrorMessage()
		switch {
		case strings.HasPrefix(code, "InvalidAMIID."):
			return fmt.Errorf("aws: preflight: %w", &cloudswitch.ValidationError{Field: "image", Value: image,
				Reason: fmt.Sprintf("is not an image EC2 knows in %s (%s)", region, code)})
		case code == "Unsupported" || (strings.HasPrefix(code, "InvalidParameter") && strings.Contains(msg, "InstanceType")):
			return fmt.Errorf("aws: preflight: %w", &cloudswitch.ValidationError{Field: "instance_type", Value: req.Compute.InstanceType,
				Reason: fmt.Sprintf("is not offered in %s (%s)", region, code)})
		case code == "OptInRequired":
			return fmt.Errorf("aws: preflight: %w", &cloudswitch.ValidationError{Field: "region", Value: region,
				Reason: fmt.Sprintf("is not enabled for the account (%s)", code)})
		}
	}
	return classify(ctx, "RunInstances (dry run)", err)
}
