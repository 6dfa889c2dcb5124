package otel_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/observe/otel"
	"github.com/cloudswitch/cloudswitch/providers/memprovider"
	"github.com/cloudswitch/cloudswitch/store/memstore"
)

func setup(t *testing.T) (*tracetest.SpanRecorder, *cloudswitch.Switcher, *memprovider.Provider) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	store := memstore.New()
	aws, hz := memprovider.New(cloudswitch.AWS), memprovider.New(cloudswitch.Hetzner)
	sw, err := cloudswitch.New(store, map[string]cloudswitch.Provider{cloudswitch.AWS: aws, cloudswitch.Hetzner: hz},
		cloudswitch.WithObserver(otel.NewObserver(tp)),
		cloudswitch.WithRetryPolicy(cloudswitch.RetryPolicy{InitialInterval: time.Microsecond, MaxAttempts: 3}))
	require.NoError(t, err)
	ctx := t.Context()
	_, _ = store.Create(ctx, cloudswitch.Workspace{ID: "ws", Compute: cloudswitch.Compute{Provider: "aws", InstanceType: "t3.medium"}})
	if _, err := sw.Switch(ctx, "ws", cloudswitch.Request{}); err != nil {
		t.Fatal(err)
	}
	return rec, sw, aws
}

var toHetzner = cloudswitch.Request{Compute: cloudswitch.Compute{Provider: cloudswitch.Hetzner}, ConfirmRecreate: true}

func attr(s sdktrace.ReadOnlySpan, key string) string {
	for _, a := range s.Attributes() {
		if string(a.Key) == key {
			return a.Value.String()
		}
	}
	return ""
}

func TestASpanPerSwitchWithAChildPerStage(t *testing.T) {
	rec, sw, aws := setup(t)
	aws.FailNext(memprovider.OpDeprovision, 1, memprovider.ErrThrottled)
	before := len(rec.Ended())
	if _, err := sw.Switch(t.Context(), "ws", toHetzner); err != nil {
		t.Fatal(err)
	}
	spans := rec.Ended()[before:]
	var root sdktrace.ReadOnlySpan
	var stages []string
	for _, s := range spans {
		if s.Name() == "cloudswitch.switch" {
			root = s
		}
	}
	if root == nil {
		t.Fatal("no cloudswitch.switch span")
	}
	for _, s := range spans {
		if s != root {
			if s.Parent().SpanID() != root.SpanContext().SpanID() {
				t.Errorf("stage span %s is not a child of the switch span", s.Name())
			}
			stages = append(stages, s.Name())
		}
	}
	want := "cloudswitch.read cloudswitch.preflight cloudswitch.claim cloudswitch.deprovision cloudswitch.commit cloudswitch.provision cloudswitch.record"
	if got := strings.Join(stages, " "); got != want {
		t.Fatalf("stage spans %q; want %q", got, want)
	}
	if attr(root, "cloudswitch.outcome") != "switched" || attr(root, "cloudswitch.from") != "aws" || attr(root, "cloudswitch.to") != "hetzner" {
		t.Fatalf("switch span attributes %v", root.Attributes())
	}
	for _, s := range spans {
		if s.Name() == "cloudswitch.deprovision" {
			if len(s.Events()) != 1 || s.Events()[0].Name != "retry" || attr(s, "cloudswitch.attempts") != "2" {
				t.Fatalf("the deprovision span must show its retry: events %v attrs %v", s.Events(), s.Attributes())
			}
		}
	}
}

func TestFailedStopMarksTheSpansAsErrors(t *testing.T) {
	rec, sw, aws := setup(t)
	const secret = "token=hunter2hunter2"
	aws.FailNext(memprovider.OpDeprovision, 1, fmt.Errorf("403 forbidden (%s)", secret))
	before := len(rec.Ended())
	if _, err := sw.Switch(t.Context(), "ws", toHetzner); err == nil {
		t.Fatal("the switch should have aborted")
	}
	for _, s := range rec.Ended()[before:] {
		switch s.Name() {
		case "cloudswitch.switch", "cloudswitch.deprovision":
			if s.Status().Code != codes.Error || !strings.Contains(s.Status().Description, "403") {
				t.Errorf("span %s status %+v; want an error naming the cause", s.Name(), s.Status())
			}
		}
		for _, ev := range s.Events() {
			for _, a := range ev.Attributes {
				if strings.Contains(a.Value.String(), "hunter2") {
					t.Errorf("span %s carries the credential in %s", s.Name(), a.Key)
				}
			}
		}
		if strings.Contains(s.Status().Description, "hunter2") {
			t.Errorf("span %s carries the credential in its status", s.Name())
		}
	}
}

func TestNilTracerProviderRecordsNothing(t *testing.T) {
	obs := otel.NewObserver(nil)
	ctx := obs.SwitchStarted(t.Context(), cloudswitch.SwitchEvent{WorkspaceID: "ws"})
	obs.SwitchEnded(ctx, cloudswitch.SwitchEvent{Outcome: cloudswitch.OutcomeSwitched})
	obs.Retried(ctx, cloudswitch.RetryEvent{Attempt: 1})
}
