package aws_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/ownership"
	"github.com/cloudswitch/cloudswitch/providers/aws"
	"github.com/cloudswitch/cloudswitch/providers/aws/awstest"
)

func TestProvisionLaunchesOneTaggedInstance(t *testing.T) {
	ctx := t.Context()
	drv, srv := newDriver(t, aws.WithTags(map[string]string{"team": "platform", "cost-centre": "42"}))
	before := time.Now().Add(-time.Second)
	req := request("acme", "Team_A.Workspace-42", "0123456789abcdef0123456789abcdef")
	inst, err := drv.Provision(ctx, req)
	require.NoError(t, err, "Provision")
	if inst.Provider != cloudswitch.AWS || inst.Region != "us-east-1" || inst.WorkspaceID != req.WorkspaceID ||
		inst.Token != req.Token || inst.CreatedAt.Before(before) || !strings.HasPrefix(inst.ID, "i-") {
		t.Fatalf("Provision returned %+v; want an aws instance in us-east-1 of the request's workspace and token, created now", inst)
	}
	truth := srv.Instances()
	if len(truth) != 1 || truth[0].ID != inst.ID {
		t.Fatalf("the emulator holds %v; want exactly the returned instance %s", truth, inst.ID)
	}
	got := truth[0]
	want := map[string]string{
		ownership.OwnerKey: "acme", ownership.WorkspaceKey: req.WorkspaceID, ownership.TokenKey: req.Token,
		"Name": ownership.Name(req.Token), "team": "platform", "cost-centre": "42",
	}
	if len(got.Tags) != len(want) {
		t.Errorf("the instance has tags %v; want exactly %v", got.Tags, want)
	}
	for k, v := range want {
		if got.Tags[k] != v {
			t.Errorf("tag %s = %q; want %q", k, got.Tags[k], v)
		}
	}
	if got.Type != "t3.medium" || got.ImageID != testAMI || got.Region != "us-east-1" {
		t.Errorf("launched %s from %s in %s; want t3.medium from %s in us-east-1", got.Type, got.ImageID, got.Region, testAMI)
	}
	if got.ClientToken != req.Token {
		t.Errorf("ClientToken %q; want the token itself, %q", got.ClientToken, req.Token)
	}
}

func TestProvisionIsIdempotentAcrossADroppedResponse(t *testing.T) {
	ctx := t.Context()
	drv, srv := newDriver(t)
	req := request("acme", "ws-1", "tok-dropped")
	srv.Inject(awstest.Fault{Op: awstest.OpRunInstances, Times: 1, Drop: true})
	if _, err := drv.Provision(ctx, req); classOf(err) != isTransient {
		t.Fatalf("Provision whose answer was lost: %v; want ErrTransient", err)
	}
	if n := len(liveIDs(srv)); n != 1 {
		t.Fatalf("after the lost answer %d instances exist; want 1 (the call took effect)", n)
	}
	inst, err := drv.Provision(ctx, req)
	require.NoError(t, err, "retrying Provision with the token")
	again, err := drv.Provision(ctx, req)
	if err != nil || again.ID != inst.ID {
		t.Fatalf("a third Provision answered %s, %v; want %s", again.ID, err, inst.ID)
	}
	if got := liveIDs(srv); !slices.Equal(got, []string{inst.ID}) {
		t.Fatalf("after a lost answer and two retries the emulator holds %v; want exactly [%s]", got, inst.ID)
	}
	if n := srv.CallCount(awstest.OpRunInstances); n != 3 {
		t.Errorf("three Provisions made %d RunInstances calls; want 3", n)
	}
}

func TestProvisionRefusesATokenReusedForOtherParameters(t *testing.T) {
	ctx := t.Context()
	drv, srv := newDriver(t)
	if _, err := drv.Provision(ctx, request("acme", "ws-1", "tok-1")); err != nil {
		t.Fatal(err)
	}
	_, err := drv.Provision(ctx, request("acme", "ws-2", "tok-1"))
	var ae smithy.APIError
	if classOf(err) != isPermanent || !errors.As(err, &ae) || ae.ErrorCode() != "IdempotentParameterMismatch" {
		t.Fatalf("the same token for another workspace: %v; want a permanent IdempotentParameterMismatch", err)
	}
	if n := len(srv.Instances()); n != 1 {
		t.Errorf("%d instances exist; want 1", n)
	}
}

func TestProvisionRefusesATokenWhoseInstanceIsGone(t *testing.T) {
	ctx := t.Context()
	drv, _ := newDriver(t)
	req := request("acme", "ws-1", "tok-1")
	inst, err := drv.Provision(ctx, req)
	require.NoError(t, err)
	require.NoError(t, drv.Deprovision(ctx, inst))
	_, err = drv.Provision(ctx, req)
	if err == nil || classOf(err) != isPermanent {
		t.Fatalf("provisioning a token whose instance was terminated: %v; want a permanent error, not the dead instance", err)
	}
}

func TestClientTokenIsDeterministicAndFitsEC2(t *testing.T) {
	long := strings.Repeat("x", 65)
	cases := []struct {
		token  string
		itself bool
	}{
		{"0123456789abcdef0123456789abcdef", true},
		{strings.Repeat("y", 64), true},
		{"Mixed-Case_and.punctuation!", true},
		{long, false},
		{"with space", false},
		{"ünïcode", false},
		{"cs-h-looks-like-a-hash", false},
	}
	seen := map[string]string{}
	for _, tc := range cases {
		got := aws.ClientToken(tc.token)
		if got != aws.ClientToken(tc.token) {
			t.Errorf("ClientToken(%q) is not deterministic", tc.token)
		}
		if len(got) > 64 || strings.ContainsFunc(got, func(r rune) bool { return r <= ' ' || r > '~' }) {
			t.Errorf("ClientToken(%q) = %q: EC2 takes at most 64 printable ASCII characters", tc.token, got)
		}
		if (got == tc.token) != tc.itself {
			t.Errorf("ClientToken(%q) = %q; the token itself: %v, want %v", tc.token, got, got == tc.token, tc.itself)
		}
		if other, dup := seen[got]; dup {
			t.Errorf("tokens %q and %q share the ClientToken %q", other, tc.token, got)
		}
		seen[got] = tc.token
	}
}

func TestProvisionWithALongTokenIsIdempotent(t *testing.T) {
	ctx := t.Context()
	drv, srv := newDriver(t)
	req := request("acme", "ws-1", strings.Repeat("long-token/", 20))
	a, err := drv.Provision(ctx, req)
	require.NoError(t, err)
	b, err := drv.Provision(ctx, req)
	if err != nil || a.ID != b.ID {
		t.Fatalf("a long token launched %s and %s (%v); want one instance", a.ID, b.ID, err)
	}
	if got := srv.Instances()[0]; got.Tags[ownership.TokenKey] != req.Token || got.ClientToken != aws.ClientToken(req.Token) {
		t.Errorf("token tag %q, ClientToken %q; want the raw token tagged and the derived ClientToken sent", got.Tags[ownership.TokenKey], got.ClientToken)
	}
}

func TestProvisionRefusesBadRequestsWithoutACall(t *testing.T) {
	ctx := t.Context()
	drv, srv := newDriver(t)
	long := strings.Repeat("w", 257)
	for name, mutate := range map[string]func(*cloudswitch.ProvisionRequest){
		"empty token":         func(r *cloudswitch.ProvisionRequest) { r.Token = "" },
		"empty owner":         func(r *cloudswitch.ProvisionRequest) { r.Owner = "" },
		"empty workspace":     func(r *cloudswitch.ProvisionRequest) { r.WorkspaceID = "" },
		"gcp compute":         func(r *cloudswitch.ProvisionRequest) { r.Compute.Provider = cloudswitch.GCP },
		"empty provider":      func(r *cloudswitch.ProvisionRequest) { r.Compute.Provider = "" },
		"empty instance type": func(r *cloudswitch.ProvisionRequest) { r.Compute.InstanceType = "" },
		"workspace too long":  func(r *cloudswitch.ProvisionRequest) { r.WorkspaceID = long },
		"bad region":          func(r *cloudswitch.ProvisionRequest) { r.Compute.Region = "moon-base" },
		"another region":      func(r *cloudswitch.ProvisionRequest) { r.Compute.Region = "eu-west-1" },
	} {
		req := request("acme", "ws-1", "tok-1")
		mutate(&req)
		_, err := drv.Provision(ctx, req)
		if err == nil || classOf(err) != isPermanent {
			t.Errorf("Provision with %s: %v; want a permanent error", name, err)
		}
	}
	bare, err := aws.New(srv.Client("us-east-1"))
	require.NoError(t, err)
	if _, err := bare.Provision(ctx, request("acme", "ws-1", "tok-1")); err == nil || classOf(err) != isPermanent {
		t.Errorf("Provision without any image configured: %v; want a permanent error", err)
	}
	if n := srv.CallCount(""); n != 0 {
		t.Errorf("refused requests made %d calls; want none", n)
	}
}

func TestProvisionPicksTheImageAndRegion(t *testing.T) {
	ctx := t.Context()
	srv := awstest.NewServer(t)
	drv, err := aws.NewFromConfig(srv.Config(),
		aws.WithImage("ami-00000000000000001"),
		aws.WithRegionImages(map[string]string{"eu-west-1": "ami-00000000000000002"}),
		aws.WithRegions("us-east-1", "eu-west-1", "ap-south-1"))
	require.NoError(t, err)
	cases := []struct {
		region, image, wantRegion, wantImage string
	}{
		{"", "", "us-east-1", "ami-00000000000000001"},
		{"eu-west-1", "", "eu-west-1", "ami-00000000000000002"},
		{"ap-south-1", "", "ap-south-1", "ami-00000000000000001"},
		{"eu-west-1", "ami-00000000000000003", "eu-west-1", "ami-00000000000000003"},
	}
	for i, tc := range cases {
		req := request("acme", "ws-1", "tok-"+string(rune('a'+i)))
		req.Compute.Region, req.Compute.Image = tc.region, tc.image
		inst, err := drv.Provision(ctx, req)
		require.NoErrorf(t, err, "Provision in %q with image %q", tc.region, tc.image)
		got := srv.Instances()[i]
		if inst.Region != tc.wantRegion || got.Region != tc.wantRegion || got.ImageID != tc.wantImage {
			t.Errorf("Provision in %q with image %q launched %s from %s (returned region %s); want %s from %s",
				tc.region, tc.image, got.Region, got.ImageID, inst.Region, tc.wantRegion, tc.wantImage)
		}
	}
}

// recorder is an HTTP client that keeps the form of every request it sends.
type recorder struct {
	mu    sync.Mutex
	forms []url.Values
}

func (r *recorder) Do(req *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.forms = append(r.forms, form)
	r.mu.Unlock()
	return http.DefaultClient.Do(req)
}

func TestProvisionSendsTheLaunchOptions(t *testing.T) {
	ctx := t.Context()
	srv := awstest.NewServer(t)
	rec := &recorder{}
	client := ec2.New(ec2.Options{
		Region: "us-east-1", BaseEndpoint: awssdk.String(srv.URL()), HTTPClient: rec,
		Credentials: credentials.NewStaticCredentialsProvider(awstest.AccessKeyID, awstest.SecretAccessKey, ""),
	})
	const script = "#!/bin/sh\necho hello\n"
	drv, err := aws.New(client, aws.WithImage(testAMI), aws.WithSubnet("subnet-0123456789abcdef0"),
		aws.WithSecurityGroups("sg-0123456789abcdef0", "sg-0123456789abcdef1"), aws.WithKeyName("ops"), aws.WithUserData(script))
	require.NoError(t, err)
	if _, err := drv.Provision(ctx, request("acme", "ws-1", "tok-1")); err != nil {
		t.Fatal(err)
	}
	var runs []url.Values
	for _, f := range rec.forms {
		if f.Get("Action") == "RunInstances" {
			runs = append(runs, f)
		}
	}
	if len(runs) != 1 {
		t.Fatalf("Provision sent %d RunInstances requests; want 1", len(runs))
	}
	f := runs[0]
	for k, want := range map[string]string{
		"Action": "RunInstances", "SubnetId": "subnet-0123456789abcdef0", "KeyName": "ops",
		"SecurityGroupId.1": "sg-0123456789abcdef0", "SecurityGroupId.2": "sg-0123456789abcdef1",
		"MinCount": "1", "MaxCount": "1", "InstanceType": "t3.medium", "ImageId": testAMI,
		"TagSpecification.1.ResourceType": "instance", "ClientToken": "tok-1",
	} {
		if got := f.Get(k); got != want {
			t.Errorf("RunInstances sent %s=%q; want %q", k, got, want)
		}
	}
	ud, err := base64.StdEncoding.DecodeString(f.Get("UserData"))
	if err != nil || string(ud) != script {
		t.Errorf("RunInstances sent user data %q (%v); want the base64 of %q", f.Get("UserData"), err, script)
	}
}

func TestWithWaitRunningReturnsARunningInstance(t *testing.T) {
	ctx := t.Context()
	t.Run("waits", func(t *testing.T) {
		srv := awstest.NewServer(t, awstest.WithBootTime(150*time.Millisecond))
		drv, err := aws.New(srv.Client("us-east-1"), aws.WithImage(testAMI), aws.WithWaitRunning(true), aws.WithPollInterval(10*time.Millisecond))
		require.NoError(t, err)
		if _, err := drv.Provision(ctx, request("acme", "ws-1", "tok-1")); err != nil {
			t.Fatalf("Provision: %v", err)
		}
		if got := srv.Instances()[0].State; got != awstest.StateRunning {
			t.Fatalf("WithWaitRunning returned an instance that is %s; want running", got)
		}
		if n := srv.CallCount(awstest.OpDescribeInstances); n < 2 {
			t.Errorf("waiting 150ms in 10ms polls made %d DescribeInstances calls; want several", n)
		}
	})
	t.Run("waits by default", func(t *testing.T) {
		srv := awstest.NewServer(t, awstest.WithBootTime(50*time.Millisecond))
		drv, err := aws.New(srv.Client("us-east-1"), aws.WithImage(testAMI))
		require.NoError(t, err)
		if _, err := drv.Provision(ctx, request("acme", "ws-1", "tok-1")); err != nil {
			t.Fatal(err)
		}
		if got := srv.Instances()[0].State; got != awstest.StateRunning {
			t.Fatalf("by default Provision returned an instance that is %s; want running (a launch can still fail while pending)", got)
		}
	})
	t.Run("WithWaitRunning(false) does not wait", func(t *testing.T) {
		srv := awstest.NewServer(t, awstest.WithBootTime(time.Hour))
		drv, err := aws.New(srv.Client("us-east-1"), aws.WithImage(testAMI), aws.WithWaitRunning(false))
		require.NoError(t, err)
		if _, err := drv.Provision(ctx, request("acme", "ws-1", "tok-1")); err != nil {
			t.Fatal(err)
		}
		if got := srv.Instances()[0].State; got != awstest.StatePending {
			t.Fatalf("with WithWaitRunning(false) the instance is %s on return; want pending", got)
		}
		if n := srv.CallCount(awstest.OpDescribeInstances); n != 0 {
			t.Errorf("with WithWaitRunning(false), Provision made %d DescribeInstances calls", n)
		}
	})
	t.Run("bounded by the context", func(t *testing.T) {
		srv := awstest.NewServer(t, awstest.WithBootTime(time.Hour))
		drv, err := aws.New(srv.Client("us-east-1"), aws.WithImage(testAMI), aws.WithWaitRunning(true), aws.WithPollInterval(10*time.Millisecond))
		require.NoError(t, err)
		dctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		_, err = drv.Provision(dctx, request("acme", "ws-1", "tok-1"))
		if !errors.Is(err, context.DeadlineExceeded) || classOf(err) != isPermanent {
			t.Fatalf("a wait past the context's deadline: %v; want context.DeadlineExceeded, not transient", err)
		}
	})
	t.Run("bounded by the wait timeout", func(t *testing.T) {
		srv := awstest.NewServer(t, awstest.WithBootTime(time.Hour))
		drv, err := aws.New(srv.Client("us-east-1"), aws.WithImage(testAMI), aws.WithWaitRunning(true),
			aws.WithPollInterval(10*time.Millisecond), aws.WithWaitTimeout(100*time.Millisecond))
		require.NoError(t, err)
		_, err = drv.Provision(ctx, request("acme", "ws-1", "tok-1"))
		if classOf(err) != isTransient {
			t.Fatalf("a wait that ran out of time: %v; want ErrTransient (the instance may still start)", err)
		}
	})
	t.Run("through throttling", func(t *testing.T) {
		srv := awstest.NewServer(t)
		drv, err := aws.New(srv.Client("us-east-1"), aws.WithImage(testAMI), aws.WithWaitRunning(true), aws.WithPollInterval(5*time.Millisecond))
		require.NoError(t, err)
		srv.Inject(awstest.Fault{Op: awstest.OpDescribeInstances, Times: 2, Status: 503, Code: "RequestLimitExceeded"})
		if _, err := drv.Provision(ctx, request("acme", "ws-1", "tok-1")); err != nil {
			t.Fatalf("a wait whose polls were throttled twice: %v; want it to poll on", err)
		}
	})
}

// Issue 11, finding 3: once RunInstances was accepted, a poll of the wait
// for running that fails, even with a 4xx, leaves an instance launched for
// the token: the error is transient (Provision again with the token finds
// it) and never a refusal, so no switch reports "nothing changed" while a
// new VM runs.
func TestProvisionErrorAfterTheLaunchWasAcceptedIsNotARefusal(t *testing.T) {
	ctx := t.Context()
	for _, f := range []awstest.Fault{
		{Status: 403, Code: "UnauthorizedOperation"},
		{Status: 400, Code: "InvalidParameterValue"},
		{Status: 503, Code: "RequestLimitExceeded"},
	} {
		t.Run(f.Code, func(t *testing.T) {
			srv := awstest.NewServer(t, awstest.WithBootTime(time.Hour))
			drv, err := aws.New(srv.Client("us-east-1"), aws.WithImage(testAMI), aws.WithPollInterval(5*time.Millisecond),
				aws.WithWaitTimeout(100*time.Millisecond))
			require.NoError(t, err)
			f.Op = "DescribeInstances"
			srv.Inject(f)
			_, err = drv.Provision(ctx, request("acme", "ws-1", "tok-1"))
			if !errors.Is(err, cloudswitch.ErrTransient) || errors.Is(err, cloudswitch.ErrRefused) {
				t.Fatalf("a %d %s on a poll after RunInstances was accepted: %v; want transient and not a refusal", f.Status, f.Code, err)
			}
			if got := liveIDs(srv); len(got) != 1 {
				t.Fatalf("live %v; the launch should have taken effect", got)
			}
		})
	}
}

// Provision and Instances say what the VM runs.
func TestProvisionReportsTheTypeAndImage(t *testing.T) {
	ctx := t.Context()
	drv, _ := newDriver(t)
	inst, err := drv.Provision(ctx, request("acme", "ws-1", "tok-1"))
	require.NoError(t, err)
	if inst.InstanceType != "t3.medium" || inst.Image != testAMI {
		t.Fatalf("Provision returned type %q image %q; want t3.medium %s", inst.InstanceType, inst.Image, testAMI)
	}
	listed := list(t, drv, "acme")
	if len(listed) != 1 || listed[0].InstanceType != "t3.medium" || listed[0].Image != testAMI {
		t.Fatalf("Instances = %+v; want the type and image read back", listed)
	}
}

// A VM in a region Instances does not list could never be found as an
// orphan: Provision refuses the region before any call.
func TestProvisionRefusesARegionInstancesDoesNotList(t *testing.T) {
	ctx := t.Context()
	srv := awstest.NewServer(t)
	drv, err := aws.NewFromConfig(srv.Config(), aws.WithImage(testAMI), aws.WithRegions("us-east-1", "eu-west-1"))
	require.NoError(t, err)
	req := request("acme", "ws-1", "tok-1")
	req.Compute.Region = "ap-south-1"
	_, err = drv.Provision(ctx, req)
	if !errors.Is(err, cloudswitch.ErrRefused) || !strings.Contains(err.Error(), "WithRegions") {
		t.Fatalf("Provision in a region the driver does not list: %v; want a refusal naming WithRegions", err)
	}
	if n := srv.CallCount(awstest.OpRunInstances); n != 0 {
		t.Errorf("the refused request made %d RunInstances calls; want none", n)
	}
}
