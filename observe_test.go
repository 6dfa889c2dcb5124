package cloudswitch_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/memprovider"
	"github.com/stretchr/testify/require"
)

// eventLog is an Observer that records every event as a line.
type eventLog struct {
	mu    sync.Mutex
	lines []string
	ends  []cloudswitch.SwitchEvent
	stage []cloudswitch.StageEvent
}

type ctxKey struct{}

func (l *eventLog) add(s string) {
	l.mu.Lock()
	l.lines = append(l.lines, s)
	l.mu.Unlock()
}

func (l *eventLog) SwitchStarted(ctx context.Context, e cloudswitch.SwitchEvent) context.Context {
	l.add("switch-start " + e.WorkspaceID)
	return context.WithValue(ctx, ctxKey{}, "switch-span")
}

func (l *eventLog) SwitchEnded(ctx context.Context, e cloudswitch.SwitchEvent) {
	l.add(fmt.Sprintf("switch-end %s %s", e.Outcome, ctx.Value(ctxKey{})))
	l.mu.Lock()
	l.ends = append(l.ends, e)
	l.mu.Unlock()
}

func (l *eventLog) StageStarted(ctx context.Context, e cloudswitch.StageEvent) context.Context {
	l.add(fmt.Sprintf("stage-start %s parent=%s", e.Stage, ctx.Value(ctxKey{})))
	return ctx
}

func (l *eventLog) StageEnded(ctx context.Context, e cloudswitch.StageEvent) {
	l.add(fmt.Sprintf("stage-end %s err=%v", e.Stage, e.Err != nil))
	l.mu.Lock()
	l.stage = append(l.stage, e)
	l.mu.Unlock()
}

func (l *eventLog) Retried(_ context.Context, e cloudswitch.RetryEvent) {
	l.add(fmt.Sprintf("retry %s attempt=%d", e.Stage, e.Attempt))
}

func (l *eventLog) OrphanFound(context.Context, cloudswitch.OrphanEvent)   {}
func (l *eventLog) Reconciled(context.Context, cloudswitch.ReconcileEvent) {}

func TestObserverSeesEveryStageOfASwitchInOrder(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	f.aws.FailNext(memprovider.OpDeprovision, 1, memprovider.ErrThrottled)
	var l eventLog
	_, err := f.switcher(cloudswitch.WithObserver(&l)).Switch(ctx, "ws", toHetzner)
	require.NoError(t, err)
	want := []string{
		"switch-start ws",
		"stage-start read parent=switch-span", "stage-end read err=false",
		"stage-start preflight parent=switch-span", "stage-end preflight err=false",
		"stage-start claim parent=switch-span", "stage-end claim err=false",
		"stage-start deprovision parent=switch-span", "retry deprovision attempt=1", "stage-end deprovision err=false",
		"stage-start commit parent=switch-span", "stage-end commit err=false",
		"stage-start provision parent=switch-span", "stage-end provision err=false",
		"stage-start record parent=switch-span", "stage-end record err=false",
		"switch-end switched switch-span",
	}
	if got := strings.Join(l.lines, "\n"); got != strings.Join(want, "\n") {
		t.Fatalf("events:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	for _, e := range l.stage {
		if e.WorkspaceID != "ws" || (e.Stage != cloudswitch.StageRead && e.IntentID == "") {
			t.Errorf("stage event lacks its workspace or intent: %+v", e)
		}
		if e.Stage == cloudswitch.StageDeprovision && (e.Attempts != 2 || e.Provider != "aws" || e.InstanceID == "") {
			t.Errorf("deprovision event: %+v; want 2 attempts on aws with the instance id", e)
		}
	}
	end := l.ends[0]
	if end.From != "aws" || end.To != "hetzner" || end.Duration <= 0 || end.IntentID == "" {
		t.Errorf("switch-end event incomplete: %+v", end)
	}
}

func TestObserverOutcomes(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	var l eventLog
	sw := f.switcher(cloudswitch.WithObserver(&l))
	_, _ = sw.Switch(ctx, "ws", cloudswitch.Request{Compute: cloudswitch.Compute{Provider: "azure"}})
	_, _ = sw.Switch(ctx, "ws", cloudswitch.Request{Compute: cloudswitch.Compute{InstanceType: "t3.large"}})
	_, _ = sw.Switch(ctx, "ws", cloudswitch.Request{})
	f.aws.FailNext(memprovider.OpDeprovision, 1, memprovider.ErrDenied)
	_, _ = sw.Switch(ctx, "ws", toHetzner)
	f.aws.FailNext(memprovider.OpDeprovision, 3, memprovider.ErrUnavailable)
	_, _ = sw.Switch(ctx, "ws", toHetzner)
	_, _ = sw.Resume(ctx, "ws")
	var got []cloudswitch.Outcome
	for _, e := range l.ends {
		got = append(got, e.Outcome)
	}
	want := []cloudswitch.Outcome{cloudswitch.OutcomeRejected, cloudswitch.OutcomeUpdated, cloudswitch.OutcomeUnchanged,
		cloudswitch.OutcomeAborted, cloudswitch.OutcomeIncomplete, cloudswitch.OutcomeSwitched}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("outcomes %v; want %v", got, want)
	}
	if !l.ends[5].Resumed {
		t.Error("the Resume's event does not say it was a Resume")
	}
}

// A provider error that carries a credential must not carry it into an
// error string, a log line or an observer event.
func TestNoSecretReachesErrorsLogsOrEvents(t *testing.T) {
	ctx := t.Context()
	const secret = "hc_Zx8Qw3Er5Ty7Ui9Op1As3Df5Gh7Jk9Lz2Xc4Vb6"
	leaky := fmt.Errorf("POST /servers: 403 forbidden (Authorization: Bearer %s)", secret)
	f := newFixture(t)
	f.seed("ws", cloudswitch.Hetzner, "cpx31", true)
	f.hz.FailNext(memprovider.OpDeprovision, 1, leaky)
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var l eventLog
	_, err := f.switcher(cloudswitch.WithLogger(logger), cloudswitch.WithObserver(&l)).Switch(ctx, "ws",
		cloudswitch.Request{Compute: cloudswitch.Compute{Provider: cloudswitch.AWS}, ConfirmRecreate: true})
	if err == nil {
		t.Fatal("the switch should have aborted")
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("the error carries the credential: %v", err)
	}
	if !errors.Is(err, leaky) {
		t.Error("redaction must not cut the error chain")
	}
	if strings.Contains(buf.String(), secret) {
		t.Errorf("a log line carries the credential:\n%s", buf.String())
	}
	if !strings.Contains(buf.String(), "[REDACTED]") {
		t.Errorf("the logs do not show the failed stop's cause:\n%s", buf.String())
	}
	for _, e := range l.stage {
		if e.Err != nil && strings.Contains(e.Err.Error(), secret) {
			t.Errorf("a stage event carries the credential: %v", e.Err)
		}
	}
	for _, e := range l.ends {
		if e.Err != nil && strings.Contains(e.Err.Error(), secret) {
			t.Errorf("a switch event carries the credential: %v", e.Err)
		}
	}
}

func TestLogsSayWhatHappened(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	seeded := f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	f.aws.FailNext(memprovider.OpDeprovision, 1, memprovider.ErrDenied)
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	_, _ = f.switcher(cloudswitch.WithLogger(logger)).Switch(ctx, "ws", toHetzner)
	var sawStop, sawAbort bool
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("not a JSON log line: %s", line)
		}
		if rec["stage"] == "deprovision" && rec["level"] == "WARN" {
			sawStop = rec["instance"] == seeded.Instance.ID && rec["provider"] == "aws" &&
				rec["error_class"] == "refused" && strings.Contains(fmt.Sprint(rec["error"]), "unauthorized")
		}
		if rec["msg"] == "switch ended" && rec["outcome"] == "aborted" && rec["level"] == "WARN" {
			sawAbort = rec["intent"] != nil && rec["from"] == "aws" && rec["to"] == "hetzner"
		}
	}
	if !sawStop || !sawAbort {
		t.Fatalf("the logs must show the failed stop (instance, provider, cause, class) and the abort:\n%s", buf.String())
	}
}
