package aws_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/aws"
	"github.com/cloudswitch/cloudswitch/providers/aws/awstest"
	"github.com/cloudswitch/cloudswitch/providers/providertest"
)

// Credentials planted in the client: none may appear in an error or a log
// line, on any failing path.
const (
	plantedKeyID   = "AKIAPLANTEDKEY000042"
	plantedSecret  = "PlantedSecretAccessKey/wJalrXUtnFEMI+K7MDENG"
	plantedSession = "PlantedSessionToken+FwoGZXIvYXdzEJr//////////wEaDGVzLWNsb3Vk"
)

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestNoSecretInAnyErrorOrLogLine(t *testing.T) {
	ctx := t.Context()
	srv := awstest.NewServer(t, awstest.WithBootTime(time.Hour), awstest.WithConsistencyDelay(0))
	var logs syncBuffer
	client := ec2.New(ec2.Options{
		Region: "us-east-1", BaseEndpoint: awssdk.String(srv.URL()),
		Credentials: credentials.NewStaticCredentialsProvider(plantedKeyID, plantedSecret, plantedSession),
	})
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	drv, err := aws.New(client, aws.WithImage(testAMI), aws.WithLogger(logger), aws.WithPollInterval(5*time.Millisecond),
		aws.WithWaitTimeout(50*time.Millisecond), aws.WithWaitRunning(false))
	require.NoError(t, err)
	waiting, err := aws.New(client, aws.WithImage(testAMI), aws.WithLogger(logger), aws.WithPollInterval(5*time.Millisecond),
		aws.WithWaitTimeout(50*time.Millisecond), aws.WithWaitRunning(true), aws.WithWaitTerminated(true))
	require.NoError(t, err)
	inst, err := drv.Provision(ctx, request("acme", "ws-1", "tok-1"))
	require.NoError(t, err)

	var errs []error
	note := func(err error) {
		if err == nil {
			t.Error("a failing path succeeded; the test no longer covers it")
			return
		}
		errs = append(errs, err)
	}
	faults := []awstest.Fault{
		{Status: 503, Code: "Unavailable"}, {Status: 503, Code: "RequestLimitExceeded"},
		{Status: 403, Code: "UnauthorizedOperation"}, {Status: 401, Code: "AuthFailure"},
		{Status: 400, Code: "InvalidParameterValue"}, {Drop: true},
	}
	for _, f := range faults {
		f.Times = 1
		srv.Inject(f)
		_, err := drv.Provision(ctx, request("acme", "ws-2", "tok-2"))
		note(err)
		tf := f
		tf.Op = "TerminateInstances"
		srv.Inject(tf)
		note(drv.Deprovision(ctx, inst))
		srv.Inject(f)
		_, err = providertest.Listed(ctx, drv, "acme")
		note(err)
	}
	srv.ClearFaults()
	note(drv.Deprovision(ctx, cloudswitch.Instance{Provider: cloudswitch.AWS, ID: "i-0000000000000dead"}))
	_, err = drv.Provision(ctx, request("acme", "ws-other", "tok-1")) // IdempotentParameterMismatch
	note(err)
	_, err = drv.Provision(ctx, request("", "ws-1", "tok-1"))
	note(err)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = drv.Provision(cancelled, request("acme", "ws-3", "tok-3"))
	note(err)
	_, err = providertest.Listed(cancelled, drv, "acme")
	note(err)
	_, err = waiting.Provision(ctx, request("acme", "ws-4", "tok-4")) // the wait runs out
	note(err)
	srv.Inject(awstest.Fault{Op: awstest.OpDescribeInstances, Status: 403, Code: "UnauthorizedOperation"})
	inst2 := cloudswitch.Instance{Provider: cloudswitch.AWS, ID: srv.Instances()[len(srv.Instances())-1].ID}
	note(waiting.Deprovision(ctx, inst2))
	srv.ClearFaults()
	srv.Close()
	_, err = drv.Provision(ctx, request("acme", "ws-5", "tok-5"))
	note(err)

	secrets := []string{plantedKeyID, plantedSecret, plantedSession}
	for _, err := range errs {
		for _, s := range secrets {
			if strings.Contains(err.Error(), s) {
				t.Errorf("an error carries a credential: %v", err)
			}
		}
	}
	out := logs.String()
	if !strings.Contains(out, "TerminateInstances failed") {
		t.Errorf("the debug log does not record the failures; the test no longer covers log lines:\n%s", out)
	}
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("a log line carries a credential:\n%s", out)
		}
	}
	if strings.Contains(out, "tok-1") {
		t.Errorf("a log line carries an idempotency token:\n%s", out)
	}
}
