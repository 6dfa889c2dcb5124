package aws_test

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/fleet"
	"github.com/cloudswitch/cloudswitch/providers/aws"
	"github.com/cloudswitch/cloudswitch/providers/aws/awstest"
)

// routeFunc sends a request through one of two transports.
type routeFunc func(*http.Request) (*http.Response, error)

func (f routeFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// actionOf is the EC2 action of a Query request, read from a copy of its
// body.
func actionOf(r *http.Request) string {
	if r.GetBody == nil {
		return ""
	}
	body, err := r.GetBody()
	if err != nil {
		return ""
	}
	raw, _ := io.ReadAll(body)
	form, _ := url.ParseQuery(string(raw))
	return form.Get("Action")
}

// A rate-limited transport (fleet.LimitTransport) refuses a request it has
// no token for with an error matching cloudswitch.ErrRefused. Once a
// resize stopped the instance, a StartInstances it refuses leaves the
// instance stopped: Resize must not report a refusal, which says the
// instance is as it was.
func TestAStartTheRateLimitStoppedIsNoRefusalOfAResizeThatStoppedTheInstance(t *testing.T) {
	srv := awstest.NewServer(t)
	dry := fleet.LimitTransport(cloudswitch.AWS, http.DefaultTransport, rate.NewLimiter(rate.Every(time.Hour), 0))
	var startsLimited atomic.Bool
	client := ec2.New(ec2.Options{
		Region:           "us-east-1",
		BaseEndpoint:     awssdk.String(srv.URL()),
		Credentials:      credentials.NewStaticCredentialsProvider(awstest.AccessKeyID, awstest.SecretAccessKey, awstest.SessionToken),
		RetryMaxAttempts: 1,
		HTTPClient: &http.Client{Transport: routeFunc(func(r *http.Request) (*http.Response, error) {
			if startsLimited.Load() && actionOf(r) == awstest.OpStartInstances {
				return dry.RoundTrip(r)
			}
			return http.DefaultTransport.RoundTrip(r)
		})},
	})
	drv, err := aws.New(client, aws.WithImage(testAMI), aws.WithPollInterval(testPoll))
	require.NoError(t, err)
	inst, err := drv.Provision(t.Context(), request("owner", "ws-limited", "tok-limited"))
	require.NoError(t, err)

	startsLimited.Store(true)
	_, err = drv.Resize(t.Context(), inst, "t3.large")
	require.Error(t, err, "StartInstances met the rate limit")
	if errors.Is(err, cloudswitch.ErrRefused) {
		t.Errorf("Resize = %v: a refusal, though the instance was stopped and its type changed", err)
	}
}
