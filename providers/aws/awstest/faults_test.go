package awstest_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch/providers/aws/awstest"
)

func TestInjectedFaultsFailWithoutEffect(t *testing.T) {
	ctx := t.Context()
	srv := awstest.NewServer(t)
	c := srv.Client("us-east-1")
	srv.Inject(awstest.Fault{Op: awstest.OpRunInstances, Times: 2, Status: 503, Code: "RequestLimitExceeded", Message: "slow down"})
	for i := range 2 {
		_, err := c.RunInstances(ctx, runInput("tok", nil))
		wantAPIError(t, err, "RequestLimitExceeded", 503)
		if !strings.Contains(err.Error(), "slow down") {
			t.Errorf("fault %d lost its message: %v", i+1, err)
		}
	}
	if n := len(srv.Instances()); n != 0 {
		t.Fatalf("failed calls launched %d instances", n)
	}
	run(t, c, "tok", nil) // the third call is healthy
	if got := srv.CallCount(awstest.OpRunInstances); got != 3 {
		t.Errorf("CallCount(RunInstances) = %d; want 3, the failed calls included", got)
	}
}

func TestFaultDefaults(t *testing.T) {
	ctx := t.Context()
	srv := awstest.NewServer(t)
	c := srv.Client("us-east-1")
	for _, tc := range []struct {
		fault  awstest.Fault
		code   string
		status int
	}{
		{awstest.Fault{Status: 503}, "Unavailable", 503},
		{awstest.Fault{Status: 500}, "InternalError", 500},
		{awstest.Fault{Status: 403}, "UnauthorizedOperation", 403},
		{awstest.Fault{Status: 401}, "AuthFailure", 401},
		{awstest.Fault{Code: "InvalidParameterValue"}, "InvalidParameterValue", 400},
	} {
		tc.fault.Times = 1
		srv.Inject(tc.fault) // Op "" applies to every action
		_, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
		wantAPIError(t, err, tc.code, tc.status)
	}
}

func TestClearFaultsDropsStandingFaults(t *testing.T) {
	ctx := t.Context()
	srv := awstest.NewServer(t)
	c := srv.Client("us-east-1")
	srv.Inject(awstest.Fault{Op: awstest.OpDescribeInstances, Status: 500}) // every call until cleared
	for range 3 {
		_, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
		wantAPIError(t, err, "InternalError", 500)
	}
	run(t, c, "", nil) // other actions are unaffected
	srv.ClearFaults()
	if _, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{}); err != nil {
		t.Fatalf("after ClearFaults: %v", err)
	}
	srv.ResetCalls()
	if n := srv.CallCount(""); n != 0 {
		t.Errorf("after ResetCalls, CallCount(\"\") = %d", n)
	}
}

func TestDropTakesEffectAndLosesTheAnswer(t *testing.T) {
	ctx := t.Context()
	srv := awstest.NewServer(t)
	c := srv.Client("us-east-1")
	srv.Inject(awstest.Fault{Op: awstest.OpRunInstances, Times: 1, Drop: true})
	_, err := c.RunInstances(ctx, runInput("lost", map[string]string{"owner": "me"}))
	if err == nil {
		t.Fatal("RunInstances succeeded although its answer was dropped")
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		t.Fatalf("a dropped answer surfaced as an EC2 error %s; want a broken connection", ae.ErrorCode())
	}
	truth := srv.Instances()
	if len(truth) != 1 {
		t.Fatalf("after a dropped RunInstances %d instances exist; want 1 (the call took effect)", len(truth))
	}
	again := run(t, c, "lost", map[string]string{"owner": "me"})
	if awssdk.ToString(again.InstanceId) != truth[0].ID {
		t.Errorf("retrying with the token answered %s; want the instance the lost call launched, %s", awssdk.ToString(again.InstanceId), truth[0].ID)
	}
}

func TestLatencyDelaysAndHonoursTheCallersDeadline(t *testing.T) {
	ctx := t.Context()
	srv := awstest.NewServer(t)
	c := srv.Client("us-east-1")
	srv.SetLatency(30 * time.Millisecond)
	start := time.Now()
	if _, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{}); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 30*time.Millisecond {
		t.Errorf("a call with 30ms latency took %v", took)
	}
	srv.SetLatency(0)
	srv.Inject(awstest.Fault{Op: awstest.OpRunInstances, Times: 1, Latency: time.Hour})
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err := c.RunInstances(short, runInput("slow", nil))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a call slower than its deadline: %v; want context.DeadlineExceeded", err)
	}
	time.Sleep(20 * time.Millisecond) // let the handler notice the client left
	if n := len(srv.Instances()); n != 0 {
		t.Errorf("a call abandoned during its latency launched %d instances", n)
	}
}

func TestUnsignedRequestsFailWithAuthFailure(t *testing.T) {
	srv := awstest.NewServer(t)
	form := url.Values{"Action": {"DescribeInstances"}, "Version": {"2016-11-15"}}
	resp, err := http.PostForm(srv.URL(), form)
	require.NoError(t, err)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("an unsigned request answered HTTP %d; want 401", resp.StatusCode)
	}
	body := readAll(t, resp)
	if !strings.Contains(body, "<Code>AuthFailure</Code>") {
		t.Fatalf("an unsigned request answered %s; want an AuthFailure error envelope", body)
	}
}

func TestStartServesAProgramUntilClose(t *testing.T) {
	ctx := t.Context()
	srv, err := awstest.Start("127.0.0.1:0")
	require.NoError(t, err)
	if _, err := srv.Client("us-east-1").DescribeInstances(ctx, &ec2.DescribeInstancesInput{}); err != nil {
		t.Fatalf("a started server does not answer: %v", err)
	}
	addr := strings.TrimPrefix(srv.URL(), "http://")
	if _, err := awstest.Start(addr); err == nil {
		t.Error("starting a second server on a port in use succeeded")
	}
	srv.Close()
	srv.Close() // a second Close is harmless
	if _, err := srv.Client("us-east-1").DescribeInstances(ctx, &ec2.DescribeInstancesInput{}); err == nil {
		t.Error("a closed server still answers")
	}
}

func TestCloseEndsCallsHeldUpByLatency(t *testing.T) {
	ctx := t.Context()
	srv, err := awstest.Start("127.0.0.1:0")
	require.NoError(t, err)
	srv.SetLatency(time.Hour)
	c := srv.Client("us-east-1")
	done := make(chan error, 1)
	go func() {
		_, err := c.RunInstances(ctx, runInput("held", nil))
		done <- err
	}()
	for srv.CallCount(awstest.OpRunInstances) == 0 {
		time.Sleep(time.Millisecond)
	}
	closed := make(chan struct{})
	go func() { srv.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close waited for a call held up by an hour of latency")
	}
	if err := <-done; err == nil {
		t.Fatal("a call cut off by Close succeeded")
	}
	if n := len(srv.Instances()); n != 0 {
		t.Errorf("a call cut off by Close launched %d instances", n)
	}
}
