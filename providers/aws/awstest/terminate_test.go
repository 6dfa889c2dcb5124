package awstest_test

import (
	"net/url"
	"strings"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch/providers/aws/awstest"
)

func TestTerminateInstancesIsIdempotent(t *testing.T) {
	ctx := t.Context()
	srv := newServer(t)
	c := srv.Client("us-east-1")
	id := awssdk.ToString(run(t, c, "", nil).InstanceId)
	for i, want := range []struct{ prev, cur string }{
		{"pending", "shutting-down"},
		{"shutting-down", "shutting-down"},
	} {
		out, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}})
		require.NoErrorf(t, err, "TerminateInstances #%d", i+1)
		ch := out.TerminatingInstances[0]
		if awssdk.ToString(ch.InstanceId) != id || string(ch.PreviousState.Name) != want.prev || string(ch.CurrentState.Name) != want.cur {
			t.Fatalf("TerminateInstances #%d answered %s: %s → %s; want %s → %s", i+1,
				awssdk.ToString(ch.InstanceId), ch.PreviousState.Name, ch.CurrentState.Name, want.prev, want.cur)
		}
	}
	state(t, c, id) // moves it on to terminated
	out, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}})
	require.NoError(t, err, "terminating a terminated instance")
	if cur := out.TerminatingInstances[0].CurrentState; cur.Name != "terminated" || awssdk.ToInt32(cur.Code) != 48 {
		t.Fatalf("terminating a terminated instance answered %s (%d); want terminated (48)", cur.Name, awssdk.ToInt32(cur.Code))
	}
}

func TestTerminateInstancesRefusesUnknownAndMalformedIDs(t *testing.T) {
	ctx := t.Context()
	srv := newServer(t)
	c := srv.Client("us-east-1")
	id := awssdk.ToString(run(t, c, "", nil).InstanceId)
	_, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id, "i-0123456789abcdef0"}})
	wantAPIError(t, err, "InvalidInstanceID.NotFound", 400)
	if got := srv.Instances()[0].State; got != awstest.StatePending {
		t.Errorf("a refused TerminateInstances changed a named instance to %s", got)
	}
	_, err = c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{"vm-7"}})
	wantAPIError(t, err, "InvalidInstanceID.Malformed", 400)
	// The SDK refuses an empty id list itself; a raw request reaches the server.
	status, body := post(t, srv, "us-east-1", url.Values{"Action": {"TerminateInstances"}, "Version": {"2016-11-15"}})
	if status != 400 || !strings.Contains(body, "<Code>MissingParameter</Code>") {
		t.Errorf("TerminateInstances without ids answered %d %s; want 400 MissingParameter", status, body)
	}
}
