package awstest_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch/providers/aws/awstest"
)

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

// post sends a raw Query request, signed for region in the header's shape
// only (the emulator reads the scope, not the signature).
func post(t *testing.T, srv *awstest.Server, region string, form url.Values) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL(), strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20250101/"+region+"/ec2/aws4_request, SignedHeaders=host, Signature=00")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	return resp.StatusCode, readAll(t, resp)
}

func TestAnswersUseTheEC2WireFormat(t *testing.T) {
	srv := awstest.NewServer(t)
	status, body := post(t, srv, "sa-east-1", url.Values{
		"Action": {"RunInstances"}, "Version": {"2016-11-15"}, "ImageId": {"ami-0123456789abcdef0"},
		"InstanceType": {"t3.small"}, "MinCount": {"1"}, "MaxCount": {"1"}, "ClientToken": {"wire"},
		"TagSpecification.1.ResourceType": {"instance"},
		"TagSpecification.1.Tag.1.Key":    {"owner"}, "TagSpecification.1.Tag.1.Value": {"me"},
	})
	if status != http.StatusOK {
		t.Fatalf("RunInstances answered %d: %s", status, body)
	}
	for _, want := range []string{
		`<RunInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">`,
		"<requestId>", "<reservationId>r-", "<ownerId>", "<instancesSet><item><instanceId>i-",
		"<instanceState><code>0</code><name>pending</name></instanceState>",
		"<instanceType>t3.small</instanceType>", "<availabilityZone>sa-east-1a</availabilityZone>",
		"<tagSet><item><key>owner</key><value>me</value></item></tagSet>", "<clientToken>wire</clientToken>",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the RunInstances answer lacks %s:\n%s", want, body)
		}
	}

	status, body = post(t, srv, "sa-east-1", url.Values{"Action": {"TerminateInstances"}, "Version": {"2016-11-15"}, "InstanceId.1": {"i-0000000000000beef"}})
	if status != http.StatusBadRequest {
		t.Fatalf("terminating an unknown id answered %d; want 400", status)
	}
	for _, want := range []string{"<Response><Errors><Error><Code>InvalidInstanceID.NotFound</Code><Message>", "</Message></Error></Errors><RequestID>"} {
		if !strings.Contains(body, want) {
			t.Errorf("the error answer lacks %s:\n%s", want, body)
		}
	}

	status, body = post(t, srv, "sa-east-1", url.Values{"Action": {"RebootInstances"}, "Version": {"2016-11-15"}})
	if status != http.StatusBadRequest || !strings.Contains(body, "<Code>InvalidAction</Code>") {
		t.Errorf("an unserved action answered %d %s; want 400 InvalidAction", status, body)
	}
	status, body = post(t, srv, "sa-east-1", url.Values{"Action": {"DescribeInstances"}, "Filter.x.Name": {"tag:a"}})
	if status != http.StatusBadRequest || !strings.Contains(body, "<Code>InvalidParameterValue</Code>") {
		t.Errorf("a malformed list index answered %d %s; want 400 InvalidParameterValue", status, body)
	}
}

// Client's HTTP client keeps a race between the SDK and net/http (the SDK
// closes a request body net/http may still read) from breaking connections
// under answers from a server this fast.
func TestClientSurvivesFastAnswers(t *testing.T) {
	ctx := t.Context()
	srv := awstest.NewServer(t)
	c := srv.Client("us-east-1")
	for range 8 {
		run(t, c, "", map[string]string{"owner": "me"})
	}
	for i := range 1000 {
		if _, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{MaxResults: awssdk.Int32(5)}); err != nil {
			t.Fatalf("call %d of 1000: %v", i+1, err)
		}
	}
}
