package aws_test

import (
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch/ownership"
	"github.com/cloudswitch/cloudswitch/providers/aws"
	"github.com/cloudswitch/cloudswitch/providers/aws/awstest"
)

func TestOptionsRefuseBadArguments(t *testing.T) {
	srv := awstest.NewServer(t)
	manyTags := map[string]string{}
	for i := range 47 {
		manyTags[strings.Repeat("k", i+1)] = "v"
	}
	cases := map[string]aws.Option{
		"empty image":               aws.WithImage(" "),
		"region image, bad region":  aws.WithRegionImages(map[string]string{"Europe": testAMI}),
		"region image, empty image": aws.WithRegionImages(map[string]string{"eu-west-1": ""}),
		"subnet":                    aws.WithSubnet("vpc-1"),
		"no security group":         aws.WithSecurityGroups(),
		"security group":            aws.WithSecurityGroups("sg-0123456789abcdef0", "default"),
		"key name":                  aws.WithKeyName(""),
		"user data over 16 KiB":     aws.WithUserData(strings.Repeat("x", 16385)),
		"tag owner":                 aws.WithTags(map[string]string{ownership.OwnerKey: "x"}),
		"tag workspace":             aws.WithTags(map[string]string{ownership.WorkspaceKey: "x"}),
		"tag token":                 aws.WithTags(map[string]string{ownership.TokenKey: "x"}),
		"tag Name":                  aws.WithTags(map[string]string{"name": "x"}),
		"tag aws:":                  aws.WithTags(map[string]string{"aws:cost": "x"}),
		"tag empty key":             aws.WithTags(map[string]string{"": "x"}),
		"tag key too long":          aws.WithTags(map[string]string{strings.Repeat("k", 129): "x"}),
		"tag value too long":        aws.WithTags(map[string]string{"k": strings.Repeat("v", 257)}),
		"too many tags":             aws.WithTags(manyTags),
		"no region":                 aws.WithRegions(),
		"bad region":                aws.WithRegions("us-east-1", "US East"),
		"nil logger":                aws.WithLogger(nil),
		"zero poll interval":        aws.WithPollInterval(0),
		"negative wait timeout":     aws.WithWaitTimeout(-time.Second),
		"nil option":                nil,
		"a region New cannot serve": aws.WithRegions("us-east-1", "eu-west-1"),
	}
	for name, opt := range cases {
		drv, err := aws.New(srv.Client("us-east-1"), opt)
		if err == nil || drv != nil {
			t.Errorf("New with %s: driver %v, error %v; want an error and no driver", name, drv, err)
		}
	}
	if _, err := aws.New(nil); err == nil {
		t.Error("New(nil) succeeded")
	}
	if _, err := aws.New(srv.Client("")); err == nil {
		t.Error("New with a client without a region succeeded")
	}
	noRegion := srv.Config()
	noRegion.Region = ""
	if _, err := aws.NewFromConfig(noRegion); err == nil {
		t.Error("NewFromConfig without any region succeeded")
	}
	if _, err := aws.NewFromConfig(srv.Config(), aws.WithTags(map[string]string{"Name": "x"})); err == nil {
		t.Error("NewFromConfig accepted an option error")
	}
}

func TestOptionsAcceptGoodArguments(t *testing.T) {
	srv := awstest.NewServer(t)
	_, err := aws.New(srv.Client("us-east-1"),
		aws.WithImage("resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"),
		aws.WithRegionImages(map[string]string{"us-east-1": testAMI, "us-gov-west-1": testAMI, "ap-southeast-5": testAMI}),
		aws.WithSubnet("subnet-0123456789abcdef0"), aws.WithSecurityGroups("sg-0123456789abcdef0"),
		aws.WithKeyName("ops"), aws.WithUserData("#!/bin/sh\n"), aws.WithTags(map[string]string{"team": "platform"}),
		aws.WithRegions("us-east-1", "us-east-1"), aws.WithWaitRunning(true), aws.WithWaitTerminated(true),
		aws.WithPollInterval(time.Second), aws.WithWaitTimeout(time.Minute))
	require.NoError(t, err, "New with good options")
}

// Without a region in the config, the first region of WithRegions is the
// default.
func TestNewFromConfigDefaultsToTheFirstListedRegion(t *testing.T) {
	ctx := t.Context()
	srv := awstest.NewServer(t)
	cfg := srv.Config()
	cfg.Region = ""
	drv, err := aws.NewFromConfig(cfg, aws.WithImage(testAMI), aws.WithRegions("ca-central-1", "us-east-1"))
	require.NoError(t, err)
	inst, err := drv.Provision(ctx, request("acme", "ws-1", "tok-1"))
	require.NoError(t, err)
	if inst.Region != "ca-central-1" || srv.Instances()[0].Region != "ca-central-1" {
		t.Errorf("an instance without a region went to %s; want the first listed region, ca-central-1", inst.Region)
	}
}

// A driver made from a config keeps one client per region, safe to make
// from many goroutines at once.
func TestNewFromConfigServesRegionsConcurrently(t *testing.T) {
	ctx := t.Context()
	srv := awstest.NewServer(t)
	regions := []string{"us-east-1", "eu-west-1", "ap-south-1", "sa-east-1"}
	drv, err := aws.NewFromConfig(srv.Config(), aws.WithImage(testAMI), aws.WithRegions(regions...))
	require.NoError(t, err)
	errs := make(chan error, 16)
	for i := range 16 {
		go func() {
			req := request("acme", "ws", "tok-"+string(rune('a'+i)))
			req.Compute.Region = regions[i%len(regions)]
			_, err := drv.Provision(ctx, req)
			errs <- err
		}()
	}
	for range 16 {
		require.NoError(t, <-errs)
	}
	per := map[string]int{}
	for _, i := range srv.Instances() {
		per[i.Region]++
	}
	for _, r := range regions {
		if per[r] != 4 {
			t.Errorf("%s holds %d instances; want 4 (%v)", r, per[r], per)
		}
	}
}

// New keeps the caller's client: its endpoint and credentials are the ones
// used.
func TestNewUsesTheGivenClient(t *testing.T) {
	ctx := t.Context()
	srv := awstest.NewServer(t)
	other := awstest.NewServer(t)
	client := ec2.New(srv.Client("us-east-1").Options(), func(o *ec2.Options) { o.BaseEndpoint = awssdk.String(other.URL()) })
	drv, err := aws.New(client, aws.WithImage(testAMI))
	require.NoError(t, err)
	if _, err := drv.Provision(ctx, request("acme", "ws-1", "tok-1")); err != nil {
		t.Fatal(err)
	}
	if len(other.Instances()) != 1 || len(srv.Instances()) != 0 {
		t.Errorf("the instance went to the wrong endpoint: %d on the client's, %d elsewhere", len(other.Instances()), len(srv.Instances()))
	}
}
