package aws_test

import (
	"errors"
	"net/http"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/internal/h2reset"
	"github.com/cloudswitch/cloudswitch/providers/aws"
	"github.com/cloudswitch/cloudswitch/providers/aws/awstest"
)

// EC2 processed a RunInstances or a TerminateInstances, then its HTTP/2
// stream was reset; net/http sent the request again. Whatever became of
// that second attempt — its dial failed, or EC2 answered it with a
// refusal — the call acted, so its error must never be a refusal.

// behindResets returns an emulator and a driver that reaches it over HTTP/2
// through a front that resets streams on demand.
func behindResets(t *testing.T) (*awstest.Server, *h2reset.Front, *aws.Driver) {
	t.Helper()
	srv := awstest.NewServer(t)
	front := h2reset.New(t, srv.URL())
	client := ec2.New(ec2.Options{
		Region:           "us-east-1",
		BaseEndpoint:     awssdk.String(front.URL()),
		Credentials:      credentials.NewStaticCredentialsProvider(awstest.AccessKeyID, awstest.SecretAccessKey, awstest.SessionToken),
		RetryMaxAttempts: 1,
		HTTPClient:       front.Client(),
	})
	drv, err := aws.New(client, aws.WithImage(testAMI), aws.WithPollInterval(testPoll))
	require.NoError(t, err)
	return srv, front, drv
}

// action matches the EC2 Query requests of action.
func action(name string) func(*http.Request) bool {
	return func(r *http.Request) bool {
		return r.Method == http.MethodPost && r.ParseForm() == nil && r.PostForm.Get("Action") == name
	}
}

func TestProvisionWhoseRunInstancesWasProcessedIsNeverRefused(t *testing.T) {
	for name, refuse := range map[string]bool{"retry cannot connect": true, "retry answered throttled": false} {
		t.Run(name, func(t *testing.T) {
			srv, front, drv := behindResets(t)
			front.ResetOnce(action(awstest.OpRunInstances), refuse, func() {
				require.NoError(t, srv.Inject(awstest.Fault{Op: awstest.OpRunInstances, Times: 1,
					Status: http.StatusServiceUnavailable, Code: "RequestLimitExceeded"}))
			})
			_, err := drv.Provision(t.Context(), request("owner", "ws-reset", "tok-reset"))
			require.Error(t, err)
			require.Equal(t, 1, front.Resets(), "RunInstances was not forwarded and reset")
			require.Len(t, srv.Instances(), 1, "EC2 did not launch the instance")
			if errors.Is(err, cloudswitch.ErrRefused) {
				t.Errorf("Provision = %v: a refusal, though EC2 launched the instance", err)
			}
		})
	}
}

func TestDeprovisionWhoseTerminateWasProcessedIsNeverRefused(t *testing.T) {
	for name, refuse := range map[string]bool{"retry cannot connect": true, "retry answered unauthorized": false} {
		t.Run(name, func(t *testing.T) {
			srv, front, drv := behindResets(t)
			inst, err := drv.Provision(t.Context(), request("owner", "ws-reset", "tok-reset"))
			require.NoError(t, err)
			front.ResetOnce(action(awstest.OpTerminateInstances), refuse, func() {
				require.NoError(t, srv.Inject(awstest.Fault{Op: awstest.OpTerminateInstances, Times: 1,
					Status: http.StatusForbidden, Code: "UnauthorizedOperation"}))
			})
			err = drv.Deprovision(t.Context(), inst)
			require.Error(t, err)
			require.Equal(t, 1, front.Resets(), "TerminateInstances was not forwarded and reset")
			if errors.Is(err, cloudswitch.ErrRefused) {
				t.Errorf("Deprovision = %v: a refusal, though EC2 accepted the termination", err)
			}
		})
	}
}
