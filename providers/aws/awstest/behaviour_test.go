package awstest_test

import (
	"context"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch/providers/aws/awstest"
)

// byID describes one instance by id.
func byID(ctx context.Context, c *ec2.Client, id string) (types.Instance, error) {
	out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		return types.Instance{}, err
	}
	for _, r := range out.Reservations {
		for _, i := range r.Instances {
			return i, nil
		}
	}
	return types.Instance{}, nil
}

func terminate(ctx context.Context, c *ec2.Client, id string) error {
	_, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}})
	return err
}

// By default, as EC2's eventual consistency does, an instance just launched
// is unknown to calls by its id for a moment.
func TestANewInstanceIsUnknownByIDForTheConsistencyDelay(t *testing.T) {
	srv := awstest.NewServer(t, awstest.WithConsistencyDelay(time.Hour))
	c := srv.Client("us-east-1")
	id := awssdk.ToString(run(t, c, "tok", nil).InstanceId)
	_, err := byID(t.Context(), c, id)
	wantAPIError(t, err, "InvalidInstanceID.NotFound", 400)
	wantAPIError(t, terminate(t.Context(), c, id), "InvalidInstanceID.NotFound", 400)
	if !srv.Instances()[0].Live() {
		t.Fatal("the instance EC2 did not know yet was terminated")
	}
	srv.Advance(time.Hour)
	if _, err := byID(t.Context(), c, id); err != nil {
		t.Fatalf("after the consistency delay: %v", err)
	}
}

func TestHideMakesOneInstanceUnknownUntilRevealed(t *testing.T) {
	srv := newServer(t)
	c := srv.Client("us-east-1")
	id := awssdk.ToString(run(t, c, "tok", nil).InstanceId)
	reveal := srv.Hide(id)
	wantAPIError(t, terminate(t.Context(), c, id), "InvalidInstanceID.NotFound", 400)
	reveal()
	require.NoError(t, terminate(t.Context(), c, id), "after reveal")
}

// A launch can fail: pending in the answer, then terminated with its state
// reason.
func TestFailLaunchesEndsInTerminatedWithAStateReason(t *testing.T) {
	srv := newServer(t)
	c := srv.Client("us-east-1")
	srv.FailLaunches(1, awstest.ReasonVolumeLimitExceeded)
	launched := run(t, c, "tok", nil)
	if launched.State.Name != types.InstanceStateNamePending {
		t.Fatalf("RunInstances answered %s; want pending", launched.State.Name)
	}
	got, err := byID(t.Context(), c, awssdk.ToString(launched.InstanceId))
	require.NoError(t, err)
	if got.State.Name != types.InstanceStateNameTerminated || got.StateReason == nil || awssdk.ToString(got.StateReason.Code) != awstest.ReasonVolumeLimitExceeded {
		t.Fatalf("the failed launch is %s with reason %+v; want terminated, %s", got.State.Name, got.StateReason, awstest.ReasonVolumeLimitExceeded)
	}
	if next := run(t, c, "tok-2", nil); next.InstanceId == nil {
		t.Fatal("the next launch failed too")
	}
	if srv.Instances()[1].State == awstest.StateTerminated {
		t.Fatal("FailLaunches(1) failed two launches")
	}
}

// A token whose instance terminated answers IdempotentInstanceTerminated
// within its window and launches anew after it.
func TestAClientTokenOfATerminatedInstanceIsRefusedThenForgotten(t *testing.T) {
	ctx := t.Context()
	srv := newServer(t)
	c := srv.Client("us-east-1")
	id := awssdk.ToString(run(t, c, "tok", nil).InstanceId)
	require.NoError(t, terminate(t.Context(), c, id))
	_, err := c.RunInstances(ctx, runInput("tok", nil))
	wantAPIError(t, err, "IdempotentInstanceTerminated", 400)
	srv.Advance(awstest.DefaultTokenWindow - time.Minute)
	_, err = c.RunInstances(ctx, runInput("tok", nil))
	wantAPIError(t, err, "IdempotentInstanceTerminated", 400)
	srv.Advance(time.Minute)
	if again := run(t, c, "tok", nil); awssdk.ToString(again.InstanceId) == id {
		t.Fatal("after the token window, the token answered the terminated instance")
	}
}

// A terminated instance stays describable for a while, then EC2 forgets it.
func TestATerminatedInstanceIsForgottenAfterAWhile(t *testing.T) {
	srv := newServer(t)
	c := srv.Client("us-east-1")
	id := awssdk.ToString(run(t, c, "tok", nil).InstanceId)
	require.NoError(t, terminate(t.Context(), c, id))
	if got, err := byID(t.Context(), c, id); err != nil || got.State.Name != types.InstanceStateNameTerminated {
		t.Fatalf("a terminated instance: %v %v; want it describable as terminated", got.State, err)
	}
	srv.Advance(awstest.DefaultTerminatedVisibility)
	_, err := byID(t.Context(), c, id)
	wantAPIError(t, err, "InvalidInstanceID.NotFound", 400)
}

// An expired NextToken is answered InvalidPaginationToken.
func TestAnExpiredPageTokenIsRefused(t *testing.T) {
	ctx := t.Context()
	for name, expire := range map[string]func(*awstest.Server){
		"ExpirePageTokens": (*awstest.Server).ExpirePageTokens,
		"after its TTL":    func(s *awstest.Server) { s.Advance(awstest.DefaultPageTokenTTL) },
	} {
		t.Run(name, func(t *testing.T) {
			srv := newServer(t)
			c := srv.Client("us-east-1")
			for range 6 {
				run(t, c, "", nil)
			}
			first, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{MaxResults: awssdk.Int32(5)})
			if err != nil || first.NextToken == nil {
				t.Fatalf("first page: %v (NextToken %v)", err, first.NextToken)
			}
			expire(srv)
			_, err = c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{MaxResults: awssdk.Int32(5), NextToken: first.NextToken})
			wantAPIError(t, err, "InvalidPaginationToken", 400)
		})
	}
}

// The instance quota counts instances until they are terminated.
func TestTheInstanceLimitClearsAsInstancesTerminate(t *testing.T) {
	ctx := t.Context()
	srv := newServer(t, awstest.WithInstanceLimit(1), awstest.WithShutdownTime(time.Minute))
	c := srv.Client("us-east-1")
	id := awssdk.ToString(run(t, c, "a", nil).InstanceId)
	require.NoError(t, terminate(t.Context(), c, id))
	_, err := c.RunInstances(ctx, runInput("b", nil))
	wantAPIError(t, err, "InstanceLimitExceeded", 400)
	srv.Advance(time.Minute)
	run(t, c, "b", nil)
}
