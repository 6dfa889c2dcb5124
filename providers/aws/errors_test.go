package aws_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/aws"
	"github.com/cloudswitch/cloudswitch/providers/aws/awstest"
)

type errClass string

const (
	isTransient errClass = "transient"
	isPermanent errClass = "permanent"
	isNotFound  errClass = "not-found"
)

func classOf(err error) errClass {
	switch {
	case errors.Is(err, cloudswitch.ErrTransient) && errors.Is(err, cloudswitch.ErrInstanceNotFound):
		return "both transient and not-found"
	case errors.Is(err, cloudswitch.ErrTransient):
		return isTransient
	case errors.Is(err, cloudswitch.ErrInstanceNotFound):
		return isNotFound
	}
	return isPermanent
}

// call runs one driver operation against a provisioned instance and returns
// its error.
type call struct {
	name   string
	action string
	run    func(ctx context.Context, drv *aws.Driver, inst cloudswitch.Instance) error
}

var calls = []call{
	{"Provision", "RunInstances", func(ctx context.Context, drv *aws.Driver, _ cloudswitch.Instance) error {
		_, err := drv.Provision(ctx, request("me", "ws-err", "tok-err"))
		return err
	}},
	{"Deprovision", "TerminateInstances", func(ctx context.Context, drv *aws.Driver, inst cloudswitch.Instance) error {
		return drv.Deprovision(ctx, inst)
	}},
	{"Instances", "DescribeInstances", func(ctx context.Context, drv *aws.Driver, _ cloudswitch.Instance) error {
		for _, err := range drv.Instances(ctx, "me") {
			if err != nil {
				return err
			}
		}
		return nil
	}},
}

// Every EC2 error answer is classified by its code, or by its HTTP status
// when the code is not one the driver knows; only the answers EC2 gives
// before it acts match cloudswitch.ErrRefused (throttling is transient and a
// refusal; a 5xx, capacity and an unknown code never are); and the SDK's
// error stays reachable under the driver's.
func TestEC2ErrorsAreClassified(t *testing.T) {
	ctx := t.Context()
	cases := []struct {
		status  int
		code    string
		want    errClass
		refused bool
	}{
		{503, "Unavailable", isTransient, false},
		{500, "InternalError", isTransient, false},
		{500, "InsufficientInstanceCapacity", isTransient, false},
		{503, "RequestLimitExceeded", isTransient, true},
		{400, "Throttling", isTransient, true},
		{400, "EC2ThrottledException", isTransient, true},
		{400, "PriorRequestNotComplete", isTransient, false},
		{400, "RequestTimeout", isTransient, false},
		{502, "SomethingNew", isTransient, false},
		{429, "SomethingNew", isTransient, false},
		{403, "UnauthorizedOperation", isPermanent, true},
		{401, "AuthFailure", isPermanent, true},
		{400, "InvalidParameterValue", isPermanent, true},
		{400, "InvalidParameterCombination", isPermanent, true},
		{400, "InvalidAMIID.NotFound", isPermanent, true},
		{400, "InvalidAMIID.Malformed", isPermanent, true},
		{400, "MissingParameter", isPermanent, true},
		{400, "IdempotentParameterMismatch", isPermanent, false}, // the token launched an instance: EC2 acted for it
		{400, "VcpuLimitExceeded", isPermanent, true},
		{400, "InstanceLimitExceeded", isPermanent, true},
		{400, "Unsupported", isPermanent, true},
		{400, "InvalidInstanceID.Malformed", isPermanent, true},
		{418, "SomethingNew", isPermanent, false},
		{400, "InvalidInstanceID.NotFound", isNotFound, false},
	}
	for _, c := range calls {
		for _, tc := range cases {
			t.Run(c.name+"/"+tc.code+"/"+http.StatusText(tc.status), func(t *testing.T) {
				drv, srv := newDriver(t)
				inst, err := drv.Provision(ctx, request("me", "ws-1", "tok-1"))
				require.NoError(t, err)
				want := tc.want
				if c.action == "TerminateInstances" && tc.code == "InvalidInstanceID.NotFound" {
					// Deprovision has just seen the instance: EC2 has not
					// converged yet.
					want = isTransient
				}
				srv.Inject(awstest.Fault{Op: c.action, Times: 1, Status: tc.status, Code: tc.code})
				err = c.run(t.Context(), drv, inst)
				if err == nil {
					t.Fatalf("%s succeeded through an injected %d %s", c.name, tc.status, tc.code)
				}
				if got := classOf(err); got != want {
					t.Fatalf("%s answered %d %s: the driver says %s; want %s: %v", c.name, tc.status, tc.code, got, want, err)
				}
				if got := errors.Is(err, cloudswitch.ErrRefused); got != tc.refused {
					t.Fatalf("%s answered %d %s: refused=%v; want %v: %v", c.name, tc.status, tc.code, got, tc.refused, err)
				}
				var ae smithy.APIError
				if !errors.As(err, &ae) || ae.ErrorCode() != tc.code {
					t.Fatalf("the SDK's error (code %s) is not reachable with errors.As: %v", tc.code, err)
				}
			})
		}
	}
}

func TestUnknownInstanceIsNotFound(t *testing.T) {
	ctx := t.Context()
	drv, _ := newDriver(t)
	err := drv.Deprovision(ctx, cloudswitch.Instance{Provider: cloudswitch.AWS, ID: "i-0000000000000dead"})
	if classOf(err) != isNotFound {
		t.Fatalf("deprovisioning an instance EC2 does not know: %v; want ErrInstanceNotFound and not ErrTransient", err)
	}
	err = drv.Deprovision(ctx, cloudswitch.Instance{Provider: cloudswitch.AWS, ID: "vm-7"})
	if classOf(err) != isPermanent {
		t.Fatalf("deprovisioning a malformed id: %v; want a permanent error, not %s", err, classOf(err))
	}
}

func TestDroppedConnectionIsTransient(t *testing.T) {
	ctx := t.Context()
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			drv, srv := newDriver(t)
			inst, err := drv.Provision(ctx, request("me", "ws-1", "tok-1"))
			require.NoError(t, err)
			srv.Inject(awstest.Fault{Op: c.action, Times: 1, Drop: true})
			err = c.run(t.Context(), drv, inst)
			if classOf(err) != isTransient {
				t.Fatalf("%s over a dropped connection: %v; want ErrTransient", c.name, err)
			}
			if errors.Is(err, cloudswitch.ErrRefused) {
				t.Fatalf("%s over a dropped connection: %v; want no refusal: the request was sent", c.name, err)
			}
		})
	}
}

func TestRefusedConnectionIsTransient(t *testing.T) {
	ctx := t.Context()
	drv, srv := newDriver(t)
	inst, err := drv.Provision(ctx, request("me", "ws-1", "tok-1"))
	require.NoError(t, err)
	srv.Close()
	for _, c := range calls {
		if err := c.run(t.Context(), drv, inst); classOf(err) != isTransient {
			t.Errorf("%s with the endpoint down: %v; want ErrTransient", c.name, err)
		}
	}
}

// A connection that never opened carried no request: every call is
// transient and a refusal, as in every driver. The driver has a connection
// pool of its own, so that no call is sent on a connection opened before
// the endpoint went down (which may have carried the request).
func TestAConnectionThatNeverOpenedIsATransientRefusal(t *testing.T) {
	ctx := t.Context()
	drv, srv := newDriver(t)
	inst, err := drv.Provision(ctx, request("me", "ws-1", "tok-1"))
	require.NoError(t, err)
	srv.Close()
	down, err := aws.New(ec2.New(ec2.Options{
		Region: "us-east-1", BaseEndpoint: awssdk.String(srv.URL()),
		Credentials: credentials.NewStaticCredentialsProvider(awstest.AccessKeyID, awstest.SecretAccessKey, ""),
		HTTPClient:  &http.Client{Transport: &http.Transport{}},
	}), aws.WithImage(testAMI))
	require.NoError(t, err)
	for _, c := range calls {
		err := c.run(t.Context(), down, inst)
		if classOf(err) != isTransient || !errors.Is(err, cloudswitch.ErrRefused) {
			t.Errorf("%s with the endpoint down: %v; want ErrTransient and ErrRefused: the request never left", c.name, err)
		}
	}
}

// A status without an EC2 error code (a proxy's or a load balancer's page)
// is classified as every driver classifies it: 408, 429 and 5xx transient,
// other statuses permanent, and none a refusal.
func TestBareStatusesAreClassifiedAsByEveryDriver(t *testing.T) {
	ctx := t.Context()
	for status, want := range map[int]errClass{
		408: isTransient, 429: isTransient, 500: isTransient, 502: isTransient, 503: isTransient, 504: isTransient,
		400: isPermanent, 403: isPermanent, 404: isPermanent,
	} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(status)
				_, _ = io.WriteString(w, "<html><body>the proxy says no</body></html>")
			}))
			t.Cleanup(proxy.Close)
			client := ec2.New(ec2.Options{
				Region: "us-east-1", BaseEndpoint: awssdk.String(proxy.URL),
				Credentials: credentials.NewStaticCredentialsProvider(awstest.AccessKeyID, awstest.SecretAccessKey, ""),
			})
			drv, err := aws.New(client, aws.WithImage(testAMI))
			require.NoError(t, err)
			_, err = drv.Provision(ctx, request("me", "ws-1", "tok-1"))
			if got := classOf(err); got != want {
				t.Fatalf("a bare %d: %v; the driver says %s, want %s", status, err, got, want)
			}
			if errors.Is(err, cloudswitch.ErrRefused) {
				t.Fatalf("a bare %d: %v; want no refusal: it is not EC2's answer", status, err)
			}
		})
	}
}

func TestHTTPTimeoutIsTransient(t *testing.T) {
	ctx := t.Context()
	srv := awstest.NewServer(t)
	client := ec2.New(ec2.Options{
		Region: "us-east-1", BaseEndpoint: awssdk.String(srv.URL()),
		Credentials: credentials.NewStaticCredentialsProvider(awstest.AccessKeyID, awstest.SecretAccessKey, ""),
		HTTPClient:  &http.Client{Timeout: 50 * time.Millisecond},
	})
	drv, err := aws.New(client, aws.WithImage(testAMI))
	require.NoError(t, err)
	srv.SetLatency(time.Second)
	_, err = drv.Provision(ctx, request("me", "ws-1", "tok-1"))
	if classOf(err) != isTransient {
		t.Fatalf("a call the HTTP client timed out: %v; want ErrTransient", err)
	}
}

func TestEndedContextStaysAContextError(t *testing.T) {
	ctx := t.Context()
	for _, c := range calls {
		t.Run(c.name+"/cancelled", func(t *testing.T) {
			drv, _ := newDriver(t)
			inst, err := drv.Provision(ctx, request("me", "ws-1", "tok-1"))
			require.NoError(t, err)
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			err = runWith(cctx, c, drv, inst)
			if !errors.Is(err, context.Canceled) || classOf(err) != isPermanent {
				t.Fatalf("%s with a cancelled context: %v; want context.Canceled, neither transient nor not-found", c.name, err)
			}
		})
		t.Run(c.name+"/deadline", func(t *testing.T) {
			drv, srv := newDriver(t)
			inst, err := drv.Provision(ctx, request("me", "ws-1", "tok-1"))
			require.NoError(t, err)
			srv.SetLatency(time.Second)
			dctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
			defer cancel()
			err = runWith(dctx, c, drv, inst)
			if !errors.Is(err, context.DeadlineExceeded) || classOf(err) != isPermanent {
				t.Fatalf("%s past its deadline: %v; want context.DeadlineExceeded, neither transient nor not-found", c.name, err)
			}
		})
	}
}

// runWith runs c's operation with ctx instead of the background context.
func runWith(ctx context.Context, c call, drv *aws.Driver, inst cloudswitch.Instance) error {
	switch c.action {
	case "RunInstances":
		_, err := drv.Provision(ctx, request("me", "ws-ctx", "tok-ctx"))
		return err
	case "TerminateInstances":
		return drv.Deprovision(ctx, inst)
	default:
		for _, err := range drv.Instances(ctx, "me") {
			if err != nil {
				return err
			}
		}
		return nil
	}
}

// The SDK makes one attempt per call whatever the client or config says, so
// the Switcher's retries do not multiply with the SDK's.
func TestSDKRetriesAreBounded(t *testing.T) {
	ctx := t.Context()
	srv := awstest.NewServer(t)
	retrying := ec2.New(ec2.Options{
		Region: "us-east-1", BaseEndpoint: awssdk.String(srv.URL()),
		Credentials:      credentials.NewStaticCredentialsProvider(awstest.AccessKeyID, awstest.SecretAccessKey, ""),
		RetryMaxAttempts: 5,
	})
	fromClient, err := aws.New(retrying, aws.WithImage(testAMI))
	require.NoError(t, err)
	cfg := srv.Config()
	cfg.RetryMaxAttempts = 5
	fromConfig, err := aws.NewFromConfig(cfg, aws.WithImage(testAMI))
	require.NoError(t, err)
	for name, drv := range map[string]*aws.Driver{"New": fromClient, "NewFromConfig": fromConfig} {
		srv.ResetCalls()
		srv.Inject(awstest.Fault{Op: "RunInstances", Times: 3, Status: 503, Code: "RequestLimitExceeded"})
		_, err := drv.Provision(ctx, request("me", "ws-1", "tok-"+name))
		if classOf(err) != isTransient {
			t.Fatalf("%s: %v; want ErrTransient", name, err)
		}
		if n := srv.CallCount(awstest.OpRunInstances); n != 1 {
			t.Errorf("%s: one Provision made %d RunInstances calls; want 1 (the SDK must not retry)", name, n)
		}
		srv.ClearFaults()
	}
}

// A call that succeeded never surfaces as a broken connection: the SDK
// closes a request body while net/http may still read it, which against a
// fast server sometimes broke the connection under the answer. The client
// here is the SDK's default, as a user builds it.
func TestSuccessfulCallsAreNotBrokenByTheSDKsBodyRace(t *testing.T) {
	ctx := t.Context()
	srv := awstest.NewServer(t)
	client := ec2.New(ec2.Options{
		Region: "us-east-1", BaseEndpoint: awssdk.String(srv.URL()),
		Credentials: credentials.NewStaticCredentialsProvider(awstest.AccessKeyID, awstest.SecretAccessKey, ""),
	})
	drv, err := aws.New(client, aws.WithImage(testAMI))
	require.NoError(t, err)
	for i := range 8 {
		if _, err := drv.Provision(ctx, request("me", "ws", fmt.Sprintf("tok-%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 1000 {
		for _, err := range drv.Instances(ctx, "me") {
			require.NoErrorf(t, err, "listing %d of 1000 failed", i+1)
		}
	}
}
