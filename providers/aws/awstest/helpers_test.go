package awstest_test

import (
	"errors"
	"fmt"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch/providers/aws/awstest"
)

const testAMI = "ami-0123456789abcdef0"

// runInput is a RunInstances request for one t3.micro tagged with tags.
func runInput(token string, tags map[string]string) *ec2.RunInstancesInput {
	in := &ec2.RunInstancesInput{
		ImageId: awssdk.String(testAMI), InstanceType: types.InstanceTypeT3Micro,
		MinCount: awssdk.Int32(1), MaxCount: awssdk.Int32(1),
	}
	if token != "" {
		in.ClientToken = awssdk.String(token)
	}
	if len(tags) > 0 {
		spec := types.TagSpecification{ResourceType: types.ResourceTypeInstance}
		for k, v := range tags {
			spec.Tags = append(spec.Tags, types.Tag{Key: awssdk.String(k), Value: awssdk.String(v)})
		}
		in.TagSpecifications = []types.TagSpecification{spec}
	}
	return in
}

// run launches one instance and returns it.
func run(t *testing.T, c *ec2.Client, token string, tags map[string]string) types.Instance {
	ctx := t.Context()
	t.Helper()
	out, err := c.RunInstances(ctx, runInput(token, tags))
	require.NoError(t, err, "RunInstances")
	if len(out.Instances) != 1 {
		t.Fatalf("RunInstances launched %d instances; want 1", len(out.Instances))
	}
	return out.Instances[0]
}

// apiError returns the EC2 error code and HTTP status of err.
func apiError(t *testing.T, err error) (string, int) {
	t.Helper()
	if err == nil {
		t.Fatal("the call succeeded; want an EC2 error")
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("%v is not an EC2 API error", err)
	}
	status := 0
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return ae.ErrorCode(), status
}

// wantAPIError fails unless err is the EC2 error code with HTTP status.
func wantAPIError(t *testing.T, err error, code string, status int) {
	t.Helper()
	gotCode, gotStatus := apiError(t, err)
	if gotCode != code || gotStatus != status {
		t.Fatalf("error %s (HTTP %d); want %s (HTTP %d): %v", gotCode, gotStatus, code, status, err)
	}
}

// describe lists every instance of the client's region that passes filters,
// following every page, and counts the pages.
func describe(t *testing.T, c *ec2.Client, maxResults int32, filters ...types.Filter) ([]types.Instance, int) {
	ctx := t.Context()
	t.Helper()
	in := &ec2.DescribeInstancesInput{Filters: filters}
	if maxResults > 0 {
		in.MaxResults = awssdk.Int32(maxResults)
	}
	var out []types.Instance
	pages := 0
	p := ec2.NewDescribeInstancesPaginator(c, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		require.NoErrorf(t, err, "DescribeInstances page %d", pages+1)
		pages++
		for _, r := range page.Reservations {
			out = append(out, r.Instances...)
		}
	}
	return out, pages
}

func ids(insts []types.Instance) []string {
	out := make([]string, 0, len(insts))
	for _, i := range insts {
		out = append(out, awssdk.ToString(i.InstanceId))
	}
	return out
}

func tagFilter(key string, values ...string) types.Filter {
	return types.Filter{Name: awssdk.String("tag:" + key), Values: values}
}

func stateFilter(values ...string) types.Filter {
	return types.Filter{Name: awssdk.String("instance-state-name"), Values: values}
}

func tagsOf(i types.Instance) map[string]string {
	m := map[string]string{}
	for _, t := range i.Tags {
		m[awssdk.ToString(t.Key)] = awssdk.ToString(t.Value)
	}
	return m
}

// newServer starts an emulator for a test of another behaviour than
// eventual consistency: instances are known by id from their launch on.
func newServer(t *testing.T, opts ...awstest.Option) *awstest.Server {
	t.Helper()
	return awstest.NewServer(t, append([]awstest.Option{awstest.WithConsistencyDelay(0)}, opts...)...)
}

// recorder is a testing.TB that records the test errors reported to it.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}
